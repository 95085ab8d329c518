/*
 * engine_slices.c - the token trie's slice of plain text, for root walks (corral/engine.h).
 *
 * Plain text is a run of plain characters: printable ASCII but '"' and '\', and every
 * well-formed UTF-8 sequence of two to four bytes but the line separators U+2028 and U+2029.
 * Most of a vocabulary is plain text, or
 * plain text cut inside its last character (98 % of the SmolLM2 trie's nodes, 99 % of Qwen's
 * lie on such paths), and most automata that keep such tokens alive for long — a JSON string
 * body, its length counted, an unconstrained tail — treat every plain character alike.  When
 * terminal t in state d does, for as many characters as the longest token has bytes, the state
 * after any plain text depends on its length in characters only: a chain d = s0, s1, s2, ...
 * Then the plain tokens that it survives are those whose characters (a cut last one counted)
 * are no more than the chain stays alive for — a bitset precomputed per length — and only the
 * subtrees that leave plain text (the frontier: a node that is not plain under a plain path) are
 * walked, each from the chain's state above it.  A few first bytes may lead elsewhere (the next
 * letter of a declared name in an automaton of "any other name", the first letter of a sought
 * word in "contains ..."): the chain starts at the commonest next state, and the subtrees of
 * those exception bytes are walked in full.  This is llguidance's idea of slices (masks
 * precomputed for lexemes such as string bodies), applied per automaton state; the walk's
 * result is the full walk's, node for node.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

static int is_slice_byte(int b) { return b >= 0x20 && b < 0x7F && b != '"' && b != '\\'; }

/* Well-formed UTF-8 sequences of two to four bytes, as ranges of each byte (Unicode table
 * 3-7); 0 ends a shape. */
static const uint8_t SHAPES[7][4][2] = {
    {{0xC2, 0xDF}, {0x80, 0xBF}, {0, 0}, {0, 0}},
    {{0xE0, 0xE0}, {0xA0, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xE1, 0xEC}, {0x80, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xED, 0xED}, {0x80, 0x9F}, {0x80, 0xBF}, {0, 0}},
    {{0xEE, 0xEF}, {0x80, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xF0, 0xF0}, {0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}},
    {{0xF1, 0xF3}, {0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}},
};
static const uint8_t SHAPE_F4[4][2] = {{0xF4, 0xF4}, {0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}};

/* The same characters but U+2028 and U+2029 (E2 80 A8, E2 80 A9), as ranges whose every
 * combination is a character: what a chain must treat alike.  ECMAScript's '.' leaves out
 * these two line separators, so an unanchored pattern ("contains ...") would otherwise never
 * take the slice; they are not plain text (a token holding one leaves the slice by the
 * frontier, walked in full). */
#define N_CHECKS 12
static const uint8_t CHECKS[N_CHECKS][4][2] = {
    {{0xC2, 0xDF}, {0x80, 0xBF}, {0, 0}, {0, 0}},
    {{0xE0, 0xE0}, {0xA0, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xE1, 0xE1}, {0x80, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xE2, 0xE2}, {0x81, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xE2, 0xE2}, {0x80, 0x80}, {0x80, 0xA7}, {0, 0}},
    {{0xE2, 0xE2}, {0x80, 0x80}, {0xAA, 0xBF}, {0, 0}},
    {{0xE3, 0xEC}, {0x80, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xED, 0xED}, {0x80, 0x9F}, {0x80, 0xBF}, {0, 0}},
    {{0xEE, 0xEF}, {0x80, 0xBF}, {0x80, 0xBF}, {0, 0}},
    {{0xF0, 0xF0}, {0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}},
    {{0xF1, 0xF3}, {0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}},
    {{0xF4, 0xF4}, {0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}},
};

static int check_len(int k) {
    int n = 1;
    while (n < 4 && CHECKS[k][n][0] != 0) {
        ++n;
    }
    return n;
}

/* Whether a character ending with byte b after the cut bytes `cut` is a line separator. */
static int is_line_separator(uint32_t cut, int b) {
    return cut == 0xE280 && (b == 0xA8 || b == 0xA9);
}

/* The shape of a lead byte: its index (7 for F4), or -1. */
static int shape_of(int b) {
    for (int k = 0; k < 7; ++k) {
        if (b >= SHAPES[k][0][0] && b <= SHAPES[k][0][1]) {
            return k;
        }
    }
    return b == 0xF4 ? 7 : -1;
}

static const uint8_t (*shape_ranges(int k))[2] { return k == 7 ? SHAPE_F4 : SHAPES[k]; }

static int shape_len(int k) {
    const uint8_t(*r)[2] = shape_ranges(k);
    int n = 1;
    while (n < 4 && r[n][0] != 0) {
        ++n;
    }
    return n;
}

enum { NOT_PLAIN = 0, COMPLETE = 1, PARTIAL = 2 };

static int cmp_frontier_node(const void *a, const void *b) {
    const corral_frontier *x = a, *y = b;
    return (x->node > y->node) - (x->node < y->node);
}

static int cmp_frontier_chars(const void *a, const void *b) {
    const corral_frontier *x = a, *y = b;
    if (x->chars != y->chars) {
        return (x->chars > y->chars) - (x->chars < y->chars);
    }
    return cmp_frontier_node(a, b);
}

int corral_trie_slices(corral_etrie *t) {
    const size_t n = t->n_nodes;
    const size_t n_words = (t->vocab_size + 31) / 32;
    const size_t levels = (size_t)t->max_depth + 1;
    /* per node: kind, characters completed on its path, and (partial) the shape, bytes read of
     * the cut character and the bytes themselves */
    uint8_t *kind = malloc(n > 0 ? n : 1);
    int32_t *chars = malloc((n > 0 ? n : 1) * sizeof(int32_t));
    uint8_t *shape = malloc(n > 0 ? n : 1);
    uint8_t *got = malloc(n > 0 ? n : 1);
    uint32_t *cut = malloc((n > 0 ? n : 1) * sizeof(uint32_t));
    t->slice_bits = calloc(levels * (n_words > 0 ? n_words : 1), sizeof(uint32_t));
    t->slice_count = calloc(levels, sizeof(int64_t));
    size_t cap = 0;
    int code = CORRAL_ENGINE_NO_MEMORY;
    if (kind == NULL || chars == NULL || shape == NULL || got == NULL || cut == NULL ||
        t->slice_bits == NULL || t->slice_count == NULL) {
        goto done;
    }
    kind[0] = COMPLETE;
    chars[0] = 0;
    memset(t->present, 0, sizeof(t->present));
    for (size_t i = 1; i < n; ++i) {
        t->present[t->node_byte[i]] = 1;
    }
    for (size_t p = 0; p < n; ++p) {
        for (int32_t k = t->child_ptr[p]; k < t->child_ptr[p + 1]; ++k) {
            const int32_t c = t->child_ids[k];
            const int b = t->node_byte[c];
            kind[c] = NOT_PLAIN;
            chars[c] = chars[p];
            if (kind[p] == COMPLETE) {
                const int sh = shape_of(b);
                if (is_slice_byte(b)) {
                    kind[c] = COMPLETE;
                    chars[c] = chars[p] + 1;
                } else if (sh >= 0) {
                    kind[c] = PARTIAL;
                    shape[c] = (uint8_t)sh;
                    got[c] = 1;
                    cut[c] = (uint32_t)b;
                }
            } else if (kind[p] == PARTIAL) {
                const uint8_t(*r)[2] = shape_ranges(shape[p]);
                if (b >= r[got[p]][0] && b <= r[got[p]][1]) {
                    if (got[p] + 1 == shape_len(shape[p]) && is_line_separator(cut[p], b)) {
                        kind[c] = NOT_PLAIN;
                    } else if (got[p] + 1 == shape_len(shape[p])) {
                        kind[c] = COMPLETE;
                        chars[c] = chars[p] + 1;
                    } else {
                        kind[c] = PARTIAL;
                        shape[c] = shape[p];
                        got[c] = (uint8_t)(got[p] + 1);
                        cut[c] = cut[p] << 8 | (uint32_t)b;
                    }
                }
            }
            if (kind[p] != NOT_PLAIN && kind[c] == NOT_PLAIN) {
                if (corral_grow((void **)&t->frontier, &cap, (size_t)t->n_frontier + 1,
                                sizeof(corral_frontier)) < 0) {
                    goto done;
                }
                /* the state above: after chars[p] characters, then the cut bytes */
                corral_frontier *f = &t->frontier[t->n_frontier++];
                f->node = c;
                f->chars = chars[p];
                f->n_cut = kind[p] == PARTIAL ? got[p] : 0;
                f->cut = kind[p] == PARTIAL ? cut[p] : 0;
            }
        }
    }
    /* frontier nodes in preorder (children were appended parent by parent), and a copy by the
     * characters above them: a walk whose chain dies early reads only the groups it lives
     * through; one that lives through all reads them in preorder, the trie's own order */
    if (t->n_frontier > 1) {
        qsort(t->frontier, (size_t)t->n_frontier, sizeof(corral_frontier), cmp_frontier_node);
    }
    const size_t n_fr = t->n_frontier > 0 ? (size_t)t->n_frontier : 1;
    t->frontier_by_chars = malloc(n_fr * sizeof(corral_frontier));
    t->frontier_ptr = calloc(levels + 1, sizeof(int32_t));
    if (t->frontier_by_chars == NULL || t->frontier_ptr == NULL) {
        goto done;
    }
    if (t->n_frontier > 0) {
        memcpy(t->frontier_by_chars, t->frontier, (size_t)t->n_frontier * sizeof(corral_frontier));
    }
    if (t->n_frontier > 1) {
        qsort(t->frontier_by_chars, (size_t)t->n_frontier, sizeof(corral_frontier),
              cmp_frontier_chars);
    }
    for (int32_t a = 0; a < t->n_frontier; ++a) {
        t->frontier_ptr[t->frontier[a].chars + 1]++;
    }
    for (size_t l = 0; l < levels; ++l) {
        t->frontier_ptr[l + 1] += t->frontier_ptr[l];
    }
    for (size_t i = 1; i < n; ++i) {
        if (kind[i] == NOT_PLAIN) {
            continue;
        }
        /* a cut last character counts: the token lives while that character could */
        const size_t row_at = (size_t)chars[i] + (kind[i] == PARTIAL ? 1 : 0);
        uint32_t *row = t->slice_bits + row_at * n_words;
        for (int32_t k = t->node_tok_ptr[i]; k < t->node_tok_ptr[i + 1]; ++k) {
            const int32_t tok = t->node_tok_ids[k];
            row[tok >> 5] |= UINT32_C(1) << (tok & 31);
            t->slice_count[row_at]++;
        }
    }
    /* nodes with children ending a whole plain character, by characters (counting sort, so
     * each group stays in preorder) */
    t->plain_at_ptr = calloc(levels + 1, sizeof(int32_t));
    size_t n_at = 0;
    for (size_t i = 1; i < n; ++i) {
        n_at += kind[i] == COMPLETE && t->child_ptr[i + 1] > t->child_ptr[i];
    }
    t->plain_at = malloc((n_at > 0 ? n_at : 1) * sizeof(int32_t));
    if (t->plain_at_ptr == NULL || t->plain_at == NULL) {
        goto done;
    }
    for (size_t i = 1; i < n; ++i) {
        if (kind[i] == COMPLETE && t->child_ptr[i + 1] > t->child_ptr[i]) {
            t->plain_at_ptr[chars[i] + 1]++;
        }
    }
    for (size_t l = 0; l < levels; ++l) {
        t->plain_at_ptr[l + 1] += t->plain_at_ptr[l];
    }
    for (size_t i = 1; i < n; ++i) {
        if (kind[i] == COMPLETE && t->child_ptr[i + 1] > t->child_ptr[i]) {
            t->plain_at[t->plain_at_ptr[chars[i]]++] = (int32_t)i;
        }
    }
    for (size_t l = levels; l > 0; --l) { /* back to the starts */
        t->plain_at_ptr[l] = t->plain_at_ptr[l - 1];
    }
    t->plain_at_ptr[0] = 0;
    for (size_t l = 1; l < levels; ++l) { /* cumulative: tokens of at most l characters */
        uint32_t *row = t->slice_bits + l * n_words;
        const uint32_t *prev = row - n_words;
        for (size_t w = 0; w < n_words; ++w) {
            row[w] |= prev[w];
        }
        t->slice_count[l] += t->slice_count[l - 1];
    }
    code = CORRAL_ENGINE_OK;
done:
    free(kind);
    free(chars);
    free(shape);
    free(got);
    free(cut);
    return code;
}

/* The distinct byte classes of terminal t over the bytes in [lo, hi] that some token has
 * (compilation cuts the others out of automata), plain ASCII only when `plain`. */
static int range_classes(const uint8_t *cls, const uint8_t *present, int lo, int hi, int plain,
                         uint8_t *out) {
    int n = 0;
    uint64_t seen[4] = {0, 0, 0, 0}; /* classes are bytes */
    for (int b = lo; b <= hi; ++b) {
        if ((plain && !is_slice_byte(b)) || !present[b]) {
            continue;
        }
        const uint8_t c = cls[b];
        if (!((seen[c >> 6] >> (c & 63)) & 1)) {
            seen[c >> 6] |= UINT64_C(1) << (c & 63);
            out[n++] = c;
        }
    }
    return n;
}

typedef struct chain_ctx {
    const int32_t *table;
    const uint8_t *accept;
    int32_t width;
    uint8_t plain[96];
    int n_plain;
    uint8_t ranges[N_CHECKS][4][64]; /* per checked shape and byte: its distinct classes */
    int n_ranges[N_CHECKS][4];
} chain_ctx;

/* The one next state of s on every plain ASCII byte, or -1. */
static int32_t ascii_next(const chain_ctx *x, int32_t s) {
    const int32_t *row = x->table + (int64_t)s * x->width;
    const int32_t to = row[x->plain[0]];
    for (int k = 1; k < x->n_plain; ++k) {
        if (row[x->plain[k]] != to) {
            return -1;
        }
    }
    return to;
}

/* Whether every plain multi-byte character (CHECKS) takes s to `to`, the states inside it all
 * dead when `to` is dead and all alive and not accepting when not (so that a token cut inside
 * a character lives exactly when the whole character would). */
static int utf8_agrees(const chain_ctx *x, int32_t s, int32_t to) {
    for (int k = 0; k < N_CHECKS; ++k) {
        int32_t set[8] = {s};
        int n_set = 1;
        const int len = check_len(k);
        for (int j = 0; j < len; ++j) {
            int32_t next[8];
            int n_next = 0;
            for (int a = 0; a < n_set; ++a) {
                const int32_t *row = x->table + (int64_t)set[a] * x->width;
                for (int c = 0; c < x->n_ranges[k][j]; ++c) {
                    const int32_t y = row[x->ranges[k][j][c]];
                    int seen = 0;
                    for (int q = 0; q < n_next && !seen; ++q) {
                        seen = next[q] == y;
                    }
                    if (!seen) {
                        if (n_next == 8) {
                            return 0;
                        }
                        next[n_next++] = y;
                    }
                }
            }
            for (int q = 0; q < n_next; ++q) {
                if (j + 1 == len ? next[q] != to
                                 : (to == 0 ? next[q] != 0 : next[q] == 0 || x->accept[next[q]])) {
                    return 0;
                }
            }
            memcpy(set, next, sizeof(int32_t) * (size_t)n_next);
            n_set = n_next;
        }
    }
    return 1;
}

int32_t corral_slice_chain(const corral_grammar *g, int32_t t, int32_t d, int32_t *chain,
                           uint8_t *except, int32_t *n_except) {
    const int32_t depth = g->trie->max_depth;
    const uint8_t *cls = g->classes + (size_t)t * 256;
    chain_ctx x;
    x.table = g->table + g->tbase[t];
    x.accept = g->accept + g->dfa_base[t];
    x.width = g->n_classes[t];
    const uint8_t *present = g->trie->present;
    x.n_plain = range_classes(cls, present, 0x20, 0x7E, 1, x.plain);
    if (x.n_plain == 0) {
        return -1;
    }
    for (int k = 0; k < N_CHECKS; ++k) {
        for (int j = 0; j < check_len(k); ++j) {
            x.n_ranges[k][j] =
                range_classes(cls, present, CHECKS[k][j][0], CHECKS[k][j][1], 0, x.ranges[k][j]);
        }
    }
    chain[0] = d;
    *n_except = 0;
    if (depth < 1) {
        return -1;
    }
    /* the first byte: the commonest next state among plain ASCII bytes (Boyer-Moore majority
     * vote), the others exceptions */
    const int32_t *row0 = x.table + (int64_t)d * x.width;
    int32_t major = -1, votes = 0;
    for (int b = 0x20; b < 0x7F; ++b) {
        if (is_slice_byte(b) && present[b]) {
            const int32_t to = row0[cls[b]];
            if (votes == 0) {
                major = to;
                votes = 1;
            } else {
                votes += to == major ? 1 : -1;
            }
        }
    }
    for (int b = 0x20; b < 0x7F; ++b) {
        if (is_slice_byte(b) && present[b] && row0[cls[b]] != major) {
            if (*n_except == CORRAL_SLICE_EXCEPTIONS) {
                return -1; /* too many first bytes walked apart: walk the whole trie */
            }
            except[(*n_except)++] = (uint8_t)b;
        }
    }
    if (!utf8_agrees(&x, d, major)) {
        return -1;
    }
    chain[1] = major;
    int32_t alive = 0;
    for (int32_t k = 1; k <= depth; ++k) {
        const int32_t s = chain[k];
        if (s == 0) {
            for (int32_t r = k + 1; r <= depth; ++r) {
                chain[r] = 0;
            }
            break;
        }
        alive = k;
        if (k == depth) {
            break;
        }
        if (s == chain[k - 1] && k > 1) {
            chain[k + 1] = s; /* a loop: the rest of the chain is s */
            continue;
        }
        const int32_t next = ascii_next(&x, s);
        if (next < 0 || !utf8_agrees(&x, s, next)) {
            return -1; /* plain characters tell paths apart: walk the whole trie */
        }
        chain[k + 1] = next;
    }
    return alive;
}
