/*
 * engine_util.c - growable arrays, the open-addressing hash map and stack marks of the native
 * matcher (corral/engine_impl.h).
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

int corral_grow_slow(void **buf, size_t *cap, size_t need, size_t elem) {
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need) {
        if (cap2 > SIZE_MAX / 2 / elem) {
            return -1;
        }
        cap2 *= 2;
    }
    void *p = realloc(*buf, cap2 * elem);
    if (p == NULL) {
        return -1;
    }
    *buf = p;
    *cap = cap2;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* hash map                                                                  */
/* ------------------------------------------------------------------------- */

static size_t hash2(int64_t a, int64_t b) {
    uint64_t h = (uint64_t)a * UINT64_C(0x9E3779B97F4A7C15);
    h ^= (uint64_t)b + UINT64_C(0x632BE59BD9B4E019) + (h << 6) + (h >> 2);
    h ^= h >> 29;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 32;
    return (size_t)h;
}

int corral_hmap_init(corral_hmap *h, size_t cap) {
    memset(h, 0, sizeof(*h));
    h->ka = malloc(cap * sizeof(int64_t));
    h->kb = malloc(cap * sizeof(int64_t));
    h->val = malloc(cap * sizeof(int64_t));
    h->stamp = calloc(cap, sizeof(uint32_t));
    if (h->ka == NULL || h->kb == NULL || h->val == NULL || h->stamp == NULL) {
        corral_hmap_free(h);
        return -1;
    }
    h->cap = cap;
    h->gen = 1;
    return 0;
}

void corral_hmap_free(corral_hmap *h) {
    free(h->ka);
    free(h->kb);
    free(h->val);
    free(h->stamp);
    memset(h, 0, sizeof(*h));
}

void corral_hmap_clear(corral_hmap *h) {
    h->count = 0;
    if (++h->gen == 0) {
        memset(h->stamp, 0, h->cap * sizeof(uint32_t));
        h->gen = 1;
    }
}

int64_t *corral_hmap_find(const corral_hmap *h, int64_t a, int64_t b) {
    const size_t mask = h->cap - 1;
    for (size_t i = hash2(a, b) & mask;; i = (i + 1) & mask) {
        if (h->stamp[i] != h->gen) {
            return NULL;
        }
        if (h->ka[i] == a && h->kb[i] == b) {
            return &h->val[i];
        }
    }
}

static int hmap_rehash(corral_hmap *h) {
    corral_hmap bigger;
    if (h->cap > SIZE_MAX / 4 || corral_hmap_init(&bigger, h->cap * 2) < 0) {
        return -1;
    }
    for (size_t i = 0; i < h->cap; ++i) {
        if (h->stamp[i] == h->gen) {
            int fresh;
            (void)corral_hmap_put(&bigger, h->ka[i], h->kb[i], h->val[i], &fresh);
        }
    }
    corral_hmap_free(h);
    *h = bigger;
    return 0;
}

int corral_hmap_put(corral_hmap *h, int64_t a, int64_t b, int64_t v, int *fresh) {
    if ((h->count + 1) * 2 > h->cap && hmap_rehash(h) < 0) {
        return -1;
    }
    const size_t mask = h->cap - 1;
    size_t i = hash2(a, b) & mask;
    for (; h->stamp[i] == h->gen; i = (i + 1) & mask) {
        if (h->ka[i] == a && h->kb[i] == b) {
            *fresh = 0;
            return 0;
        }
    }
    h->stamp[i] = h->gen;
    h->ka[i] = a;
    h->kb[i] = b;
    h->val[i] = v;
    h->count++;
    *fresh = 1;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* stacks                                                                    */
/* ------------------------------------------------------------------------- */

corral_mark corral_mark_now(const corral_matcher *m) {
    corral_mark mark = {m->n_sets, m->n_items, m->n_idx, m->n_exp,
                        m->n_thr,  m->n_uq_fr, m->n_uq_it};
    return mark;
}

void corral_restore(corral_matcher *m, corral_mark mark) {
    m->n_sets = mark.sets;
    m->n_items = mark.items;
    m->n_idx = mark.idx;
    m->n_exp = mark.exp;
    m->n_thr = mark.thr;
    m->n_uq_fr = mark.uq_fr;
    m->n_uq_it = mark.uq_it;
}

