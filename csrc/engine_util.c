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
    h->slot = calloc(cap, sizeof(corral_hslot));
    if (h->slot == NULL) {
        return -1;
    }
    h->cap = cap;
    h->gen = 1;
    return 0;
}

void corral_hmap_free(corral_hmap *h) {
    free(h->slot);
    memset(h, 0, sizeof(*h));
}

void corral_hmap_clear(corral_hmap *h) {
    if (h->cap > 256 && h->count * 8 < h->cap) { /* mostly empty: half the slots */
        corral_hslot *smaller = calloc(h->cap / 2, sizeof(corral_hslot));
        if (smaller != NULL) {
            free(h->slot);
            h->slot = smaller;
            h->cap /= 2;
            h->count = 0;
            h->gen = 1;
            return;
        }
    }
    h->count = 0;
    if (++h->gen == 0) {
        for (size_t i = 0; i < h->cap; ++i) {
            h->slot[i].stamp = 0;
        }
        h->gen = 1;
    }
}

int64_t *corral_hmap_find(const corral_hmap *h, int64_t a, int64_t b) {
    const size_t mask = h->cap - 1;
    for (size_t i = hash2(a, b) & mask;; i = (i + 1) & mask) {
        corral_hslot *e = &h->slot[i];
        if (e->stamp != h->gen) {
            return NULL;
        }
        if (e->ka == a && e->kb == b) {
            return &e->val;
        }
    }
}

static int hmap_rehash(corral_hmap *h) {
    corral_hmap bigger;
    if (h->cap > SIZE_MAX / 4 || corral_hmap_init(&bigger, h->cap * 2) < 0) {
        return -1;
    }
    for (size_t i = 0; i < h->cap; ++i) {
        const corral_hslot e = h->slot[i];
        if (e.stamp == h->gen) {
            int fresh;
            (void)corral_hmap_put(&bigger, e.ka, e.kb, e.val, &fresh);
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
    for (; h->slot[i].stamp == h->gen; i = (i + 1) & mask) {
        if (h->slot[i].ka == a && h->slot[i].kb == b) {
            *fresh = 0;
            return 0;
        }
    }
    h->slot[i] = (corral_hslot){a, b, v, h->gen};
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
    if (mark.sets < m->mc_floor) {
        m->mc_floor = mark.sets; /* a kept mask that read a set from here on is stale */
    }
    m->n_sets = mark.sets;
    m->n_items = mark.items;
    m->n_idx = mark.idx;
    m->n_exp = mark.exp;
    m->n_thr = mark.thr;
    m->n_uq_fr = mark.uq_fr;
    m->n_uq_it = mark.uq_it;
}

