/*
 * engine_mask.c - token masks of the native matcher (corral/engine.h).
 *
 * A token is allowed exactly when the matcher would accept its bytes (the reference mask's
 * definition).  The matcher's own threads contribute through their cached root walks
 * (engine_walks.c): the tokens each survives alone, and the trie nodes where its lexeme ends
 * inside a token ("injections").  Below those nodes the parse goes on: the Earley set after the
 * lexemes ending there, and its fresh threads, walk the subtrie depth first (llguidance's
 * toktrie walk), each child stepped as the matcher steps a byte (corral_step, the twin of
 * Matcher._push_byte) and dropped with its whole subtrie when nothing survives.  Injections
 * met on the way join the walk's threads; the others start walks of their own.  Splitting the
 * threads so is exact: Earley closure and lexing distribute over unions of items and threads,
 * so the tokens allowed from a union of states are the union of the tokens allowed from each.
 * Sets built inside tokens are memoised by the lexemes that end (same lexemes, same set) for
 * the whole mask and truncated from the stacks afterwards.
 */
#include "corral/engine_mask.h"

#include <stdlib.h>
#include <string.h>

/* The set after the injections at m->inj[i ..] (one node), marked used; *next is the index
 * past them.  -1: none; -2: no memory. */
static int32_t injected_set(corral_matcher *m, size_t i, size_t *next) {
    const int32_t node = m->inj[i].node;
    m->n_done = 0;
    size_t k = i;
    for (; k < m->n_inj && m->inj[k].node == node; ++k) {
        m->inj_used[k] = 1;
        const int64_t key = ((int64_t)m->inj[k].origin << 32) | (uint32_t)m->inj[k].term;
        if (m->n_done > 0 && m->done[m->n_done - 1] == key) {
            continue;
        }
        if (corral_grow((void **)&m->done, &m->cap_done, m->n_done + 1, sizeof(int64_t)) < 0) {
            return -2;
        }
        m->done[m->n_done++] = key;
    }
    *next = k;
    if (m->n_done == 1 && m->done[0] == m->last_key) {
        return m->last_set;
    }
    const int32_t s = corral_set_after(m, 1);
    if (m->n_done == 1 && s != -2) {
        m->last_key = m->done[0];
        m->last_set = s;
        m->last_cfg = -1;
    }
    return s;
}

/*
 * Walk the subtrie of `top` below it, depth first, from c_top, the configuration at `top`.  The
 * node ids are in preorder, so the walk is one scan over the subtrie's range (llguidance's flat
 * trie walk, as the root walks scan): the configuration of the path is kept per depth, and a
 * node whose configuration dies is skipped with its whole subtrie by jumping to its end.
 * Transitions between configurations are computed once per mask — a lazily built automaton
 * over parser configurations — so a subtrie where the configuration repeats (an identifier that
 * may end at every byte) costs a table lookup per node.  With a cursor, the injections met on
 * the way (sorted by node) join the walk's threads and are marked used.
 */
int corral_walk_subtrie(corral_matcher *m, int32_t top, int32_t c_top, size_t *cursor,
                        uint32_t *words) {
    const corral_etrie *trie = m->g->trie;
    const corral_node *nodes = trie->nodes;
    int32_t *path = m->depth_cfg;
    path[nodes[top].depth_byte >> 8] = c_top;
    const int32_t end = nodes[top].subtree_end;
    if (c_top > 0 && end - top > CORRAL_REGION_MIN) {
        const int r = corral_word_region(m, top, c_top, cursor, words);
        if (r != 0) {
            return r < 0 ? CORRAL_ENGINE_NO_MEMORY : CORRAL_ENGINE_OK;
        }
    }
    /* the next injection's node (INT32_MAX: none): the cursor is moved only when it is met */
    int32_t next_inj = INT32_MAX;
    if (cursor != NULL) {
        while (*cursor < m->n_inj && m->inj[*cursor].node <= top) {
            ++*cursor;
        }
        next_inj = *cursor < m->n_inj ? m->inj[*cursor].node : INT32_MAX;
    }
    const int32_t *tok_ids = trie->node_tok_ids;
    for (int32_t node = top + 1; node < end;) {
        const corral_node nd = nodes[node];
        const int32_t dep = nd.depth_byte >> 8;
        int32_t c = corral_cfg_step(m, path[dep - 1], (uint8_t)(nd.depth_byte & 0xFF));
        if (c == -3) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
        if (c != CORRAL_CFG_DEAD) {
            corral_or_node_tokens(words, tok_ids, nd);
        }
        if (next_inj <= node) { /* an injection at or before this node (skipped ones passed) */
            while (*cursor < m->n_inj && m->inj[*cursor].node < node) {
                ++*cursor;
            }
            next_inj = *cursor < m->n_inj ? m->inj[*cursor].node : INT32_MAX;
        }
        if (next_inj == node) {
            const int32_t s = injected_set(m, *cursor, cursor);
            if (s == -2) {
                return CORRAL_ENGINE_NO_MEMORY;
            }
            if (s >= 0) {
                c = corral_cfg_with_fresh(m, c == CORRAL_CFG_DEAD ? 0 : c, s);
                if (c < 0) {
                    return CORRAL_ENGINE_NO_MEMORY;
                }
            }
        }
        if (c > 0 && nd.subtree_end - node > CORRAL_REGION_MIN) {
            const int r = corral_word_region(m, node, c, cursor, words);
            if (r < 0) {
                return CORRAL_ENGINE_NO_MEMORY;
            }
            if (r > 0) {
                node = nd.subtree_end;
                continue;
            }
        }
        if (c > 0 && nd.subtree_end > node + 1) {
            path[dep] = c;
            ++node;
        } else {
            node = nd.subtree_end;
        }
    }
    return CORRAL_ENGINE_OK;
}

int corral_walk_node(corral_matcher *m, int32_t node, int32_t c_parent, size_t *cursor,
                     uint32_t *words) {
    const corral_etrie *trie = m->g->trie;
    const corral_node nd = trie->nodes[node];
    const int32_t c = corral_cfg_next(m, c_parent, (uint8_t)(nd.depth_byte & 0xFF));
    if (c == -3) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    if (c == CORRAL_CFG_DEAD) {
        return CORRAL_ENGINE_OK;
    }
    corral_or_node_tokens(words, trie->node_tok_ids, nd);
    return c > 0 && nd.subtree_end > node + 1 ? corral_walk_subtrie(m, node, c, cursor, words)
                                              : CORRAL_ENGINE_OK;
}

/* Walk the subtrie below the injections at m->inj[i ..] (one node) from the set after them. */
static int walk_below(corral_matcher *m, size_t i, uint32_t *words) {
    size_t cursor = i;
    const int32_t s0 = injected_set(m, i, &cursor);
    if (s0 == -2) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    const int lone = m->n_done == 1 && m->done[0] == m->last_key;
    int32_t c0 = lone && m->last_cfg >= 0 ? m->last_cfg
                 : s0 >= 0                  ? corral_cfg_with_fresh(m, 0, s0)
                                            : 0;
    if (c0 < 0) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    if (lone) {
        m->last_cfg = c0;
    }
    return c0 == 0 ? CORRAL_ENGINE_OK : corral_walk_subtrie(m, m->inj[i].node, c0, &cursor, words);
}

/* Whether every thread of configuration c treats plain characters alike for max_depth
 * characters (corral_walk_uniform of each of its lexer states' members); -1: no memory. */
static int cfg_uniform(corral_matcher *m, int32_t c) {
    const corral_cfg cfg = m->cfgs[c];
    for (int32_t a = 0; a < cfg.n; ++a) {
        const corral_lexstate ls = m->lex[m->cfg_thr[cfg.lo + a].lex];
        for (int32_t p = 0; p < ls.n; ++p) {
            const int r = corral_walk_uniform(m->g, m->lex_pairs[ls.lo + 2 * p],
                                              m->lex_pairs[ls.lo + 2 * p + 1]);
            if (r <= 0) {
                return r;
            }
        }
    }
    return 1;
}

/*
 * A group of lexeme ends (corral_grp): the lexeme ends at every plain node of k whole
 * characters that goes on, the walk of a long string's block ending inside tokens.  Where the
 * configuration after the lexeme, and each one after it, treats every plain character alike
 * (each thread a slice chain without exceptions; lexemes that end do so after any plain
 * character alike, so the next configuration is one for all), the configuration after j more
 * plain characters is the j-th of one chain, alive for `alive` characters: the plain tokens
 * below those nodes that live are those of at most k + alive characters (a cut last one
 * counted), and the tokens of at most k characters are the lone thread's own (its chain has no
 * exception and lives past k).  So the group adds one slice row, and the frontier nodes below k
 * characters walked from the chain's configuration above them.  1: done; 0: the configurations
 * are not alike, walk the nodes one by one; -1: no memory.
 */
static int walk_group(corral_matcher *m, corral_grp gp, uint32_t *words) {
    const corral_etrie *trie = m->g->trie;
    const size_t n_words = (trie->vocab_size + 31) / 32;
    int rep = -1; /* a plain byte some token has: every plain character steps as it does */
    for (int b = 0x20; b < 0x7F && rep < 0; ++b) {
        rep = b != '"' && b != '\\' && trie->present[b] ? b : -1;
    }
    if (rep < 0) {
        return 0;
    }
    m->n_done = 0;
    m->done[m->n_done++] = (int64_t)gp.origin << 32 | (uint32_t)gp.term;
    const int32_t s0 = corral_set_after(m, 1);
    if (s0 == -2) {
        return -1;
    }
    const int32_t c0 = s0 >= 0 ? corral_cfg_with_fresh(m, 0, s0) : 0;
    if (c0 <= 0) {
        return c0 < 0 ? -1 : 1; /* nothing goes on after the lexeme */
    }
    int32_t *chain = m->chain_cfg;
    chain[0] = c0;
    int32_t alive = 0;
    for (int32_t r = 0; gp.k + r < trie->max_depth; ++r) {
        const int u = cfg_uniform(m, chain[r]);
        if (u <= 0) {
            return u;
        }
        const int32_t next = corral_cfg_next(m, chain[r], (uint8_t)rep);
        if (next == -3) {
            return -1;
        }
        if (next == CORRAL_CFG_DEAD || next == 0) {
            break;
        }
        chain[++alive] = next;
    }
    corral_or_words(words, trie->slice_bits + (size_t)(gp.k + alive) * n_words, n_words);
    /* the frontier of gp.k to gp.k + alive characters: in preorder when that is all of it */
    const int32_t last_chars = gp.k + alive < trie->max_depth ? gp.k + alive : trie->max_depth;
    const int32_t f_lo = trie->frontier_ptr[gp.k], f_hi = trie->frontier_ptr[last_chars + 1];
    const int all = f_lo == 0 && f_hi == trie->n_frontier;
    const corral_frontier *front = all ? trie->frontier : trie->frontier_by_chars;
    for (int32_t f = all ? 0 : f_lo; f < (all ? trie->n_frontier : f_hi); ++f) {
        const corral_frontier fr = front[f];
        int32_t c = chain[fr.chars - gp.k];
        for (int32_t j = fr.n_cut - 1; j >= 0 && c > 0; --j) {
            c = corral_cfg_next(m, c, (uint8_t)((fr.cut >> (8 * j)) & 0xFF));
        }
        if (c > 0) {
            c = corral_cfg_next(m, c, (uint8_t)(trie->nodes[fr.node].depth_byte & 0xFF));
        }
        if (c == -3) {
            return -1;
        }
        if (c == CORRAL_CFG_DEAD || c == 0) {
            continue;
        }
        const corral_node nd = trie->nodes[fr.node];
        corral_or_node_tokens(words, trie->node_tok_ids, nd);
        if (nd.subtree_end > fr.node + 1 && corral_walk_subtrie(m, fr.node, c, NULL, words) < 0) {
            return -1;
        }
    }
    return 1;
}

/* The groups' lexeme ends: walked at once where walk_group can, else as injections. */
static int walk_groups(corral_matcher *m, uint32_t *words) {
    const corral_etrie *trie = m->g->trie;
    for (size_t q = 0; q < m->n_grp; ++q) {
        const corral_grp gp = m->grp[q];
        const int r = walk_group(m, gp, words);
        if (r < 0) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
        if (r > 0) {
            continue;
        }
        const int32_t lo = trie->plain_at_ptr[gp.k], hi = trie->plain_at_ptr[gp.k + 1];
        if (corral_grow((void **)&m->inj, &m->cap_inj, m->n_inj + (size_t)(hi - lo),
                        sizeof(corral_inj)) < 0) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
        for (int32_t a = lo; a < hi; ++a) {
            m->inj[m->n_inj++] = (corral_inj){trie->plain_at[a], gp.origin, gp.term};
        }
    }
    return CORRAL_ENGINE_OK;
}

/*
 * The kept mask, when the current position's threads are those it was computed from and no
 * set it read has changed since: a mask is a function of the threads (origin sets, lexer
 * states) and of the sets up to their largest origin (an item's origin is never a later set),
 * and sets change only by truncation (corral_restore lowers mc_floor).  Inside an identifier
 * the threads repeat from token to token (the set after the identifier is the same set at
 * every byte, set_alike), and so does a mask of hundreds of Earley sets; inside a string or a
 * number, so does the slice walk.  Not with unique items, whose masks read the input too.  1:
 * words written; 0: not kept.
 */
static int kept_mask(corral_matcher *m, corral_pos cur, uint32_t *words, size_t trie_words) {
    const size_t n = cur.thr_hi - cur.thr_lo;
    if (m->mc_max < 0 || m->g->has_unique || n != m->mc_n || (size_t)m->mc_max >= m->mc_floor ||
        (n > 0 && memcmp(m->thr + cur.thr_lo, m->mc_thr, n * sizeof(corral_thread)) != 0)) {
        return 0;
    }
    memcpy(words, m->mc_words, trie_words * sizeof(uint32_t));
    return 1;
}

/* Keep the mask for kept_mask (after the stacks are restored); best effort.  Every mask is
 * kept: inside a string or a number the threads repeat from token to token, and a copy of the
 * words costs less than the cheapest mask. */
static void keep_mask(corral_matcher *m, corral_pos cur, const uint32_t *words,
                      size_t trie_words) {
    const size_t n = cur.thr_hi - cur.thr_lo;
    if (m->g->has_unique ||
        corral_grow((void **)&m->mc_thr, &m->cap_mc_thr, n + 1, sizeof(corral_thread)) < 0 ||
        corral_grow((void **)&m->mc_words, &m->cap_mc_words, trie_words, sizeof(uint32_t)) <
            0) {
        return;
    }
    m->mc_max = -1;
    for (size_t k = 0; k < n; ++k) {
        m->mc_thr[k] = m->thr[cur.thr_lo + k];
        if (m->mc_thr[k].origin > m->mc_max) {
            m->mc_max = m->mc_thr[k].origin;
        }
    }
    m->mc_n = n;
    m->mc_max = m->mc_max < 0 ? 0 : m->mc_max;
    m->mc_floor = m->n_sets;
    memcpy(m->mc_words, words, trie_words * sizeof(uint32_t));
}

int corral_matcher_mask(corral_matcher *m, uint32_t *words, size_t n_words) {
    /* corral_walks_apply writes the trie's words first (copying a bitset where it can, no
     * clearing pass); padding ids past the tokenizer's vocabulary are never allowed */
    const size_t trie_words = (m->g->trie->vocab_size + 31) / 32;
    if (n_words > trie_words) {
        memset(words + trie_words, 0, (n_words - trie_words) * sizeof(uint32_t));
    }
    const corral_mark mark = corral_mark_now(m);
    const corral_pos cur = m->pos[m->n_pos - 1];
    /* at the first position every matcher of the grammar is in the same state */
    const int first = m->n_pos == 1 && !m->g->has_unique;
    if (kept_mask(m, cur, words, trie_words) ||
        (first && corral_first_get(m->g->first, words, trie_words))) {
        return CORRAL_ENGINE_OK;
    }
    corral_hmap_clear(&m->memo);
    corral_hmap_clear(&m->cfg_index);
    corral_hmap_clear(&m->cfg_union);
    m->n_pool = 0;
    m->n_inj = 0;
    m->n_grp = 0;
    m->last_key = -1;
    m->wf_c = -1;
    m->n_cfgs = 0;
    m->n_cfg_thr = 0;
    if (++m->cfg_stamp == 0) { /* after 2**32 masks: every stamp could be old, clear them */
        memset(m->cfg_trans, 0, m->cap_cfg_trans * sizeof(uint64_t));
        m->cfg_stamp = 1;
    }
    m->n_cfr = 0;
    /* configuration 0: no thread (interned first: corral_class_ends makes configurations) */
    int code = corral_cfg_intern(m, m->n_thr) == 0 ? CORRAL_ENGINE_OK : CORRAL_ENGINE_NO_MEMORY;
    if (code == CORRAL_ENGINE_OK) {
        code = corral_walks_apply(m, cur.thr_lo, cur.thr_hi, words);
    }
    if (code == CORRAL_ENGINE_OK && m->n_grp > 0) {
        code = walk_groups(m, words);
    }
    if (code == CORRAL_ENGINE_OK && m->n_cfr > 0) {
        code = corral_walk_fronts(m, words);
    }
    if (code == CORRAL_ENGINE_OK && m->n_inj > 0) {
        size_t sorted = 1;
        while (sorted < m->n_inj && corral_cmp_inj(&m->inj[sorted - 1], &m->inj[sorted]) <= 0) {
            ++sorted;
        }
        if (sorted < m->n_inj && corral_sort_inj(m) < 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
        } else if (corral_grow((void **)&m->inj_used, &m->cap_used, m->n_inj, 1) < 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
        } else {
            memset(m->inj_used, 0, m->n_inj);
        }
        const corral_node *nodes = m->g->trie->nodes;
        for (size_t i = 0; i < m->n_inj && code == CORRAL_ENGINE_OK; ++i) {
#if defined(__GNUC__)
            if (i + 8 < m->n_inj) { /* the injections' nodes lie far apart in the trie */
                __builtin_prefetch(&nodes[m->inj[i + 8].node + 1]);
            }
#endif
            if (!m->inj_used[i]) {
                code = walk_below(m, i, words);
            }
        }
    }
    corral_restore(m, mark);
    if (code == CORRAL_ENGINE_OK) {
        keep_mask(m, cur, words, trie_words);
        if (first) {
            corral_first_put(m->g->first, words, trie_words);
        }
    }
    return code;
}
