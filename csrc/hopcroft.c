/*
 * hopcroft.c - Hopcroft's partition refinement of a DFA's states (corral/corral.h).
 *
 * J. Hopcroft, "An n log n algorithm for minimizing states in a finite automaton" (1971), in
 * the formulation of Knuutila (2001): blocks are kept as contiguous ranges of one array of
 * states, and a worklist holds (block, symbol) splitters, at first every block but the dead
 * state's for each symbol.  Taking a splitter (B, c) marks the
 * states with a c-transition into B; every block holding marked and unmarked states is split,
 * and for each symbol the splitter list gains the new block where the old one was listed, else
 * the smaller half.  The result is the coarsest partition compatible with the initial one and
 * the transitions: the same as Moore's refinement run to its fixpoint, in O(n * C * log n).
 * A splitter (B, c) that no c-transition enters is never listed (each block keeps a superset
 * of the symbols entering it): on the sparse automata of key sets and literals most are such,
 * and listing them cost more than the splits.
 *
 * No Python here: the caller hands over a table whose entries lie in [0, n).
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

typedef struct partition {
    int32_t *elems;  /* states, each block a contiguous range */
    int32_t *loc;    /* position of each state in elems */
    int32_t *blk;    /* block of each state */
    int32_t *first;  /* per block: its range [first, end) in elems */
    int32_t *end;
    int32_t *marked; /* per block: how many states at the start of its range are marked */
    int32_t n_blocks;
} partition;

static void mark(partition *p, int32_t s, int32_t *touched, int32_t *n_touched) {
    const int32_t x = p->blk[s];
    const int32_t boundary = p->first[x] + p->marked[x];
    if (p->loc[s] < boundary) {
        return; /* marked already */
    }
    if (p->marked[x] == 0) {
        touched[(*n_touched)++] = x;
    }
    const int32_t u = p->elems[boundary];
    p->elems[boundary] = s;
    p->elems[p->loc[s]] = u;
    p->loc[u] = p->loc[s];
    p->loc[s] = boundary;
    ++p->marked[x];
}

int corral_hopcroft(const int32_t *small, size_t n, size_t C, int64_t *cls, size_t n_cls) {
    if (n == 0 || C == 0 || n > (size_t)INT32_MAX || n * C > (size_t)INT32_MAX) {
        return n == 0 ? 0 : -1;
    }
    const size_t nc = n * C;
    partition p = {NULL, NULL, NULL, NULL, NULL, NULL, 0};
    uint32_t *inv_ptr = calloc(nc + 1, sizeof(uint32_t)); /* (c, t) -> sources, CSR */
    int32_t *inv_src = malloc(nc * sizeof(int32_t));
    uint8_t *in_work = calloc(nc, 1); /* (block, c) listed as a splitter */
    int32_t *work = malloc(2 * nc * sizeof(int32_t));
    int32_t *tmp = malloc(n * sizeof(int32_t));
    int32_t *touched = malloc(n * sizeof(int32_t));
    const size_t W = (C + 63) / 64; /* words of a symbol set */
    uint64_t *in_mask = calloc(n * W, sizeof(uint64_t));  /* per state: symbols entering it */
    uint64_t *blk_mask = calloc(n * W, sizeof(uint64_t)); /* per block: a superset of those */
    p.elems = malloc(n * sizeof(int32_t));
    p.loc = malloc(n * sizeof(int32_t));
    p.blk = malloc(n * sizeof(int32_t));
    p.first = malloc(n * sizeof(int32_t));
    p.end = malloc(n * sizeof(int32_t));
    p.marked = calloc(n, sizeof(int32_t));
    int result = -1;
    if (inv_ptr == NULL || inv_src == NULL || in_work == NULL || work == NULL || tmp == NULL ||
        touched == NULL || in_mask == NULL || blk_mask == NULL || p.elems == NULL ||
        p.loc == NULL || p.blk == NULL ||
        p.first == NULL || p.end == NULL || p.marked == NULL) {
        goto done;
    }
    /* inverse transitions, grouped by (symbol, target) */
    for (size_t s = 0; s < n; ++s) {
        for (size_t c = 0; c < C; ++c) {
            ++inv_ptr[c * n + (size_t)small[s * C + c] + 1];
        }
    }
    for (size_t k = 0; k < nc; ++k) {
        inv_ptr[k + 1] += inv_ptr[k];
    }
    for (size_t s = n; s-- > 0;) {
        for (size_t c = C; c-- > 0;) {
            const size_t key = c * n + (size_t)small[s * C + c];
            inv_src[--inv_ptr[key + 1]] = (int32_t)s;
        }
    }
    /* inv_ptr[key + 1] was decremented to the start of key's range: shift back to CSR */
    for (size_t k = 0; k < nc; ++k) {
        inv_ptr[k] = inv_ptr[k + 1];
    }
    inv_ptr[nc] = (uint32_t)nc;
    for (size_t c = 0; c < C; ++c) {
        for (size_t t = 0; t < n; ++t) {
            if (inv_ptr[c * n + t + 1] > inv_ptr[c * n + t]) {
                in_mask[t * W + c / 64] |= UINT64_C(1) << (c % 64);
            }
        }
    }
    /* the initial blocks, states in increasing order within each */
    for (size_t b = 0; b < n_cls; ++b) {
        p.first[b] = 0;
    }
    for (size_t s = 0; s < n; ++s) {
        ++p.first[cls[s]];
    }
    int32_t at = 0;
    for (size_t b = 0; b < n_cls; ++b) {
        const int32_t size = p.first[b];
        p.first[b] = at;
        p.end[b] = at;
        at += size;
    }
    for (size_t s = 0; s < n; ++s) {
        const int32_t b = (int32_t)cls[s];
        p.elems[p.end[b]] = (int32_t)s;
        p.loc[s] = p.end[b]++;
        p.blk[s] = b;
        for (size_t w = 0; w < W; ++w) {
            blk_mask[(size_t)b * W + w] |= in_mask[s * W + w];
        }
    }
    p.n_blocks = (int32_t)n_cls;
    /* Splitting by every block but one is enough (the last one's split is implied): the
     * dead state's block is left out, whose many incoming transitions would mark nearly every
     * state for each symbol. */
    size_t n_work = 0;
    for (size_t b = 0; b < n_cls; ++b) {
        if (b == (size_t)cls[0] && n_cls > 1) {
            continue;
        }
        for (size_t c = 0; c < C; ++c) {
            if (!(blk_mask[b * W + c / 64] >> (c % 64) & 1)) {
                continue; /* no c-transition enters b: it splits nothing */
            }
            work[2 * n_work] = (int32_t)b;
            work[2 * n_work + 1] = (int32_t)c;
            ++n_work;
            in_work[b * C + c] = 1;
        }
    }
    while (n_work > 0) {
        --n_work;
        const int32_t b = work[2 * n_work];
        const size_t c = (size_t)work[2 * n_work + 1];
        in_work[(size_t)b * C + c] = 0;
        const int32_t k = p.end[b] - p.first[b];
        memcpy(tmp, p.elems + p.first[b], (size_t)k * sizeof(int32_t));
        int32_t n_touched = 0;
        for (int32_t i = 0; i < k; ++i) {
            const size_t key = c * n + (size_t)tmp[i];
            for (uint32_t j = inv_ptr[key]; j < inv_ptr[key + 1]; ++j) {
                mark(&p, inv_src[j], touched, &n_touched);
            }
        }
        for (int32_t i = 0; i < n_touched; ++i) {
            const int32_t x = touched[i];
            const int32_t m = p.marked[x];
            const int32_t size = p.end[x] - p.first[x];
            p.marked[x] = 0;
            if (m == size) {
                continue;
            }
            const int32_t y = p.n_blocks++; /* the marked states leave x for y */
            p.first[y] = p.first[x];
            p.end[y] = p.first[x] + m;
            p.first[x] += m;
            uint64_t *ymask = blk_mask + (size_t)y * W;
            for (int32_t q = p.first[y]; q < p.end[y]; ++q) {
                p.blk[p.elems[q]] = y;
                for (size_t w = 0; w < W; ++w) {
                    ymask[w] |= in_mask[(size_t)p.elems[q] * W + w];
                }
            }
            const int32_t smaller = m <= size - m ? y : x;
            for (size_t cc = 0; cc < C; ++cc) {
                const int32_t add = in_work[(size_t)x * C + cc] ? y : smaller;
                /* a splitter no cc-transition enters marks nothing, and the split it stands
                 * for is then the one by x and y together, done or listed already: skip it
                 * (x keeps its mask from before the split, a superset) */
                if (!(blk_mask[(size_t)add * W + cc / 64] >> (cc % 64) & 1)) {
                    continue;
                }
                if (!in_work[(size_t)add * C + cc]) {
                    in_work[(size_t)add * C + cc] = 1;
                    work[2 * n_work] = add;
                    work[2 * n_work + 1] = (int32_t)cc;
                    ++n_work;
                }
            }
        }
    }
    for (size_t s = 0; s < n; ++s) {
        cls[s] = p.blk[s];
    }
    result = p.n_blocks;
done:
    free(inv_ptr);
    free(inv_src);
    free(in_work);
    free(work);
    free(tmp);
    free(touched);
    free(in_mask);
    free(blk_mask);
    free(p.elems);
    free(p.loc);
    free(p.blk);
    free(p.first);
    free(p.end);
    free(p.marked);
    return result;
}
