/*
 * engine_matcher.c - the native matcher's positions: new, reset, feed, truncate (corral/engine.h).
 *
 * The twin of Matcher.reset / _feed / _truncate: position p holds the Earley set after a lexeme
 * ended at byte p (or none) and the lexer threads alive there; rollback truncates the stacks.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

void corral_matcher_free(corral_matcher *m) {
    if (m == NULL) {
        return;
    }
    free(m->sets);
    free(m->items);
    free(m->idx);
    free(m->exp);
    free(m->thr);
    free(m->pos);
    corral_hmap_free(&m->seen);
    corral_hmap_free(&m->thr_seen);
    corral_hmap_free(&m->memo);
    free(m->pred_stamp);
    free(m->self_stamp);
    free(m->done);
    free(m->kernel);
    free(m->copies);
    free(m->pool);
    free(m->depth_cfg);
    free(m->grp);
    free(m->cfr);
    free(m->mc_thr);
    free(m->mc_words);
    free(m->cfg_word);
    free(m->chain_cfg);
    free(m->inj);
    free(m->inj_tmp);
    free(m->inj_used);
    free(m->cfgs);
    free(m->cfg_thr);
    free(m->cfg_trans);
    corral_hmap_free(&m->cfg_index);
    corral_hmap_free(&m->cfg_union);
    corral_hmap_free(&m->alike);
    free(m->alike_a);
    free(m->alike_b);
    corral_lex_free(m);
    free(m->input);
    free(m->uq_fr);
    free(m->uq_it);
    free(m->uq_pairs);
    free(m);
}

corral_matcher *corral_matcher_new(const corral_grammar *g) {
    corral_matcher *m = calloc(1, sizeof(corral_matcher));
    if (m == NULL) {
        return NULL;
    }
    m->g = g;
    m->mc_max = -1;
    m->pred_stamp = calloc(g->n_nts > 0 ? (size_t)g->n_nts : 1, sizeof(uint32_t));
    m->self_stamp = calloc((size_t)g->n_dotted, sizeof(uint32_t));
    /* every growable array starts allocated, so that no pointer arithmetic meets NULL */
    const size_t c0 = 16;
    if (corral_grow((void **)&m->sets, &m->cap_sets, c0, sizeof(corral_eset)) < 0 ||
        corral_grow((void **)&m->items, &m->cap_items, c0, sizeof(corral_item)) < 0 ||
        corral_grow((void **)&m->idx, &m->cap_idx, c0, sizeof(corral_idx)) < 0 ||
        corral_grow((void **)&m->exp, &m->cap_exp, c0, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->thr, &m->cap_thr, c0, sizeof(corral_thread)) < 0 ||
        corral_grow((void **)&m->pos, &m->cap_pos, c0, sizeof(corral_pos)) < 0 ||
        corral_grow((void **)&m->done, &m->cap_done, c0, sizeof(int64_t)) < 0 ||
        corral_grow((void **)&m->kernel, &m->cap_kernel, c0, sizeof(corral_item)) < 0 ||
        corral_grow((void **)&m->copies, &m->cap_copies, c0, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->pool, &m->cap_pool, c0, sizeof(int64_t)) < 0 ||
        corral_grow((void **)&m->depth_cfg, &m->cap_depth_cfg,
                    (size_t)g->trie->max_depth + 1, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->chain_cfg, &m->cap_chain_cfg,
                    (size_t)g->trie->max_depth + 1, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->grp, &m->cap_grp, c0, sizeof(corral_grp)) < 0 ||
        corral_grow((void **)&m->cfgs, &m->cap_cfgs, c0, sizeof(corral_cfg)) < 0 ||
        corral_grow((void **)&m->cfg_thr, &m->cap_cfg_thr, c0, sizeof(corral_thread)) < 0 ||
        corral_grow((void **)&m->cfg_trans, &m->cap_cfg_trans, 256 * c0, sizeof(uint64_t)) < 0 ||
        corral_grow((void **)&m->inj, &m->cap_inj, c0, sizeof(corral_inj)) < 0 ||
        corral_grow((void **)&m->inj_used, &m->cap_used, c0, 1) < 0 ||
        corral_grow((void **)&m->lex_pairs, &m->cap_lex_pairs, c0, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->lex_acc, &m->cap_lex_acc, c0, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->lex_scratch, &m->cap_lex_scratch, c0, sizeof(int32_t)) < 0 ||
        corral_grow((void **)&m->input, &m->cap_input, c0, 1) < 0 ||
        corral_grow((void **)&m->uq_fr, &m->cap_uq_fr, c0, sizeof(corral_uqframe)) < 0 ||
        corral_grow((void **)&m->uq_it, &m->cap_uq_it, c0, sizeof(corral_uqitem)) < 0 ||
        corral_grow((void **)&m->uq_pairs, &m->cap_uq_pairs, c0, sizeof(int32_t)) < 0) {
        corral_matcher_free(m);
        return NULL;
    }
    memset(m->cfg_trans, 0, m->cap_cfg_trans * sizeof(uint64_t)); /* stamp 0: unknown */
    m->cfg_stamp = 1;
    if (m->pred_stamp == NULL || m->self_stamp == NULL || corral_hmap_init(&m->seen, 64) < 0 ||
        corral_hmap_init(&m->thr_seen, 64) < 0 || corral_hmap_init(&m->memo, 64) < 0 ||
        corral_lex_init(m) < 0 || corral_hmap_init(&m->cfg_index, 64) < 0 ||
        corral_hmap_init(&m->cfg_union, 64) < 0 || corral_hmap_init(&m->alike, 64) < 0 ||
        corral_matcher_reset(m) != CORRAL_ENGINE_OK) {
        corral_matcher_free(m);
        return NULL;
    }
    return m;
}

static int push_position(corral_matcher *m, int32_t set, size_t thr_lo, corral_mark mark) {
    if (corral_grow((void **)&m->pos, &m->cap_pos, m->n_pos + 1, sizeof(corral_pos)) < 0) {
        return -1;
    }
    corral_pos *p = &m->pos[m->n_pos++];
    p->set = set;
    p->thr_lo = thr_lo;
    p->thr_hi = m->n_thr;
    p->mark = mark;
    p->sc_frame = -1;
    p->sc_mode = 0;
    return 0;
}

int corral_matcher_reset(corral_matcher *m) {
    const corral_mark zero = {0, 0, 0, 0, 0, 0, 0};
    corral_restore(m, zero);
    m->n_pos = 0;
    if (corral_grow((void **)&m->kernel, &m->cap_kernel, 1, sizeof(corral_item)) < 0) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    /* set 0: the closure of "$start -> . start"; a fresh thread per expected terminal */
    m->kernel[0].d = 0;
    m->kernel[0].o = 0;
    m->n_kernel = 1;
    m->n_copies = 0;
    const int32_t s = corral_closure(m);
    if (s != 0) {
        corral_restore(m, zero);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    corral_begin_threads(m);
    if (corral_push_fresh(m, 0) < 0) {
        corral_restore(m, zero);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    m->sets[0].pos = 0;
    if (push_position(m, 0, 0, zero) < 0) {
        corral_restore(m, zero);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    return CORRAL_ENGINE_OK;
}

size_t corral_matcher_positions(const corral_matcher *m) { return m->n_pos; }

void corral_matcher_sizes(const corral_matcher *m, size_t *sets, size_t *items, size_t *threads) {
    const corral_pos cur = m->pos[m->n_pos - 1];
    *sets = m->n_sets;
    *items = m->n_items;
    *threads = cur.thr_hi - cur.thr_lo;
}

int corral_matcher_accepting(const corral_matcher *m) {
    const int32_t s = m->pos[m->n_pos - 1].set;
    return s >= 0 && m->sets[s].accepting;
}

void corral_matcher_truncate(corral_matcher *m, size_t n_positions) {
    if (n_positions >= 1 && n_positions < m->n_pos) {
        corral_restore(m, m->pos[n_positions].mark);
        m->n_pos = n_positions;
    }
}

/* Push one byte as a new position: 1 pushed, 0 dead, 2 over max_work, or no memory. */
static int push_byte(corral_matcher *m, uint8_t byte, int64_t max_work, int64_t *work) {
    const corral_pos cur = m->pos[m->n_pos - 1];
    const corral_mark mark = corral_mark_now(m);
    uint8_t mode = cur.sc_mode;
    int32_t frame = cur.sc_frame;
    if (m->g->has_unique) {
        const size_t k = m->n_pos - 1;
        if (corral_grow((void **)&m->input, &m->cap_input, k + 1, 1) < 0 ||
            corral_uq_scan(m, byte, (int64_t)k, &mode, &frame) < 0) {
            corral_restore(m, mark);
            return CORRAL_ENGINE_NO_MEMORY;
        }
        m->input[k] = byte;
        m->uq_on = 1;
        m->uq_frame = frame;
        m->uq_end = (int64_t)k + 1;
        m->uq_close = -1;
    }
    int32_t s;
    const int r = corral_step(m, cur.thr_lo, cur.thr_hi, byte, 0, &s);
    m->uq_on = 0;
    if (r != 1) {
        corral_restore(m, mark);
        return r;
    }
    if (m->last_work > max_work) {
        *work = m->last_work;
        corral_restore(m, mark);
        return 2;
    }
    if (push_position(m, s, mark.thr, mark) < 0) {
        corral_restore(m, mark);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    m->pos[m->n_pos - 1].sc_mode = mode;
    m->pos[m->n_pos - 1].sc_frame = frame;
    if (s >= 0) {
        m->sets[s].pos = (int64_t)m->n_pos - 1;
    }
    return 1;
}

int corral_matcher_feed(corral_matcher *m, const uint8_t *data, size_t n, int64_t max_work,
                        size_t *n_done, int64_t *work) {
    *n_done = 0;
    *work = 0;
    for (size_t k = 0; k < n; ++k) {
        const int r = push_byte(m, data[k], max_work, work);
        if (r == CORRAL_ENGINE_NO_MEMORY) {
            return r;
        }
        if (r == 2) {
            return 1;
        }
        if (r == 0) {
            return 0;
        }
        *n_done = k + 1;
    }
    return 0;
}

int64_t corral_matcher_forced(corral_matcher *m, uint8_t *out, size_t cap) {
    const corral_grammar *g = m->g;
    const size_t start = m->n_pos;
    size_t n = 0;
    int64_t work;
    while (n < cap && !corral_matcher_accepting(m)) {
        const corral_pos cur = m->pos[m->n_pos - 1];
        int only = -1;
        for (size_t i = cur.thr_lo; i < cur.thr_hi && only != -2; ++i) {
            const corral_lexstate ls = m->lex[m->thr[i].lex];
            for (int b = 0; b < 256 && only != -2; ++b) {
                int live = 0;
                for (int32_t k = 0; k < ls.n && !live; ++k) {
                    const int32_t *pair = m->lex_pairs + ls.lo + 2 * k;
                    live = corral_next(g, pair[0], pair[1], (uint8_t)b) != 0;
                }
                if (live && b != only) {
                    if (only != -1) {
                        only = -2;
                        break;
                    }
                    only = b;
                }
            }
        }
        if (only < 0) {
            break;
        }
        const int r = push_byte(m, (uint8_t)only, INT64_MAX, &work);
        if (r == CORRAL_ENGINE_NO_MEMORY) {
            corral_matcher_truncate(m, start);
            return r;
        }
        if (r != 1) {
            break;
        }
        out[n++] = (uint8_t)only;
    }
    corral_matcher_truncate(m, start);
    return (int64_t)n;
}
