/*
 * dfa_product.c - the product of two byte DFAs over their joint byte classes (corral.h).
 *
 * The textbook product construction (Rabin and Scott, 1959; Hopcroft and Ullman, section 3.2)
 * restricted to pairs reachable from (1, 1), explored breadth-first one level at a time.  The
 * pairs found in a level are numbered in increasing order of their code x * nb + y, exactly as
 * corral.automata.ops.product_table_py (the specification) numbers them, so that both give
 * the same table.  Pairs are found through an open-addressing hash table keyed by the code.
 *
 * No Python here: the caller hands over tables of n_classes columns; every entry read is
 * range-checked.
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

typedef struct pairs {
    int64_t *keys;  /* codes, -1 for an empty slot */
    int32_t *ids;   /* the pair's state id */
    size_t n_slots; /* a power of two, more than twice the pairs stored */
    size_t n_keys;
} pairs;

static size_t slot_of(const pairs *p, int64_t code) {
    uint64_t h = (uint64_t)code * UINT64_C(0x9E3779B97F4A7C15);
    const size_t mask = p->n_slots - 1;
    size_t i = (size_t)(h >> 17) & mask;
    while (p->keys[i] != -1 && p->keys[i] != code) {
        i = (i + 1) & mask;
    }
    return i;
}

static int pairs_put(pairs *p, int64_t code, int32_t id) {
    if (2 * (p->n_keys + 1) >= p->n_slots) {
        pairs bigger = {NULL, NULL, p->n_slots * 2, 0};
        bigger.keys = malloc(bigger.n_slots * sizeof(int64_t));
        bigger.ids = malloc(bigger.n_slots * sizeof(int32_t));
        if (bigger.keys == NULL || bigger.ids == NULL) {
            free(bigger.keys);
            free(bigger.ids);
            return -1;
        }
        memset(bigger.keys, 0xFF, bigger.n_slots * sizeof(int64_t));
        for (size_t i = 0; i < p->n_slots; ++i) {
            if (p->keys[i] != -1) {
                const size_t j = slot_of(&bigger, p->keys[i]);
                bigger.keys[j] = p->keys[i];
                bigger.ids[j] = p->ids[i];
            }
        }
        bigger.n_keys = p->n_keys;
        free(p->keys);
        free(p->ids);
        *p = bigger;
    }
    const size_t i = slot_of(p, code);
    p->keys[i] = code;
    p->ids[i] = id;
    ++p->n_keys;
    return 0;
}

static int cmp_code(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a;
    const int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Grow a buffer of `*cap` items of `size` bytes to hold `need` items. */
static int reserve(void **buf, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) {
        return 0;
    }
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) {
        cap2 *= 2;
    }
    void *grown = realloc(*buf, cap2 * size);
    if (grown == NULL) {
        return -1;
    }
    *buf = grown;
    *cap = cap2;
    return 0;
}

void corral_pair_product_free(corral_pair_product *out) {
    free(out->table);
    free(out->xs);
    free(out->ys);
    out->table = NULL;
    out->xs = NULL;
    out->ys = NULL;
    out->n_states = 0;
}

int corral_dfa_product(const int32_t *ta, size_t na, const int32_t *tb, size_t nb,
                       size_t n_classes, int mode, size_t max_states, corral_pair_product *out) {
    const size_t C = n_classes;
    pairs p = {NULL, NULL, 256, 0};
    int64_t *codes = NULL, *pending = NULL;
    size_t cap_codes = 0, cap_pending = 0, cap_states = 0;
    corral_pair_product r = {NULL, NULL, NULL, 0};
    int code = CORRAL_PRODUCT_NO_MEMORY;
    p.keys = malloc(p.n_slots * sizeof(int64_t));
    p.ids = malloc(p.n_slots * sizeof(int32_t));
    if (p.keys == NULL || p.ids == NULL || reserve((void **)&r.xs, &cap_states, 2, 4) < 0) {
        goto done;
    }
    memset(p.keys, 0xFF, p.n_slots * sizeof(int64_t));
    r.ys = malloc(cap_states * sizeof(int32_t));
    r.table = calloc(cap_states * C, sizeof(int32_t));
    if (r.ys == NULL || r.table == NULL) {
        goto done;
    }
    /* state 0 is the dead pair (code 0), state 1 the initial pair (1, 1) */
    r.xs[0] = r.ys[0] = 0;
    r.xs[1] = r.ys[1] = 1;
    r.n_states = 2;
    if (pairs_put(&p, 0, 0) < 0 || pairs_put(&p, (int64_t)nb + 1, 1) < 0) {
        goto done;
    }
    size_t lo = 1, hi = 2; /* the frontier: states [lo, hi) */
    while (lo < hi) {
        const size_t width = hi - lo;
        if (reserve((void **)&codes, &cap_codes, width * C, sizeof(int64_t)) < 0) {
            goto done;
        }
        size_t n_pending = 0;
        for (size_t s = lo; s < hi; ++s) {
            const int32_t x = r.xs[s], y = r.ys[s];
            for (size_t c = 0; c < C; ++c) {
                const int32_t nx = ta[(size_t)x * C + c];
                const int32_t ny = tb[(size_t)y * C + c];
                if (nx < 0 || (size_t)nx >= na || ny < 0 || (size_t)ny >= nb) {
                    code = CORRAL_PRODUCT_BAD_TABLE;
                    goto done;
                }
                const int keep = mode == CORRAL_PRODUCT_AND  ? (nx != 0 && ny != 0)
                                 : mode == CORRAL_PRODUCT_OR ? (nx != 0 || ny != 0)
                                                             : nx != 0;
                const int64_t k = keep ? (int64_t)nx * (int64_t)nb + ny : 0;
                codes[(s - lo) * C + c] = k;
                if (p.keys[slot_of(&p, k)] == -1) {
                    if (reserve((void **)&pending, &cap_pending, n_pending + 1,
                                sizeof(int64_t)) < 0) {
                        goto done;
                    }
                    pending[n_pending++] = k;
                }
            }
        }
        if (n_pending > 1) {
            qsort(pending, n_pending, sizeof(int64_t), cmp_code);
        }
        for (size_t i = 0; i < n_pending; ++i) {
            if (i > 0 && pending[i] == pending[i - 1]) {
                continue;
            }
            const size_t sid = r.n_states;
            if (sid > max_states) {
                code = CORRAL_PRODUCT_TOO_LARGE;
                goto done;
            }
            if (sid == cap_states) {
                size_t cap = cap_states;
                if (reserve((void **)&r.xs, &cap, sid + 1, 4) < 0) {
                    goto done;
                }
                int32_t *ys = realloc(r.ys, cap * sizeof(int32_t));
                if (ys == NULL) {
                    goto done;
                }
                r.ys = ys;
                int32_t *table = realloc(r.table, cap * C * sizeof(int32_t));
                if (table == NULL) {
                    goto done;
                }
                r.table = table;
                cap_states = cap;
            }
            r.xs[sid] = (int32_t)(pending[i] / (int64_t)nb);
            r.ys[sid] = (int32_t)(pending[i] % (int64_t)nb);
            r.n_states = sid + 1;
            if (pairs_put(&p, pending[i], (int32_t)sid) < 0) {
                goto done;
            }
        }
        for (size_t s = lo; s < hi; ++s) {
            for (size_t c = 0; c < C; ++c) {
                r.table[s * C + c] = p.ids[slot_of(&p, codes[(s - lo) * C + c])];
            }
        }
        lo = hi;
        hi = r.n_states;
    }
    memset(r.table, 0, C * sizeof(int32_t));
    *out = r;
    r.table = NULL;
    r.xs = NULL;
    r.ys = NULL;
    code = CORRAL_PRODUCT_OK;
done:
    corral_pair_product_free(&r);
    free(p.keys);
    free(p.ids);
    free(codes);
    free(pending);
    return code;
}
