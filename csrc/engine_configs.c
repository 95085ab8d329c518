/*
 * engine_configs.c - the configurations of a mask's walk (corral/engine_mask.h): lists of lexer
 * threads, interned per mask, with their transitions computed on first use — a lazily built
 * automaton over parser configurations (engine_mask.c walks the trie with it).
 */
#include "corral/engine_mask.h"

#include <stdlib.h>
#include <string.h>

static int cmp_thread(corral_thread a, corral_thread b) {
    if (a.origin != b.origin) {
        return a.origin < b.origin ? -1 : 1;
    }
    return (a.lex > b.lex) - (a.lex < b.lex);
}

/* Room for `need` transitions; entries new to the table get stamp 0, which no mask has. */
static int grow_trans(corral_matcher *m, size_t need) {
    const size_t old = m->cap_cfg_trans;
    if (corral_grow((void **)&m->cfg_trans, &m->cap_cfg_trans, need, sizeof(uint64_t)) < 0) {
        return -1;
    }
    if (m->cap_cfg_trans > old) {
        memset(m->cfg_trans + old, 0, (m->cap_cfg_trans - old) * sizeof(uint64_t));
    }
    return 0;
}

/* The configuration of the threads m->thr[lo, n_thr) (sorted here), interned; -1: no memory.
 * Configuration 0 is the empty one. */
int32_t corral_cfg_intern(corral_matcher *m, size_t lo) {
    corral_thread *t = m->thr + lo;
    size_t n = m->n_thr - lo;
    for (size_t a = 1; a < n; ++a) {
        const corral_thread v = t[a];
        size_t b = a;
        for (; b > 0 && cmp_thread(t[b - 1], v) > 0; --b) {
            t[b] = t[b - 1];
        }
        t[b] = v;
    }
    size_t w = 0;
    for (size_t a = 0; a < n; ++a) {
        if (w == 0 || cmp_thread(t[w - 1], t[a]) != 0) {
            t[w++] = t[a];
        }
    }
    n = w;
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t a = 0; a < n; ++a) {
        h = (h ^ (uint32_t)t[a].origin) * UINT64_C(1099511628211);
        h = (h ^ (uint32_t)t[a].lex) * UINT64_C(1099511628211);
    }
    int64_t *slot = corral_hmap_find(&m->cfg_index, (int64_t)h, (int64_t)n);
    if (slot != NULL) {
        const corral_cfg c = m->cfgs[*slot];
        if (n == 0 || memcmp(m->cfg_thr + c.lo, t, n * sizeof(corral_thread)) == 0) {
            return (int32_t)*slot;
        }
    }
    const size_t id = m->n_cfgs;
    if (id >= INT32_MAX ||
        corral_grow((void **)&m->cfgs, &m->cap_cfgs, id + 1, sizeof(corral_cfg)) < 0 ||
        corral_grow((void **)&m->cfg_thr, &m->cap_cfg_thr, m->n_cfg_thr + n,
                    sizeof(corral_thread)) < 0 ||
        corral_grow((void **)&m->cfg_word, &m->cap_cfg_word, id + 1, 1) < 0 ||
        grow_trans(m, (id + 1) * 256) < 0) {
        return -1;
    }
    t = m->thr + lo;
    if (n > 0) {
        memcpy(m->cfg_thr + m->n_cfg_thr, t, n * sizeof(corral_thread));
    }
    m->cfgs[id] = (corral_cfg){(int64_t)m->n_cfg_thr, (int32_t)n};
    m->cfg_word[id] = 0;
    m->n_cfg_thr += n;
    m->n_cfgs++;
    int fresh;
    if (slot == NULL && corral_hmap_put(&m->cfg_index, (int64_t)h, (int64_t)n, (int64_t)id,
                                        &fresh) < 0) {
        return -1;
    }
    return (int32_t)id;
}

/* Copy configuration c's threads to the top of m->thr; their start. */
static size_t load_cfg(corral_matcher *m, int32_t c, int *err) {
    const corral_cfg cfg = m->cfgs[c];
    const size_t lo = m->n_thr;
    if (corral_grow((void **)&m->thr, &m->cap_thr, lo + (size_t)cfg.n, sizeof(corral_thread)) <
        0) {
        *err = 1;
        return lo;
    }
    if (cfg.n > 0) {
        memcpy(m->thr + lo, m->cfg_thr + cfg.lo, (size_t)cfg.n * sizeof(corral_thread));
    }
    m->n_thr = lo + (size_t)cfg.n;
    return lo;
}

/* The configuration after `byte` from c (a Matcher._push_byte of its threads, memoised):
 * an id, CORRAL_CFG_DEAD, or -3 (no memory). */
int32_t corral_cfg_next(corral_matcher *m, int32_t c, uint8_t byte) {
    const uint64_t known = m->cfg_trans[(size_t)c * 256 + byte];
    if ((uint32_t)(known >> 32) == m->cfg_stamp) {
        return (int32_t)(uint32_t)known;
    }
    /* most children of a walked node die: when every thread's lexer is known to die on the
     * byte (no lexeme goes on, none ends), so does the configuration, without a step */
    const corral_cfg cf = m->cfgs[c];
    int32_t a = 0;
    while (a < cf.n && m->lex_trans[(size_t)m->cfg_thr[cf.lo + a].lex * 256 + byte] == 0) {
        ++a;
    }
    if (a == cf.n) {
        m->cfg_trans[(size_t)c * 256 + byte] =
            (uint64_t)m->cfg_stamp << 32 | (uint32_t)CORRAL_CFG_DEAD;
        return CORRAL_CFG_DEAD;
    }
    int32_t got;
    int err = 0;
    const size_t lo = load_cfg(m, c, &err);
    if (err) {
        return -3;
    }
    const size_t out_lo = m->n_thr;
    int32_t s;
    const int r = corral_step(m, lo, out_lo, byte, 1, &s);
    if (r < 0) {
        m->n_thr = lo;
        return -3;
    }
    got = r == 0 ? CORRAL_CFG_DEAD : corral_cfg_intern(m, out_lo);
    m->n_thr = lo;
    if (got == -1) {
        return -3;
    }
    m->cfg_trans[(size_t)c * 256 + byte] = (uint64_t)m->cfg_stamp << 32 | (uint32_t)got;
    return got;
}

/* Configuration c with the fresh threads of set s (memoised); -3: no memory. */
int32_t corral_cfg_with_fresh(corral_matcher *m, int32_t c, int32_t s) {
    if (c == m->wf_c && s == m->wf_s) { /* a walk meets one lexeme end node after node */
        return m->wf_got;
    }
    int64_t *slot = corral_hmap_find(&m->cfg_union, c, s);
    if (slot != NULL) {
        m->wf_c = c;
        m->wf_s = s;
        m->wf_got = (int32_t)*slot;
        return (int32_t)*slot;
    }
    int err = 0;
    const size_t lo = load_cfg(m, c, &err);
    if (err) {
        return -3;
    }
    corral_begin_threads(m);
    m->thr_out_lo = lo;
    int32_t got = corral_push_fresh(m, s) < 0 ? -1 : corral_cfg_intern(m, lo);
    m->n_thr = lo;
    int fresh;
    if (got == -1 || corral_hmap_put(&m->cfg_union, c, s, got, &fresh) < 0) {
        return -3;
    }
    return got;
}
