/*
 * minimize.c - trimming and minimisation of a byte DFA (corral/corral.h).
 *
 * Trimming is a search on the reversed edges from the accepting states and one on the edges
 * from the initial state: states missed by either are merged into the dead state.
 * Minimisation is Hopcroft's partition refinement (hopcroft.c) from the partition dead / live
 * non-accepting / live accepting, over the byte equivalence classes (bytes whose columns are
 * equal act alike in every state and are looked at once).  Its result is the partition
 * Moore's (1956) round-by-round refinement reaches at its fixpoint, which the Python twin
 * computes.
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

/* Clear `live` for the states the initial state 1 cannot reach (a depth-first search; the
 * entries were range-checked by co_reachable).  -1 without memory. */
static int keep_reachable(const int32_t *table, size_t n, uint8_t *live, size_t *stack) {
    uint8_t *seen = calloc(n, 1);
    if (seen == NULL) {
        return -1;
    }
    size_t top = 0;
    seen[1] = 1;
    stack[top++] = 1;
    while (top > 0) {
        const size_t s = stack[--top];
        for (size_t b = 0; b < 256; ++b) {
            const size_t t = (size_t)table[s * 256 + b];
            if (!seen[t]) {
                seen[t] = 1;
                stack[top++] = t;
            }
        }
    }
    for (size_t s = 0; s < n; ++s) {
        live[s] = (uint8_t)(live[s] && seen[s]);
    }
    free(seen);
    return 0;
}

int corral_minimize(const int32_t *table, const uint8_t *accepting, size_t n,
                    corral_minimized *out) {
    if (n < 2) {
        return CORRAL_MINIMIZE_BAD_TABLE;
    }
    uint8_t *live = malloc(n);
    size_t *ptr = malloc((n + 1) * sizeof(size_t));
    int32_t *preds = malloc(n * 256 * sizeof(int32_t));
    size_t *stack = malloc(n * sizeof(size_t));
    int32_t *trimmed = malloc(n * 256 * sizeof(int32_t));
    int64_t *cls = malloc(n * sizeof(int64_t));
    int64_t *remap = NULL;
    int32_t *small = NULL;
    corral_minimized m = {NULL, NULL, 0};
    size_t cols[256];
    int code = CORRAL_MINIMIZE_NO_MEMORY;
    if (live == NULL || ptr == NULL || preds == NULL || stack == NULL || trimmed == NULL ||
        cls == NULL) {
        goto done;
    }
    if (co_reachable(table, accepting, n, live, ptr, preds, stack) < 0) {
        code = CORRAL_MINIMIZE_BAD_TABLE;
        goto done;
    }
    if (keep_reachable(table, n, live, stack) < 0) {
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
    const size_t n_cls = (size_t)(has[0] + has[1] + has[2]);
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
    if (corral_hopcroft(small, n, n_cols, cls, n_cls) < 0) {
        goto done;
    }
    remap = malloc(n * sizeof(int64_t)); /* block ids are below n */
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
    free(remap);
    free(small);
    return code;
}
