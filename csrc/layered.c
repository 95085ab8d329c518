/*
 * layered.c - minimisation of a DFA whose upper part is acyclic (corral/corral.h).
 *
 * The states no cycle reaches form a DAG above the rest (Kahn's order from the initial state
 * removes exactly them: a state leaves when all its predecessors have).  The rest, B, is closed
 * under transitions, so its partition is its own: Hopcroft's refinement (hopcroft.c) runs on
 * B alone.  The DAG's states are then taken deepest first, every target already in its block,
 * and states with the same acceptance and target blocks share a block — B's included, whose
 * signatures are entered first (Revuz, "Minimisation of acyclic deterministic automata in
 * linear time", TCS 92, 1992, over a minimised bottom).  By induction on the longest path to
 * B, two states are equivalent exactly when their signatures are equal, so this is the coarsest
 * partition, Hopcroft's on the whole automaton.  Key sets and literals are wholly acyclic (no
 * refinement at all); a key set subtracted from every key is a DAG above the 17 states of any
 * key, where refinement over the whole product spent most of its time on the DAG.
 *
 * No Python here: the caller hands over a trimmed table whose entries lie in [0, n).
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

typedef struct sig_table {
    int64_t *slot; /* a state per slot, -1 for none */
    size_t cap;
} sig_table;

static uint64_t signature_hash(const int32_t *small, size_t C, const uint8_t *accepting,
                               const int64_t *blk, size_t s) {
    uint64_t h = accepting[s] ? UINT64_C(0x9E3779B97F4A7C15) : UINT64_C(1469598103934665603);
    for (size_t k = 0; k < C; ++k) { /* the live targets: most entries of a DAG are dead */
        const int64_t b = blk[small[s * C + k]];
        if (b != 0) {
            h = (h ^ ((uint64_t)k << 32 | (uint64_t)b)) * UINT64_C(1099511628211);
        }
    }
    return h ^ (h >> 29);
}

static int same_signature(const int32_t *small, size_t C, const uint8_t *accepting,
                          const int64_t *blk, size_t a, size_t b) {
    if (accepting[a] != accepting[b]) {
        return 0;
    }
    for (size_t k = 0; k < C; ++k) {
        if (blk[small[a * C + k]] != blk[small[b * C + k]]) {
            return 0;
        }
    }
    return 1;
}

/* The slot of s's signature: a state with the same one, or an empty slot. */
static size_t find(const sig_table *t, const int32_t *small, size_t C,
                   const uint8_t *accepting, const int64_t *blk, size_t s) {
    size_t at = (size_t)signature_hash(small, C, accepting, blk, s) & (t->cap - 1);
    while (t->slot[at] >= 0 &&
           !same_signature(small, C, accepting, blk, (size_t)t->slot[at], s)) {
        at = (at + 1) & (t->cap - 1);
    }
    return at;
}

/* Hopcroft's refinement of the closed part B (live states not in `upper`) alone; blk[s]
 * receives 1 + a compact block number for each state of B.  Returns the next free block
 * number, or -1 without memory. */
static int64_t bottom_blocks(const int32_t *small, size_t C, const uint8_t *accepting,
                             const uint8_t *live, const uint8_t *upper, size_t n, int64_t *blk) {
    int32_t *map = malloc(n * sizeof(int32_t));
    size_t nb = 1; /* row 0: the dead state */
    for (size_t s = 0; s < n && map != NULL; ++s) {
        map[s] = live[s] && !upper[s] ? (int32_t)nb++ : 0;
    }
    int32_t *sub = map != NULL ? calloc(nb * C, sizeof(int32_t)) : NULL;
    int64_t *cls = sub != NULL ? malloc(nb * sizeof(int64_t)) : NULL;
    int64_t *seen = cls != NULL ? malloc(nb * sizeof(int64_t)) : NULL;
    int64_t next = -1;
    if (seen == NULL) {
        goto done;
    }
    int has[3] = {1, 0, 0};
    cls[0] = 0;
    for (size_t s = 0; s < n; ++s) {
        if (map[s] == 0) {
            continue;
        }
        for (size_t k = 0; k < C; ++k) {
            sub[(size_t)map[s] * C + k] = map[small[s * C + k]]; /* B is closed: 0 or in B */
        }
        cls[map[s]] = accepting[s] ? 2 : 1;
        has[cls[map[s]]] = 1;
    }
    const int64_t rank[3] = {0, 1, 1 + has[1]};
    for (size_t r = 0; r < nb; ++r) {
        cls[r] = rank[cls[r]];
        seen[r] = -1;
    }
    if (corral_hopcroft(sub, nb, C, cls, (size_t)(1 + has[1] + has[2])) < 0) {
        goto done;
    }
    next = 1;
    for (size_t s = 0; s < n; ++s) {
        if (map[s] != 0) {
            int64_t *id = &seen[cls[map[s]]];
            if (*id < 0) {
                *id = next++;
            }
            blk[s] = *id;
        }
    }
done:
    free(map);
    free(sub);
    free(cls);
    free(seen);
    return next;
}

int corral_layered_blocks(const int32_t *small, size_t C, const uint8_t *accepting,
                          const uint8_t *live, size_t n, int64_t *cls, size_t n_cls) {
    int32_t *indeg = calloc(n, sizeof(int32_t));
    size_t *order = malloc(n * sizeof(size_t));
    uint8_t *upper = calloc(n, 1);
    int64_t *blk = calloc(n, sizeof(int64_t));
    sig_table t = {NULL, 16};
    int result = -1;
    if (indeg == NULL || order == NULL || upper == NULL || blk == NULL) {
        goto done;
    }
    /* Kahn's order from the initial state over the live states: the states no cycle reaches */
    size_t n_live = 0;
    for (size_t s = 0; s < n; ++s) {
        if (live[s]) {
            ++n_live;
            for (size_t k = 0; k < C; ++k) {
                indeg[small[s * C + k]] += small[s * C + k] != 0;
            }
        }
    }
    size_t n_upper = 0;
    for (size_t s = 0; s < n; ++s) {
        if (live[s] && indeg[s] == 0) {
            order[n_upper++] = s;
        }
    }
    for (size_t head = 0; head < n_upper; ++head) {
        const size_t s = order[head];
        upper[s] = 1;
        for (size_t k = 0; k < C; ++k) {
            const int32_t d = small[s * C + k];
            if (d != 0 && --indeg[d] == 0) {
                order[n_upper++] = (size_t)d;
            }
        }
    }
    if (n_upper == 0) { /* every live state on or below a cycle: refine them all */
        result = corral_hopcroft(small, n, C, cls, n_cls) < 0 ? -1 : 0;
        goto done;
    }
    int64_t next = 1;
    if (n_upper < n_live && (next = bottom_blocks(small, C, accepting, live, upper, n, blk)) < 0) {
        goto done;
    }
    while (t.cap < 2 * n) {
        t.cap *= 2;
    }
    if ((t.slot = malloc(t.cap * sizeof(int64_t))) == NULL) {
        goto done;
    }
    for (size_t h = 0; h < t.cap; ++h) {
        t.slot[h] = -1;
    }
    for (size_t s = 0; s < n; ++s) { /* B's signatures first: a DAG state may join B's blocks */
        if (live[s] && !upper[s]) {
            const size_t at = find(&t, small, C, accepting, blk, s);
            if (t.slot[at] < 0) {
                t.slot[at] = (int64_t)s;
            }
        }
    }
    for (size_t i = n_upper; i-- > 0;) { /* deepest first: every target has its block */
        const size_t s = order[i];
        const size_t at = find(&t, small, C, accepting, blk, s);
        if (t.slot[at] < 0) {
            t.slot[at] = (int64_t)s;
            blk[s] = next++;
        } else {
            blk[s] = blk[t.slot[at]];
        }
    }
    for (size_t s = 0; s < n; ++s) {
        cls[s] = blk[s]; /* 0: the dead state and every state trimming merged into it */
    }
    result = 0;
done:
    free(indeg);
    free(order);
    free(upper);
    free(blk);
    free(t.slot);
    return result;
}
