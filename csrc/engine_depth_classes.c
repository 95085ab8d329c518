/*
 * engine_depth_classes.c - classes of automaton states that no string as long as the longest
 * token tells apart (corral/engine.h), the keys of the root-walk cache (engine_walks.c).
 *
 * Per terminal, Moore's partition after one round per byte of the longest token
 * (bounded_classes.c): a length counter far from its bound then walks like its neighbours, so
 * one walk serves all of them.  An automaton of at most rounds + 2 states skips the rounds and
 * gives every state its own class: two states of a minimal automaton of n states are told
 * apart by a string of at most n - 2 bytes (Moore 1956), so that is the same partition, and for
 * an automaton that is not minimal it is a finer one, which costs sharing, never correctness.
 * Most terminals (keys, punctuation, small patterns) are that small.
 */
#include "corral/engine_impl.h"

int corral_depth_classes(corral_grammar *g, int32_t rounds) {
    corral_classes_work work = {NULL};
    int code = CORRAL_ENGINE_OK;
    for (int32_t t = 0; t < g->n_terms && code == CORRAL_ENGINE_OK; ++t) {
        const int32_t n = (int32_t)(g->dfa_base[t + 1] - g->dfa_base[t]);
        int32_t *cls = g->wclass + g->dfa_base[t];
        if (n <= rounds + 2) {
            for (int32_t s = 0; s < n; ++s) {
                cls[s] = s;
            }
            continue;
        }
        if (corral_bounded_classes(g->table + g->tbase[t], n, g->n_classes[t],
                                   g->accept + g->dfa_base[t], rounds, cls, &work) < 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
        }
    }
    corral_classes_work_free(&work);
    return code;
}
