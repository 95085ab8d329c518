/*
 * corral/engine_impl.h - the inside of corral_matcher, shared by engine_earley.c (sets, threads,
 * steps) and engine_mask.c (masks, forced bytes).  Not part of the API.
 */
#ifndef CORRAL_ENGINE_IMPL_H
#define CORRAL_ENGINE_IMPL_H

#include "corral/engine.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct corral_item {
    int32_t d; /* dotted item */
    int32_t o; /* origin: id of the set where its production was predicted */
} corral_item;

typedef struct corral_thread {
    int32_t origin; /* id of the set where the lexemes began */
    int32_t lex;    /* lexer state: the (terminal, automaton state) pairs still alive */
} corral_thread;

/* A lexer state (engine_lexer.c): pairs [lo, lo + 2n) of lex_pairs, accepting terminals. */
typedef struct corral_lexstate {
    int64_t lo;
    int64_t acc_lo;
    int32_t n;
    int32_t acc_n;
} corral_lexstate;

typedef struct corral_idx {
    int32_t key; /* next symbol: a terminal t as t, nonterminal k as n_terms + k */
    int32_t d;
    int32_t o;
} corral_idx;

typedef struct corral_eset {
    int64_t items_lo, items_hi; /* in items, closure order */
    int64_t idx_lo, idx_hi;     /* in idx: the items with a next symbol, by key */
    int64_t exp_lo, exp_hi;     /* in exp: expected terminals (ignored ones included), ascending */
    int accepting;
    int32_t fresh_lex; /* lexer state of its fresh threads, -1 until first asked */
    int64_t pos;       /* the byte position where a pushed step made it (unique items) */
    uint64_t sig;      /* its items' signature, its own id as origin read as one (set_alike) */
} corral_eset;

/* Open-addressing map from a pair of int64 to an int64; cleared in O(1) by a generation. */
typedef struct corral_hslot {
    int64_t ka, kb, val;
    uint32_t stamp; /* the slot is in use when this is the map's generation */
} corral_hslot;

/* Slots side by side (one cache line for a probe's key, value and stamp); cleared by a new
 * generation, and made smaller on clearing when mostly empty, so that a map that once held a
 * large set does not spread a small one over many cache lines. */
typedef struct corral_hmap {
    corral_hslot *slot;
    size_t cap; /* a power of two, or 0 */
    size_t count;
    uint32_t gen;
} corral_hmap;

/* Sizes of the stacks, to truncate back to. */
typedef struct corral_mark {
    size_t sets, items, idx, exp, thr, uq_fr, uq_it;
} corral_mark;

/* A byte position: its set (-1: none), its threads [thr_lo, thr_hi), the stacks before it,
 * and the item scanner's state after it (engine_unique.c): mode and innermost container. */
typedef struct corral_pos {
    int32_t set;
    size_t thr_lo, thr_hi;
    corral_mark mark;
    int32_t sc_frame;
    uint8_t sc_mode;
} corral_pos;

/* An open container of the item scanner (records are never changed: a change is a new one). */
typedef struct corral_uqframe {
    int32_t parent; /* enclosing container, -1: none */
    int32_t items;  /* last finished item (corral_uqitem), -1: none */
    int32_t cur;    /* start of the item in progress, -1: none */
    int32_t is_array;
} corral_uqframe;

/* A finished array item: bytes [a, b) of the input, and the item before it (-1: none). */
typedef struct corral_uqitem {
    int32_t a, b, prev;
} corral_uqitem;

/* Lexemes of `term` begun at set `origin` end at every plain trie node of `k` whole characters
 * that goes on (a block of a long string ending inside tokens; engine_walks.c). */
typedef struct corral_grp {
    int32_t k, origin, term;
} corral_grp;

/* A lexeme of `term` begun at set `origin` ends at trie node `node` (inside a token). */
typedef struct corral_inj {
    int32_t node, origin, term;
} corral_inj;

/* A node outside C under a C path, below which a mask walks from configuration cfg, the
 * configuration after a lexeme that ends at every node of the C paths (corral_class_ends). */
typedef struct corral_cfront {
    int32_t node, cfg;
} corral_cfront;

/* A configuration of a mask's walk: threads [lo, lo + n) of cfg_thr (sorted, distinct). */
typedef struct corral_cfg {
    int64_t lo;
    int32_t n;
} corral_cfg;

struct corral_matcher {
    const corral_grammar *g;
    corral_eset *sets;
    size_t n_sets, cap_sets;
    corral_item *items;
    size_t n_items, cap_items;
    corral_idx *idx;
    size_t n_idx, cap_idx;
    int32_t *exp;
    size_t n_exp, cap_exp;
    corral_thread *thr;
    size_t n_thr, cap_thr;
    corral_pos *pos;
    size_t n_pos, cap_pos;
    /* scratch of one step or closure */
    corral_hmap seen, thr_seen, memo;
    corral_hmap alike; /* set signature -> a set of it (set_alike; entries checked on use) */
    int64_t *alike_a, *alike_b; /* scratch: two sets' items, sorted, to compare */
    size_t cap_alike_a, cap_alike_b;
    size_t thr_out_lo; /* where the list being deduplicated starts */
    int thr_small;     /* deduplicated by a linear scan while it is short */
    uint32_t *pred_stamp;
    uint32_t pred_gen;
    uint32_t *self_stamp; /* per dotted item: seen with origin `closing` in this closure */
    uint32_t self_gen;
    int32_t closing; /* id of the set being closed */
    int64_t *done;
    size_t n_done, cap_done;
    corral_item *kernel;
    size_t n_kernel, cap_kernel;
    int32_t *copies;
    size_t n_copies, cap_copies;
    int64_t *pool; /* memo keys of one mask */
    size_t n_pool, cap_pool;
    int32_t *depth_cfg; /* the mask's walk: the configuration at each depth of its path */
    size_t cap_depth_cfg;
    /* configurations of one mask, with their transitions filled on first use */
    corral_cfg *cfgs;
    size_t n_cfgs, cap_cfgs;
    corral_thread *cfg_thr;
    size_t n_cfg_thr, cap_cfg_thr;
    /* n_cfgs * 256 transitions, each (mask stamp << 32 | next configuration or -2 dead): an
     * entry of an earlier mask's stamp is unknown, so no row is cleared when made */
    uint64_t *cfg_trans;
    size_t cap_cfg_trans;
    uint32_t cfg_stamp;
    uint8_t *cfg_word; /* per configuration: 0 not asked, 1 no, 2 every word byte keeps it */
    size_t cap_cfg_word;
    corral_hmap cfg_index, cfg_union;
    corral_inj *inj;
    size_t n_inj, cap_inj;
    int32_t wf_c, wf_s, wf_got; /* with_fresh's last question and answer (wf_c -1: none) */
    corral_inj *inj_tmp; /* scratch of the injections' radix sort */
    size_t cap_inj_tmp;
    corral_grp *grp;
    size_t n_grp, cap_grp;
    /* the last mask, for the threads it was computed from (engine_mask.c): valid while
     * no set it read was truncated, i.e. its threads' largest origin stays below mc_floor */
    corral_thread *mc_thr;
    size_t mc_n, cap_mc_thr;
    uint32_t *mc_words;
    size_t cap_mc_words;
    int32_t mc_max;   /* the largest origin among mc_thr, -1: no mask kept */
    size_t mc_floor;  /* the fewest sets the stacks were truncated to since it was kept */
    corral_cfront *cfr; /* the mask's class-end frontier nodes (corral_class_ends) */
    size_t n_cfr, cap_cfr;
    /* the last lone lexeme end of the mask's injections and its set and configuration (most
     * injections of a mask are one lexeme's, at many nodes); key -1: none */
    int64_t last_key;
    int32_t last_set, last_cfg;
    int32_t *chain_cfg; /* max_depth + 1: configurations after k plain characters */
    size_t cap_chain_cfg;
    uint8_t *inj_used;
    size_t cap_used;
    /* lexer states, built lazily (engine_lexer.c) */
    corral_lexstate *lex;
    size_t n_lex, cap_lex;
    int32_t *lex_pairs;
    size_t n_lex_pairs, cap_lex_pairs;
    int32_t *lex_acc;
    size_t n_lex_acc, cap_lex_acc;
    int32_t *lex_trans; /* n_lex * 256: next lexer state, -1 until computed */
    size_t cap_lex_trans;
    int32_t *lex_scratch;
    size_t cap_lex_scratch;
    corral_hmap lex_index;
    int64_t last_work;
    /* the unique-item check (engine_unique.c): input bytes, scanner records, scratch */
    uint8_t *input;
    size_t cap_input;
    corral_uqframe *uq_fr;
    size_t n_uq_fr, cap_uq_fr;
    corral_uqitem *uq_it;
    size_t n_uq_it, cap_uq_it;
    int32_t *uq_pairs;
    size_t cap_uq_pairs;
    int uq_on;        /* checking the step being pushed (not a mask's walk) */
    int32_t uq_frame; /* the scanner's innermost container after that step's byte */
    int64_t uq_end;   /* input bytes after that step */
    int uq_close;     /* that step's item-closing verdict (engine_unique.c), -1: not yet */
};

/* The copied set (m->copies) that a set of n_items just closed equals, or -1
 * (engine_sets_alike.c). */
int32_t corral_copy_equal(const corral_matcher *m, size_t n_items);
/* An earlier set alike the set just closed (items [lo, hi) of id `self`) but for its own id as
 * origin, or -1; -2: no memory.  *sig: the new set's signature (engine_sets_alike.c). */
int32_t corral_set_alike(corral_matcher *m, size_t lo, size_t hi, int32_t self, int accepting,
                         uint64_t *sig);

/* Thread (origin, term)'s lexeme ends at every node of a C path of the trie (the class
 * slice of C: its ends, the C-path nodes with children, and front, node << 8 | byte of the
 * nodes that leave C under a C path): when no byte of C goes on after the lexeme, the walks
 * below those ends reduce to the frontier nodes below the first byte, noted in m->cfr; else
 * the ends are added as injections.  Called by corral_walks_apply during a mask; 0, or -1
 * when out of memory. */
int corral_class_ends(corral_matcher *m, int32_t origin, int32_t term, const uint64_t set[2],
                      const int32_t *ends, int32_t n_ends, const int32_t *front, int32_t n_front);

/* The item scanner after `byte` at input position pos (from position state mode/frame):
 * writes the new state; 0 or -1 (no memory). */
int corral_uq_scan(corral_matcher *m, uint8_t byte, int64_t pos, uint8_t *mode, int32_t *frame);
/* Filter lexer state `lex` (lexemes begun at position start) of a step being pushed by the
 * unique-item check: the lexer state left (members that no longer survive removed; 0 if none),
 * or -1 when out of memory. */
int32_t corral_uq_filter(corral_matcher *m, int32_t lex, int64_t start);
/* Whether unique-item terminal t's lexeme, begun at position start, may end at this step in
 * lexer state lex (1 or 0; -1: no memory). */
int corral_uq_may_end(corral_matcher *m, int32_t t, int32_t lex, int64_t start);
/* The id of the lexer state of pairs[0 .. 2n) (made if new), or -1 (no memory). */
int32_t corral_lex_intern(corral_matcher *m, const int32_t *pairs, size_t n);

int corral_lex_init(corral_matcher *m);
void corral_lex_free(corral_matcher *m);
/* The lexer state of the fresh threads of set `set` (its expected terminals in state 1). */
int32_t corral_lex_fresh(corral_matcher *m, int32_t set);
/* Compute (and store) a transition; -1 when out of memory. */
int32_t corral_lex_next_slow(corral_matcher *m, int32_t lex, uint8_t byte);

/* The lexer state after `byte`, or -1 when out of memory. */
static inline int32_t corral_lex_next(corral_matcher *m, int32_t lex, uint8_t byte) {
    const int32_t next = m->lex_trans[(size_t)lex * 256 + byte];
    return next >= 0 ? next : corral_lex_next_slow(m, lex, byte);
}

/* dst[k] |= src[k] for k < n: 128 bits at a time where SSE2 is there (every x86-64), the
 * hot loop of a mask on a large vocabulary (a root walk's bitset per lexer thread). */
static inline void corral_or_words(uint32_t *restrict dst, const uint32_t *restrict src,
                                   size_t n) {
    size_t k = 0;
#ifdef __SSE2__
    for (; k + 4 <= n; k += 4) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(dst + k));
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(src + k));
        _mm_storeu_si128((__m128i *)(void *)(dst + k), _mm_or_si128(a, b));
    }
#endif
    for (; k < n; ++k) {
        dst[k] |= src[k];
    }
}

/* Set the bits of node nd's tokens in words: the first one without a branch (most nodes hold
 * at most one token; the trie's token ids carry one entry of padding past the last, so the read
 * is safe, and a node without a token sets nothing), the rare others in a loop. */
static inline void corral_or_node_tokens(uint32_t *restrict words,
                                         const int32_t *restrict tok_ids, corral_node nd) {
    const int32_t tok = tok_ids[nd.tok_lo];
    words[tok >> 5] |= (uint32_t)(nd.tok_hi > nd.tok_lo) << (tok & 31);
    for (int32_t k = nd.tok_lo + 1; k < nd.tok_hi; ++k) {
        words[tok_ids[k] >> 5] |= UINT32_C(1) << (tok_ids[k] & 31);
    }
}

/* Grow *buf (elements of size elem) to hold at least need; 0 or -1. */
int corral_grow_slow(void **buf, size_t *cap, size_t need, size_t elem);

static inline int corral_grow(void **buf, size_t *cap, size_t need, size_t elem) {
    return need <= *cap ? 0 : corral_grow_slow(buf, cap, need, elem);
}

int corral_hmap_init(corral_hmap *h, size_t cap);
void corral_hmap_free(corral_hmap *h);
void corral_hmap_clear(corral_hmap *h);
/* The value slot of (a, b), or NULL. */
int64_t *corral_hmap_find(const corral_hmap *h, int64_t a, int64_t b);
/* Insert (a, b) -> v unless present; *fresh says which. 0 or -1 (no memory). */
int corral_hmap_put(corral_hmap *h, int64_t a, int64_t b, int64_t v, int *fresh);

corral_mark corral_mark_now(const corral_matcher *m);
void corral_restore(corral_matcher *m, corral_mark mark);

/*
 * Step the threads [lo, hi) of m->thr by `byte` (the matcher's _push_byte): the surviving
 * threads and the fresh ones of a new set are appended to m->thr; *new_set is the set after
 * the lexemes ending here, or -1.  With use_memo, sets are looked up by the lexemes that end
 * (m->memo, cleared by the caller).  Returns 1 (alive), 0 (dead) or CORRAL_ENGINE_NO_MEMORY.
 */
/* Close m->kernel (with the sets m->copies) as a new set: its id, or -1 (no memory). */
int32_t corral_closure(corral_matcher *m);

/* Add a thread unless m->thr_seen has it. 0 or -1 (no memory). */
int corral_push_thread(corral_matcher *m, int32_t origin, int32_t lex);

/* Start a new list of threads at the top of m->thr (deduplicated from here on). */
void corral_begin_threads(corral_matcher *m);

/* Add the fresh threads of set s (one thread: its expected terminals' lexer state). */
int corral_push_fresh(corral_matcher *m, int32_t s);

/*
 * The set after the lexemes m->done[0 .. n_done) (origin << 32 | terminal, ascending and
 * distinct), through the mask's memo when use_memo: its id, -1 for none, -2 (no memory).
 */
int32_t corral_set_after(corral_matcher *m, int use_memo);

/*
 * OR into words the tokens the threads thr[0 .. n) survive alone (cached root walks), and
 * append to m->inj where their lexemes end inside tokens.  Takes the grammar's cache lock.
 */
int corral_walks_apply(corral_matcher *m, size_t lo, size_t hi, uint32_t *words);
/* Whether lone thread (t, d) treats every plain character alike for max_depth characters, its
 * first included (a slice chain without exceptions); -1 when out of memory. */
int corral_walk_uniform(const corral_grammar *g, int32_t t, int32_t d);

int corral_step(corral_matcher *m, size_t lo, size_t hi, uint8_t byte, int use_memo,
                int32_t *new_set);

/* Injections by node, then origin, then terminal (engine_inject_sort.c): the comparison, and
 * the sort of m->inj[0, n_inj) (-1 without memory). */
int corral_cmp_inj(const void *x, const void *y);
int corral_sort_inj(corral_matcher *m);

#endif /* CORRAL_ENGINE_IMPL_H */
