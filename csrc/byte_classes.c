/*
 * byte_classes.c - classes of equal columns of a byte DFA's next-state table.
 *
 * Two bytes are alike when every state sends them to the same next state: their columns of
 * the (n, 256) table are equal.  The classes are refined row by row (row-major, so the table
 * is read in order), each byte pointing at its class's first byte: a row whose every entry
 * equals the entry of its byte's representative splits nothing, and that is one comparison
 * per entry.  A row that does split a class regroups its bytes by (old class, entry) with the
 * first byte of each group as representative.  A class splits at most 255 times in all, so
 * the regrouping, O(256 * classes) each time, stays off the common path.  Classes are
 * numbered by their first byte, as corral.automata.dfa.column_classes_py numbers them (the
 * specification).  O(n * 256) comparisons.
 */
#include <stdint.h>

#include "corral/corral.h"

/* Split the classes `rep` describes by the entries of `row`: a column joins the first earlier
 * column of its old class with the same entry (a representative itself), or leads a group. */
static void refine(const int32_t *row, int *rep, int width) {
    int next[256];
    for (int c = 0; c < width; ++c) {
        next[c] = c;
        for (int d = rep[c]; d < c; ++d) {
            if (next[d] == d && rep[d] == rep[c] && row[d] == row[c]) {
                next[c] = d;
                break;
            }
        }
    }
    for (int c = 0; c < width; ++c) {
        rep[c] = next[c];
    }
}

int corral_column_classes(const int32_t *table, size_t n, size_t width, uint8_t *out) {
    const int w = (int)width;
    int rep[256]; /* the first column of each column's class */
    for (int c = 0; c < w; ++c) {
        rep[c] = 0;
    }
    for (size_t r = 0; r < n; ++r) {
        const int32_t *row = table + r * width;
        int split = 0;
        for (int c = 0; c < w; ++c) {
            split |= row[c] != row[rep[c]];
        }
        if (split) {
            refine(row, rep, w);
        }
    }
    int n_classes = 0;
    for (int c = 0; c < w; ++c) {
        out[c] = rep[c] == c ? (uint8_t)n_classes++ : out[rep[c]];
    }
    return n_classes;
}

int corral_byte_classes(const int32_t *table, size_t n, uint8_t out[256]) {
    return corral_column_classes(table, n, 256, out);
}
