/*
 * corral/engine.h - the native matcher: Earley sets over lexemes, lexer threads, token masks.
 *
 * The C twin of corral.constraint_engine.matcher.Matcher (the reference, which is the
 * specification): the same Earley recogniser (Earley 1970, nullable symbols as Aycock &
 * Horspool 2002), the same nondeterministic all-splits lexing by per-terminal byte automata,
 * and therefore the same language, so that masks agree bit for bit.  See
 * docs/design/native-engine.md.
 *
 * A corral_grammar holds the flat tables of one compiled grammar (immutable once built; it
 * owns copies of its arrays except the trie's, which belong to the tokenizer and are borrowed).
 * A corral_matcher holds one generation's state as stacks (arenas) that only grow and are
 * truncated: Earley sets, their items, their index by next symbol, their expected terminals,
 * and the lexer threads of each byte position.  A mask pushes temporary sets and threads on
 * top of the same stacks and truncates them afterwards.
 *
 * Every table value was range-checked when the grammar was built (binding_engine.c), so the
 * loops here index without checks; allocation failure returns CORRAL_ENGINE_NO_MEMORY with the
 * matcher left in its previous state.
 */
#ifndef CORRAL_ENGINE_H
#define CORRAL_ENGINE_H

#include "corral/corral.h"

/* dotted_next value of an item whose dot is at the end of its production */
#define CORRAL_END INT32_MIN

#define CORRAL_ENGINE_OK 0
#define CORRAL_ENGINE_NO_MEMORY (-1)

/* A node that leaves plain text under a plain path: its parent is reached by `chars` plain
 * characters, then the n_cut bytes of a cut character (cut, first byte highest). */
typedef struct corral_frontier {
    int32_t node;
    int32_t chars;
    uint32_t cut;
    int32_t n_cut;
} corral_frontier;

/* A trie node as the walks read it, in one place (one cache line holds four): its subtree
 * [id, subtree_end), its tokens [tok_lo, tok_hi) of node_tok_ids, depth << 8 | byte. */
typedef struct corral_node {
    int32_t subtree_end;
    int32_t tok_lo, tok_hi;
    int32_t depth_byte;
} corral_node;

/* The token trie in CSR, int32 (built once per tokenizer); node ids are in preorder. */
/* A word byte: [0-9A-Za-z_], what identifiers are made of. */
static inline int corral_word_byte(uint8_t b) {
    return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
           b == '_';
}

typedef struct corral_etrie {
    int32_t *child_ptr;    /* n_nodes + 1 */
    int32_t *child_ids;    /* every child id is larger than its parent's */
    uint8_t *node_byte;    /* n_nodes */
    int32_t *node_tok_ptr; /* n_nodes + 1 */
    int32_t *node_tok_ids; /* each below vocab_size */
    int32_t *subtree_end;  /* one past the last node of each node's subtree (derived) */
    int32_t *depth;        /* bytes from the root (derived) */
    corral_node *nodes;    /* n_nodes: the walks' copy of the above (derived) */
    int32_t max_depth;
    uint32_t *slice_bits;  /* (max_depth + 1) rows of vocab words: plain tokens of at most
                              the row's characters, a cut last one counted (engine_slices.c) */
    int64_t *slice_count;  /* max_depth + 1: how many tokens each row holds */
    int32_t *plain_at_ptr; /* max_depth + 2 offsets into plain_at, by characters */
    int32_t *plain_at;     /* nodes with children that end a whole plain character, in
                              preorder per count of characters on their path */
    struct corral_frontier *frontier; /* nodes leaving plain text, ascending */
    int32_t n_frontier;
    struct corral_frontier *frontier_by_chars; /* the same, by characters above, then node */
    int32_t *frontier_ptr; /* max_depth + 2 offsets into frontier_by_chars, by characters */
    int32_t *word_exits; /* nodes whose byte is no word byte [0-9A-Za-z_], ascending: below a
                            node, the first of them on each path end its word bytes (derived) */
    int32_t n_word_exits;
    uint8_t present[256]; /* the bytes some token has */
    struct corral_walks *walks; /* root walks of every grammar of this tokenizer, locked */
    size_t n_nodes;
    size_t vocab_size;
} corral_etrie;

typedef struct corral_grammar {
    int32_t n_terms;      /* terminals 0 .. n_terms - 1 */
    int32_t n_nts;        /* nonterminal k is the symbol -(k + 1); 0 is $start */
    int32_t n_dotted;     /* dotted items; the last one is at the end of its production */
    int32_t final_dotted; /* "$start -> start ." */
    int32_t *dnext;       /* n_dotted: symbol after the dot, or CORRAL_END */
    int32_t *dlhs;        /* n_dotted: left-hand nonterminal */
    int32_t *pred_ptr;    /* n_nts + 1 offsets into pred_ids */
    int32_t *pred_ids;    /* first dotted item of each production, by nonterminal */
    uint8_t *nullable;    /* n_nts */
    uint8_t *ignore;      /* n_terms */
    int32_t *ignore_list; /* the ignored terminals, ascending */
    int32_t n_ignore;
    int64_t *dfa_base;    /* n_terms + 1: first row (state) of each terminal's automaton */
    int32_t *n_classes;   /* n_terms: byte classes of each terminal's automaton */
    uint8_t *classes;     /* n_terms * 256: the class of each byte, per terminal */
    int64_t *tbase;       /* n_terms: first entry of each terminal's table (derived) */
    int32_t *table;       /* per terminal, states * n_classes next states, local (0: dead) */
    uint8_t *accept;      /* rows */
    const corral_etrie *trie; /* borrowed (the tokenizer's) */
    size_t vocab_size;    /* bitmask width in tokens (>= trie.vocab_size) */
    int32_t *wclass;      /* rows: states no string of at most trie->max_depth bytes tells
                             apart share a class, and so a root walk (given: depth classes,
                             corral.automata.minimize.bounded_classes, only compared) */
    struct corral_walks *walks; /* the trie's cache of root walks (engine_walks.c), borrowed */
    int32_t *dfa_id;            /* n_terms: each automaton's id in that cache (under its lock) */
    uint64_t *dfa_gen;          /* n_terms: the cache generation dfa_id belongs to */
    uint8_t *uq_term;           /* n_terms: CORRAL_UQ_ITEM / CORRAL_UQ_CLOSE (engine_unique.c) */
    int32_t *uq_count;          /* rows: accepted continuations, capped at CORRAL_UQ_CAP */
    int has_unique;
    struct corral_first *first; /* the mask at the first position, once computed */
} corral_grammar;

/* The first mask of a grammar, shared by its matchers (engine_first_mask.c).  new: NULL when
 * out of memory; get: 1 when a kept mask of n_words was copied to words, else 0; put: keep
 * words (best effort, the first one kept stays); bytes: what is kept. */
struct corral_first *corral_first_new(void);
void corral_first_free(struct corral_first *f);
int corral_first_get(struct corral_first *f, uint32_t *words, size_t n_words);
void corral_first_put(struct corral_first *f, const uint32_t *words, size_t n_words);
size_t corral_first_bytes(struct corral_first *f);

/* counts of accepted continuations saturate here (docs/design/unique_items.md) */
#define CORRAL_UQ_CAP INT32_MAX
#define CORRAL_UQ_ITEM 1  /* a unique-item terminal */
#define CORRAL_UQ_CLOSE 2 /* an item-closing terminal */


/*
 * Subtree ends, depths, max_depth and packed nodes of a trie whose CSR arrays are set and
 * range-checked (engine_trie.c), checking that its nodes are numbered in preorder (a node's
 * first child follows it, each next child follows the previous child's subtree), so that walks
 * may scan node ids in order and skip a dead subtree by jumping to its end.  CORRAL_ENGINE_OK,
 * CORRAL_ENGINE_NO_MEMORY, or CORRAL_TRIE_INVALID with the reason in why.
 */
#define CORRAL_TRIE_INVALID (-2)
int corral_trie_derive(corral_etrie *t, size_t n, char *why, size_t why_len);

/*
 * The trie's slice of plain text (engine_slices.c): fill slice_bits, slice_count, plain_at and
 * frontier (depth and max_depth set).  CORRAL_ENGINE_OK or CORRAL_ENGINE_NO_MEMORY.
 */
int corral_trie_slices(corral_etrie *t);

/*
 * Whether terminal t from state d treats plain text alike (engine_slices.c): after its first
 * byte, every plain character alike for max_depth characters (its lexeme may end after some
 * counts of characters: a block of a long string), a cut character living exactly as long as a
 * whole one would, never accepting inside one; the first byte may lead
 * elsewhere for up to CORRAL_SLICE_EXCEPTIONS ASCII bytes, listed in except[] (n_except set).
 * Then chain[0..max_depth] (caller's, max_depth + 1 entries) holds d and the states after k
 * plain characters whose first is not an exception, and the result is the longest k still
 * alive.  -1 when not: the walk must cover the whole trie.
 */
#define CORRAL_SLICE_EXCEPTIONS 16
#define CORRAL_MAX_BLOCKS 4 /* counts of characters a grouped slice may end its lexeme at */
int32_t corral_slice_chain(const corral_grammar *g, int32_t t, int32_t d, int32_t *chain,
                           uint8_t *except, int32_t *n_except);

/*
 * The cache of root walks of one trie: per (automaton, class of states), the tokens a lone lexer
 * thread survives and the trie nodes (with children) where its lexeme can end.  Automata are
 * identified by content, so grammars of the same tokenizer share the walks of equal terminals.
 * max_bytes bounds its memory (it is emptied when full).  NULL when out of memory.
 */
struct corral_walks *corral_walks_new(size_t max_bytes);
void corral_walks_free(struct corral_walks *w);
/* Bytes the cache holds now. */
size_t corral_walks_bytes(struct corral_walks *w);

typedef struct corral_matcher corral_matcher;

/* Terminal t's next state from `state` on `byte`. */
static inline int32_t corral_next(const corral_grammar *g, int32_t t, int32_t state, uint8_t byte) {
    return g->table[g->tbase[t] + (int64_t)state * g->n_classes[t] + g->classes[(size_t)t * 256 + byte]];
}

/* A new matcher in its initial state (position 0), or NULL when out of memory. */
corral_matcher *corral_matcher_new(const corral_grammar *g);
void corral_matcher_free(corral_matcher *m);

/* Back to position 0; CORRAL_ENGINE_OK or CORRAL_ENGINE_NO_MEMORY. */
int corral_matcher_reset(corral_matcher *m);

/* Positions on the stack: bytes consumed + 1. */
size_t corral_matcher_positions(const corral_matcher *m);
/* Sizes of the matcher's stacks: Earley sets, their items, and the lexer threads alive at the
 * current position (for tests of how the state grows). */
void corral_matcher_sizes(const corral_matcher *m, size_t *sets, size_t *items, size_t *threads);

/* Whether the bytes consumed form a string of the language. */
int corral_matcher_accepting(const corral_matcher *m);

/*
 * Push the bytes of data one by one while each extends the input and no Earley set takes more
 * than max_work item steps; *n_done is the number pushed.  Returns 1 when stopped by a work
 * bound (the set that exceeded it is not pushed; *work its steps), 0 otherwise, or
 * CORRAL_ENGINE_NO_MEMORY.  The caller truncates what it does not keep.
 */
int corral_matcher_feed(corral_matcher *m, const uint8_t *data, size_t n, int64_t max_work,
                        size_t *n_done, int64_t *work);

/* Drop the positions from n_positions on (1 <= n_positions <= positions). */
void corral_matcher_truncate(corral_matcher *m, size_t n_positions);

/*
 * The allowed-token mask into words[0 .. n_words) (bit i % 32 of word i / 32; eos ids are the
 * caller's); n_words * 32 >= the trie's vocabulary.  The matcher's state is unchanged.
 */
int corral_matcher_mask(corral_matcher *m, uint32_t *words, size_t n_words);

/*
 * Unique items (engine_unique.c): into words (n_words >= the vocabulary's words, zeroed first)
 * the tokens whose bytes run the current array item along an earlier item's text to a risky
 * point, with every token below it (the twin of unique_mask._trie_candidates).
 * CORRAL_ENGINE_OK or CORRAL_ENGINE_NO_MEMORY.
 */
int corral_uq_candidates(corral_matcher *m, uint32_t *words, size_t n_words);
/* The canonical text of JSON value t[0 .. n) (engine_unique_values.c; the twin of
 * unique_values.canonical): *out (malloc'd, or NULL when empty), *out_n bytes; 0, or -1 (no
 * memory). */
int corral_uq_canonical(const uint8_t *t, size_t n, uint8_t **out, size_t *out_n);

/*
 * The masks of n distinct matchers at once (corral_matcher_mask for each), on up to n_threads
 * POSIX threads: row k into words[k] (n_words[k] words).  codes[k] gets each row's result;
 * returns CORRAL_ENGINE_OK, or CORRAL_ENGINE_NO_MEMORY when a thread could not start (the rows
 * are then done on the calling thread).
 */
int corral_mask_batch(corral_matcher *const *ms, uint32_t *const *words, const size_t *n_words,
                      size_t n, size_t n_threads, int *codes);

/* Bytes every continuation takes next, at most cap of them, into out; their number or
 * CORRAL_ENGINE_NO_MEMORY.  The state is unchanged. */
int64_t corral_matcher_forced(corral_matcher *m, uint8_t *out, size_t cap);

#endif /* CORRAL_ENGINE_H */
