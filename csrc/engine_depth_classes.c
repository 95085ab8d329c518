/*
 * engine_depth_classes.c - classes of automaton states that no string as long as the longest
 * token tells apart (corral/engine.h), the keys of the root-walk cache (engine_walks.c).  They
 * are computed once per automaton and trie (the cache registers automata by content, and the
 * grammars of one tokenizer share their string automata): a large automaton's when its first
 * grammar is made (corral_walks_prepare), a small one's, which costs next to nothing, when it
 * is first walked (most terminals of a grammar never are).
 *
 * Per automaton, Moore's partition after one round per byte of the longest token
 * (bounded_classes.c): a length counter far from its bound then walks like its neighbours, so
 * one walk serves all of them.  An automaton of at most rounds + 2 states skips the rounds and
 * gives every state its own class: two states of a minimal automaton of n states are told
 * apart by a string of at most n - 2 bytes (Moore 1956), so that is the same partition, and for
 * an automaton that is not minimal it is a finer one, which costs sharing, never correctness.
 * Most terminals (keys, punctuation, small patterns) are that small.
 */
#include "corral/engine_impl.h"

int corral_depth_classes(const int32_t *table, int32_t n, int32_t width, const uint8_t *accept,
                         int32_t rounds, int32_t *cls) {
    if (n <= rounds + 2) {
        for (int32_t s = 0; s < n; ++s) {
            cls[s] = s;
        }
        return CORRAL_ENGINE_OK;
    }
    corral_classes_work work = {NULL};
    const int got = corral_bounded_classes(table, n, width, accept, rounds, cls, &work);
    corral_classes_work_free(&work);
    return got < 0 ? CORRAL_ENGINE_NO_MEMORY : CORRAL_ENGINE_OK;
}
