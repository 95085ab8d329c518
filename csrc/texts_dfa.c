/*
 * texts_dfa.c - the minimal automaton of a finite set of byte strings (corral/corral.h).
 *
 * The texts' trie is built with child lists (first child, next sibling), written as a table
 * over the bytes the texts use (one column each, ascending, and one dead column for every other
 * byte), and minimised (minimize.c, where an acyclic automaton takes Revuz's linear pass).  The
 * twin is corral.grammars.json_schema.values.texts_dfa_py: the same trie and table, built in
 * Python.
 *
 * No Python here: the caller hands over the concatenated texts and their end offsets, which
 * are checked as they are read.
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

int corral_texts_dfa(const uint8_t *data, size_t n_data, const int64_t *ends, size_t n_texts,
                     corral_minimized *out) {
    int64_t prev = 0;
    for (size_t i = 0; i < n_texts; ++i) {
        if (ends[i] < prev || (uint64_t)ends[i] > (uint64_t)n_data) {
            return CORRAL_MINIMIZE_BAD_TABLE;
        }
        prev = ends[i];
    }
    if (n_texts == 0 || n_data > (size_t)INT32_MAX - 2) {
        return CORRAL_MINIMIZE_BAD_TABLE;
    }
    uint8_t colmap[256];
    int used[256] = {0};
    for (size_t k = 0; k < n_data; ++k) {
        used[data[k]] = 1;
    }
    size_t width = 0;
    for (int b = 0; b < 256; ++b) {
        if (used[b]) {
            colmap[b] = (uint8_t)width++;
        }
    }
    for (int b = 0; b < 256; ++b) {
        if (!used[b]) {
            colmap[b] = (uint8_t)width;
        }
    }
    ++width; /* the dead column (a full one when the texts use every byte: never read) */
    if (width > 256) {
        width = 256;
    }
    const size_t cap = n_data + 2; /* a state per byte at most, the dead and initial states */
    int32_t *first = malloc(cap * sizeof(int32_t));
    int32_t *next = malloc(cap * sizeof(int32_t));
    uint8_t *byte = malloc(cap);
    uint8_t *accepting = calloc(cap, 1);
    int32_t *table = NULL;
    int code = CORRAL_MINIMIZE_NO_MEMORY;
    if (first == NULL || next == NULL || byte == NULL || accepting == NULL) {
        goto done;
    }
    first[0] = first[1] = -1;
    size_t n = 2;
    size_t at = 0;
    for (size_t i = 0; i < n_texts; ++i) {
        int32_t s = 1;
        for (; at < (size_t)ends[i]; ++at) {
            const uint8_t b = data[at];
            int32_t c = first[s];
            while (c >= 0 && byte[c] != b) {
                c = next[c];
            }
            if (c < 0) {
                c = (int32_t)n++;
                first[c] = -1;
                byte[c] = b;
                next[c] = first[s];
                first[s] = c;
            }
            s = c;
        }
        accepting[s] = 1;
    }
    table = calloc(n * width, sizeof(int32_t));
    if (table == NULL) {
        goto done;
    }
    for (size_t s = 1; s < n; ++s) {
        for (int32_t c = first[s]; c >= 0; c = next[c]) {
            table[s * width + colmap[byte[c]]] = c;
        }
    }
    code = corral_minimize_classes(table, width, colmap, accepting, n, out);
done:
    free(first);
    free(next);
    free(byte);
    free(accepting);
    free(table);
    return code;
}

/*
 * The minimal automaton of L(K) minus the texts: the product of K with the texts' trie, built
 * directly.  A trie node is reached by one prefix, so it meets one state of K; the product's
 * states are the trie's nodes (paired with that state) and K's own (the prefix has left the
 * trie).  Columns: each byte the texts use, and each of K's classes for the other bytes.  The
 * result is minimised (layered.c: the trie part is a DAG above K), so it is the table
 * difference(K, texts_dfa(texts)) gives.  K's entries are range-checked as they are read.
 */
int corral_texts_complement(const int32_t *ktable, size_t kn, size_t kwidth,
                            const uint8_t *kclasses, const uint8_t *kacc, const uint8_t *data,
                            size_t n_data, const int64_t *ends, size_t n_texts,
                            corral_minimized *out) {
    if (kn < 2 || kwidth < 1 || kwidth > 256 || kn > (size_t)INT32_MAX / 2) {
        return CORRAL_MINIMIZE_BAD_TABLE;
    }
    for (int b = 0; b < 256; ++b) {
        if (kclasses[b] >= kwidth) {
            return CORRAL_MINIMIZE_BAD_TABLE;
        }
    }
    for (size_t i = 0; i < kn * kwidth; ++i) {
        if (ktable[i] < 0 || (size_t)ktable[i] >= kn) {
            return CORRAL_MINIMIZE_BAD_TABLE;
        }
    }
    int64_t prev = 0;
    for (size_t i = 0; i < n_texts; ++i) {
        if (ends[i] < prev || (uint64_t)ends[i] > (uint64_t)n_data) {
            return CORRAL_MINIMIZE_BAD_TABLE;
        }
        prev = ends[i];
    }
    if (n_texts == 0 || n_data > (size_t)INT32_MAX / 2) {
        return CORRAL_MINIMIZE_BAD_TABLE;
    }
    /* columns: the texts' bytes one each, then K's classes of the other bytes */
    int used[256] = {0};
    for (size_t k = 0; k < n_data; ++k) {
        used[data[k]] = 1;
    }
    uint8_t colmap[256];
    int rep[256];        /* a byte of each column */
    int class_col[256];  /* the column of each K class's other bytes, -1 until met */
    size_t width = 0;
    for (int b = 0; b < 256; ++b) {
        class_col[b] = -1;
        if (used[b]) {
            rep[width] = b;
            colmap[b] = (uint8_t)width++;
        }
    }
    for (int b = 0; b < 256; ++b) {
        if (used[b]) {
            continue;
        }
        const int c = kclasses[b];
        if (class_col[c] < 0) {
            class_col[c] = (int)width;
            rep[width++] = b;
        }
        colmap[b] = (uint8_t)class_col[c];
    }
    /* the trie: node 0 its root; children by first child / next sibling */
    const size_t cap = n_data + 1;
    int32_t *first = malloc(cap * sizeof(int32_t));
    int32_t *next = malloc(cap * sizeof(int32_t));
    uint8_t *byte = malloc(cap);
    uint8_t *end = calloc(cap, 1);
    int32_t *kst = malloc(cap * sizeof(int32_t)); /* the state of K each node meets */
    int32_t *table = NULL;
    uint8_t *accepting = NULL;
    int code = CORRAL_MINIMIZE_NO_MEMORY;
    if (first == NULL || next == NULL || byte == NULL || end == NULL || kst == NULL) {
        goto done;
    }
    first[0] = -1;
    size_t nodes = 1, at = 0;
    for (size_t i = 0; i < n_texts; ++i) {
        int32_t t = 0;
        for (; at < (size_t)ends[i]; ++at) {
            int32_t c = first[t];
            while (c >= 0 && byte[c] != data[at]) {
                c = next[c];
            }
            if (c < 0) {
                c = (int32_t)nodes++;
                first[c] = -1;
                byte[c] = data[at];
                next[c] = first[t];
                first[t] = c;
            }
            t = c;
        }
        end[t] = 1;
    }
    /* product ids: 0 dead, 1 + t for trie node t (1: the root, the initial state), then
     * nodes + k for K's state k >= 1 */
    const size_t n = 1 + nodes + (kn - 1);
    table = calloc(n * width, sizeof(int32_t));
    accepting = calloc(n, 1);
    if (table == NULL || accepting == NULL) {
        goto done;
    }
#define K_ID(k) ((k) == 0 ? 0 : (int32_t)(nodes + (size_t)(k)))
    for (size_t k = 1; k < kn; ++k) {
        const size_t row = nodes + k;
        accepting[row] = kacc[k] != 0;
        for (size_t c = 0; c < width; ++c) {
            table[row * width + c] = K_ID(ktable[k * kwidth + kclasses[rep[c]]]);
        }
    }
    kst[0] = 1;
    for (size_t t = 0; t < nodes; ++t) { /* a child's id is above its parent's */
        const int32_t k = kst[t];
        const size_t row = 1 + t;
        if (k == 0) { /* the prefix left K: the node and its subtrie are never reached */
            for (int32_t ch = first[t]; ch >= 0; ch = next[ch]) {
                kst[ch] = 0;
            }
            continue;
        }
        accepting[row] = kacc[k] != 0 && !end[t];
        for (size_t c = 0; c < width; ++c) {
            table[row * width + c] = K_ID(ktable[(size_t)k * kwidth + kclasses[rep[c]]]);
        }
        for (int32_t ch = first[t]; ch >= 0; ch = next[ch]) {
            const int32_t k2 = ktable[(size_t)k * kwidth + kclasses[byte[ch]]];
            kst[ch] = k2;
            table[row * width + colmap[byte[ch]]] = k2 == 0 ? 0 : (int32_t)(1 + ch);
        }
    }
#undef K_ID
    code = corral_minimize_classes(table, width, colmap, accepting, n, out);
done:
    free(first);
    free(next);
    free(byte);
    free(end);
    free(kst);
    free(table);
    free(accepting);
    return code;
}
