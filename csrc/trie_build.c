/*
 * trie_build.c - the token trie built from a vocabulary (corral/corral.h).
 *
 * The tokens are split by their first byte, each part by its second byte, and so on (a
 * most-significant-digit radix sort), depth first: each part is a node, numbered when it is
 * taken, so nodes come in preorder with children in byte order, the order in which the
 * specification makes them from the sorted vocabulary.  Children lists and token lists
 * follow by counting sorts.  This is
 * corral.tokenizers.token_trie.TokenTrie.build_py, which is the specification.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/corral.h"

typedef struct tok_ref {
    const uint8_t *p;
    int64_t len;
    int64_t id;
} tok_ref;

/* A group of tokens sharing their first `depth` bytes, waiting for its node. */
typedef struct group {
    size_t lo, hi;
    int64_t depth, parent;
} group;

/* Sort refs[lo, hi) by their byte at `d` (all longer than d): insertion sort for a few, else
 * a counting sort through `tmp`. */
static void sort_by_byte(tok_ref *refs, tok_ref *tmp, size_t lo, size_t hi, int64_t d) {
    if (hi - lo <= 16) {
        for (size_t i = lo + 1; i < hi; ++i) {
            const tok_ref x = refs[i];
            size_t j = i;
            while (j > lo && refs[j - 1].p[d] > x.p[d]) {
                refs[j] = refs[j - 1];
                --j;
            }
            refs[j] = x;
        }
        return;
    }
    size_t count[257] = {0};
    for (size_t i = lo; i < hi; ++i) {
        count[refs[i].p[d] + 1]++;
    }
    for (int b = 0; b < 256; ++b) {
        count[b + 1] += count[b];
    }
    for (size_t i = lo; i < hi; ++i) {
        tmp[count[refs[i].p[d]]++] = refs[i];
    }
    memcpy(refs + lo, tmp, (hi - lo) * sizeof(tok_ref));
}

void corral_built_trie_free(corral_built_trie *t) {
    free(t->node_byte);
    free(t->child_ptr);
    free(t->child_ids);
    free(t->n_children);
    free(t->node_tok_ptr);
    free(t->node_tok_ids);
    free(t->token_node);
    memset(t, 0, sizeof(*t));
}

int corral_trie_build(const uint8_t *data, const int64_t *offsets, const uint8_t *excluded,
                      size_t vocab, corral_built_trie *out) {
    memset(out, 0, sizeof(*out));
    size_t n_refs = 0;
    size_t max_nodes = 1;
    for (size_t i = 0; i < vocab; ++i) {
        if (offsets[i + 1] < offsets[i]) {
            return CORRAL_TRIE_BUILD_BAD_INPUT;
        }
        if (!excluded[i] && offsets[i + 1] > offsets[i]) {
            ++n_refs;
            max_nodes += (size_t)(offsets[i + 1] - offsets[i]);
        }
    }
    tok_ref *refs = malloc((n_refs > 0 ? n_refs : 1) * sizeof(tok_ref));
    int64_t *parent = malloc(max_nodes * sizeof(int64_t));
    uint8_t *node_byte = malloc(max_nodes);
    group *stack = NULL;
    tok_ref *tmp = NULL;
    int64_t *token_node = malloc((vocab > 0 ? vocab : 1) * sizeof(int64_t));
    if (refs == NULL || parent == NULL || node_byte == NULL || token_node == NULL) {
        goto no_memory;
    }
    int64_t max_depth = 0;
    size_t k = 0;
    for (size_t i = 0; i < vocab; ++i) {
        token_node[i] = -1;
        const int64_t len = offsets[i + 1] - offsets[i];
        if (!excluded[i] && len > 0) {
            refs[k++] = (tok_ref){data + offsets[i], len, (int64_t)i};
            max_depth = len > max_depth ? len : max_depth;
        }
    }
    /* Depth-first over groups of tokens with a common prefix (an MSD radix sort that makes
     * the nodes as it goes): a group's node is numbered when it is taken, its tokens that end
     * there are recorded, the rest are split by their next byte into child groups, pushed in
     * reverse byte order so that they are taken in byte order: preorder. */
    tmp = malloc((n_refs > 0 ? n_refs : 1) * sizeof(tok_ref));
    stack = malloc(max_nodes * sizeof(group));
    if (tmp == NULL || stack == NULL) {
        goto no_memory;
    }
    size_t n = 0;
    size_t top = 0;
    stack[top++] = (group){0, n_refs, 0, 0};
    while (top > 0) {
        const group gr = stack[--top];
        const int64_t node = (int64_t)n++;
        parent[node] = gr.parent;
        node_byte[node] = gr.depth > 0 ? refs[gr.lo].p[gr.depth - 1] : 0;
        if (gr.hi - gr.lo == 1) {
            /* one token: the rest of its bytes are a chain of nodes */
            const tok_ref t = refs[gr.lo];
            int64_t at = node;
            for (int64_t d = gr.depth; d < t.len; ++d) {
                parent[n] = at;
                node_byte[n] = t.p[d];
                at = (int64_t)n++;
            }
            token_node[t.id] = at;
            continue;
        }
        size_t lo = gr.lo;
        /* tokens ending here swapped to the front (the order within a group is immaterial:
         * only each token's node is kept) */
        size_t w = lo;
        for (size_t i = lo; i < gr.hi; ++i) {
            if (refs[i].len == gr.depth) {
                token_node[refs[i].id] = node;
                const tok_ref x = refs[i];
                refs[i] = refs[w];
                refs[w++] = x;
            }
        }
        lo = w;
        if (lo == gr.hi) {
            continue;
        }
        sort_by_byte(refs, tmp, lo, gr.hi, gr.depth);
        /* runs of equal bytes, pushed last to first */
        size_t end = gr.hi;
        while (end > lo) {
            size_t begin = end - 1;
            const uint8_t b = refs[begin].p[gr.depth];
            while (begin > lo && refs[begin - 1].p[gr.depth] == b) {
                --begin;
            }
            stack[top++] = (group){begin, end, gr.depth + 1, node};
            end = begin;
        }
    }
    free(stack);
    stack = NULL;
    free(tmp);
    tmp = NULL;
    free(refs);
    refs = NULL;
    out->n_nodes = n;
    out->vocab_size = vocab;
    out->max_depth = max_depth;
    out->node_byte = node_byte;
    node_byte = NULL;
    out->token_node = token_node;
    token_node = NULL;
    out->n_children = calloc(n, sizeof(int64_t));
    out->child_ptr = malloc((n + 1) * sizeof(int64_t));
    out->child_ids = malloc((n > 1 ? n - 1 : 1) * sizeof(int64_t));
    out->node_tok_ptr = calloc(n + 1, sizeof(int64_t));
    out->node_tok_ids = malloc((n_refs > 0 ? n_refs : 1) * sizeof(int64_t));
    int64_t *fill = malloc((n + 1) * sizeof(int64_t));
    if (out->n_children == NULL || out->child_ptr == NULL || out->child_ids == NULL ||
        out->node_tok_ptr == NULL || out->node_tok_ids == NULL || fill == NULL) {
        free(fill);
        free(parent);
        corral_built_trie_free(out);
        return CORRAL_TRIE_BUILD_NO_MEMORY;
    }
    /* children: a counting sort of nodes 1.. by parent, stable (ids ascending per parent) */
    for (size_t j = 1; j < n; ++j) {
        out->n_children[parent[j]]++;
    }
    out->child_ptr[0] = 0;
    for (size_t j = 0; j < n; ++j) {
        out->child_ptr[j + 1] = out->child_ptr[j] + out->n_children[j];
        fill[j] = out->child_ptr[j];
    }
    for (size_t j = 1; j < n; ++j) {
        out->child_ids[fill[parent[j]]++] = (int64_t)j;
    }
    free(parent);
    /* tokens per node, ids ascending */
    for (size_t i = 0; i < vocab; ++i) {
        if (out->token_node[i] >= 0) {
            out->node_tok_ptr[out->token_node[i] + 1]++;
        }
    }
    for (size_t j = 0; j < n; ++j) {
        out->node_tok_ptr[j + 1] += out->node_tok_ptr[j];
        fill[j] = out->node_tok_ptr[j];
    }
    for (size_t i = 0; i < vocab; ++i) {
        if (out->token_node[i] >= 0) {
            out->node_tok_ids[fill[out->token_node[i]]++] = (int64_t)i;
        }
    }
    out->n_tok_ids = n_refs;
    free(fill);
    return CORRAL_TRIE_BUILD_OK;
no_memory:
    free(tmp);
    free(refs);
    free(parent);
    free(node_byte);
    free(stack);
    free(token_node);
    return CORRAL_TRIE_BUILD_NO_MEMORY;
}
