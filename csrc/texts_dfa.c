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

/* The texts' trie: node 0 its root, children by first child / next sibling, a child's id
 * above its parent's; `end` marks the nodes where a text ends. */
typedef struct text_trie {
    int32_t *first, *next;
    uint8_t *byte, *end;
    size_t nodes;
} text_trie;

static void trie_free(text_trie *t) {
    free(t->first);
    free(t->next);
    free(t->byte);
    free(t->end);
}

/* The trie of data[ends[i - 1] .. ends[i]) for i < n_texts: CORRAL_MINIMIZE_OK, _BAD_TABLE
 * for no text or offsets out of order or range (or over 2**30 bytes), _NO_MEMORY. */
static int trie_build(const uint8_t *data, size_t n_data, const int64_t *ends, size_t n_texts,
                      text_trie *t) {
    memset(t, 0, sizeof *t);
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
    const size_t cap = n_data + 1; /* a node per byte at most, and the root */
    t->first = malloc(cap * sizeof(int32_t));
    t->next = malloc(cap * sizeof(int32_t));
    t->byte = malloc(cap);
    t->end = calloc(cap, 1);
    if (t->first == NULL || t->next == NULL || t->byte == NULL || t->end == NULL) {
        return CORRAL_MINIMIZE_NO_MEMORY;
    }
    t->first[0] = -1;
    t->nodes = 1;
    size_t at = 0;
    for (size_t i = 0; i < n_texts; ++i) {
        int32_t node = 0;
        for (; at < (size_t)ends[i]; ++at) {
            int32_t c = t->first[node];
            while (c >= 0 && t->byte[c] != data[at]) {
                c = t->next[c];
            }
            if (c < 0) {
                c = (int32_t)t->nodes++;
                t->first[c] = -1;
                t->byte[c] = data[at];
                t->next[c] = t->first[node];
                t->first[node] = c;
            }
            node = c;
        }
        t->end[node] = 1;
    }
    return CORRAL_MINIMIZE_OK;
}

int corral_texts_dfa(const uint8_t *data, size_t n_data, const int64_t *ends, size_t n_texts,
                     corral_minimized *out) {
    text_trie trie;
    int32_t *table = NULL;
    int code = trie_build(data, n_data, ends, n_texts, &trie);
    if (code != CORRAL_MINIMIZE_OK) {
        trie_free(&trie);
        return code;
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
    /* states: 0 dead, 1 + node (1: the root, the initial state) */
    const size_t n = 1 + trie.nodes;
    uint8_t *accepting = calloc(n, 1);
    table = calloc(n * width, sizeof(int32_t));
    code = CORRAL_MINIMIZE_NO_MEMORY;
    if (table != NULL && accepting != NULL) {
        for (size_t node = 0; node < trie.nodes; ++node) {
            accepting[1 + node] = trie.end[node];
            for (int32_t c = trie.first[node]; c >= 0; c = trie.next[c]) {
                table[(1 + node) * width + colmap[trie.byte[c]]] = 1 + c;
            }
        }
        code = corral_minimize_classes(table, width, colmap, accepting, n, out);
    }
    trie_free(&trie);
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
    text_trie trie;
    int32_t *kst = NULL; /* the state of K each trie node meets */
    int32_t *table = NULL;
    uint8_t *accepting = NULL;
    int code = trie_build(data, n_data, ends, n_texts, &trie);
    if (code != CORRAL_MINIMIZE_OK) {
        goto done;
    }
    code = CORRAL_MINIMIZE_NO_MEMORY;
    const size_t nodes = trie.nodes;
    const int32_t *first = trie.first, *next = trie.next;
    const uint8_t *byte = trie.byte, *end = trie.end;
    if ((kst = malloc(nodes * sizeof(int32_t))) == NULL) {
        goto done;
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
    trie_free(&trie);
    free(kst);
    free(table);
    free(accepting);
    return code;
}
