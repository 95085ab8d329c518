/*
 * minimize.c - trimming and Moore minimisation of a byte DFA (corral/corral.h).
 *
 * Trimming is a search on the reversed edges from the accepting states.  Minimisation is
 * Moore's (1956) partition refinement: each round gives every state the signature (its class,
 * the classes of its successors) and numbers the distinct signatures; it stops when a round
 * splits no class.  Bytes whose columns are equal act alike in every state and are looked at
 * once (byte equivalence classes).  Signatures are grouped with an open-addressing hash table
 * over states, compared by re-reading their rows, so no signature is stored.
 *
 * No Python here: the caller hands over a table; every entry is range-checked as it is read.
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

void corral_minimized_free(corral_minimized *m) {
    free(m->table);
    free(m->accepting);
    m->table = NULL;
    m->accepting = NULL;
    m->n_states = 0;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + UINT64_C(0x9E3779B97F4A7C15) + (h << 6) + (h >> 2);
    return h * UINT64_C(0xFF51AFD7ED558CCD);
}

typedef struct refine {
    size_t n;
    const int32_t *small; /* n * n_cols: the trimmed table's representative columns */
    size_t n_cols;
    const int64_t *cls;   /* current class per state */
} refine;

static uint64_t sig_hash(const refine *r, size_t s) {
    const int32_t *row = r->small + s * r->n_cols;
    uint64_t h = mix(0, (uint64_t)r->cls[s]);
    for (size_t k = 0; k < r->n_cols; ++k) {
        h = mix(h, (uint64_t)r->cls[row[k]]);
    }
    return h;
}

static int sig_equal(const refine *r, size_t a, size_t b) {
    if (r->cls[a] != r->cls[b]) {
        return 0;
    }
    const int32_t *ra = r->small + a * r->n_cols;
    const int32_t *rb = r->small + b * r->n_cols;
    for (size_t k = 0; k < r->n_cols; ++k) {
        if (r->cls[ra[k]] != r->cls[rb[k]]) {
            return 0;
        }
    }
    return 1;
}

/* One Moore round: new classes (numbered by first state) into `out`; their count. */
static size_t refine_round(const refine *r, int64_t *out, int64_t *slots, size_t n_slots,
                           uint64_t *hashes) {
    memset(slots, 0xFF, n_slots * sizeof(int64_t));
    size_t count = 0;
    const size_t mask = n_slots - 1;
    for (size_t s = 0; s < r->n; ++s) {
        hashes[s] = sig_hash(r, s);
        size_t i = (size_t)hashes[s] & mask;
        for (;;) {
            const int64_t other = slots[i];
            if (other < 0) {
                slots[i] = (int64_t)s;
                out[s] = (int64_t)count++;
                break;
            }
            if (hashes[other] == hashes[s] && sig_equal(r, (size_t)other, s)) {
                out[s] = out[other];
                break;
            }
            i = (i + 1) & mask;
        }
    }
    return count;
}

/* Representative bytes: the first byte of each class of equal columns, ascending
 * (byte_classes.c reads the table row by row). */
static size_t column_classes(const int32_t *trimmed, size_t n, size_t *cols) {
    uint8_t classes[256];
    const int n_classes = corral_byte_classes(trimmed, n, classes);
    size_t n_cols = 0;
    for (size_t b = 0; b < 256 && n_cols < (size_t)n_classes; ++b) {
        if (classes[b] == n_cols) {
            cols[n_cols++] = b;
        }
    }
    return n_cols;
}

/* States from which an accepting state is reachable (never state 0); -1 on a bad entry. */
static int co_reachable(const int32_t *table, const uint8_t *accepting, size_t n, uint8_t *live,
                        size_t *ptr, int32_t *preds, size_t *stack) {
    memset(ptr, 0, (n + 1) * sizeof(size_t));
    for (size_t i = 0; i < n * 256; ++i) {
        const int32_t d = table[i];
        if (d < 0 || (size_t)d >= n) {
            return -1;
        }
        if (d) {
            ++ptr[(size_t)d + 1];
        }
    }
    for (size_t s = 0; s < n; ++s) {
        ptr[s + 1] += ptr[s];
    }
    size_t *fill = stack; /* borrowed as write cursors, then as the search stack */
    memcpy(fill, ptr, n * sizeof(size_t));
    for (size_t i = 0; i < n * 256; ++i) {
        const int32_t d = table[i];
        if (d > 0 && (size_t)d < n) {
            preds[fill[d]++] = (int32_t)(i / 256);
        }
    }
    size_t top = 0;
    for (size_t s = 0; s < n; ++s) {
        live[s] = (uint8_t)(s != 0 && accepting[s]);
        if (live[s]) {
            stack[top++] = s;
        }
    }
    while (top > 0) {
        const size_t t = stack[--top];
        for (size_t k = ptr[t]; k < ptr[t + 1]; ++k) {
            const size_t p = (size_t)preds[k];
            if (p != 0 && !live[p]) {
                live[p] = 1;
                stack[top++] = p;
            }
        }
    }
    return 0;
}

int corral_minimize(const int32_t *table, const uint8_t *accepting, size_t n, size_t max_rounds,
                    corral_minimized *out) {
    if (n < 2) {
        return CORRAL_MINIMIZE_BAD_TABLE;
    }
    size_t n_slots = 16;
    while (n_slots < 2 * n) {
        n_slots *= 2;
    }
    uint8_t *live = malloc(n);
    size_t *ptr = malloc((n + 1) * sizeof(size_t));
    int32_t *preds = malloc(n * 256 * sizeof(int32_t));
    size_t *stack = malloc(n * sizeof(size_t));
    int32_t *trimmed = malloc(n * 256 * sizeof(int32_t));
    int64_t *cls = malloc(n * sizeof(int64_t));
    int64_t *next = malloc(n * sizeof(int64_t));
    int64_t *slots = malloc(n_slots * sizeof(int64_t));
    uint64_t *hashes = malloc(n * sizeof(uint64_t));
    int64_t *remap = NULL;
    int32_t *small = NULL;
    corral_minimized m = {NULL, NULL, 0};
    size_t cols[256];
    int code = CORRAL_MINIMIZE_NO_MEMORY;
    if (live == NULL || ptr == NULL || preds == NULL || stack == NULL || trimmed == NULL ||
        cls == NULL || next == NULL || slots == NULL || hashes == NULL) {
        goto done;
    }
    if (co_reachable(table, accepting, n, live, ptr, preds, stack) < 0) {
        code = CORRAL_MINIMIZE_BAD_TABLE;
        goto done;
    }
    for (size_t s = 0; s < n; ++s) {
        for (size_t b = 0; b < 256; ++b) {
            const int32_t d = table[s * 256 + b];
            trimmed[s * 256 + b] = (live[s] && live[d]) ? d : 0;
        }
    }
    /* Initial partition: dead, live non-accepting, live accepting (numbered compactly). */
    int has[3] = {0, 0, 0};
    for (size_t s = 0; s < n; ++s) {
        cls[s] = live[s] ? (accepting[s] ? 2 : 1) : 0;
        has[cls[s]] = 1;
    }
    const int64_t rank[3] = {0, has[0], has[0] + has[1]};
    for (size_t s = 0; s < n; ++s) {
        cls[s] = rank[cls[s]];
    }
    size_t n_cls = (size_t)(has[0] + has[1] + has[2]);
    const size_t n_cols = column_classes(trimmed, n, cols);
    small = malloc(n * n_cols * sizeof(int32_t));
    if (small == NULL) {
        goto done;
    }
    for (size_t s = 0; s < n; ++s) {
        for (size_t k = 0; k < n_cols; ++k) {
            small[s * n_cols + k] = trimmed[s * 256 + cols[k]];
        }
    }
    refine r = {n, small, n_cols, cls};
    size_t rounds = 0;
    for (;;) {
        r.cls = cls;
        const size_t new_n = refine_round(&r, next, slots, n_slots, hashes);
        if (new_n == n_cls) {
            break;
        }
        int64_t *swap = cls;
        cls = next;
        next = swap;
        n_cls = new_n;
        ++rounds;
        if (rounds > max_rounds && n > 2 * max_rounds) {
            /* Long chains need one round per link: keep every live state on its own. */
            for (size_t s = 0; s < n; ++s) {
                cls[s] = live[s] ? (int64_t)s : 0;
            }
            n_cls = n;
            break;
        }
    }
    remap = malloc(n * sizeof(int64_t)); /* class ids are below n in both cases */
    if (remap == NULL) {
        goto done;
    }
    for (size_t c = 0; c < n; ++c) {
        remap[c] = -1;
    }
    remap[cls[0]] = 0;
    size_t m_states = 1;
    if (remap[cls[1]] < 0) {
        remap[cls[1]] = 1;
        m_states = 2;
    }
    for (size_t s = 0; s < n; ++s) {
        if (remap[cls[s]] < 0) {
            remap[cls[s]] = (int64_t)m_states++;
        }
    }
    const int empty = remap[cls[1]] == 0;
    if (empty) {
        m_states = 2;
    }
    m.table = calloc(m_states * 256, sizeof(int32_t));
    m.accepting = calloc(m_states, 1);
    if (m.table == NULL || m.accepting == NULL) {
        goto done;
    }
    m.n_states = m_states;
    if (!empty) {
        for (size_t s = 0; s < n; ++s) {
            const size_t row = (size_t)remap[cls[s]];
            for (size_t b = 0; b < 256; ++b) {
                m.table[row * 256 + b] = (int32_t)remap[cls[trimmed[s * 256 + b]]];
            }
            m.accepting[row] = (uint8_t)(accepting[s] && live[s]);
        }
    }
    *out = m;
    m.table = NULL;
    m.accepting = NULL;
    code = CORRAL_MINIMIZE_OK;
done:
    corral_minimized_free(&m);
    free(live);
    free(ptr);
    free(preds);
    free(stack);
    free(trimmed);
    free(cls);
    free(next);
    free(slots);
    free(hashes);
    free(remap);
    free(small);
    return code;
}
