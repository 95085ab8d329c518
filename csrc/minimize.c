/*
 * minimize.c - trimming and minimisation of a byte DFA (corral/corral.h).
 *
 * Trimming is a search on the reversed edges from the accepting states and one on the edges
 * from the initial state: states missed by either are merged into the dead state.
 * Minimisation is Hopcroft's partition refinement (hopcroft.c) from the partition dead / live
 * non-accepting / live accepting (on the part below the automaton's acyclic top, whose states
 * are merged by signature: layered.c), over the byte equivalence classes (bytes whose columns are
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
    m->width = 0;
}

/* Representative columns: the first column of each class of equal columns, ascending
 * (byte_classes.c reads the table row by row); the class of each column in `classes`. */
static size_t column_classes(const int32_t *table, size_t n, size_t width, size_t *cols,
                             uint8_t *classes) {
    const int n_classes = corral_column_classes(table, n, width, classes);
    size_t n_cols = 0;
    for (size_t b = 0; b < width && n_cols < (size_t)n_classes; ++b) {
        if (classes[b] == n_cols) {
            cols[n_cols++] = b;
        }
    }
    return n_cols;
}

/* States from which an accepting state is reachable (never state 0), over the (n, C) table of
 * class representatives, whose entries lie in [0, n). */
static void co_reachable(const int32_t *small, size_t C, const uint8_t *accepting, size_t n,
                         uint8_t *live, size_t *ptr, int32_t *preds, size_t *stack) {
    memset(ptr, 0, (n + 1) * sizeof(size_t));
    for (size_t i = 0; i < n * C; ++i) {
        if (small[i]) {
            ++ptr[(size_t)small[i] + 1];
        }
    }
    for (size_t s = 0; s < n; ++s) {
        ptr[s + 1] += ptr[s];
    }
    size_t *fill = stack; /* borrowed as write cursors, then as the search stack */
    memcpy(fill, ptr, n * sizeof(size_t));
    for (size_t s = 0; s < n; ++s) {
        for (size_t k = 0; k < C; ++k) {
            const int32_t d = small[s * C + k];
            if (d > 0) {
                preds[fill[d]++] = (int32_t)s;
            }
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
}

/* Clear `live` for the states the initial state 1 cannot reach (a depth-first search over the
 * (n, C) table of class representatives).  -1 without memory. */
static int keep_reachable(const int32_t *small, size_t C, size_t n, uint8_t *live,
                          size_t *stack) {
    uint8_t *seen = calloc(n, 1);
    if (seen == NULL) {
        return -1;
    }
    size_t top = 0;
    seen[1] = 1;
    stack[top++] = 1;
    while (top > 0) {
        const size_t s = stack[--top];
        for (size_t k = 0; k < C; ++k) {
            const size_t t = (size_t)small[s * C + k];
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

/* Number the blocks: the dead state's 0, the initial state's 1, the others in order of first
 * state; the number of states, 2 when the initial state is dead (the empty language). */
static size_t number_blocks(const int64_t *cls, size_t n, int64_t *remap, int *empty) {
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
    *empty = remap[cls[1]] == 0;
    return *empty ? 2 : m_states;
}

/*
 * Write the minimised table: one row per block (from its first state) over the C column
 * classes, then columns that minimisation made equal merged, and the bytes numbered by first
 * byte of the merged classes.  `scratch` holds m_states * C entries.
 */
static int write_result(const int32_t *small, size_t C, const uint8_t *byte_col,
                        const uint8_t *accepting, const uint8_t *live, const int64_t *cls,
                        const int64_t *remap, size_t n, size_t m_states, int empty,
                        uint8_t *done_row, corral_minimized *m) {
    int32_t *wide = calloc(m_states * C, sizeof(int32_t));
    m->accepting = calloc(m_states, 1);
    if (wide == NULL || m->accepting == NULL) {
        free(wide);
        return -1;
    }
    m->n_states = m_states;
    if (!empty) {
        for (size_t s = 0; s < n; ++s) {
            const size_t row = (size_t)remap[cls[s]];
            m->accepting[row] |= (uint8_t)(accepting[s] && live[s]);
        }
        memset(done_row, 0, m_states);
        for (size_t s = 0; s < n; ++s) {
            const size_t row = (size_t)remap[cls[s]];
            if (!done_row[row]) {
                done_row[row] = 1;
                for (size_t k = 0; k < C; ++k) {
                    wide[row * C + k] = (int32_t)remap[cls[small[s * C + k]]];
                }
            }
        }
    }
    uint8_t merged[256];
    size_t keep[256];
    const size_t C2 = column_classes(wide, m_states, C, keep, merged);
    /* number the merged classes by their first byte */
    int number[256];
    for (size_t k = 0; k < C2; ++k) {
        number[k] = -1;
    }
    int width = 0;
    for (size_t b = 0; b < 256; ++b) {
        const uint8_t k = merged[byte_col[b]];
        if (number[k] < 0) {
            number[k] = width++;
        }
        m->classes[b] = (uint8_t)number[k];
    }
    m->width = (size_t)width;
    m->table = malloc(m_states * (size_t)width * sizeof(int32_t));
    if (m->table == NULL) {
        free(wide);
        return -1;
    }
    for (size_t r = 0; r < m_states; ++r) {
        for (size_t k = 0; k < C2; ++k) {
            if (number[k] >= 0) {
                m->table[r * (size_t)width + (size_t)number[k]] = wide[r * C + keep[k]];
            }
        }
    }
    free(wide);
    return 0;
}

/*
 * Bytes of one class act alike in every state, so everything after the class pass works on
 * the (n, C) table of the classes' first columns: every entry of the table equals the entry
 * of its column's representative (checked exactly by that pass), so checking the range of the
 * small table checks the whole.  Trimming only zeroes entries and cannot tell two equal
 * columns apart, and Hopcroft's refinement is unchanged by columns that trimming made equal;
 * the columns that became equal are merged when the result is written.
 */
int corral_minimize_classes(const int32_t *table, size_t width, const uint8_t *colmap,
                            const uint8_t *accepting, size_t n, corral_minimized *out) {
    if (n < 2 || width < 1 || width > 256 || (colmap == NULL && width != 256)) {
        return CORRAL_MINIMIZE_BAD_TABLE;
    }
    /* only the columns some byte reads are transitions: the others are left out first */
    int at[256];
    size_t used[256], n_used = 0;
    uint8_t byte_use[256]; /* each byte's place among the used columns */
    for (size_t c = 0; c < width; ++c) {
        at[c] = -1;
    }
    for (size_t b = 0; b < 256; ++b) {
        const size_t c = colmap == NULL ? b : colmap[b];
        if (c >= width) {
            return CORRAL_MINIMIZE_BAD_TABLE;
        }
        if (at[c] < 0) {
            at[c] = (int)n_used;
            used[n_used++] = c;
        }
        byte_use[b] = (uint8_t)at[c];
    }
    int32_t *packed = NULL;
    if (n_used < width) {
        if ((packed = malloc(n * n_used * sizeof(int32_t))) == NULL) {
            return CORRAL_MINIMIZE_NO_MEMORY;
        }
        for (size_t s = 0; s < n; ++s) {
            for (size_t k = 0; k < n_used; ++k) {
                packed[s * n_used + k] = table[s * width + used[k]];
            }
        }
        table = packed;
        width = n_used;
    }
    uint8_t col_class[256];
    size_t cols[256];
    const size_t C = column_classes(table, n, width, cols, col_class);
    uint8_t byte_col[256]; /* each byte's column class */
    for (size_t b = 0; b < 256; ++b) {
        const size_t c = packed != NULL ? byte_use[b] : (colmap == NULL ? b : colmap[b]);
        byte_col[b] = col_class[c];
    }
    uint8_t *live = malloc(n);
    size_t *ptr = malloc((n + 1) * sizeof(size_t));
    int32_t *preds = malloc(n * C * sizeof(int32_t));
    size_t *stack = malloc(n * sizeof(size_t));
    int32_t *small = malloc(n * C * sizeof(int32_t));
    int64_t *cls = malloc(n * sizeof(int64_t));
    int64_t *remap = malloc(n * sizeof(int64_t)); /* block ids are below n */
    uint8_t *done_row = malloc(n);
    corral_minimized m;
    memset(&m, 0, sizeof m);
    int code = CORRAL_MINIMIZE_NO_MEMORY;
    if (live == NULL || ptr == NULL || preds == NULL || stack == NULL || small == NULL ||
        cls == NULL || remap == NULL || done_row == NULL) {
        goto done;
    }
    for (size_t s = 0; s < n; ++s) {
        for (size_t k = 0; k < C; ++k) {
            const int32_t d = table[s * width + cols[k]];
            if (d < 0 || (size_t)d >= n) {
                code = CORRAL_MINIMIZE_BAD_TABLE;
                goto done;
            }
            small[s * C + k] = d;
        }
    }
    co_reachable(small, C, accepting, n, live, ptr, preds, stack);
    if (keep_reachable(small, C, n, live, stack) < 0) {
        goto done;
    }
    for (size_t s = 0; s < n; ++s) {
        for (size_t k = 0; k < C; ++k) {
            const int32_t d = small[s * C + k];
            small[s * C + k] = (live[s] && live[d]) ? d : 0;
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
    if (corral_layered_blocks(small, C, accepting, live, n, cls,
                              (size_t)(has[0] + has[1] + has[2])) < 0) {
        goto done;
    }
    int empty;
    const size_t m_states = number_blocks(cls, n, remap, &empty);
    if (write_result(small, C, byte_col, accepting, live, cls, remap, n, m_states, empty,
                     done_row, &m) < 0) {
        goto done;
    }
    *out = m;
    memset(&m, 0, sizeof m);
    code = CORRAL_MINIMIZE_OK;
done:
    corral_minimized_free(&m);
    free(live);
    free(ptr);
    free(preds);
    free(stack);
    free(small);
    free(cls);
    free(remap);
    free(done_row);
    free(packed);
    return code;
}

int corral_minimize(const int32_t *table, const uint8_t *accepting, size_t n,
                    corral_minimized *out) {
    return corral_minimize_classes(table, 256, NULL, accepting, n, out);
}
