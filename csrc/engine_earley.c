/*
 * engine_earley.c - Earley sets and lexer threads of the native matcher (corral/engine.h).
 *
 * The twin of corral.constraint_engine.earley.closure and Matcher._push_byte.  Earley's
 * recogniser (1970) with Aycock & Horspool's (2002) nullable treatment: a predicted nullable
 * nonterminal also advances its predicting item at once, so completions never look back into
 * the set being built.  Completion is done once per (nonterminal, origin), from the origin set's
 * index of items by next symbol (binary search in a sorted run).  Sets are identified by their
 * index in the stack of sets; an item's origin and a thread's origin are such ids.
 */
#include "corral/engine_impl.h"
#include "corral/sort_impl.h"

#include <stdlib.h>
#include <string.h>

#define GROW(m, field, capf, need) \
    corral_grow((void **)&(m)->field, &(m)->capf, (need), sizeof(*(m)->field))

/* Items of set s waiting on key: [*lo, *hi) in m->idx. */
static void waiting(const corral_matcher *m, int32_t s, int32_t key, size_t *lo, size_t *hi) {
    const corral_eset *es = &m->sets[s];
    size_t a = (size_t)es->idx_lo;
    size_t b = (size_t)es->idx_hi;
    while (a < b) {
        const size_t mid = a + (b - a) / 2;
        if (m->idx[mid].key < key) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    *lo = a;
    b = (size_t)es->idx_hi;
    while (a < b) {
        const size_t mid = a + (b - a) / 2;
        if (m->idx[mid].key <= key) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    *hi = a;
}

static int add_item(corral_matcher *m, int32_t d, int32_t o) {
    int fresh;
    if (o == m->closing) {
        /* items predicted here: a stamp per dotted item instead of hashing */
        fresh = m->self_stamp[d] != m->self_gen;
        m->self_stamp[d] = m->self_gen;
    } else if (corral_hmap_put(&m->seen, d, o, 0, &fresh) < 0) {
        return -1;
    }
    if (fresh) {
        if (GROW(m, items, cap_items, m->n_items + 1) < 0) {
            return -1;
        }
        m->items[m->n_items].d = d;
        m->items[m->n_items].o = o;
        m->n_items++;
    }
    return 0;
}

static inline int idx_less(const corral_idx *a, const corral_idx *b) {
    if (a->key != b->key) {
        return a->key < b->key;
    }
    return a->d != b->d ? a->d < b->d : a->o < b->o;
}

/* Sort a set's index by (key, d, o) (corral/sort_impl.h). */
CORRAL_DEFINE_SORT(sort_idx, corral_idx, idx_less)

/* Index the items of the set under construction and list its expected terminals. */
static int finish_set(corral_matcher *m, corral_eset *es) {
    const corral_grammar *g = m->g;
    const size_t n = (size_t)(es->items_hi - es->items_lo);
    if (GROW(m, idx, cap_idx, m->n_idx + n) < 0) {
        return -1;
    }
    es->idx_lo = (int64_t)m->n_idx;
    for (size_t k = (size_t)es->items_lo; k < (size_t)es->items_hi; ++k) {
        const int32_t sym = g->dnext[m->items[k].d];
        if (sym == CORRAL_END) {
            continue;
        }
        corral_idx *e = &m->idx[m->n_idx++];
        e->key = sym >= 0 ? sym : g->n_terms + (-sym - 1);
        e->d = m->items[k].d;
        e->o = m->items[k].o;
    }
    es->idx_hi = (int64_t)m->n_idx;
    sort_idx(m->idx + es->idx_lo, (size_t)(es->idx_hi - es->idx_lo));
    /* expected terminals: keys below n_terms (a sorted prefix) merged with the ignored ones */
    if (GROW(m, exp, cap_exp, m->n_exp + (size_t)g->n_terms + 1) < 0) {
        return -1;
    }
    es->exp_lo = (int64_t)m->n_exp;
    size_t a = (size_t)es->idx_lo;
    int32_t b = 0;
    int32_t last = -1;
    for (;;) {
        const int32_t ka = a < (size_t)es->idx_hi && m->idx[a].key < g->n_terms ? m->idx[a].key
                                                                             : INT32_MAX;
        const int32_t kb = b < g->n_ignore ? g->ignore_list[b] : INT32_MAX;
        const int32_t k = ka < kb ? ka : kb;
        if (k == INT32_MAX) {
            break;
        }
        if (k == ka) {
            ++a;
        } else {
            ++b;
        }
        if (k != last) {
            m->exp[m->n_exp++] = k;
            last = k;
        }
    }
    es->exp_hi = (int64_t)m->n_exp;
    return 0;
}

int32_t corral_closure(corral_matcher *m) {
    const corral_grammar *g = m->g;
    if (GROW(m, sets, cap_sets, m->n_sets + 1) < 0) {
        return -1;
    }
    const int32_t self = (int32_t)m->n_sets;
    const corral_mark before = corral_mark_now(m);
    corral_eset es = {(int64_t)m->n_items, 0, 0, 0, 0, 0, 0, -1, -1, 0};
    corral_hmap_clear(&m->seen);
    m->closing = self;
    if (++m->self_gen == 0) {
        memset(m->self_stamp, 0, (size_t)g->n_dotted * sizeof(uint32_t));
        m->self_gen = 1;
    }
    for (size_t c = 0; c < m->n_copies; ++c) {
        const corral_eset *src = &m->sets[m->copies[c]];
        for (int64_t k = src->items_lo; k < src->items_hi; ++k) {
            const corral_item it = m->items[k];
            if (add_item(m, it.d, it.o) < 0) {
                goto fail;
            }
        }
        es.accepting |= m->sets[m->copies[c]].accepting;
    }
    const size_t n_copied = m->n_items - (size_t)es.items_lo;
    for (size_t k = 0; k < m->n_kernel; ++k) {
        if (add_item(m, m->kernel[k].d, m->kernel[k].o) < 0) {
            goto fail;
        }
    }
    int64_t work = (int64_t)(m->n_items - (size_t)es.items_lo);
    if (++m->pred_gen == 0) {
        memset(m->pred_stamp, 0, (size_t)g->n_nts * sizeof(uint32_t));
        m->pred_gen = 1;
    }
    for (size_t i = (size_t)es.items_lo + n_copied; i < m->n_items; ++i) {
        const corral_item it = m->items[i];
        const int32_t sym = g->dnext[it.d];
        if (sym == CORRAL_END) {
            if (it.d == g->final_dotted && it.o == 0) {
                es.accepting = 1;
            }
            if (it.o == self) {
                continue; /* empty derivation: handled at prediction */
            }
            const int32_t lhs = g->dlhs[it.d];
            int fresh;
            if (corral_hmap_put(&m->seen, -1 - (int64_t)lhs, it.o, 0, &fresh) < 0) {
                goto fail;
            }
            if (!fresh) {
                continue;
            }
            size_t lo, hi;
            waiting(m, it.o, g->n_terms + lhs, &lo, &hi);
            work += (int64_t)(hi - lo);
            for (size_t k = lo; k < hi; ++k) {
                const corral_idx w = m->idx[k];
                if (add_item(m, w.d + 1, w.o) < 0) {
                    goto fail;
                }
            }
        } else if (sym < 0) {
            const int32_t nt = -sym - 1;
            if (m->pred_stamp[nt] != m->pred_gen) {
                m->pred_stamp[nt] = m->pred_gen;
                for (int32_t p = g->pred_ptr[nt]; p < g->pred_ptr[nt + 1]; ++p) {
                    if (add_item(m, g->pred_ids[p], self) < 0) {
                        goto fail;
                    }
                }
            }
            if (g->nullable[nt] && add_item(m, it.d + 1, it.o) < 0) {
                goto fail;
            }
        }
    }
    es.items_hi = (int64_t)m->n_items;
    m->last_work = work + (es.items_hi - es.items_lo);
    int32_t same = corral_copy_equal(m, (size_t)(es.items_hi - es.items_lo));
    if (same < 0) {
        same = corral_set_alike(m, (size_t)es.items_lo, (size_t)es.items_hi, self, es.accepting,
                                &es.sig);
        if (same == -2) {
            goto fail;
        }
    }
    if (same >= 0) {
        corral_restore(m, before);
        return same;
    }
    if (finish_set(m, &es) < 0) {
        goto fail;
    }
    if (m->alike.count > 2 * m->n_sets + 4096) {
        corral_hmap_clear(&m->alike); /* mostly sets of masks gone: a bound, not a loss */
    }
    int fresh;
    if (corral_hmap_put(&m->alike, (int64_t)es.sig, 0, self, &fresh) < 0) {
        goto fail;
    }
    if (!fresh) {
        *corral_hmap_find(&m->alike, (int64_t)es.sig, 0) = self;
    }
    m->sets[m->n_sets++] = es;
    return self;
fail:
    corral_restore(m, before);
    return -1;
}

/* ------------------------------------------------------------------------- */
/* steps                                                                     */
/* ------------------------------------------------------------------------- */

int corral_push_thread(corral_matcher *m, int32_t origin, int32_t lex) {
    if (m->thr_small) {
        /* few threads: a linear scan of this step's output beats hashing */
        for (size_t k = m->thr_out_lo; k < m->n_thr; ++k) {
            if (m->thr[k].origin == origin && m->thr[k].lex == lex) {
                return 0;
            }
        }
        if (m->n_thr - m->thr_out_lo < 8) {
            if (GROW(m, thr, cap_thr, m->n_thr + 1) < 0) {
                return -1;
            }
            m->thr[m->n_thr++] = (corral_thread){origin, lex};
            return 0;
        }
        m->thr_small = 0; /* from here on, hash: enter what the scan held */
        for (size_t k = m->thr_out_lo; k < m->n_thr; ++k) {
            int f;
            if (corral_hmap_put(&m->thr_seen, m->thr[k].origin, m->thr[k].lex, 0, &f) < 0) {
                return -1;
            }
        }
    }
    int fresh;
    if (corral_hmap_put(&m->thr_seen, origin, lex, 0, &fresh) < 0) {
        return -1;
    }
    if (fresh) {
        if (GROW(m, thr, cap_thr, m->n_thr + 1) < 0) {
            return -1;
        }
        corral_thread *t = &m->thr[m->n_thr++];
        t->origin = origin;
        t->lex = lex;
    }
    return 0;
}

void corral_begin_threads(corral_matcher *m) {
    corral_hmap_clear(&m->thr_seen);
    m->thr_small = 1;
    m->thr_out_lo = m->n_thr;
}

int corral_push_fresh(corral_matcher *m, int32_t s) {
    int32_t lex = m->sets[s].fresh_lex;
    if (lex < 0) {
        lex = corral_lex_fresh(m, s);
        if (lex < 0) {
            return -1;
        }
        m->sets[s].fresh_lex = lex;
    }
    return lex == 0 ? 0 : corral_push_thread(m, s, lex);
}

static int cmp_i64(const void *x, const void *y) {
    const int64_t a = *(const int64_t *)x;
    const int64_t b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static uint64_t key_hash(const int64_t *keys, size_t n) {
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t k = 0; k < n; ++k) {
        h = (h ^ (uint64_t)keys[k]) * UINT64_C(1099511628211);
        h ^= h >> 31;
    }
    return h;
}

/* The set after the lexemes m->done[0 .. n_done) (sorted, distinct), or -1; -2: no memory. */
static int32_t set_after(corral_matcher *m) {
    const corral_grammar *g = m->g;
    m->n_kernel = 0;
    m->n_copies = 0;
    for (size_t k = 0; k < m->n_done; ++k) {
        const int32_t j = (int32_t)(m->done[k] >> 32);
        const int32_t t = (int32_t)(m->done[k] & 0xFFFFFFFF);
        if (g->ignore[t]) {
            size_t c = 0;
            while (c < m->n_copies && m->copies[c] != j) {
                ++c;
            }
            if (c == m->n_copies) {
                if (GROW(m, copies, cap_copies, m->n_copies + 1) < 0) {
                    return -2;
                }
                m->copies[m->n_copies++] = j;
            }
            continue;
        }
        size_t lo, hi;
        waiting(m, j, t, &lo, &hi);
        if (GROW(m, kernel, cap_kernel, m->n_kernel + (hi - lo)) < 0) {
            return -2;
        }
        for (size_t w = lo; w < hi; ++w) {
            m->kernel[m->n_kernel].d = m->idx[w].d + 1;
            m->kernel[m->n_kernel].o = m->idx[w].o;
            m->n_kernel++;
        }
    }
    if (m->n_kernel > 0 || m->n_copies > 1) {
        const int32_t s = corral_closure(m);
        return s < 0 ? -2 : s;
    }
    return m->n_copies == 1 ? m->copies[0] : -1;
}

/* set_after through the memo of one mask. */
static int32_t set_after_memo(corral_matcher *m) {
    if (m->memo.cap == 0) {
        return set_after(m);
    }
    const uint64_t h = key_hash(m->done, m->n_done);
    int64_t *slot = corral_hmap_find(&m->memo, (int64_t)h, (int64_t)m->n_done);
    if (slot != NULL) {
        const int64_t at = *slot >> 32;
        if (memcmp(m->pool + at, m->done, m->n_done * sizeof(int64_t)) == 0) {
            return (int32_t)(*slot & 0xFFFFFFFF) - 2;
        }
        return set_after(m); /* a hash collision: not memoised */
    }
    const int32_t s = set_after(m);
    if (s == -2) {
        return s;
    }
    if (corral_grow((void **)&m->pool, &m->cap_pool, m->n_pool + m->n_done, sizeof(int64_t)) < 0) {
        return -2;
    }
    memcpy(m->pool + m->n_pool, m->done, m->n_done * sizeof(int64_t));
    int fresh;
    if (corral_hmap_put(&m->memo, (int64_t)h, (int64_t)m->n_done,
                        ((int64_t)m->n_pool << 32) | (uint32_t)(s + 2), &fresh) < 0) {
        return -2;
    }
    m->n_pool += m->n_done;
    return s;
}

int32_t corral_set_after(corral_matcher *m, int use_memo) {
    return use_memo ? set_after_memo(m) : set_after(m);
}

int corral_step(corral_matcher *m, size_t lo, size_t hi, uint8_t byte, int use_memo,
                int32_t *new_set) {
    const size_t out_lo = m->n_thr;
    corral_begin_threads(m);
    m->n_done = 0;
    m->last_work = 0;
    *new_set = -1;
    for (size_t i = lo; i < hi; ++i) {
        const corral_thread th = m->thr[i];
        int32_t lex = corral_lex_next(m, th.lex, byte);
        if (lex > 0 && m->uq_on) {
            lex = corral_uq_filter(m, lex, m->sets[th.origin].pos);
        }
        if (lex <= 0) {
            if (lex < 0) {
                return CORRAL_ENGINE_NO_MEMORY;
            }
            continue;
        }
        if (corral_push_thread(m, th.origin, lex) < 0) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
        const corral_lexstate ls = m->lex[lex];
        if (ls.acc_n > 0) {
            if (GROW(m, done, cap_done, m->n_done + (size_t)ls.acc_n) < 0) {
                return CORRAL_ENGINE_NO_MEMORY;
            }
            for (int32_t k = 0; k < ls.acc_n; ++k) {
                const int32_t t = m->lex_acc[ls.acc_lo + k];
                if (m->uq_on && m->g->uq_term[t]) {
                    const int may = corral_uq_may_end(m, t, lex, m->sets[th.origin].pos);
                    if (may < 0) {
                        return CORRAL_ENGINE_NO_MEMORY;
                    }
                    if (!may) {
                        continue;
                    }
                }
                m->done[m->n_done++] = ((int64_t)th.origin << 32) | (uint32_t)t;
            }
        }
    }
    if (m->n_done > 0) {
        if (m->n_done > 16) {
            qsort(m->done, m->n_done, sizeof(int64_t), cmp_i64);
        } else {
            for (size_t a = 1; a < m->n_done; ++a) { /* insertion sort: a few lexemes */
                const int64_t v = m->done[a];
                size_t b = a;
                for (; b > 0 && m->done[b - 1] > v; --b) {
                    m->done[b] = m->done[b - 1];
                }
                m->done[b] = v;
            }
        }
        size_t w = 1;
        for (size_t k = 1; k < m->n_done; ++k) {
            if (m->done[k] != m->done[w - 1]) {
                m->done[w++] = m->done[k];
            }
        }
        m->n_done = w;
        const int32_t s = corral_set_after(m, use_memo);
        if (s == -2) {
            m->n_thr = out_lo;
            return CORRAL_ENGINE_NO_MEMORY;
        }
        *new_set = s;
        if (s >= 0 && corral_push_fresh(m, s) < 0) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
    }
    return (*new_set >= 0 || m->n_thr > out_lo) ? 1 : 0;
}
