/*
 * engine_depth_classes.c - classes of automaton states that no string as long as the longest
 * token tells apart (corral/engine.h), the keys of the root-walk cache (engine_walks.c).
 *
 * Per terminal, Moore's partition after one round per byte of the longest token
 * (bounded_classes.c): a length counter far from its bound then walks like its neighbours, so
 * one walk serves all of them.
 */
#include "corral/engine_impl.h"

int corral_depth_classes(corral_grammar *g, int32_t rounds) {
    for (int32_t t = 0; t < g->n_terms; ++t) {
        const int32_t n = (int32_t)(g->dfa_base[t + 1] - g->dfa_base[t]);
        if (corral_bounded_classes(g->table + g->tbase[t], n, g->n_classes[t],
                                   g->accept + g->dfa_base[t], rounds,
                                   g->wclass + g->dfa_base[t]) < 0) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
    }
    return CORRAL_ENGINE_OK;
}
