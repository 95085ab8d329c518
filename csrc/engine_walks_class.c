/*
 * engine_walks_class.c - class slices (corral/engine_walks.h): the root walk of a state that
 * steps one set C of ASCII bytes alike and kills or leaves by the others (a pattern such as
 * [\w.\- ]{1,32}, whose automaton kills most characters, so no plain-text slice applies).
 *
 * The walk is then the tokens made of C bytes only, of at most the chain's live length, plus
 * the subtrees that leave C, each from the chain's state above it.  The class slice of C —
 * those tokens by length and the nodes that leave C under a C path — is one preorder scan of
 * the C paths, built once per trie and set (engine_walks.c keeps them); the walk's result is
 * the whole scan's, node for node (tests/property/test_native_differential.py).
 */
#include "corral/engine_walks.h"

#include <stdlib.h>
#include <string.h>

static int in_set(const uint64_t set[2], int b) {
    return b < 128 && ((set[b >> 6] >> (b & 63)) & 1);
}

int corral_class_slice_build(const corral_etrie *trie, const uint64_t set[2], class_slice *out) {
    const int32_t n = (int32_t)trie->n_nodes;
    const size_t levels = (size_t)trie->max_depth + 1;
    memset(out, 0, sizeof(*out));
    if (trie->n_nodes > (size_t)1 << 23) {
        return -1; /* node << 8 | byte would not fit: walk such tries whole */
    }
    out->set[0] = set[0];
    out->set[1] = set[1];
    uint8_t in_c[256];
    for (int b = 0; b < 256; ++b) {
        in_c[b] = (uint8_t)in_set(set, b);
    }
    /* sized for the whole trie up front (no growth test per node), cut to size below */
    const size_t all_toks = (size_t)trie->node_tok_ptr[n];
    const size_t nn = (size_t)n;
    out->len_ptr = calloc(levels + 1, sizeof(int32_t));
    out->front = malloc((nn > 0 ? nn : 1) * sizeof(int32_t));
    out->ends = malloc((nn > 0 ? nn : 1) * sizeof(int32_t));
    int32_t *tok_len = malloc(2 * (all_toks + 1) * sizeof(int32_t)); /* + 1: see below */
    size_t n_toks = 0;
    if (out->len_ptr == NULL || out->front == NULL || out->ends == NULL || tok_len == NULL) {
        goto fail;
    }
    /* one preorder scan of the C paths (a node is on one when its byte is in C and its parent
     * is; the node ids are in preorder, so a node off the paths is skipped with its subtree) */
    const corral_node *restrict nodes = trie->nodes;
    int32_t *restrict front = out->front, *restrict ends = out->ends;
    int32_t *restrict len_ptr = out->len_ptr;
    int32_t n_front = 0, n_ends = 0;
    for (int32_t i = 1; i < n;) {
        const corral_node nd = nodes[i];
        const int byte = nd.depth_byte & 0xFF;
        if (!in_c[byte]) {
            front[n_front++] = i << 8 | byte;
            i = nd.subtree_end;
            continue;
        }
        ends[n_ends] = i; /* kept only when the node has children */
        n_ends += nd.subtree_end > i + 1;
        const int32_t len = nd.depth_byte >> 8;
        /* the first token written whether or not there is one (counted only if there is; the
         * trie's padding entry makes the read safe), the rare others in a loop */
        const int32_t n_t = nd.tok_hi - nd.tok_lo;
        for (int32_t k = nd.tok_lo; k < nd.tok_lo + (n_t > 0 ? n_t : 1); ++k) {
            tok_len[2 * n_toks] = trie->node_tok_ids[k];
            tok_len[2 * n_toks + 1] = len;
            n_toks += k < nd.tok_hi;
        }
        len_ptr[len + 1] += n_t;
        ++i;
    }
    out->n_front = n_front;
    out->n_ends = n_ends;
    const size_t keep_front = n_front > 0 ? (size_t)n_front : 1;
    const size_t keep_ends = n_ends > 0 ? (size_t)n_ends : 1;
    int32_t *cut = realloc(out->front, keep_front * sizeof(int32_t));
    out->front = cut != NULL ? cut : out->front;
    cut = realloc(out->ends, keep_ends * sizeof(int32_t));
    out->ends = cut != NULL ? cut : out->ends;
    out->toks = malloc((n_toks > 0 ? n_toks : 1) * sizeof(int32_t));
    if (out->toks == NULL) {
        goto fail;
    }
    for (size_t l = 0; l < levels; ++l) {
        out->len_ptr[l + 1] += out->len_ptr[l];
    }
    for (size_t k = 0; k < n_toks; ++k) {
        out->toks[out->len_ptr[tok_len[2 * k + 1]]++] = tok_len[2 * k];
    }
    for (size_t l = levels; l > 0; --l) { /* back to the starts */
        out->len_ptr[l] = out->len_ptr[l - 1];
    }
    out->len_ptr[0] = 0;
    free(tok_len);
    out->bytes =
        (levels + 1 + n_toks + (size_t)out->n_front + (size_t)out->n_ends) * sizeof(int32_t) + 64;
    return 0;
fail:
    free(tok_len);
    free(out->len_ptr);
    free(out->toks);
    free(out->front);
    free(out->ends);
    memset(out, 0, sizeof(*out));
    return -1;
}

int corral_class_loop(const corral_grammar *g, int32_t t, int32_t d, uint64_t set[2]) {
    const int32_t *row = g->table + g->tbase[t] + (int64_t)d * g->n_classes[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const uint8_t *present = g->trie->present;
    if (d == 0 || !g->accept[g->dfa_base[t] + d]) {
        return 0;
    }
    set[0] = set[1] = 0;
    int n = 0;
    for (int b = 0; b < 128; ++b) {
        if (present[b] && row[cls[b]] == d) {
            set[b >> 6] |= UINT64_C(1) << (b & 63);
            ++n;
        }
    }
    return n >= 2;
}

int32_t corral_class_chain(const corral_grammar *g, int32_t t, int32_t d, int32_t *chain,
                           uint64_t set[2]) {
    const int32_t *table = g->table + g->tbase[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const int32_t width = g->n_classes[t];
    const uint8_t *acc = g->accept + g->dfa_base[t];
    const uint8_t *present = g->trie->present;
    const int32_t depth = g->trie->max_depth;
    const int32_t *row = table + (int64_t)d * width;
    const int32_t major = corral_commonest_successor(g, t, d, 128); /* over ASCII bytes */
    if (major == 0 || depth < 1) {
        return -1;
    }
    set[0] = set[1] = 0;
    int first = -1;
    for (int b = 0; b < 128; ++b) {
        if (present[b] && row[cls[b]] == major) {
            set[b >> 6] |= UINT64_C(1) << (b & 63);
            first = first < 0 ? b : first;
        }
    }
    chain[0] = d;
    chain[1] = major;
    int32_t alive = 0;
    for (int32_t k = 1; k <= depth; ++k) {
        const int32_t s = chain[k];
        if (s == 0) {
            for (int32_t r = k + 1; r <= depth; ++r) {
                chain[r] = 0;
            }
            break;
        }
        alive = k;
        if (k < depth && acc[s]) {
            return -1; /* lexemes would end on C paths: walk otherwise */
        }
        if (k == depth) {
            break;
        }
        const int32_t *row_s = table + (int64_t)s * width;
        const int32_t next = row_s[cls[first]];
        for (int b = first + 1; b < 128; ++b) {
            if (in_set(set, b) && row_s[cls[b]] != next) {
                return -1; /* C's bytes tell paths apart */
            }
        }
        chain[k + 1] = next;
    }
    return alive;
}

int corral_class_walk(const corral_grammar *g, int32_t t, const class_slice *cs,
                      const int32_t *chain, int32_t alive, int32_t *state, uint32_t *bits,
                      walk_entry *e, size_t *cap_done) {
    const corral_etrie *trie = g->trie;
    const int32_t *table = g->table + g->tbase[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const int32_t width = g->n_classes[t];
    for (int32_t k = cs->len_ptr[1]; k < cs->len_ptr[alive + 1]; ++k) {
        bits[cs->toks[k] >> 5] |= UINT32_C(1) << (cs->toks[k] & 31);
    }
    for (int32_t f = 0; f < cs->n_front; ++f) {
        const int32_t node = cs->front[f] >> 8;
        const int32_t above = trie->depth[node] - 1; /* bytes of C above it */
        if (above > alive) {
            continue;
        }
        const int32_t s = chain[above];
        if (s == 0 || table[(int64_t)s * width + cls[cs->front[f] & 0xFF]] == 0) {
            continue;
        }
        state[above] = s;
        if (corral_walk_scan(g, t, node, trie->subtree_end[node], state, bits, e,
                             cap_done) < 0) {
            return -1;
        }
    }
    if (e->n_done > 1) {
        qsort(e->done, (size_t)e->n_done, sizeof(int32_t), corral_cmp_node);
    }
    return 0;
}
