/*
 * engine_slices.c - the token trie's slice of plain text, for root walks (corral/engine.h).
 *
 * Most of a vocabulary is printable ASCII without '"' and '\' (the slice bytes: 98 % of the
 * SmolLM2 trie's nodes lie on paths of slice bytes only), and most automata that such tokens
 * keep alive for long — a JSON string body, its length counted, an unconstrained tail — treat
 * every slice byte alike.  When terminal t in state d does, for as many steps as the longest
 * token, the state after any string of slice bytes depends on its length only: a chain
 * d = s0, s1, s2, ...  Then the tokens of slice bytes that it survives are those no longer than
 * the chain stays alive (a precomputed bitset per length), and only the subtrees that leave the
 * slice (the frontier: a node whose byte is not a slice byte under a path of slice bytes) are
 * walked, each from the chain's state at its parent's depth.  A few first bytes may lead
 * elsewhere (the next letter of a declared name in an automaton of "any other name", the first
 * letter of a sought word in "contains ..."): the chain starts at the commonest next state, and
 * the subtrees of those exception bytes are walked in full.  This is llguidance's idea of
 * slices (masks precomputed for lexemes such as string bodies), applied per automaton state.
 * The walk's result is the same as the full walk's, node for node.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

static int is_slice_byte(int b) { return b >= 0x20 && b < 0x7F && b != '"' && b != '\\'; }

int corral_trie_slices(corral_etrie *t) {
    const size_t n = t->n_nodes;
    const size_t n_words = (t->vocab_size + 31) / 32;
    const size_t levels = (size_t)t->max_depth + 1;
    uint8_t *plain = malloc(n > 0 ? n : 1); /* the path to the node is of slice bytes only */
    t->slice_bits = calloc(levels * (n_words > 0 ? n_words : 1), sizeof(uint32_t));
    t->slice_count = calloc(levels, sizeof(int64_t));
    size_t cap = 0;
    if (plain == NULL || t->slice_bits == NULL || t->slice_count == NULL) {
        free(plain);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    plain[0] = 1;
    for (size_t p = 0; p < n; ++p) {
        for (int32_t k = t->child_ptr[p]; k < t->child_ptr[p + 1]; ++k) {
            const int32_t c = t->child_ids[k];
            plain[c] = plain[p] && is_slice_byte(t->node_byte[c]);
            if (plain[p] && !plain[c]) {
                if (corral_grow((void **)&t->frontier, &cap, (size_t)t->n_frontier + 1,
                                sizeof(int32_t)) < 0) {
                    free(plain);
                    return CORRAL_ENGINE_NO_MEMORY;
                }
                t->frontier[t->n_frontier++] = c;
            }
        }
    }
    /* frontier nodes in preorder (children were appended parent by parent) */
    for (int32_t a = 1; a < t->n_frontier; ++a) {
        const int32_t x = t->frontier[a];
        int32_t b = a;
        for (; b > 0 && t->frontier[b - 1] > x; --b) {
            t->frontier[b] = t->frontier[b - 1];
        }
        t->frontier[b] = x;
    }
    for (size_t i = 1; i < n; ++i) {
        if (!plain[i]) {
            continue;
        }
        uint32_t *row = t->slice_bits + (size_t)t->depth[i] * n_words;
        for (int32_t k = t->node_tok_ptr[i]; k < t->node_tok_ptr[i + 1]; ++k) {
            const int32_t tok = t->node_tok_ids[k];
            row[tok >> 5] |= UINT32_C(1) << (tok & 31);
            t->slice_count[t->depth[i]]++;
        }
    }
    for (size_t l = 1; l < levels; ++l) { /* cumulative: tokens no longer than l */
        uint32_t *row = t->slice_bits + l * n_words;
        const uint32_t *prev = row - n_words;
        for (size_t w = 0; w < n_words; ++w) {
            row[w] |= prev[w];
        }
        t->slice_count[l] += t->slice_count[l - 1];
    }
    free(plain);
    return CORRAL_ENGINE_OK;
}

int32_t corral_slice_chain(const corral_grammar *g, int32_t t, int32_t d, int32_t *chain,
                           uint8_t *except, int32_t *n_except) {
    const int32_t depth = g->trie->max_depth;
    const int32_t *table = g->table + g->tbase[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const int32_t width = g->n_classes[t];
    const uint8_t *accept = g->accept + g->dfa_base[t];
    chain[0] = d;
    *n_except = 0;
    if (depth < 1) {
        return -1;
    }
    /* the first byte: the commonest next state among slice bytes (Boyer-Moore majority vote,
     * then checked), the others exceptions */
    const int32_t *row0 = table + (int64_t)d * width;
    int32_t major = -1, votes = 0;
    for (int b = 0x20; b < 0x7F; ++b) {
        if (is_slice_byte(b)) {
            const int32_t to = row0[cls[b]];
            if (votes == 0) {
                major = to;
                votes = 1;
            } else {
                votes += to == major ? 1 : -1;
            }
        }
    }
    for (int b = 0x20; b < 0x7F; ++b) {
        if (is_slice_byte(b) && row0[cls[b]] != major) {
            if (*n_except == CORRAL_SLICE_EXCEPTIONS) {
                return -1; /* too many first bytes walked apart: walk the whole trie */
            }
            except[(*n_except)++] = (uint8_t)b;
        }
    }
    chain[1] = major;
    int32_t alive = major != 0 ? 1 : 0;
    if (major != 0 && depth > 1 && accept[major]) {
        return -1; /* lexemes would end inside plain tokens: walk the whole trie */
    }
    for (int32_t k = 2; k <= depth; ++k) {
        const int32_t s = chain[k - 1];
        int32_t next = 0;
        if (s != 0) {
            const int32_t *row = table + (int64_t)s * width;
            next = -1;
            for (int b = 0x20; b < 0x7F; ++b) {
                if (!is_slice_byte(b)) {
                    continue;
                }
                const int32_t to = row[cls[b]];
                if (next >= 0 && to != next) {
                    return -1; /* slice bytes tell paths apart: walk the whole trie */
                }
                next = to;
            }
        }
        chain[k] = next;
        if (next != 0) {
            if (k < depth && accept[next]) {
                return -1;
            }
            alive = k;
        }
    }
    return alive;
}
