/*
 * byte_classes.c - classes of equal columns of a byte DFA's next-state table.
 *
 * Two bytes are alike when every state sends them to the same next state: their columns of
 * the (n, 256) table are equal.  One pass over the rows (row-major, so the table is read in
 * order) hashes all 256 columns at once; a byte then joins the class of the first earlier
 * byte whose hash and column are equal, or opens a new class.  Classes are numbered by their
 * first byte, as corral.automata.dfa.column_classes_py numbers them (the specification).
 * O(n * 256) reads for the hashes, plus one column comparison per byte whose hash matches.
 */
#include <stdint.h>

#include "corral/corral.h"

static int columns_equal(const int32_t *table, size_t n, int a, int b) {
    for (size_t r = 0; r < n; ++r) {
        if (table[r * 256 + (size_t)a] != table[r * 256 + (size_t)b]) {
            return 0;
        }
    }
    return 1;
}

/* Number the classes given each byte's representative (an earlier or equal byte). */
static int number_classes(const int rep[256], uint8_t out[256]) {
    int n_classes = 0;
    for (int c = 0; c < 256; ++c) {
        out[c] = rep[c] == c ? (uint8_t)n_classes++ : out[rep[c]];
    }
    return n_classes;
}

int corral_byte_classes(const int32_t *table, size_t n, uint8_t out[256]) {
    uint64_t hash[256];
    for (int c = 0; c < 256; ++c) {
        hash[c] = 0x9E3779B97F4A7C15ULL;
    }
    for (size_t r = 0; r < n; ++r) {
        const int32_t *row = table + r * 256;
        for (int c = 0; c < 256; ++c) {
            /* FNV-1a over the column's 32-bit entries; equality is checked exactly below */
            hash[c] = (hash[c] ^ (uint64_t)(uint32_t)row[c]) * 0x100000001B3ULL;
        }
    }
    int rep[256]; /* the first byte with the same hash */
    for (int c = 0; c < 256; ++c) {
        rep[c] = c;
        for (int d = 0; d < c; ++d) {
            if (rep[d] == d && hash[d] == hash[c]) {
                rep[c] = d;
                break;
            }
        }
    }
    /* one more row-major pass checks every byte against its representative at once */
    int collision = 0;
    for (size_t r = 0; r < n && !collision; ++r) {
        const int32_t *row = table + r * 256;
        for (int c = 0; c < 256; ++c) {
            collision |= row[c] != row[rep[c]];
        }
    }
    if (collision) {
        /* a 64-bit hash collision (never seen): compare columns one by one */
        for (int c = 0; c < 256; ++c) {
            rep[c] = c;
            for (int d = 0; d < c; ++d) {
                if (rep[d] == d && columns_equal(table, n, d, c)) {
                    rep[c] = d;
                    break;
                }
            }
        }
    }
    return number_classes(rep, out);
}
