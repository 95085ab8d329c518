/*
 * engine_sets_alike.c - Earley sets that are one (corral/engine_impl.h): a closure that adds
 * nothing beyond one of the sets it copies is that set (corral_copy_equal), and two sets whose
 * items are the same but for their own ids as origins are one (corral_set_alike).  Called by
 * corral_closure (engine_earley.c) before a new set is kept.
 */
#include "corral/engine_impl.h"
#include "corral/sort_impl.h"

#include <stdlib.h>
#include <string.h>

/*
 * The copied set that the set just closed equals, or -1.  Where ignored lexemes of two
 * terminals over the same bytes (sql.lark's ignored WS and its separator _S) may split a run of
 * whitespace anywhere, every byte of the run ends lexemes begun at every earlier byte; each set
 * was a new one, holding its predecessors' items, so the sets, the threads begun at them and the
 * lexemes ending at the next byte all grew with the run (quadratic work over a run).  When the
 * closure adds no item beyond its largest copy, the new set is that copy, item for item (the
 * union of the copies is the largest one; no kernel item is fresh, so nothing was predicted at
 * the new set and no item has it as origin), and its id serves: threads begun at both are one.
 * Not with unique items, whose threads read the byte position of their origin set.
 */
int32_t corral_copy_equal(const corral_matcher *m, size_t n_items) {
    if (m->g->has_unique || m->n_copies == 0) {
        return -1;
    }
    for (size_t c = 0; c < m->n_copies; ++c) {
        const corral_eset *src = &m->sets[m->copies[c]];
        if ((size_t)(src->items_hi - src->items_lo) == n_items) {
            return m->copies[c];
        }
    }
    return -1;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

/* An item as a key, its set's own id as origin read as one marker. */
static int64_t item_key(corral_item it, int32_t self) {
    return (int64_t)it.d << 32 | (uint32_t)(it.o == self ? -1 : it.o);
}

/* The signature of items [lo, hi) of set `self`: order-free (a sum), accepting included. */
static uint64_t set_signature(const corral_matcher *m, size_t lo, size_t hi, int32_t self,
                              int accepting) {
    uint64_t h = mix64((uint64_t)(hi - lo) * 2 + (uint64_t)(accepting != 0));
    for (size_t k = lo; k < hi; ++k) {
        h += mix64((uint64_t)item_key(m->items[k], self));
    }
    return h;
}

static inline int key_less(const int64_t *a, const int64_t *b) { return *a < *b; }

/* Sort keys ascending (corral/sort_impl.h). */
CORRAL_DEFINE_SORT(sort_keys, int64_t, key_less)

/* Items [lo, hi) of set `self` as sorted keys in *out; -1: no memory. */
static int sorted_keys(const corral_matcher *m, size_t lo, size_t hi, int32_t self,
                       int64_t **out, size_t *cap) {
    if (corral_grow((void **)out, cap, hi - lo + 1, sizeof(int64_t)) < 0) {
        return -1;
    }
    for (size_t k = lo; k < hi; ++k) {
        (*out)[k - lo] = item_key(m->items[k], self);
    }
    sort_keys(*out, hi - lo);
    return 0;
}

/*
 * An earlier set alike the set just closed (items [lo, hi) of id `self`), or -1; -2: no
 * memory.  Two sets are alike when their items are the same but for their own ids as origins:
 * the items predicted at each.  Such a set serves as the new one (Earley sets hash-consed up
 * to their own names): an item with either origin completes into the same waiting items, up to
 * the same renaming, so no parse tells them apart.  An identifier that may end at every byte
 * made a new set at every byte, the same but for those items; the threads begun at them were
 * new ones, and nothing a mask computed for one served the next.  Not with unique items.
 */
int32_t corral_set_alike(corral_matcher *m, size_t lo, size_t hi, int32_t self, int accepting,
                         uint64_t *sig) {
    *sig = set_signature(m, lo, hi, self, accepting);
    if (m->g->has_unique) {
        return -1;
    }
    const int64_t *at = corral_hmap_find(&m->alike, (int64_t)*sig, 0);
    if (at == NULL || *at >= self) {
        return -1;
    }
    const int32_t x = (int32_t)*at;
    const corral_eset *xs = &m->sets[x];
    if (xs->sig != *sig || (size_t)(xs->items_hi - xs->items_lo) != hi - lo ||
        (xs->accepting != 0) != (accepting != 0)) {
        return -1;
    }
    if (sorted_keys(m, lo, hi, self, &m->alike_a, &m->cap_alike_a) < 0 ||
        sorted_keys(m, (size_t)xs->items_lo, (size_t)xs->items_hi, x, &m->alike_b,
                    &m->cap_alike_b) < 0) {
        return -2;
    }
    return memcmp(m->alike_a, m->alike_b, (hi - lo) * sizeof(int64_t)) == 0 ? x : -1;
}
