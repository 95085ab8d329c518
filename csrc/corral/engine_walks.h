/*
 * engine_walks.h - the root-walk cache's entries and walks, shared by engine_walks.c (the cache,
 * whole-trie scans) and engine_walks_derived.c (walks from the slice or from another state's
 * walk).  Private to those two files.
 */
#ifndef CORRAL_ENGINE_WALKS_H
#define CORRAL_ENGINE_WALKS_H

#include "corral/engine_impl.h"

typedef struct walk_entry {
    uint32_t *bits; /* the trie's vocabulary in words, or NULL: then toks */
    int32_t *toks;
    int32_t n_toks;
    int32_t *done; /* nodes with children where the automaton accepts */
    int32_t n_done;
    /* counts of plain characters after which the lexeme ends, its plain nodes of that many
     * characters left out of done (a slice without exceptions; corral_grp) */
    int32_t block_k[CORRAL_MAX_BLOCKS];
    int32_t n_block;
    uint8_t uniform; /* a slice chain without exceptions (corral_walk_uniform) */
} walk_entry;

/* Scan nodes [lo, hi) of the trie (whole subtrees, in preorder) with terminal t's automaton,
 * state[k] holding the state at depth k of the path above; tokens into bits, lexeme ends into
 * e->done.  0, or -1 when out of memory. */
int corral_walk_scan(const corral_grammar *g, int32_t t, int32_t lo, int32_t hi,
                     int32_t *restrict state, uint32_t *restrict bits, size_t *n_toks,
                     walk_entry *e, size_t *cap_done);

/* qsort order of node ids. */
int corral_cmp_node(const void *a, const void *b);

/* The walk of corral_slice_chain's case (engine_walks_derived.c). */
int corral_slice_walk(const corral_grammar *g, int32_t t, int32_t d, const int32_t *chain,
                      int32_t alive, const uint8_t *except, int32_t n_except, int32_t *state,
                      uint32_t *bits, walk_entry *e, size_t *cap_done);

/* The state d walks as (m) but on the first bytes put in except (their count), or -1. */
int corral_derived_from(const corral_grammar *g, int32_t t, int32_t d, int32_t *m,
                        uint8_t except[CORRAL_SLICE_EXCEPTIONS]);

/* The walk of d from base, m's walk (corral_derived_from). */
int corral_derived_walk(const corral_grammar *g, int32_t t, int32_t d, const walk_entry *base,
                        const uint8_t *except, int n_except, int32_t *state, uint32_t *bits,
                        walk_entry *e, size_t *cap_done);

#endif
