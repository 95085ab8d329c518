/*
 * engine_mask.c - token masks of the native matcher (corral/engine.h).
 *
 * A token is allowed exactly when the matcher would accept its bytes (the reference mask's
 * definition).  The matcher's own threads contribute through their cached root walks
 * (engine_walks.c): the tokens each survives alone, and the trie nodes where its lexeme ends
 * inside a token ("injections").  Below those nodes the parse goes on: the Earley set after the
 * lexemes ending there, and its fresh threads, walk the subtrie depth first (llguidance's
 * toktrie walk), each child stepped as the matcher steps a byte (corral_step, the twin of
 * Matcher._push_byte) and dropped with its whole subtrie when nothing survives.  Injections
 * met on the way join the walk's threads; the others start walks of their own.  Splitting the
 * threads so is exact: Earley closure and lexing distribute over unions of items and threads,
 * so the tokens allowed from a union of states are the union of the tokens allowed from each.
 * Sets built inside tokens are memoised by the lexemes that end (same lexemes, same set) for
 * the whole mask and truncated from the stacks afterwards.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

static void mark_tokens(const corral_etrie *trie, int32_t node, uint32_t *words) {
    for (int32_t k = trie->node_tok_ptr[node]; k < trie->node_tok_ptr[node + 1]; ++k) {
        const int32_t tok = trie->node_tok_ids[k];
        words[tok >> 5] |= UINT32_C(1) << (tok & 31);
    }
}

static int cmp_inj(const void *x, const void *y) {
    const corral_inj *a = x;
    const corral_inj *b = y;
    if (a->node != b->node) {
        return a->node < b->node ? -1 : 1;
    }
    if (a->origin != b->origin) {
        return a->origin < b->origin ? -1 : 1;
    }
    return (a->term > b->term) - (a->term < b->term);
}

/* First injection at node (or n_inj). */
static size_t find_inj(const corral_matcher *m, int32_t node) {
    size_t a = 0, b = m->n_inj;
    while (a < b) {
        const size_t mid = a + (b - a) / 2;
        if (m->inj[mid].node < node) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    return a;
}

/* Spawn the threads of the injections at m->inj[i ..] (one node), marking them used: appended
 * to m->thr (deduplicated against m->thr_seen).  The index past them, or (size_t)-1. */
static size_t inject(corral_matcher *m, size_t i) {
    const int32_t node = m->inj[i].node;
    m->n_done = 0;
    size_t k = i;
    for (; k < m->n_inj && m->inj[k].node == node; ++k) {
        m->inj_used[k] = 1;
        const int64_t key = ((int64_t)m->inj[k].origin << 32) | (uint32_t)m->inj[k].term;
        if (m->n_done > 0 && m->done[m->n_done - 1] == key) {
            continue;
        }
        if (corral_grow((void **)&m->done, &m->cap_done, m->n_done + 1, sizeof(int64_t)) < 0) {
            return (size_t)-1;
        }
        m->done[m->n_done++] = key;
    }
    const int32_t s = corral_set_after(m, 1);
    if (s == -2) {
        return (size_t)-1;
    }
    if (s >= 0) {
        const corral_eset es = m->sets[s];
        for (int64_t e = es.exp_lo; e < es.exp_hi; ++e) {
            if (corral_push_thread(m, s, m->exp[e], 1) < 0) {
                return (size_t)-1;
            }
        }
    }
    return k;
}

static int push_frame(corral_matcher *m, size_t *nf, int32_t node, size_t lo, size_t hi) {
    if (corral_grow((void **)&m->frames, &m->cap_frames, *nf + 1, sizeof(corral_frame)) < 0) {
        return -1;
    }
    const corral_etrie *trie = m->g->trie;
    corral_frame *f = &m->frames[(*nf)++];
    f->cur = trie->child_ptr[node];
    f->end = trie->child_ptr[node + 1];
    f->thr_lo = lo;
    f->thr_hi = hi;
    return 0;
}

/* Walk the subtrie below the injections at m->inj[i ..]. */
static int walk_below(corral_matcher *m, size_t i, uint32_t *words) {
    const corral_etrie *trie = m->g->trie;
    const size_t base = m->n_thr;
    corral_hmap_clear(&m->thr_seen);
    if (inject(m, i) == (size_t)-1) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    size_t nf = 0;
    if (m->n_thr == base) {
        return CORRAL_ENGINE_OK;
    }
    if (push_frame(m, &nf, m->inj[i].node, base, m->n_thr) < 0) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    while (nf > 0) {
        corral_frame *f = &m->frames[nf - 1];
        if (f->cur == f->end) {
            m->n_thr = f->thr_lo;
            --nf;
            continue;
        }
        const int32_t child = trie->child_ids[f->cur++];
        const size_t out_lo = m->n_thr;
        int32_t s;
        const int r = corral_step(m, f->thr_lo, f->thr_hi, trie->node_byte[child], 1, &s);
        if (r < 0) {
            return r;
        }
        if (r == 1) {
            mark_tokens(trie, child, words);
        }
        const size_t at = find_inj(m, child);
        if (at < m->n_inj && m->inj[at].node == child && inject(m, at) == (size_t)-1) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
        if (m->n_thr > out_lo && trie->child_ptr[child + 1] > trie->child_ptr[child]) {
            if (push_frame(m, &nf, child, out_lo, m->n_thr) < 0) {
                return CORRAL_ENGINE_NO_MEMORY;
            }
        } else {
            m->n_thr = out_lo;
        }
    }
    m->n_thr = base;
    return CORRAL_ENGINE_OK;
}

int corral_matcher_mask(corral_matcher *m, uint32_t *words, size_t n_words) {
    memset(words, 0, n_words * sizeof(uint32_t));
    const corral_mark mark = corral_mark_now(m);
    const corral_pos cur = m->pos[m->n_pos - 1];
    corral_hmap_clear(&m->memo);
    m->n_pool = 0;
    m->n_inj = 0;
    int code = corral_walks_apply(m, cur.thr_lo, cur.thr_hi, words);
    if (code == CORRAL_ENGINE_OK && m->n_inj > 0) {
        qsort(m->inj, m->n_inj, sizeof(corral_inj), cmp_inj);
        if (corral_grow((void **)&m->inj_used, &m->cap_used, m->n_inj, 1) < 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
        } else {
            memset(m->inj_used, 0, m->n_inj);
        }
        for (size_t i = 0; i < m->n_inj && code == CORRAL_ENGINE_OK; ++i) {
            if (!m->inj_used[i]) {
                code = walk_below(m, i, words);
            }
        }
    }
    corral_restore(m, mark);
    return code;
}
