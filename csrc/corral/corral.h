/*
 * corral/corral.h - the plain C API of corral's native code (no Python.h).
 *
 * Bitmask apply: a packed token bitmask applied to a buffer of logits.
 *
 * Layout (shared with XGrammar and llguidance): token i is allowed iff bit
 * (i % 32) of 32-bit word i / 32 of the mask row is 1.  Disallowed tokens get
 * their logit overwritten with -inf.  Allowed tokens keep their exact bits
 * (a word with many disallowed tokens may be blended with SIMD, which rewrites
 * the allowed logits of that word with their own value); columns at or past
 * n_cols and rows that are not selected are never accessed.
 *
 * These functions take plain memory and trust their caller: every size, stride
 * and row index must already have been validated (see binding.c).  Logits and
 * mask words are accessed with memcpy, so neither needs any particular alignment.
 */
#ifndef CORRAL_CORRAL_H
#define CORRAL_CORRAL_H

#include <stddef.h>
#include <stdint.h>

/* Bit pattern of -inf in IEEE 754 binary32. */
#define CORRAL_F32_NEG_INF_BITS UINT32_C(0xFF800000)
/* Bit pattern of -inf in IEEE 754 binary16. */
#define CORRAL_F16_NEG_INF_BITS UINT16_C(0xFC00)

/* Where and how to read a (possibly strided) 2-D array of 32-bit mask words. */
typedef struct corral_mask_view {
    const unsigned char *base; /* address of word (row 0, word 0) */
    ptrdiff_t row_stride;      /* bytes between consecutive rows */
    ptrdiff_t word_stride;     /* bytes between consecutive words of a row */
} corral_mask_view;

/*
 * Where to write a (possibly strided) 2-D array of logits: a row of a
 * llama-cpp-python candidates record array, for example, has a column stride
 * of 12 bytes.  Strides may be negative; they are never zero for a column.
 */
typedef struct corral_logits_view {
    unsigned char *base;   /* address of logit (row 0, column 0) */
    ptrdiff_t row_stride;  /* bytes between consecutive rows */
    ptrdiff_t col_stride;  /* bytes between consecutive logits of a row */
} corral_logits_view;

/*
 * Mask columns [0, n_cols) of the selected rows.  `rows` lists n_rows row
 * indices (duplicates allowed); when it is NULL, rows 0 .. n_rows - 1 are used.
 * Row r of the logits is masked with row r of the mask.
 */
void corral_bitmask_apply_f32(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows);

/* Same as corral_bitmask_apply_f32 for binary16 logits stored as uint16 bit patterns. */
void corral_bitmask_apply_f16(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows);

/*
 * Lexer product automata (lexer_product.c).
 *
 * The product of n_parts byte DFAs, restricted to the tuples of states reachable from the tuple
 * of initial states: state 0 is dead (all parts dead), state 1 is the initial tuple (every part
 * in its state 1), and states are numbered in breadth-first order of discovery, each state's
 * successors by increasing byte.  A byte on which every live part dies leads to state 0.
 * This is corral.constraint_engine.lexer_dfa.build_lexer_dfa, which is the specification.
 *
 * tables[j] is part j's row-major (n_states[j], 256) next-state table, n_states[j] >= 2
 * (checked by the caller).  Every entry read is checked to lie in [0, n_states[j]) (a table
 * changed by another thread while the product runs gives CORRAL_PRODUCT_BAD_TABLE).
 */
typedef struct corral_product {
    int32_t *table;   /* n_states rows of 256 next states (malloc'd) */
    int32_t *tuples;  /* n_states rows of n_parts part states (malloc'd) */
    size_t n_states;
} corral_product;

/* Result codes of corral_lexer_product. */
#define CORRAL_PRODUCT_OK 0
#define CORRAL_PRODUCT_TOO_LARGE 1 /* more than max_states states and n_parts > 1 */
#define CORRAL_PRODUCT_NO_MEMORY (-1)
#define CORRAL_PRODUCT_BAD_TABLE (-2)

/*
 * Build the product into *out (on CORRAL_PRODUCT_OK only; free it with
 * corral_product_free).  With more than one part, a product that would need more than
 * max_states states is refused; a single part is never refused.
 */
int corral_lexer_product(const int32_t *const *tables, const size_t *n_states, size_t n_parts,
                         size_t max_states, corral_product *out);

/* Free what corral_lexer_product allocated (safe on a zeroed struct). */
void corral_product_free(corral_product *product);

/*
 * Root walks of the token trie (trie_walk.c).
 *
 * One byte automaton started in one state at the trie's root is stepped down the whole trie,
 * level by level (breadth-first: at each level the children of the previous level's surviving
 * nodes, in that order, each node's children in CSR order), a child surviving when the
 * automaton is not dead after its byte.  This is corral.constraint_engine.trie_walk.walk_root,
 * which is the specification.
 */
typedef struct corral_trie {
    const int64_t *child_ptr;    /* n_nodes + 1 offsets into child_ids */
    const int64_t *child_ids;    /* n_child_ids node ids */
    const uint8_t *node_byte;    /* n_nodes bytes */
    const int64_t *node_tok_ptr; /* n_nodes + 1 offsets into node_tok_ids */
    const int64_t *node_tok_ids; /* n_tok_ids token ids, each below vocab_size */
    size_t n_nodes;
    size_t n_child_ids;
    size_t n_tok_ids;
    size_t vocab_size;
} corral_trie;

typedef struct corral_walk {
    uint8_t *allowed;     /* vocab_size flags: the tokens ending at a surviving node (not
                             with `moves`: NULL) */
    int64_t *done_nodes;  /* per level, the surviving nodes with children where it accepts */
    int64_t *done_states; /* ... and the automaton's state there */
    int64_t *level_ends;  /* per level, the end of its entries in done_nodes / done_states */
    size_t n_levels;
    /* Only with `moves` (corral_trie_walk), else NULL and 0: */
    int64_t *end_nodes;    /* the surviving nodes where some token ends, grouped by the
                              automaton's state there (ascending), level by level in a group */
    size_t n_ends;
    int64_t *group_states; /* each group's state */
    int64_t *group_ends;   /* ... and the end of its nodes in end_nodes */
    size_t n_groups;
    int64_t work; /* the sum over the frontiers stepped of 1 + their children / 64 */
} corral_walk;

#define CORRAL_WALK_OK 0
#define CORRAL_WALK_NO_MEMORY (-1)
#define CORRAL_WALK_BAD_INPUT (-2) /* an offset, node id or state out of range */

/*
 * Walk the subtrie below node `from` (0: the whole trie) with `table` (row-major (n_states,
 * 256)) from state `start`; `accepting` has n_states entries (0 or not).  Every offset, node id
 * and state read is range-checked.  With `moves` non-zero, also list the surviving nodes that
 * end tokens and count each frontier's children (the whole-token moves of infilling).
 * On CORRAL_WALK_OK, *out holds malloc'd arrays (free with corral_walk_free).
 */
int corral_trie_walk(const corral_trie *trie, const int32_t *table, size_t n_states,
                     const uint8_t *accepting, size_t start, size_t from, int moves,
                     corral_walk *out);

/* Free what corral_trie_walk allocated (safe on a zeroed struct). */
void corral_walk_free(corral_walk *walk);

/*
 * The token trie of a vocabulary (trie_build.c).
 *
 * Token i's bytes are data[offsets[i] : offsets[i + 1]]; tokens with excluded[i] != 0 or no
 * bytes are left out.  Nodes are numbered in preorder, children in byte order; this is
 * corral.tokenizers.token_trie.TokenTrie.build_py, which is the specification.
 */
typedef struct corral_built_trie {
    uint8_t *node_byte;     /* n_nodes: the byte into each node (root: 0) */
    int64_t *child_ptr;     /* n_nodes + 1 */
    int64_t *child_ids;     /* n_nodes - 1 */
    int64_t *n_children;    /* n_nodes */
    int64_t *node_tok_ptr;  /* n_nodes + 1 */
    int64_t *node_tok_ids;  /* n_tok_ids */
    int64_t *token_node;    /* vocab_size: the node where each token ends, or -1 */
    size_t n_nodes, n_tok_ids, vocab_size;
    int64_t max_depth;
} corral_built_trie;

#define CORRAL_TRIE_BUILD_OK 0
#define CORRAL_TRIE_BUILD_NO_MEMORY (-1)
#define CORRAL_TRIE_BUILD_BAD_INPUT (-2) /* offsets decrease */

/* Build the trie; on CORRAL_TRIE_BUILD_OK *out holds malloc'd arrays (corral_built_trie_free). */
int corral_trie_build(const uint8_t *data, const int64_t *offsets, const uint8_t *excluded,
                      size_t vocab, corral_built_trie *out);

/* Free what corral_trie_build allocated (safe on a zeroed struct). */
void corral_built_trie_free(corral_built_trie *t);

/*
 * Trimming and minimisation of a byte DFA (minimize.c).
 *
 * States that cannot reach an accepting state, or that the initial state cannot reach, are
 * merged into the dead state 0; then the
 * coarsest partition compatible with dead / live non-accepting / live accepting and with the
 * transitions (Hopcroft's refinement, hopcroft.c: the fixpoint of Moore's).  States are
 * renumbered: the dead class 0, the initial state's class 1, the others in order of their
 * first state.  An automaton whose initial state is dead becomes two dead states.  This is
 * corral.automata.minimize.trim_and_minimize_py, which is the specification.
 *
 * `table` is row-major (n, 256) with n >= 2; every entry is range-checked as it is read.
 */
typedef struct corral_minimized {
    int32_t *table;      /* n_states rows of `width` next states, one per byte class (malloc'd) */
    uint8_t *accepting;  /* n_states flags (malloc'd) */
    size_t n_states;
    size_t width;        /* the number of byte classes of the result */
    uint8_t classes[256]; /* the class of each byte, classes numbered by their first byte */
} corral_minimized;

#define CORRAL_MINIMIZE_OK 0
#define CORRAL_MINIMIZE_NO_MEMORY (-1)
#define CORRAL_MINIMIZE_BAD_TABLE (-2)

/*
 * The same over a table already compressed to `width` columns (1 <= width <= 256): row-major
 * (n, width), byte b reading column colmap[b] (every colmap entry below width; NULL: width is
 * 256 and byte b reads column b).  The result is as corral_minimize's: its classes are those of
 * equal columns of the minimised (n_states, 256) table, so equal languages give equal results
 * however they were compressed.
 */
int corral_minimize_classes(const int32_t *table, size_t width, const uint8_t *colmap,
                            const uint8_t *accepting, size_t n, corral_minimized *out);

int corral_minimize(const int32_t *table, const uint8_t *accepting, size_t n,
                    corral_minimized *out);

/*
 * Hopcroft's partition refinement (hopcroft.c) of the n states of a row-major (n, C) table
 * whose entries lie in [0, n), from the partition cls (block ids 0 .. n_cls - 1, each used):
 * cls receives the coarsest refinement that transitions respect (block ids below n).  Returns
 * the number of blocks, or -1 without memory (or when n * C exceeds INT32_MAX).
 */
int corral_hopcroft(const int32_t *small, size_t n, size_t C, int64_t *cls, size_t n_cls);

/*
 * The coarsest partition of a trimmed (n, C) table (entries in [0, n), the rows of states not
 * `live` all 0) from the partition cls (dead / live non-accepting / live accepting, n_cls
 * blocks): the acyclic top merged by signatures over Hopcroft's partition of the rest
 * (layered.c).  cls receives block ids below n, the dead state's 0 where some state is live.
 * 0, or -1 without memory.
 */
int corral_layered_blocks(const int32_t *small, size_t C, const uint8_t *accepting,
                          const uint8_t *live, size_t n, int64_t *cls, size_t n_cls);

/* Free what corral_minimize allocated (safe on a zeroed struct). */
void corral_minimized_free(corral_minimized *m);

/*
 * The minimal automaton of exactly the n_texts byte strings data[ends[i - 1] .. ends[i])
 * (ends[-1] = 0; ends ascending, the last at most n_data), as corral_minimize_classes returns
 * it (texts_dfa.c).  CORRAL_MINIMIZE_BAD_TABLE for no text or offsets out of order or range.
 */
int corral_texts_dfa(const uint8_t *data, size_t n_data, const int64_t *ends, size_t n_texts,
                     corral_minimized *out);

/*
 * The minimal automaton of L(K) minus those texts, K given over its classes ((kn, kwidth)
 * table, the class of each byte, kn accepting flags): the product with the texts' trie built
 * directly and minimised, as corral_minimize_classes returns it (texts_dfa.c).
 * CORRAL_MINIMIZE_BAD_TABLE for an entry or class out of range, or offsets as above.
 */
int corral_texts_complement(const int32_t *ktable, size_t kn, size_t kwidth,
                            const uint8_t *kclasses, const uint8_t *kacc, const uint8_t *data,
                            size_t n_data, const int64_t *ends, size_t n_texts,
                            corral_minimized *out);

/*
 * Classes of equal columns of a byte DFA's (n, 256) next-state table (byte_classes.c): out[b]
 * is the class of byte b, classes numbered by their first byte.  Returns the number of
 * classes.  This is corral.automata.dfa.column_classes_py, the specification.
 */
int corral_byte_classes(const int32_t *table, size_t n, uint8_t out[256]);

/* The same for a row-major (n, width) table (1 <= width <= 256): out[c] (width entries) is the
 * class of column c, numbered by first column. */
int corral_column_classes(const int32_t *table, size_t n, size_t width, uint8_t *out);

/*
 * Classes of the states of a DFA over byte classes (bounded_classes.c): table is n * width
 * next states in [0, n) (0: dead), accepting n flags.  cls[s] (n entries) names the block of
 * state s in Moore's partition after `rounds` rounds from {dead, accepting, other}, or at its
 * fixpoint if sooner: states share a block when no string of at most `rounds` bytes tells them
 * apart.  Block numbers are arbitrary.  0, or -1 when out of memory.  This is
 * corral.automata.minimize.bounded_classes_py, the specification.  `work` (or NULL) keeps the
 * scratch arrays between calls, so that many small automata do not each allocate them.
 */
typedef struct corral_classes_work {
    void *data; /* scratch arrays kept between calls (NULL at first) */
} corral_classes_work;
int corral_bounded_classes(const int32_t *table, int32_t n, int32_t width,
                           const uint8_t *accepting, int32_t rounds, int32_t *cls,
                           corral_classes_work *work);
/* Free the scratch arrays of corral_bounded_classes (safe on a zeroed struct). */
void corral_classes_work_free(corral_classes_work *work);

/*
 * Product of two byte DFAs over joint byte classes (dfa_product.c).
 *
 * ta is (na, n_classes) and tb (nb, n_classes), row-major, state 0 dead and 1 initial, every
 * entry range-checked as read.  The pairs reachable from (1, 1) are explored breadth-first,
 * one level at a time; a transition is kept (else it goes to state 0) when both parts live
 * (AND), either lives (OR) or the first lives (MINUS).  Pairs new in a level are numbered in
 * increasing order of x * nb + y.  This is corral.automata.ops.product_table_py, the
 * specification.  Returns CORRAL_PRODUCT_OK, _TOO_LARGE (a state id beyond max_states),
 * _NO_MEMORY or _BAD_TABLE.
 */
#define CORRAL_PRODUCT_AND 0
#define CORRAL_PRODUCT_OR 1
#define CORRAL_PRODUCT_MINUS 2

typedef struct corral_pair_product {
    int32_t *table; /* n_states rows of n_classes next states (malloc'd) */
    int32_t *xs;    /* each state's state in the first DFA (malloc'd) */
    int32_t *ys;    /* and in the second (malloc'd) */
    size_t n_states;
} corral_pair_product;

int corral_dfa_product(const int32_t *ta, size_t na, const int32_t *tb, size_t nb,
                       size_t n_classes, int mode, size_t max_states, corral_pair_product *out);

/* Free what corral_dfa_product allocated (safe on a zeroed struct). */
void corral_pair_product_free(corral_pair_product *out);

/*
 * subset.c: the subset construction of a byte DFA from a Thompson NFA whose byte edges are
 * given over intervals of bytes that no edge splits (corral.automata.regex._determinize_py is
 * the specification: the same states, numbered breadth first, intervals in increasing order).
 * The binding checks every index before the call.
 */
typedef struct corral_nfa {
    size_t n_states;
    const int64_t *eps_ptr; /* n_states + 1: ε-edges of state s are eps_ids[eps_ptr[s]..] */
    const int32_t *eps_ids;
    const int64_t *edge_ptr; /* n_states + 1: byte edges of state s */
    const int32_t *edge_k0;  /* an edge reads intervals [edge_k0, edge_k1) */
    const int32_t *edge_k1;
    const int32_t *edge_t; /* and leads to edge_t */
    size_t n_spans;
    const int32_t *span_lo; /* n_spans + 1 cuts: interval k is bytes [span_lo[k], span_lo[k+1]) */
    int32_t initial;
    int32_t final;
} corral_nfa;

typedef struct corral_subset_out {
    int32_t *table;     /* n_states rows of 256 next states (malloc'd) */
    uint8_t *accepting; /* n_states flags (malloc'd) */
    size_t n_states;
} corral_subset_out;

#define CORRAL_SUBSET_OK 0
#define CORRAL_SUBSET_NO_MEMORY (-1)
#define CORRAL_SUBSET_TOO_LARGE (-2)
#define CORRAL_SUBSET_DEADLINE (-3)

/* Build the DFA; a state id beyond max_states is _TOO_LARGE, the thread's CPU clock past
 * deadline (seconds; negative: none) _DEADLINE. */
int corral_subset(const corral_nfa *nfa, size_t max_states, double deadline,
                  corral_subset_out *out);

/* Free what corral_subset allocated (safe on a zeroed struct). */
void corral_subset_free(corral_subset_out *out);

#endif /* CORRAL_CORRAL_H */
