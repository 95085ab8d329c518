/*
 * engine_walks.h - the root-walk cache's entries and walks, shared by engine_walks.c (the cache,
 * whole-trie scans), engine_walks_derived.c (walks from the slice or from another state's
 * walk) and engine_walks_class.c (class slices).  Private to those three files.
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
    /* 1 + the index of the class slice of an accepting loop over C (corral_class_loop): its
     * lexeme ends at every node of a C path, left out of done (the slice's ends); 0: none */
    int32_t class_ends;
} walk_entry;

/* The tokens made only of the ASCII bytes in a set C, and where C paths leave C
 * (engine_walks_class.c): the class slice of one C, built once per trie. */
typedef struct class_slice {
    uint64_t set[2];  /* C: bit b for byte b < 128 */
    int32_t *len_ptr; /* max_depth + 2 offsets into toks, by length in bytes */
    int32_t *toks;    /* tokens of C bytes only, by length */
    int32_t *front;   /* node << 8 | byte: nodes outside C under a C path, in preorder */
    int32_t n_front;
    int32_t *ends; /* the nodes of C paths that have children, in preorder */
    int32_t n_ends;
    size_t bytes;
} class_slice;

/* Build the class slice of `set` for a trie; 0, or -1 when out of memory. */
int corral_class_slice_build(const corral_etrie *trie, const uint64_t set[2], class_slice *out);

/* The class slice of `set` from the trie's cache: built on the second ask, or on the first
 * when `now`; NULL: not yet, or no memory.  Lock held (engine_walks.c). */
const class_slice *corral_class_slice(const corral_grammar *g, const uint64_t set[2], int now);

/* Whether terminal t from state d steps every byte of one ASCII set C alike for max_depth
 * bytes, never accepting on the way (C: the bytes that lead d to the commonest live state);
 * then chain[0..max_depth] holds the states after k bytes of C, set holds C, and the result is
 * the longest k still alive.  -1 when not. */
int32_t corral_class_chain(const corral_grammar *g, int32_t t, int32_t d, int32_t *chain,
                           uint64_t set[2]);

/* Whether terminal t's state d accepts and loops on at least two ASCII bytes that some token
 * has (an identifier's state once past its keywords): then set holds those bytes, C, and the
 * lexeme ends at every node of a C path (corral_class_ends in the mask). */
int corral_class_loop(const corral_grammar *g, int32_t t, int32_t d, uint64_t set[2]);

/* The walk of corral_class_chain's case: the slice's tokens of at most `alive` bytes, and the
 * subtrees that leave C, each from the chain's state above it. */
int corral_class_walk(const corral_grammar *g, int32_t t, const class_slice *cs,
                      const int32_t *chain, int32_t alive, int32_t *state, uint32_t *bits,
                      walk_entry *e, size_t *cap_done);

/* Scan nodes [lo, hi) of the trie (whole subtrees, in preorder) with terminal t's automaton,
 * state[k] holding the state at depth k of the path above; tokens into bits, lexeme ends into
 * e->done.  0, or -1 when out of memory. */
int corral_walk_scan(const corral_grammar *g, int32_t t, int32_t lo, int32_t hi,
                     int32_t *restrict state, uint32_t *restrict bits, walk_entry *e,
                     size_t *cap_done);

/* The live state most of the bytes below n_bytes that some token has lead d to, or 0. */
int32_t corral_commonest_successor(const corral_grammar *g, int32_t t, int32_t d, int n_bytes);

/* qsort order of node ids. */
int corral_cmp_node(const void *a, const void *b);

/* The walk of corral_slice_chain's case (engine_walks_derived.c). */
int corral_slice_walk(const corral_grammar *g, int32_t t, int32_t d, const int32_t *chain,
                      int32_t alive, const uint8_t *except, int32_t n_except, int32_t *state,
                      uint32_t *bits, walk_entry *e, size_t *cap_done);

/* The state d walks as (m) but on the first bytes put in except (their count), or -1. */
int corral_derived_from(const corral_grammar *g, int32_t t, int32_t d, int32_t *m,
                        uint8_t except[CORRAL_SLICE_EXCEPTIONS]);

/* The walk of d from base, m's walk (corral_derived_from), with the lexeme ends base leaves to
 * its class slice (class_ends, n_class_ends) made d's own. */
int corral_derived_walk(const corral_grammar *g, int32_t t, int32_t d, const walk_entry *base,
                        const int32_t *class_ends, int32_t n_class_ends, const uint8_t *except,
                        int n_except, int32_t *state, uint32_t *bits, walk_entry *e,
                        size_t *cap_done);

#endif
