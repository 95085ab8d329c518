/*
 * engine_unique.c - the run-time uniqueItems check of the native matcher (corral/engine.h).
 *
 * The twin of corral.constraint_engine.unique (scan_step, thread_verdict); the specification is
 * docs/design/unique_items.md.  An item scanner runs over the input: string mode, the stack of
 * open containers and, per open array, its finished items (byte spans) and the start of the
 * item in progress.  Its records are immutable and pushed on stacks truncated with the
 * positions, so rollback restores it.  After each byte pushed as a position, a lexer thread
 * member of a unique-item terminal in state q survives when count(q) (accepted continuations,
 * capped) exceeds the number of the innermost array's finished items that start with the
 * current item's text; its lexeme may end when it accepts and that text is none of them.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

enum { MODE_OUT = 0, MODE_STR = 1, MODE_ESC = 2 };

static int32_t push_frame(corral_matcher *m, corral_uqframe fr) {
    if (m->n_uq_fr >= INT32_MAX ||
        corral_grow((void **)&m->uq_fr, &m->cap_uq_fr, m->n_uq_fr + 1, sizeof(corral_uqframe)) <
            0) {
        return -1;
    }
    m->uq_fr[m->n_uq_fr] = fr;
    return (int32_t)m->n_uq_fr++;
}

static int32_t push_item(corral_matcher *m, int32_t a, int32_t b, int32_t prev) {
    if (m->n_uq_it >= INT32_MAX ||
        corral_grow((void **)&m->uq_it, &m->cap_uq_it, m->n_uq_it + 1, sizeof(corral_uqitem)) <
            0) {
        return -1;
    }
    m->uq_it[m->n_uq_it] = (corral_uqitem){a, b, prev};
    return (int32_t)m->n_uq_it++;
}

int corral_uq_scan(corral_matcher *m, uint8_t byte, int64_t pos, uint8_t *mode, int32_t *frame) {
    if (pos >= INT32_MAX) {
        return -1;
    }
    if (*mode == MODE_STR) {
        *mode = byte == '\\' ? MODE_ESC : (byte == '"' ? MODE_OUT : MODE_STR);
        return 0;
    }
    if (*mode == MODE_ESC) {
        *mode = MODE_STR;
        return 0;
    }
    int32_t top = *frame;
    if (byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == ',' ||
        byte == ']') {
        if (top >= 0 && m->uq_fr[top].is_array && m->uq_fr[top].cur >= 0) {
            corral_uqframe fr = m->uq_fr[top];
            const int32_t it = push_item(m, fr.cur, (int32_t)pos, fr.items);
            if (it < 0) {
                return -1;
            }
            fr.items = it;
            fr.cur = -1;
            if ((top = push_frame(m, fr)) < 0) {
                return -1;
            }
        }
        if (byte == ']' && top >= 0) {
            top = m->uq_fr[top].parent;
        }
        *frame = top;
        return 0;
    }
    if (byte == '}') {
        if (top >= 0) {
            *frame = m->uq_fr[top].parent;
        }
        return 0;
    }
    if (top >= 0 && m->uq_fr[top].is_array && m->uq_fr[top].cur < 0) {
        corral_uqframe fr = m->uq_fr[top];
        fr.cur = (int32_t)pos;
        if ((top = push_frame(m, fr)) < 0) {
            return -1;
        }
    }
    if (byte == '"') {
        *mode = MODE_STR;
    } else if (byte == '[' || byte == '{') {
        if ((top = push_frame(m, (corral_uqframe){top, -1, -1, byte == '['})) < 0) {
            return -1;
        }
    }
    *frame = top;
    return 0;
}

/* The innermost open array whose item in progress began at position start, or -1. */
static int32_t item_frame(const corral_matcher *m, int64_t start) {
    int32_t f = m->uq_frame;
    while (f >= 0 && !(m->uq_fr[f].is_array && (int64_t)m->uq_fr[f].cur == start)) {
        f = m->uq_fr[f].parent;
    }
    return f;
}

/* An item-closing thread that has read its bracket (the scanner's innermost container is then
 * the array with the item in progress): 1 when the item's canonical text is none of the
 * earlier container items' (engine_unique_values.c), 0 when it is one, -1 (no memory).  The
 * same for every closing member of one step: decided once, kept in m->uq_close. */
static int close_items(const corral_matcher *m);

static int close_verdict(corral_matcher *m) {
    if (m->uq_close < 0) {
        m->uq_close = close_items(m);
    }
    return m->uq_close;
}

static int close_items(const corral_matcher *m) {
    const int32_t f = m->uq_frame;
    if (f < 0 || !m->uq_fr[f].is_array || m->uq_fr[f].cur < 0) {
        return 1;
    }
    const int32_t cur = m->uq_fr[f].cur;
    uint8_t *mine, *other;
    size_t n_mine, n_other;
    if (corral_uq_canonical(m->input + cur, (size_t)(m->uq_end - cur), &mine, &n_mine) < 0) {
        return -1;
    }
    int fresh = 1;
    for (int32_t i = m->uq_fr[f].items; i >= 0 && fresh; i = m->uq_it[i].prev) {
        const corral_uqitem it = m->uq_it[i];
        if (m->input[it.a] != '[' && m->input[it.a] != '{') {
            continue;
        }
        if (corral_uq_canonical(m->input + it.a, (size_t)(it.b - it.a), &other, &n_other) < 0) {
            free(mine);
            return -1;
        }
        fresh = !(n_other == n_mine && (n_mine == 0 || memcmp(other, mine, n_mine) == 0));
        free(other);
    }
    free(mine);
    return fresh;
}

/* Whether member (t, s) of a unique-item terminal, its lexeme begun at start, survives this
 * step; *may_end as above; -1 when out of memory. */
static int verdict(corral_matcher *m, int32_t t, int32_t s, int64_t start, int *may_end) {
    const corral_grammar *g = m->g;
    const int64_t row = g->dfa_base[t] + s;
    if (g->uq_term[t] == CORRAL_UQ_CLOSE) {
        *may_end = g->accept[row] != 0;
        if (!*may_end) {
            return 1;
        }
        const int v = close_verdict(m);
        *may_end = v == 1;
        return v;
    }
    const int32_t count = g->uq_count[row];
    const int acc = g->accept[row] != 0;
    *may_end = acc;
    if (count >= CORRAL_UQ_CAP && !acc) {
        *may_end = 0;
        return 1;
    }
    const int32_t f = item_frame(m, start);
    if (f < 0) {
        return 1;
    }
    const int64_t plen = m->uq_end - start;
    const uint8_t *p = m->input + start;
    int64_t n = 0;
    int dup = 0;
    for (int32_t i = m->uq_fr[f].items; i >= 0; i = m->uq_it[i].prev) {
        const corral_uqitem it = m->uq_it[i];
        const int64_t len = (int64_t)it.b - it.a;
        if (len >= plen && memcmp(m->input + it.a, p, (size_t)plen) == 0) {
            ++n;
            dup |= len == plen;
        }
    }
    *may_end = acc && !dup;
    return count >= CORRAL_UQ_CAP || (int64_t)count > n;
}

int32_t corral_uq_filter(corral_matcher *m, int32_t lex, int64_t start) {
    const corral_grammar *g = m->g;
    const corral_lexstate ls = m->lex[lex];
    if (corral_grow((void **)&m->uq_pairs, &m->cap_uq_pairs, 2 * (size_t)ls.n + 2,
                    sizeof(int32_t)) < 0) {
        return -1;
    }
    size_t n = 0; /* the surviving members, in order */
    for (int32_t k = 0; k < ls.n; ++k) {
        const int32_t t = m->lex_pairs[ls.lo + 2 * k];
        const int32_t s = m->lex_pairs[ls.lo + 2 * k + 1];
        int may_end;
        const int v = g->uq_term[t] ? verdict(m, t, s, start, &may_end) : 1;
        if (v < 0) {
            return -1;
        }
        if (v == 0) {
            continue;
        }
        m->uq_pairs[2 * n] = t;
        m->uq_pairs[2 * n + 1] = s;
        ++n;
    }
    return n == (size_t)ls.n ? lex : corral_lex_intern(m, m->uq_pairs, n);
}

int corral_uq_may_end(corral_matcher *m, int32_t t, int32_t lex, int64_t start) {
    const corral_lexstate ls = m->lex[lex];
    for (int32_t k = 0; k < ls.n; ++k) {
        if (m->lex_pairs[ls.lo + 2 * k] == t) {
            int may_end;
            const int alive = verdict(m, t, m->lex_pairs[ls.lo + 2 * k + 1], start, &may_end);
            return alive < 0 ? -1 : (alive && may_end);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* mask candidates (the twin of unique_mask._trie_candidates)                 */
/* ------------------------------------------------------------------------- */

/* Compare earlier item i with y[0 .. ylen) as "before / starts with / after" (-1, 0, 1). */
static int key_cmp(const corral_matcher *m, const corral_uqitem *it, const uint8_t *y,
                   size_t ylen) {
    const size_t len = (size_t)(it->b - it->a);
    const int c = memcmp(m->input + it->a, y, len < ylen ? len : ylen);
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return len < ylen ? -1 : 0;
}

/* Byte order of two items' texts (shorter first on a common prefix). */
static int item_cmp(const corral_matcher *m, const corral_uqitem *x, const corral_uqitem *y) {
    const size_t lx = (size_t)(x->b - x->a), ly = (size_t)(y->b - y->a);
    const int c = memcmp(m->input + x->a, m->input + y->a, lx < ly ? lx : ly);
    if (c != 0) {
        return c;
    }
    return lx < ly ? -1 : (lx > ly ? 1 : 0);
}

/* The sorted earlier items [lo, hi) that start with y. */
static void span(const corral_matcher *m, const corral_uqitem *s, size_t n, const uint8_t *y,
                 size_t ylen, size_t *lo, size_t *hi) {
    size_t a = 0, b = n;
    while (a < b) {
        const size_t mid = a + (b - a) / 2;
        if (key_cmp(m, &s[mid], y, ylen) < 0) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    *lo = a;
    b = n;
    while (a < b) {
        const size_t mid = a + (b - a) / 2;
        if (key_cmp(m, &s[mid], y, ylen) <= 0) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    *hi = a;
}

/* unique_mask._risky: y is an earlier text, or leaves some unique-item automaton at most as
 * many continuations as earlier texts start with it. */
static int risky(const corral_matcher *m, const corral_uqitem *s, size_t n, const uint8_t *y,
                 size_t ylen) {
    size_t lo, hi;
    span(m, s, n, y, ylen, &lo, &hi);
    if (lo == hi) {
        return 0;
    }
    if ((size_t)(s[lo].b - s[lo].a) == ylen) {
        return 1; /* the text equal to y sorts first among those that start with it */
    }
    const corral_grammar *g = m->g;
    for (int32_t t = 0; t < g->n_terms; ++t) {
        if (g->uq_term[t] != CORRAL_UQ_ITEM) {
            continue;
        }
        int32_t q = 1;
        for (size_t i = 0; i < ylen && q != 0; ++i) {
            q = corral_next(g, t, q, y[i]);
        }
        if (q != 0 && (int64_t)g->uq_count[g->dfa_base[t] + q] <= (int64_t)(hi - lo)) {
            return 1;
        }
    }
    return 0;
}

static int32_t child_by_byte(const corral_etrie *tr, int32_t node, uint8_t b) {
    int32_t lo = tr->child_ptr[node], hi = tr->child_ptr[node + 1];
    const int32_t end = hi;
    while (lo < hi) {
        const int32_t mid = lo + (hi - lo) / 2;
        if (tr->node_byte[tr->child_ids[mid]] < b) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < end && tr->node_byte[tr->child_ids[lo]] == b ? tr->child_ids[lo] : -1;
}

static int is_ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }

typedef struct walk_frame {
    int32_t node;
    int32_t ylen;    /* item text length (base included) */
    int32_t leading; /* only whitespace read before the item */
    int32_t byte;    /* the item text's last byte, read at this node (-1: none) */
} walk_frame;

/* The candidates of array frame f (its item in progress, or the next one when innermost). */
static int frame_candidates(corral_matcher *m, int32_t f, uint32_t *words) {
    const corral_etrie *tr = m->g->trie;
    const int64_t k = (int64_t)m->n_pos - 1;
    size_t n = 0;
    for (int32_t i = m->uq_fr[f].items; i >= 0; i = m->uq_it[i].prev) {
        ++n;
    }
    const int32_t cur = m->uq_fr[f].cur;
    const size_t base = cur >= 0 ? (size_t)(k - cur) : 0;
    corral_uqitem *s = malloc(n * sizeof(corral_uqitem));
    uint8_t *y = malloc(base + (size_t)tr->max_depth + 1);
    size_t cap = 64;
    walk_frame *stack = malloc(cap * sizeof(walk_frame));
    if (s == NULL || y == NULL || stack == NULL) {
        free(s);
        free(y);
        free(stack);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    size_t j = 0;
    for (int32_t i = m->uq_fr[f].items; i >= 0; i = m->uq_it[i].prev) {
        s[j++] = m->uq_it[i];
    }
    for (size_t a = 1; a < n; ++a) { /* insertion sort: arrays are short */
        const corral_uqitem v = s[a];
        size_t b = a;
        for (; b > 0 && item_cmp(m, &s[b - 1], &v) > 0; --b) {
            s[b] = s[b - 1];
        }
        s[b] = v;
    }
    if (base > 0) {
        memcpy(y, m->input + cur, base);
    }
    size_t top = 0;
    stack[top++] = (walk_frame){0, (int32_t)base, cur < 0, -1};
    while (top > 0) {
        const walk_frame w = stack[--top];
        if (w.byte >= 0) {
            y[w.ylen - 1] = (uint8_t)w.byte; /* deeper writes since its push were elsewhere */
        }
        uint8_t seen[256];
        uint8_t list[256];
        int n_list = 0;
        memset(seen, 0, sizeof seen);
        size_t lo, hi;
        span(m, s, n, y, (size_t)w.ylen, &lo, &hi);
        for (size_t i = lo; i < hi; ++i) {
            if (s[i].b - s[i].a > w.ylen) {
                const uint8_t b = m->input[s[i].a + w.ylen];
                if (!seen[b]) {
                    seen[b] = 1;
                    list[n_list++] = b;
                }
            }
        }
        if (w.leading) {
            static const uint8_t ws[4] = {' ', '\t', '\n', '\r'};
            for (int i = 0; i < 4; ++i) {
                if (!seen[ws[i]]) {
                    seen[ws[i]] = 1;
                    list[n_list++] = ws[i];
                }
            }
        }
        if (top + (size_t)n_list > cap) {
            cap = 2 * (top + (size_t)n_list);
            walk_frame *grown = realloc(stack, cap * sizeof(walk_frame));
            if (grown == NULL) {
                free(s);
                free(y);
                free(stack);
                return CORRAL_ENGINE_NO_MEMORY;
            }
            stack = grown;
        }
        for (int i = 0; i < n_list; ++i) {
            const uint8_t b = list[i];
            const int32_t c = child_by_byte(tr, w.node, b);
            if (c < 0) {
                continue;
            }
            if (w.leading && is_ws(b)) {
                stack[top++] = (walk_frame){c, w.ylen, 1, -1};
                continue;
            }
            y[w.ylen] = b;
            if (risky(m, s, n, y, (size_t)w.ylen + 1)) {
                for (int32_t x = c; x < tr->subtree_end[c]; ++x) {
                    for (int32_t q = tr->node_tok_ptr[x]; q < tr->node_tok_ptr[x + 1]; ++q) {
                        const int32_t tok = tr->node_tok_ids[q];
                        words[tok >> 5] |= UINT32_C(1) << (tok & 31);
                    }
                }
            } else {
                stack[top++] = (walk_frame){c, w.ylen + 1, 0, b};
            }
        }
    }
    free(s);
    free(y);
    free(stack);
    return CORRAL_ENGINE_OK;
}

int corral_uq_candidates(corral_matcher *m, uint32_t *words, size_t n_words) {
    memset(words, 0, n_words * sizeof(uint32_t));
    if (!m->g->has_unique) {
        return CORRAL_ENGINE_OK;
    }
    const int32_t innermost = m->pos[m->n_pos - 1].sc_frame;
    for (int32_t f = innermost; f >= 0; f = m->uq_fr[f].parent) {
        const corral_uqframe fr = m->uq_fr[f];
        if (!fr.is_array || fr.items < 0 || (fr.cur < 0 && f != innermost)) {
            continue;
        }
        if (frame_candidates(m, f, words) != CORRAL_ENGINE_OK) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
    }
    return CORRAL_ENGINE_OK;
}
