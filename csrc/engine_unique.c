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

/* Whether member (t, s) of a unique-item terminal survives this step; *may_end as above. */
static int verdict(const corral_matcher *m, int32_t t, int32_t s, int *may_end) {
    const corral_grammar *g = m->g;
    const int64_t row = g->dfa_base[t] + s;
    const int32_t count = g->uq_count[row];
    const int acc = g->accept[row] != 0;
    *may_end = acc;
    if (count >= CORRAL_UQ_CAP && !acc) {
        *may_end = 0;
        return 1;
    }
    const int32_t f = m->uq_frame;
    if (f < 0 || !m->uq_fr[f].is_array || m->uq_fr[f].cur < 0) {
        return 1;
    }
    const int32_t cur = m->uq_fr[f].cur;
    const int64_t plen = m->uq_end - cur;
    const uint8_t *p = m->input + cur;
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

int32_t corral_uq_filter(corral_matcher *m, int32_t lex) {
    const corral_grammar *g = m->g;
    const corral_lexstate ls = m->lex[lex];
    int prune = 0;
    for (int32_t k = 0; k < ls.n && !prune; ++k) {
        const int32_t t = m->lex_pairs[ls.lo + 2 * k];
        int may_end;
        prune = g->uq_term[t] && !verdict(m, t, m->lex_pairs[ls.lo + 2 * k + 1], &may_end);
    }
    if (!prune) {
        return lex;
    }
    if (corral_grow((void **)&m->uq_pairs, &m->cap_uq_pairs, 2 * (size_t)ls.n + 2,
                    sizeof(int32_t)) < 0) {
        return -1;
    }
    size_t n = 0;
    for (int32_t k = 0; k < ls.n; ++k) {
        const int32_t t = m->lex_pairs[ls.lo + 2 * k];
        const int32_t s = m->lex_pairs[ls.lo + 2 * k + 1];
        int may_end;
        if (g->uq_term[t] && !verdict(m, t, s, &may_end)) {
            continue;
        }
        m->uq_pairs[2 * n] = t;
        m->uq_pairs[2 * n + 1] = s;
        ++n;
    }
    return corral_lex_intern(m, m->uq_pairs, n);
}

int corral_uq_may_end(corral_matcher *m, int32_t t, int32_t lex) {
    const corral_lexstate ls = m->lex[lex];
    for (int32_t k = 0; k < ls.n; ++k) {
        if (m->lex_pairs[ls.lo + 2 * k] == t) {
            int may_end;
            const int alive = verdict(m, t, m->lex_pairs[ls.lo + 2 * k + 1], &may_end);
            return alive && may_end;
        }
    }
    return 0;
}
