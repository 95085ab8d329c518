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
