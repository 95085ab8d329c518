/*
 * engine_trie.c - what the native engine derives from a token trie handed over in CSR
 * (corral/engine.h): subtree ends, depths, the packed nodes of the walks, and the nodes that leave
 * word bytes (engine_mask.c walks word regions with them).
 */
#include "corral/engine.h"

#include <stdio.h>
#include <stdlib.h>

/* corral/engine.h: derivations and the preorder check, one pass each. */
int corral_trie_derive(corral_etrie *t, size_t n, char *why, size_t why_len) {
    t->subtree_end = malloc(n * sizeof(int32_t));
    t->depth = malloc(n * sizeof(int32_t));
    if (t->subtree_end == NULL || t->depth == NULL) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    for (size_t p = n; p-- > 0;) {
        const int32_t lo = t->child_ptr[p], hi = t->child_ptr[p + 1];
        t->subtree_end[p] = hi > lo ? t->subtree_end[t->child_ids[hi - 1]] : (int32_t)p + 1;
    }
    t->depth[0] = 0;
    t->max_depth = 0;
    for (size_t p = 0; p < n; ++p) {
        int32_t expect = (int32_t)p + 1;
        for (int32_t k = t->child_ptr[p]; k < t->child_ptr[p + 1]; ++k) {
            const int32_t c = t->child_ids[k];
            if (c != expect) {
                snprintf(why, why_len,
                         "trie nodes must be numbered in preorder: child %d of node %zu should "
                         "be %d",
                         c, p, expect);
                return CORRAL_TRIE_INVALID;
            }
            t->depth[c] = t->depth[p] + 1;
            if (t->depth[c] > t->max_depth) {
                t->max_depth = t->depth[c];
            }
            expect = t->subtree_end[c];
        }
        if (expect != t->subtree_end[p]) {
            snprintf(why, why_len, "trie nodes must be numbered in preorder (node %zu)", p);
            return CORRAL_TRIE_INVALID;
        }
    }
    if (t->max_depth > (INT32_MAX >> 8)) {
        snprintf(why, why_len, "trie too deep (%d bytes)", t->max_depth);
        return CORRAL_TRIE_INVALID;
    }
    if ((t->nodes = malloc(n * sizeof(corral_node))) == NULL) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    size_t n_exits = 0;
    for (size_t p = 1; p < n; ++p) {
        n_exits += !corral_word_byte(t->node_byte[p]);
    }
    if ((t->word_exits = malloc((n_exits > 0 ? n_exits : 1) * sizeof(int32_t))) == NULL) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    t->n_word_exits = 0;
    for (size_t p = 1; p < n; ++p) {
        if (!corral_word_byte(t->node_byte[p])) {
            t->word_exits[t->n_word_exits++] = (int32_t)p;
        }
    }
    for (size_t p = 0; p < n; ++p) {
        t->nodes[p] = (corral_node){t->subtree_end[p], t->node_tok_ptr[p], t->node_tok_ptr[p + 1],
                                    t->depth[p] << 8 | t->node_byte[p]};
    }
    return CORRAL_ENGINE_OK;
}
