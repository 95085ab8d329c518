/*
 * engine_walks_derived.c - root walks made from precomputed ones (corral/engine_walks.h).
 *
 * Two ways to avoid scanning the whole trie for a lone lexer thread (t, d): the slice of plain
 * text (engine_slices.c) where d treats plain characters alike, and another state's cached walk
 * where d acts as that state on all but a few first bytes (a third, the class slice, is in
 * engine_walks_class.c).  Both give the whole scan's result,
 * node for node (tests/property/test_native_differential.py).
 */
#include "corral/engine_walks.h"

#include <stdlib.h>
#include <string.h>

/* Append to e->done the nodes[0 .. n) outside every range [lo_ex[x], hi_ex[x]); -1: no
 * memory. */
static int add_done_outside(walk_entry *e, size_t *cap_done, const int32_t *nodes, int32_t n,
                            const int32_t *lo_ex, const int32_t *hi_ex, int32_t n_ex) {
    for (int32_t k = 0; k < n; ++k) {
        int inside = 0;
        for (int32_t x = 0; x < n_ex; ++x) {
            inside |= nodes[k] >= lo_ex[x] && nodes[k] < hi_ex[x];
        }
        if (inside) {
            continue;
        }
        if (corral_grow((void **)&e->done, cap_done, (size_t)e->n_done + 1, sizeof(int32_t)) <
            0) {
            return -1;
        }
        e->done[e->n_done++] = nodes[k];
    }
    return 0;
}

int32_t corral_commonest_successor(const corral_grammar *g, int32_t t, int32_t d, int n_bytes) {
    const int32_t *row = g->table + g->tbase[t] + (int64_t)d * g->n_classes[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const uint8_t *present = g->trie->present;
    int32_t target[256], count[256];
    int n_targets = 0;
    int32_t major = 0, best = 0;
    for (int b = 0; b < n_bytes; ++b) {
        const int32_t to = present[b] ? row[cls[b]] : 0;
        if (to == 0) {
            continue;
        }
        int k = 0;
        while (k < n_targets && target[k] != to) {
            ++k;
        }
        if (k == n_targets) {
            target[n_targets] = to;
            count[n_targets++] = 0;
        }
        if (++count[k] > best) {
            best = count[k];
            major = to;
        }
    }
    return major;
}

/*
 * The walk of corral_slice_chain's case (engine_slices.c): the slice of plain tokens as long as
 * the chain stays alive, less the subtrees of exception bytes, which are walked in full; then
 * the frontier's subtrees outside them, each from the chain's state above it.  Nodes where the
 * lexeme ends are sorted as the full walk lists them.
 */
int corral_slice_walk(const corral_grammar *g, int32_t t, int32_t d, const int32_t *chain,
                      int32_t alive, const uint8_t *except, int32_t n_except, int32_t *state,
                      uint32_t *bits, walk_entry *e, size_t *cap_done) {
    const corral_etrie *trie = g->trie;
    const size_t n_words = (trie->vocab_size + 31) / 32;
    int32_t lo_ex[CORRAL_SLICE_EXCEPTIONS], hi_ex[CORRAL_SLICE_EXCEPTIONS];
    int32_t n_ex = 0;
    memcpy(bits, trie->slice_bits + (size_t)alive * n_words, n_words * sizeof(uint32_t));
    for (int32_t x = 0; x < n_except; ++x) {
        for (int32_t k = trie->child_ptr[0]; k < trie->child_ptr[1]; ++k) {
            const int32_t c = trie->child_ids[k];
            if (trie->node_byte[c] != except[x]) {
                continue;
            }
            const int32_t end = trie->subtree_end[c];
            /* the slice's tokens below c are left to the scan (none to clear when the row is
             * empty: a chain dead after its first byte, as a literal's) */
            const int clear = trie->slice_count[alive] > 0;
            for (int32_t k2 = trie->node_tok_ptr[c]; clear && k2 < trie->node_tok_ptr[end];
                 ++k2) {
                const int32_t tok = trie->node_tok_ids[k2];
                bits[tok >> 5] &= ~(UINT32_C(1) << (tok & 31));
            }
            state[0] = d;
            if (corral_walk_scan(g, t, c, end, state, bits, e, cap_done) < 0) {
                return -1;
            }
            lo_ex[n_ex] = c;
            hi_ex[n_ex++] = end;
        }
    }
    const int32_t *table = g->table + g->tbase[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const int32_t width = g->n_classes[t];
    /* the frontier below at most `alive` characters (past them the chain is dead): in preorder
     * when that is all of it, else the groups by characters */
    const int32_t last_chars = alive < trie->max_depth ? alive : trie->max_depth;
    const int32_t n_fr = trie->frontier_ptr[last_chars + 1];
    const corral_frontier *front =
        n_fr == trie->n_frontier ? trie->frontier : trie->frontier_by_chars;
    for (int32_t f = 0; f < n_fr; ++f) {
        const corral_frontier fr = front[f];
        int inside = 0;
        for (int32_t x = 0; x < n_ex; ++x) {
            inside |= fr.node >= lo_ex[x] && fr.node < hi_ex[x];
        }
        int32_t s = inside ? 0 : chain[fr.chars];
        for (int32_t j = fr.n_cut - 1; j >= 0 && s != 0; --j) {
            s = table[(int64_t)s * width + cls[(fr.cut >> (8 * j)) & 0xFF]];
        }
        if (s == 0) {
            continue;
        }
        const int32_t above = trie->depth[fr.node] - 1;
        state[above] = s;
        if (corral_walk_scan(g, t, fr.node, trie->subtree_end[fr.node], state, bits, e,
                             cap_done) < 0) {
            return -1;
        }
    }
    /* where the chain accepts after k characters, the lexeme ends at every plain node of k
     * whole characters that goes on (outside the exception subtrees, walked in full); without
     * exceptions and for a few k, those nodes are left to the mask as one group each */
    const uint8_t *acc = g->accept + g->dfa_base[t];
    int32_t n_acc = 0;
    for (int32_t k = 1; k <= alive; ++k) {
        n_acc += acc[chain[k]] != 0;
    }
    const int grouped = n_except == 0 && n_acc <= CORRAL_MAX_BLOCKS;
    for (int32_t k = 1; k <= alive; ++k) {
        if (!acc[chain[k]]) {
            continue;
        }
        if (grouped) {
            e->block_k[e->n_block++] = k;
            continue;
        }
        const int32_t lo = trie->plain_at_ptr[k];
        if (add_done_outside(e, cap_done, trie->plain_at + lo, trie->plain_at_ptr[k + 1] - lo,
                             lo_ex, hi_ex, n_ex) < 0) {
            return -1;
        }
    }
    if (e->n_done > 1) {
        qsort(e->done, (size_t)e->n_done, sizeof(int32_t), corral_cmp_node);
    }
    return 0;
}

/*
 * Walk the trie with terminal t's automaton from state d: the whole trie, or, where the
 * automaton treats plain text alike (corral_slice_chain), the precomputed slice of plain
 * tokens it survives and the subtrees that leave the slice (engine_slices.c).
 */
/*
 * A state d that acts as another state m on every first byte but a few (E) walks as m does
 * below every other first byte: the walk of a "contains ..." automaton part way into the
 * sought text is the walk of its restart state but for the subtrees of the letters that go on
 * matching.  So the walk of d is m's (cached) walk, less the subtrees of E, plus those
 * subtrees scanned from d.  m is the state most first bytes lead d to; d qualifies when its row
 * and m's differ on at most CORRAL_SLICE_EXCEPTIONS bytes some token begins with.  Returns the
 * number of bytes in E, or -1 when d does not qualify.
 */
int corral_derived_from(const corral_grammar *g, int32_t t, int32_t d, int32_t *m,
                        uint8_t except[CORRAL_SLICE_EXCEPTIONS]) {
    const int32_t *table = g->table + g->tbase[t];
    const uint8_t *cls = g->classes + (size_t)t * 256;
    const int32_t width = g->n_classes[t];
    const uint8_t *present = g->trie->present;
    const int32_t *row = table + (int64_t)d * width;
    const int32_t major = corral_commonest_successor(g, t, d, 256);
    const int32_t *wclass = g->wclass + g->dfa_base[t];
    if (major <= 0 || wclass[major] == wclass[d]) {
        return -1; /* dead, or walked as d is: nothing to derive from */
    }
    const int32_t *row_m = table + (int64_t)major * width;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
        if (present[b] && row[cls[b]] != row_m[cls[b]]) {
            if (n == CORRAL_SLICE_EXCEPTIONS) {
                return -1;
            }
            except[n++] = (uint8_t)b;
        }
    }
    *m = major;
    return n;
}

/* The walk of d from base, the walk of a state that acts as d but on the first bytes in
 * except[0 .. n_except) (derived_from); class_ends: the lexeme ends base leaves to its class
 * slice (none: 0), made d's own. */
int corral_derived_walk(const corral_grammar *g, int32_t t, int32_t d, const walk_entry *base,
                        const int32_t *class_ends, int32_t n_class_ends, const uint8_t *except,
                        int n_except, int32_t *state, uint32_t *bits, walk_entry *e,
                        size_t *cap_done) {
    const corral_etrie *trie = g->trie;
    const size_t n_words = (trie->vocab_size + 31) / 32;
    if (base->bits != NULL) {
        memcpy(bits, base->bits, n_words * sizeof(uint32_t));
    } else {
        for (int32_t k = 0; k < base->n_toks; ++k) {
            bits[base->toks[k] >> 5] |= UINT32_C(1) << (base->toks[k] & 31);
        }
    }
    int32_t lo_ex[CORRAL_SLICE_EXCEPTIONS], hi_ex[CORRAL_SLICE_EXCEPTIONS];
    int n_ex = 0;
    for (int32_t k = trie->child_ptr[0]; k < trie->child_ptr[1]; ++k) {
        const int32_t c = trie->child_ids[k];
        int hit = 0;
        for (int x = 0; x < n_except && !hit; ++x) {
            hit = trie->node_byte[c] == except[x];
        }
        if (!hit) {
            continue;
        }
        const int32_t end = trie->subtree_end[c];
        for (int32_t k2 = trie->node_tok_ptr[c]; k2 < trie->node_tok_ptr[end]; ++k2) {
            const int32_t tok = trie->node_tok_ids[k2];
            bits[tok >> 5] &= ~(UINT32_C(1) << (tok & 31));
        }
        state[0] = d;
        if (corral_walk_scan(g, t, c, end, state, bits, e, cap_done) < 0) {
            return -1;
        }
        lo_ex[n_ex] = c;
        hi_ex[n_ex++] = end;
    }
    /* base's lexeme ends outside the subtrees of E: its done nodes and its groups' nodes */
    for (int32_t b = -1; b < base->n_block; ++b) {
        const int32_t *from =
            b < 0 ? base->done : trie->plain_at + trie->plain_at_ptr[base->block_k[b]];
        const int32_t n_from = b < 0 ? base->n_done
                                     : trie->plain_at_ptr[base->block_k[b] + 1] -
                                           trie->plain_at_ptr[base->block_k[b]];
        if (add_done_outside(e, cap_done, from, n_from, lo_ex, hi_ex, n_ex) < 0) {
            return -1;
        }
    }
    /* and the ends on its class paths, which base leaves out (corral_class_loop) */
    if (add_done_outside(e, cap_done, class_ends, n_class_ends, lo_ex, hi_ex, n_ex) < 0) {
        return -1;
    }
    if (e->n_done > 1) {
        qsort(e->done, (size_t)e->n_done, sizeof(int32_t), corral_cmp_node);
    }
    return 0;
}
