/*
 * engine_lexer.c - lexer states of the native matcher, built lazily (corral/engine.h).
 *
 * A lexer state is the set of lexer threads begun at one Earley set: (terminal, automaton
 * state) pairs, one per terminal, ascending by terminal.  Interned per matcher (state 0 is the
 * empty set: dead), with transitions filled on first use, so that a set's fresh threads step as
 * one product automaton whose states are built only when reached — llguidance's lazily built
 * lexer states, here over the terminals' byte DFAs rather than regex derivatives.  Each state
 * lists its accepting terminals (the lexemes that end there).  The table belongs to the
 * matcher: it is a cache of pure functions of the grammar, so truncating the matcher's stacks
 * never touches it.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

static uint64_t pairs_hash(const int32_t *pairs, size_t n) {
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t k = 0; k < n; ++k) {
        h = (h ^ (uint32_t)pairs[k]) * UINT64_C(1099511628211);
    }
    return h ^ (h >> 29);
}

static int32_t intern(corral_matcher *m, const int32_t *pairs, size_t n);

int32_t corral_lex_intern(corral_matcher *m, const int32_t *pairs, size_t n) {
    return intern(m, pairs, n);
}

/* The id of the lexer state of pairs[0 .. 2n) (made if new), or -1 (no memory). */
static int32_t intern(corral_matcher *m, const int32_t *pairs, size_t n) {
    if (n == 0) {
        return 0;
    }
    const uint64_t h = pairs_hash(pairs, 2 * n);
    int64_t *slot = corral_hmap_find(&m->lex_index, (int64_t)h, (int64_t)n);
    if (slot != NULL) {
        const corral_lexstate *ls = &m->lex[*slot];
        if (memcmp(m->lex_pairs + ls->lo, pairs, 2 * n * sizeof(int32_t)) == 0) {
            return (int32_t)*slot;
        }
    }
    const corral_grammar *g = m->g;
    if (m->n_lex >= INT32_MAX - 1 ||
        corral_grow((void **)&m->lex, &m->cap_lex, m->n_lex + 1, sizeof(corral_lexstate)) < 0 ||
        corral_grow((void **)&m->lex_pairs, &m->cap_lex_pairs, m->n_lex_pairs + 2 * n,
                    sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->lex_acc, &m->cap_lex_acc, m->n_lex_acc + n, sizeof(int32_t)) <
            0 ||
        corral_grow((void **)&m->lex_trans, &m->cap_lex_trans, (m->n_lex + 1) * 256,
                    sizeof(int32_t)) < 0) {
        return -1;
    }
    const int32_t id = (int32_t)m->n_lex;
    corral_lexstate *ls = &m->lex[m->n_lex++];
    ls->lo = (int64_t)m->n_lex_pairs;
    ls->n = (int32_t)n;
    memcpy(m->lex_pairs + m->n_lex_pairs, pairs, 2 * n * sizeof(int32_t));
    m->n_lex_pairs += 2 * n;
    ls->acc_lo = (int64_t)m->n_lex_acc;
    for (size_t k = 0; k < n; ++k) {
        const int32_t t = pairs[2 * k];
        if (g->accept[g->dfa_base[t] + pairs[2 * k + 1]]) {
            m->lex_acc[m->n_lex_acc++] = t;
        }
    }
    ls->acc_n = (int32_t)((int64_t)m->n_lex_acc - ls->acc_lo);
    for (int b = 0; b < 256; ++b) {
        m->lex_trans[(size_t)id * 256 + (size_t)b] = -1;
    }
    int fresh;
    if (slot == NULL && corral_hmap_put(&m->lex_index, (int64_t)h, (int64_t)n, id, &fresh) < 0) {
        return -1;
    }
    return id;
}

int corral_lex_init(corral_matcher *m) {
    if (corral_hmap_init(&m->lex_index, 64) < 0 ||
        corral_grow((void **)&m->lex, &m->cap_lex, 1, sizeof(corral_lexstate)) < 0 ||
        corral_grow((void **)&m->lex_trans, &m->cap_lex_trans, 256, sizeof(int32_t)) < 0) {
        return -1;
    }
    /* state 0: no thread; every byte leads back to it */
    m->lex[0] = (corral_lexstate){0, 0, 0, 0};
    memset(m->lex_trans, 0, 256 * sizeof(int32_t));
    m->n_lex = 1;
    return 0;
}

void corral_lex_free(corral_matcher *m) {
    free(m->lex);
    free(m->lex_pairs);
    free(m->lex_acc);
    free(m->lex_trans);
    free(m->lex_scratch);
    corral_hmap_free(&m->lex_index);
}

int32_t corral_lex_fresh(corral_matcher *m, int32_t set) {
    const corral_eset *es = &m->sets[set];
    const size_t n = (size_t)(es->exp_hi - es->exp_lo);
    if (corral_grow((void **)&m->lex_scratch, &m->cap_lex_scratch, 2 * n + 2, sizeof(int32_t)) <
        0) {
        return -1;
    }
    for (size_t k = 0; k < n; ++k) {
        m->lex_scratch[2 * k] = m->exp[(size_t)es->exp_lo + k];
        m->lex_scratch[2 * k + 1] = 1;
    }
    return intern(m, m->lex_scratch, n);
}

int32_t corral_lex_next_slow(corral_matcher *m, int32_t lex, uint8_t byte) {
    const corral_grammar *g = m->g;
    const corral_lexstate ls = m->lex[lex];
    if (corral_grow((void **)&m->lex_scratch, &m->cap_lex_scratch, 2 * (size_t)ls.n + 2,
                    sizeof(int32_t)) < 0) {
        return -1;
    }
    size_t n = 0;
    for (int32_t k = 0; k < ls.n; ++k) {
        const int32_t t = m->lex_pairs[ls.lo + 2 * k];
        const int32_t s2 = corral_next(g, t, m->lex_pairs[ls.lo + 2 * k + 1], byte);
        if (s2 != 0) {
            m->lex_scratch[2 * n] = t;
            m->lex_scratch[2 * n + 1] = s2;
            ++n;
        }
    }
    const int32_t next = intern(m, m->lex_scratch, n);
    if (next >= 0) {
        m->lex_trans[(size_t)lex * 256 + byte] = next;
    }
    return next;
}
