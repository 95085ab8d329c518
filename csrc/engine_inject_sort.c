/*
 * engine_inject_sort.c - ordering a mask's injections (corral/engine_impl.h).
 *
 * The trie nodes where a lexeme ends inside a token, gathered from the root walks of every
 * thread, are walked in node order (engine_mask.c), entries of one node by (origin,
 * terminal) so that equal lexeme ends are adjacent and the sets after them keyed alike.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

int corral_cmp_inj(const void *x, const void *y) {
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

/* Sort the injections as cmp_inj orders them: a least-significant-digit radix sort on the
 * node, 11 bits a pass (stable), then each run of one node (a few entries) by insertion on
 * (origin, terminal).  A mask of a C grammar on Qwen has ~50,000 injections (an identifier
 * ends at every node of a word), which qsort's comparator calls took 40 % of the mask to
 * order.  -1 without memory. */
int corral_sort_inj(corral_matcher *m) {
    const size_t n = m->n_inj;
    if (n < 64) {
        qsort(m->inj, n, sizeof(corral_inj), corral_cmp_inj);
        return 0;
    }
    if (corral_grow((void **)&m->inj_tmp, &m->cap_inj_tmp, n, sizeof(corral_inj)) < 0) {
        return -1;
    }
    uint32_t top = 0;
    for (size_t i = 0; i < n; ++i) {
        top |= (uint32_t)m->inj[i].node;
    }
    corral_inj *src = m->inj, *dst = m->inj_tmp;
    for (int shift = 0; shift == 0 || (shift < 32 && (top >> shift) != 0); shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; ++i) {
            ++count[(((uint32_t)src[i].node >> shift) & 2047) + 1];
        }
        for (size_t d = 0; d < 2048; ++d) {
            count[d + 1] += count[d];
        }
        for (size_t i = 0; i < n; ++i) {
            dst[count[((uint32_t)src[i].node >> shift) & 2047]++] = src[i];
        }
        corral_inj *t = src;
        src = dst;
        dst = t;
    }
    if (src != m->inj) {
        memcpy(m->inj, src, n * sizeof(corral_inj));
    }
    corral_inj *v = m->inj;
    for (size_t a = 1; a < n; ++a) {
        if (v[a].node != v[a - 1].node) {
            continue;
        }
        const corral_inj x = v[a];
        size_t b = a;
        for (; b > 0 && v[b - 1].node == x.node && corral_cmp_inj(&v[b - 1], &x) > 0; --b) {
            v[b] = v[b - 1];
        }
        v[b] = x;
    }
    return 0;
}
