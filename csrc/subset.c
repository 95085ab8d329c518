/*
 * subset.c - the subset construction (Rabin & Scott 1959) of a byte DFA from a regex's
 * Thompson NFA (corral/corral.h).
 *
 * The twin of corral.automata.regex._determinize_py, state for state: DFA state 0 is the empty
 * set (dead), 1 the ε-closure of the initial state; states are numbered as a breadth-first
 * search meets them, each state's byte intervals taken in increasing order.  The bytes are cut
 * into intervals that no edge range splits, so the work is per interval, not per byte.  A set
 * of NFA states is kept sorted in one pool and found again through an open-addressing hash
 * table.  The thread's CPU clock is read every 64 states against the caller's deadline.
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int32_t *v;
    size_t n, cap;
} ivec;

static int ivec_push(ivec *a, int32_t x) {
    if (a->n == a->cap) {
        const size_t cap = a->cap ? 2 * a->cap : 64;
        int32_t *v = realloc(a->v, cap * sizeof(int32_t));
        if (v == NULL) {
            return -1;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static int cmp_i32(const void *a, const void *b) {
    const int32_t x = *(const int32_t *)a;
    const int32_t y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static uint64_t hash_set(const int32_t *v, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    for (size_t i = 0; i < n; ++i) {
        h ^= (uint64_t)(uint32_t)v[i];
        h *= 0xFF51AFD7ED558CCDULL;
        h ^= h >> 29;
    }
    return h;
}

typedef struct {
    const corral_nfa *nfa;
    uint32_t *mark; /* per NFA state: the generation that last saw it */
    uint32_t gen;
    ivec stack, closed; /* scratch of a closure */
    ivec pool;          /* every DFA state's sorted NFA states, one after another */
    size_t *off;        /* per DFA state: [off[i], off[i] + len[i]) in pool */
    size_t *len;
    size_t n_dfa, cap_dfa;
    int32_t *slots; /* hash table of DFA ids (-1: empty), size a power of two */
    size_t n_slots;
    int32_t *table; /* n_dfa rows of 256 next states */
} builder;

static void next_gen(builder *b) {
    if (++b->gen == 0) {
        memset(b->mark, 0, b->nfa->n_states * sizeof(uint32_t));
        b->gen = 1;
    }
}

/* The ε-closure of seeds[0..n) into b->closed, sorted. */
static int closure(builder *b, const int32_t *seeds, size_t n) {
    const corral_nfa *nfa = b->nfa;
    next_gen(b);
    b->closed.n = 0;
    b->stack.n = 0;
    for (size_t i = 0; i < n; ++i) {
        const int32_t s = seeds[i];
        if (b->mark[s] != b->gen) {
            b->mark[s] = b->gen;
            if (ivec_push(&b->stack, s) < 0 || ivec_push(&b->closed, s) < 0) {
                return -1;
            }
        }
    }
    while (b->stack.n) {
        const int32_t s = b->stack.v[--b->stack.n];
        for (int64_t e = nfa->eps_ptr[s]; e < nfa->eps_ptr[s + 1]; ++e) {
            const int32_t t = nfa->eps_ids[e];
            if (b->mark[t] != b->gen) {
                b->mark[t] = b->gen;
                if (ivec_push(&b->stack, t) < 0 || ivec_push(&b->closed, t) < 0) {
                    return -1;
                }
            }
        }
    }
    qsort(b->closed.v, b->closed.n, sizeof(int32_t), cmp_i32);
    return 0;
}

static int grow_slots(builder *b) {
    const size_t n = b->n_slots ? 2 * b->n_slots : 1024;
    int32_t *slots = malloc(n * sizeof(int32_t));
    if (slots == NULL) {
        return -1;
    }
    memset(slots, 0xFF, n * sizeof(int32_t));
    for (size_t i = 0; i < b->n_dfa; ++i) {
        size_t h = (size_t)hash_set(b->pool.v + b->off[i], b->len[i]) & (n - 1);
        while (slots[h] >= 0) {
            h = (h + 1) & (n - 1);
        }
        slots[h] = (int32_t)i;
    }
    free(b->slots);
    b->slots = slots;
    b->n_slots = n;
    return 0;
}

/* The id of the DFA state of b->closed, made (with a dead row) when new: >= 0, or
 * CORRAL_SUBSET_TOO_LARGE / CORRAL_SUBSET_NO_MEMORY. */
static int64_t intern(builder *b, size_t max_states) {
    const int32_t *v = b->closed.v;
    const size_t n = b->closed.n;
    size_t h = (size_t)hash_set(v, n) & (b->n_slots - 1);
    for (; b->slots[h] >= 0; h = (h + 1) & (b->n_slots - 1)) {
        const int32_t id = b->slots[h];
        if (b->len[id] == n && memcmp(b->pool.v + b->off[id], v, n * sizeof(int32_t)) == 0) {
            return id;
        }
    }
    const size_t id = b->n_dfa;
    if (id > max_states) {
        return CORRAL_SUBSET_TOO_LARGE;
    }
    if (id == b->cap_dfa) {
        const size_t cap = 2 * b->cap_dfa;
        size_t *off = realloc(b->off, cap * sizeof(size_t));
        if (off == NULL) {
            return CORRAL_SUBSET_NO_MEMORY;
        }
        b->off = off;
        size_t *len = realloc(b->len, cap * sizeof(size_t));
        if (len == NULL) {
            return CORRAL_SUBSET_NO_MEMORY;
        }
        b->len = len;
        int32_t *table = realloc(b->table, cap * 256 * sizeof(int32_t));
        if (table == NULL) {
            return CORRAL_SUBSET_NO_MEMORY;
        }
        b->table = table;
        b->cap_dfa = cap;
    }
    b->off[id] = b->pool.n;
    b->len[id] = n;
    for (size_t i = 0; i < n; ++i) {
        if (ivec_push(&b->pool, v[i]) < 0) {
            return CORRAL_SUBSET_NO_MEMORY;
        }
    }
    memset(b->table + id * 256, 0, 256 * sizeof(int32_t));
    b->slots[h] = (int32_t)id;
    b->n_dfa = id + 1;
    if (2 * b->n_dfa > b->n_slots && grow_slots(b) < 0) {
        return CORRAL_SUBSET_NO_MEMORY;
    }
    return (int64_t)id;
}

static double thread_seconds(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0.0;
    }
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fill the rows of every DFA state (breadth first from state 1). */
static int build_rows(builder *b, size_t max_states, double deadline) {
    const corral_nfa *nfa = b->nfa;
    const size_t n_spans = nfa->n_spans;
    size_t *count = calloc(n_spans + 1, sizeof(size_t));
    int32_t *bucket = NULL;
    size_t cap_bucket = 0;
    ivec raw = {NULL, 0, 0}, last = {NULL, 0, 0};
    int code = count == NULL ? CORRAL_SUBSET_NO_MEMORY : CORRAL_SUBSET_OK;
    for (size_t i = 1; code == CORRAL_SUBSET_OK && i < b->n_dfa; ++i) {
        if ((i & 63) == 0 && deadline >= 0 && thread_seconds() > deadline) {
            code = CORRAL_SUBSET_DEADLINE;
            break;
        }
        /* the (interval, target) pairs of the state's edges, bucketed by interval */
        memset(count, 0, (n_spans + 1) * sizeof(size_t));
        size_t total = 0;
        for (size_t j = 0; j < b->len[i]; ++j) {
            const int32_t s = b->pool.v[b->off[i] + j];
            for (int64_t e = nfa->edge_ptr[s]; e < nfa->edge_ptr[s + 1]; ++e) {
                for (int32_t k = nfa->edge_k0[e]; k < nfa->edge_k1[e]; ++k) {
                    count[k + 1]++;
                    total++;
                }
            }
        }
        if (total == 0) {
            continue;
        }
        if (total > cap_bucket) {
            int32_t *nb = realloc(bucket, total * sizeof(int32_t));
            if (nb == NULL) {
                code = CORRAL_SUBSET_NO_MEMORY;
                break;
            }
            bucket = nb;
            cap_bucket = total;
        }
        for (size_t k = 1; k <= n_spans; ++k) {
            count[k] += count[k - 1];
        }
        for (size_t j = 0; j < b->len[i]; ++j) {
            const int32_t s = b->pool.v[b->off[i] + j];
            for (int64_t e = nfa->edge_ptr[s]; e < nfa->edge_ptr[s + 1]; ++e) {
                for (int32_t k = nfa->edge_k0[e]; k < nfa->edge_k1[e]; ++k) {
                    bucket[count[k]++] = nfa->edge_t[e];
                }
            }
        }
        /* count[k] is now the end of interval k's targets, count[k - 1] its start */
        last.n = 0;
        int64_t last_id = 0;
        size_t lo = 0;
        for (size_t k = 0; k < n_spans && code == CORRAL_SUBSET_OK; ++k) {
            const size_t hi = count[k];
            if (hi == lo) {
                continue;
            }
            raw.n = 0;
            for (size_t x = lo; x < hi; ++x) {
                if (ivec_push(&raw, bucket[x]) < 0) {
                    code = CORRAL_SUBSET_NO_MEMORY;
                    break;
                }
            }
            lo = hi;
            if (code != CORRAL_SUBSET_OK) {
                break;
            }
            qsort(raw.v, raw.n, sizeof(int32_t), cmp_i32);
            size_t u = 0;
            for (size_t x = 0; x < raw.n; ++x) {
                if (u == 0 || raw.v[u - 1] != raw.v[x]) {
                    raw.v[u++] = raw.v[x];
                }
            }
            raw.n = u;
            int64_t id;
            if (last.n == raw.n && memcmp(last.v, raw.v, raw.n * sizeof(int32_t)) == 0) {
                id = last_id;
            } else {
                if (closure(b, raw.v, raw.n) < 0) {
                    code = CORRAL_SUBSET_NO_MEMORY;
                    break;
                }
                id = intern(b, max_states);
                if (id < 0) {
                    code = (int)id;
                    break;
                }
                last.n = 0;
                for (size_t x = 0; x < raw.n; ++x) {
                    if (ivec_push(&last, raw.v[x]) < 0) {
                        code = CORRAL_SUBSET_NO_MEMORY;
                        break;
                    }
                }
                last_id = id;
            }
            int32_t *row = b->table + i * 256;
            for (int32_t byte = nfa->span_lo[k]; byte < nfa->span_lo[k + 1]; ++byte) {
                row[byte] = (int32_t)id;
            }
        }
    }
    free(count);
    free(bucket);
    free(raw.v);
    free(last.v);
    return code;
}

int corral_subset(const corral_nfa *nfa, size_t max_states, double deadline,
                  corral_subset_out *out) {
    memset(out, 0, sizeof(*out));
    builder b;
    memset(&b, 0, sizeof(b));
    b.nfa = nfa;
    b.cap_dfa = 64;
    b.mark = calloc(nfa->n_states ? nfa->n_states : 1, sizeof(uint32_t));
    b.off = malloc(b.cap_dfa * sizeof(size_t));
    b.len = malloc(b.cap_dfa * sizeof(size_t));
    b.table = malloc(b.cap_dfa * 256 * sizeof(int32_t));
    /* the scratch vectors start allocated: no null pointer reaches memcmp or bsearch */
    b.pool.v = malloc(64 * sizeof(int32_t));
    b.pool.cap = 64;
    b.closed.v = malloc(64 * sizeof(int32_t));
    b.closed.cap = 64;
    int code = CORRAL_SUBSET_NO_MEMORY;
    if (b.mark == NULL || b.off == NULL || b.len == NULL || b.table == NULL ||
        b.pool.v == NULL || b.closed.v == NULL || grow_slots(&b) < 0) {
        goto done;
    }
    /* state 0: the empty set; state 1: the closure of the initial state */
    b.closed.n = 0;
    if (intern(&b, max_states) != 0) {
        goto done;
    }
    const int32_t initial = nfa->initial;
    if (closure(&b, &initial, 1) < 0) {
        goto done;
    }
    const int64_t start = intern(&b, max_states);
    if (start < 0) {
        code = (int)start;
        goto done;
    }
    code = build_rows(&b, max_states, deadline);
    if (code != CORRAL_SUBSET_OK) {
        goto done;
    }
    out->accepting = calloc(b.n_dfa, 1);
    if (out->accepting == NULL) {
        code = CORRAL_SUBSET_NO_MEMORY;
        goto done;
    }
    for (size_t i = 1; i < b.n_dfa; ++i) {
        const int32_t *v = b.pool.v + b.off[i];
        out->accepting[i] = bsearch(&nfa->final, v, b.len[i], sizeof(int32_t), cmp_i32) != NULL;
    }
    out->table = b.table;
    b.table = NULL;
    out->n_states = b.n_dfa;
done:
    free(b.mark);
    free(b.stack.v);
    free(b.closed.v);
    free(b.pool.v);
    free(b.off);
    free(b.len);
    free(b.slots);
    free(b.table);
    if (code != CORRAL_SUBSET_OK) {
        corral_subset_free(out);
    }
    return code;
}

void corral_subset_free(corral_subset_out *out) {
    free(out->table);
    free(out->accepting);
    memset(out, 0, sizeof(*out));
}
