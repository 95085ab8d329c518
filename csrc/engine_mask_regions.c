/*
 * engine_mask_regions.c - the shortcuts of a mask's walk over word bytes (corral/engine_mask.h):
 * lexeme ends on every class path of an accepting loop (corral_class_ends, walked from the
 * class slice's frontier), and word regions (a configuration every word byte leads back to
 * itself covers the word paths below a node at once).  Both give the node-by-node walk's
 * result (tests/property/test_native_differential.py).
 */
#include "corral/engine_mask.h"

#include <stdlib.h>
#include <string.h>

/* Lexeme ends on class paths fewer than this are injected one by one (corral_class_ends). */
#define CLASS_ENDS_MIN 256

/* Whether byte b leaves each lexer thread of c dead or on a thread of c: what
 * corral_cfg_next(c, b) == c needs of the threads that go on (the lexer's transitions only, no
 * Earley step); -1: no memory. */
static int lexers_stay(corral_matcher *m, int32_t c, uint8_t b) {
    const corral_cfg cf = m->cfgs[c];
    const corral_thread *t = m->cfg_thr + cf.lo;
    for (int32_t a = 0; a < cf.n; ++a) {
        const int32_t next = corral_lex_next(m, t[a].lex, b);
        if (next < 0) {
            return -1;
        }
        if (next == 0 || next == t[a].lex) {
            continue;
        }
        int32_t k = 0; /* a linear scan: a configuration holds few threads */
        while (k < cf.n && (t[k].origin != t[a].origin || t[k].lex != next)) {
            ++k;
        }
        if (k == cf.n) {
            return 0;
        }
    }
    return 1;
}

/* Whether every word byte some token has leads configuration c back to c (memoised per
 * mask); -1: no memory.  `probe`, the byte of the node's first child, is tried first: the walk
 * steps it anyway, and most configurations leave on it.  Then every word byte must keep each
 * lexer thread on a thread of c (cheap: lexer transitions), and only then is each stepped. */
static int word_stable(corral_matcher *m, int32_t c, uint8_t probe) {
    if (m->cfg_word[c] == 0 && corral_word_byte(probe)) {
        const int32_t next = corral_cfg_next(m, c, probe);
        if (next == -3) {
            return -1;
        }
        if (next != c) {
            m->cfg_word[c] = 1;
        }
    }
    if (m->cfg_word[c] == 0) {
        const uint8_t *present = m->g->trie->present;
        int stable = 1;
        for (int pass = 0; pass < 2 && stable; ++pass) {
            for (int b = '0'; b <= 'z' && stable; ++b) {
                if (!corral_word_byte((uint8_t)b) || !present[b]) {
                    continue;
                }
                if (pass == 0) {
                    stable = lexers_stay(m, c, (uint8_t)b);
                } else {
                    const int32_t next = corral_cfg_next(m, c, (uint8_t)b);
                    stable = next == -3 ? -1 : next == c;
                }
                if (stable < 0) {
                    return -1;
                }
            }
        }
        m->cfg_word[c] = stable ? 2 : 1;
    }
    return m->cfg_word[c] == 2;
}

/*
 * The subtrie below node n, whose configuration c every word byte leads back to c (an
 * identifier that may end anywhere, nothing but more of it allowed after it): every node of a
 * word path below n has configuration c, so its tokens are allowed, and the first node off
 * word bytes on each path (the trie's word exits below n, found by binary search) is walked
 * from c.  The word paths are not visited: their tokens are the node ranges between exits,
 * contiguous in the trie's token order.  Not where injections of the walk lie below n: the
 * node-by-node walk merges them.  1: walked; 0: c is not such a configuration, or injections
 * below; -1: no memory.
 */
int corral_word_region(corral_matcher *m, int32_t n, int32_t c, size_t *cursor,
                       uint32_t *words) {
    const corral_etrie *trie = m->g->trie;
    const int32_t end = trie->nodes[n].subtree_end;
    if (cursor != NULL && *cursor < m->n_inj && m->inj[*cursor].node < end) {
        return 0; /* injections below: merged node by node, not walked again on their own */
    }
    const int st = word_stable(m, c, (uint8_t)(trie->nodes[n + 1].depth_byte & 0xFF));
    if (st <= 0) {
        return st;
    }
    const int32_t *x = trie->word_exits;
    const int32_t n_x = trie->n_word_exits;
    for (int32_t lo = n + 1; lo < end;) {
        int32_t a = 0, b = n_x; /* the first exit at or after lo */
        while (a < b) {
            const int32_t mid = a + (b - a) / 2;
            if (x[mid] < lo) {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        const int32_t xn = a < n_x && x[a] < end ? x[a] : end;
        for (int32_t k = trie->node_tok_ptr[lo]; k < trie->node_tok_ptr[xn]; ++k) {
            words[trie->node_tok_ids[k] >> 5] |= UINT32_C(1) << (trie->node_tok_ids[k] & 31);
        }
        if (xn == end) {
            break;
        }
        if (corral_walk_node(m, xn, c, cursor, words) != CORRAL_ENGINE_OK) {
            return -1;
        }
        lo = trie->nodes[xn].subtree_end;
    }
    return 1;
}

/* The lexeme (origin, term) ends at nodes ends[0 .. n): injections. */
static int inject_ends(corral_matcher *m, int32_t origin, int32_t term, const int32_t *ends,
                       int32_t n) {
    if (corral_grow((void **)&m->inj, &m->cap_inj, m->n_inj + (size_t)n, sizeof(corral_inj)) < 0) {
        return -1;
    }
    for (int32_t k = 0; k < n; ++k) {
        m->inj[m->n_inj++] = (corral_inj){ends[k], origin, term};
    }
    return 0;
}

int corral_class_ends(corral_matcher *m, int32_t origin, int32_t term, const uint64_t set[2],
                      const int32_t *ends, int32_t n_ends, const int32_t *front, int32_t n_front) {
    if (n_ends <= CLASS_ENDS_MIN) {
        /* few ends (digits, on a vocabulary that splits numbers): injected as before */
        return inject_ends(m, origin, term, ends, n_ends);
    }
    if (corral_grow((void **)&m->done, &m->cap_done, 1, sizeof(int64_t)) < 0) {
        return -1;
    }
    m->done[0] = (int64_t)origin << 32 | (uint32_t)term;
    m->n_done = 1;
    const int32_t s0 = corral_set_after(m, 1);
    if (s0 == -2) {
        return -1;
    }
    const int32_t c0 = s0 >= 0 ? corral_cfg_with_fresh(m, 0, s0) : 0;
    if (c0 <= 0) {
        return c0 < 0 ? -1 : 0; /* nothing goes on after the lexeme: nothing below its ends */
    }
    int stops = 1; /* no byte of C goes on after the lexeme */
    for (int b = 0; b < 128 && stops; ++b) {
        if ((set[b >> 6] >> (b & 63)) & 1) {
            const int32_t c = corral_cfg_next(m, c0, (uint8_t)b);
            if (c == -3) {
                return -1;
            }
            stops = c == CORRAL_CFG_DEAD;
        }
    }
    if (!stops) {
        return inject_ends(m, origin, term, ends, n_ends);
    }
    /* Below an end N, a byte of C dies, and the node it leads to is an end of its own with the
     * same configuration c0: the walks below all the ends are the walks from c0 of the nodes
     * that leave C under a C path of at least one byte (those below the root are the
     * thread's own). */
    const corral_node *nodes = m->g->trie->nodes;
    if (corral_grow((void **)&m->cfr, &m->cap_cfr, m->n_cfr + (size_t)n_front,
                    sizeof(corral_cfront)) < 0) {
        return -1;
    }
    for (int32_t f = 0; f < n_front; ++f) {
        const int32_t node = front[f] >> 8;
        if ((nodes[node].depth_byte >> 8) >= 2) {
            m->cfr[m->n_cfr++] = (corral_cfront){node, c0};
        }
    }
    return 0;
}

/* The walks of the class-end frontier nodes (corral_class_ends). */
int corral_walk_fronts(corral_matcher *m, uint32_t *words) {
    for (size_t k = 0; k < m->n_cfr; ++k) {
        if (corral_walk_node(m, m->cfr[k].node, m->cfr[k].cfg, NULL, words) != CORRAL_ENGINE_OK) {
            return CORRAL_ENGINE_NO_MEMORY;
        }
    }
    return CORRAL_ENGINE_OK;
}
