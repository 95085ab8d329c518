/*
 * engine_walks.c - cached root walks of lone lexer threads (corral/engine.h).
 *
 * Which tokens a lexer thread (terminal t in automaton state d) survives, and where inside
 * them its lexeme can end, depends on (t, d) only, not on the parse: XGrammar's
 * context-independent tokens, here per automaton state.  The walk is done once per (t, d) —
 * or rather per class of states that no string as long as the longest token tells apart
 * (depth classes, given with the grammar and kept with each automaton on the Python side: a
 * length counter far from its bound walks like its neighbours) — and kept per grammar: the
 * surviving tokens as a bitset (or a list when there are few), the trie
 * nodes with children where the automaton accepts.  A mask ORs the bitsets of its threads and
 * continues the parse only below those nodes (engine_mask.c).  The cache is shared by every
 * matcher of the grammar, behind a mutex; past max_bytes it is emptied.
 */
#include "corral/engine_walks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* An automaton registered by content: its compressed table, class map and accepting flags. */
typedef struct walk_dfa {
    int32_t n_states, width;
    uint8_t *data; /* classes (256), accept (n_states), table (n_states * width int32) */
    size_t size;
} walk_dfa;

struct corral_walks {
    pthread_mutex_t lock;
    corral_hmap index; /* (automaton id, class of states) -> entry */
    walk_entry *entries;
    size_t n, cap;
    corral_hmap dfa_index; /* (content hash, probe) -> automaton id */
    walk_dfa *dfas;
    size_t n_dfas, cap_dfas;
    uint64_t gen; /* bumped when emptied: ids of earlier generations are stale */
    size_t bytes, max_bytes;
    class_slice *slices; /* by ASCII byte set, few: searched in turn */
    size_t n_slices, cap_slices;
    uint64_t seen[128]; /* byte sets asked for once (corral_class_slice) */
    size_t n_seen;
};

struct corral_walks *corral_walks_new(size_t max_bytes) {
    struct corral_walks *w = calloc(1, sizeof(struct corral_walks));
    if (w == NULL) {
        return NULL;
    }
    if (corral_hmap_init(&w->index, 64) < 0 || corral_hmap_init(&w->dfa_index, 64) < 0) {
        corral_hmap_free(&w->index);
        free(w);
        return NULL;
    }
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        corral_hmap_free(&w->index);
        corral_hmap_free(&w->dfa_index);
        free(w);
        return NULL;
    }
    w->max_bytes = max_bytes;
    w->gen = 1;
    return w;
}

static void clear_entries(struct corral_walks *w) {
    for (size_t k = 0; k < w->n; ++k) {
        free(w->entries[k].bits);
        free(w->entries[k].toks);
        free(w->entries[k].done);
    }
    for (size_t k = 0; k < w->n_dfas; ++k) {
        free(w->dfas[k].data);
    }
    for (size_t k = 0; k < w->n_slices; ++k) {
        free(w->slices[k].len_ptr);
        free(w->slices[k].toks);
        free(w->slices[k].front);
        free(w->slices[k].ends);
    }
    w->n_slices = 0;
    w->n_seen = 0;
    w->n = 0;
    w->n_dfas = 0;
    w->bytes = 0;
    w->gen++;
    corral_hmap_clear(&w->index);
    corral_hmap_clear(&w->dfa_index);
}

void corral_walks_free(struct corral_walks *w) {
    if (w == NULL) {
        return;
    }
    clear_entries(w);
    free(w->entries);
    free(w->dfas);
    free(w->slices);
    corral_hmap_free(&w->index);
    corral_hmap_free(&w->dfa_index);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

size_t corral_walks_bytes(struct corral_walks *w) {
    pthread_mutex_lock(&w->lock);
    const size_t b = w->bytes;
    pthread_mutex_unlock(&w->lock);
    return b;
}

/*
 * Scan nodes [lo, hi) of the trie (a run of whole subtrees, in preorder) with terminal t's
 * automaton, state[k] holding the state at depth k of the current path for every depth above
 * the run: the node ids are in preorder, so the walk is one scan over them (llguidance's flat
 * trie walk), a dead node's subtree skipped by jumping to its end.
 */
int corral_walk_scan(const corral_grammar *g, int32_t t, int32_t lo, int32_t hi,
                     int32_t *restrict state, uint32_t *restrict bits, walk_entry *e,
                     size_t *cap_done) {
    const corral_etrie *trie = g->trie;
    /* locals (restrict): with -fno-strict-aliasing the compiler would otherwise reload every
     * array pointer after each store to the bitset */
    const int32_t *restrict table = g->table + g->tbase[t];
    const uint8_t *restrict cls = g->classes + (size_t)t * 256;
    const int32_t width = g->n_classes[t];
    const uint8_t *restrict accept = g->accept + g->dfa_base[t];
    const corral_node *restrict nodes = trie->nodes;
    const int32_t *restrict tok_ids = trie->node_tok_ids;
    for (int32_t i = lo; i < hi;) {
        const corral_node nd = nodes[i];
        const int32_t dep = nd.depth_byte >> 8;
        const int32_t s2 = table[(int64_t)state[dep - 1] * width + cls[nd.depth_byte & 0xFF]];
        if (s2 == 0) {
            i = nd.subtree_end;
            continue;
        }
        corral_or_node_tokens(bits, tok_ids, nd);
        state[dep] = s2; /* read by the node's children only: harmless for a leaf */
        if (accept[s2] && nd.subtree_end > i + 1) {
            if (corral_grow((void **)&e->done, cap_done, (size_t)e->n_done + 1,
                            sizeof(int32_t)) < 0) {
                return -1;
            }
            e->done[e->n_done++] = i;
        }
        ++i;
    }
    return 0;
}

int corral_cmp_node(const void *a, const void *b) {
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static const walk_entry *entry_at(const corral_grammar *g, int32_t t, int32_t d, int nested);

static int walk_one(const corral_grammar *g, int32_t t, int32_t d, walk_entry *e, int nested) {
    const corral_etrie *trie = g->trie;
    const size_t n_words = (trie->vocab_size + 31) / 32;
    memset(e, 0, sizeof(*e));
    uint32_t *bits = calloc(n_words > 0 ? n_words : 1, sizeof(uint32_t));
    int32_t *state = malloc(((size_t)trie->max_depth + 1) * sizeof(int32_t));
    int32_t *chain = malloc(((size_t)trie->max_depth + 1) * sizeof(int32_t));
    size_t cap_done = 0;
    if (bits == NULL || state == NULL || chain == NULL) {
        goto fail;
    }
    uint8_t except[CORRAL_SLICE_EXCEPTIONS];
    int32_t n_except = 0;
    const int32_t alive = corral_slice_chain(g, t, d, chain, except, &n_except);
    int32_t m = 0;
    const int n_derived = alive < 0 && nested < 2 ? corral_derived_from(g, t, d, &m, except) : -1;
    const walk_entry *base = n_derived >= 0 ? entry_at(g, t, m, nested + 1) : NULL;
    if (n_derived >= 0 && base == NULL) {
        goto fail;
    }
    if (base != NULL) {
        /* base's lexeme ends on its class paths, left to its class slice, become d's own */
        const class_slice *bs =
            base->class_ends > 0 ? &g->walks->slices[base->class_ends - 1] : NULL;
        if (corral_derived_walk(g, t, d, base, bs != NULL ? bs->ends : NULL,
                                bs != NULL ? bs->n_ends : 0, except, n_derived, state, bits, e,
                                &cap_done) < 0) {
            goto fail;
        }
    } else if (alive < 0) {
        uint64_t set[2];
        int32_t in_class = corral_class_chain(g, t, d, chain, set);
        const class_slice *cs = in_class >= 0 ? corral_class_slice(g, set, 0) : NULL;
        if (in_class < 0 && corral_class_loop(g, t, d, set)) {
            /* an accepting loop over C: the chain is d at every depth; the lexeme ends on the
             * C paths are the slice's ends, left to the mask (corral_class_ends) */
            cs = corral_class_slice(g, set, 1);
            in_class = trie->max_depth;
            for (int32_t k = 0; k <= in_class; ++k) {
                chain[k] = d;
            }
            e->class_ends = cs != NULL ? (int32_t)(cs - g->walks->slices) + 1 : 0;
        }
        if (cs != NULL) {
            if (corral_class_walk(g, t, cs, chain, in_class, state, bits, e, &cap_done) < 0) {
                goto fail;
            }
        } else {
            state[0] = d;
            if (corral_walk_scan(g, t, 1, (int32_t)trie->n_nodes, state, bits, e, &cap_done) <
                0) {
                goto fail;
            }
        }
    } else if (corral_slice_walk(g, t, d, chain, alive, except, n_except, state, bits, e,
                                 &cap_done) < 0) {
        goto fail;
    } else {
        e->uniform = n_except == 0;
    }
    free(state);
    free(chain);
    /* a list of the tokens while they are fewer than the words, else the bitset: one pass
     * that stops once the list would be as large */
    int32_t *list = malloc((n_words > 0 ? n_words : 1) * sizeof(int32_t));
    if (list == NULL) {
        free(bits);
        free(e->done);
        return -1;
    }
    size_t n_list = 0;
    for (size_t wd = 0; wd < n_words && n_list < n_words; ++wd) {
        /* four empty words at once: most of a short list's words are empty */
        if (wd + 4 <= n_words && (bits[wd] | bits[wd + 1] | bits[wd + 2] | bits[wd + 3]) == 0) {
            wd += 3;
            continue;
        }
        for (uint32_t b = bits[wd]; b != 0 && n_list < n_words; b &= b - 1) {
            list[n_list++] = (int32_t)(wd * 32 + (size_t)__builtin_ctz(b));
        }
    }
    if (n_list < n_words) {
        int32_t *cut = realloc(list, (n_list > 0 ? n_list : 1) * sizeof(int32_t));
        e->toks = cut != NULL ? cut : list;
        e->n_toks = (int32_t)n_list;
        free(bits);
    } else {
        free(list);
        e->bits = bits;
    }
    return 0;
fail:
    free(bits);
    free(state);
    free(chain);
    free(e->done);
    e->done = NULL;
    return -1;
}

static size_t entry_bytes(const walk_entry *e, size_t n_words) {
    return (e->bits != NULL ? n_words * 4 : (size_t)e->n_toks * 4) + (size_t)e->n_done * 4 + 64;
}

/* Terminal t's automaton as three parts: class map (256), accept flags, table. */
typedef struct dfa_parts {
    const uint8_t *part[3];
    size_t len[3];
} dfa_parts;

static dfa_parts parts_of(const corral_grammar *g, int32_t t) {
    const size_t n = (size_t)(g->dfa_base[t + 1] - g->dfa_base[t]);
    return (dfa_parts){{g->classes + (size_t)t * 256, g->accept + g->dfa_base[t],
                        (const uint8_t *)(g->table + g->tbase[t])},
                       {256, n, n * (size_t)g->n_classes[t] * sizeof(int32_t)}};
}

/* A 64-bit hash of the parts, eight bytes at a time (equality is checked with memcmp). */
static uint64_t hash_parts(const dfa_parts *p) {
    uint64_t h = UINT64_C(1469598103934665603) ^ (p->len[0] + p->len[1] + p->len[2]);
    for (int q = 0; q < 3; ++q) {
        const uint8_t *d = p->part[q];
        size_t k = 0;
        for (; k + 8 <= p->len[q]; k += 8) {
            uint64_t w;
            memcpy(&w, d + k, 8);
            h = (h ^ w) * UINT64_C(0x9E3779B97F4A7C15);
            h ^= h >> 29;
        }
        for (; k < p->len[q]; ++k) {
            h = (h ^ d[k]) * UINT64_C(1099511628211);
        }
    }
    return h;
}

/* Whether the registered automaton holds exactly these parts (stored one after another). */
static int same_parts(const walk_dfa *dfa, const dfa_parts *p) {
    if (dfa->size != p->len[0] + p->len[1] + p->len[2]) {
        return 0;
    }
    size_t at = 0;
    for (int q = 0; q < 3; ++q) {
        if (memcmp(dfa->data + at, p->part[q], p->len[q]) != 0) {
            return 0;
        }
        at += p->len[q];
    }
    return 1;
}

/* The id of terminal t's automaton in the trie's cache (registered if new); -1: no memory. */
static int32_t automaton_id(const corral_grammar *g, int32_t t) {
    struct corral_walks *w = g->walks;
    if (g->dfa_gen[t] == w->gen) {
        return g->dfa_id[t];
    }
    const dfa_parts p = parts_of(g, t);
    const uint64_t h = hash_parts(&p);
    int32_t id = -1;
    int64_t probe = 0;
    for (;; ++probe) {
        const int64_t *slot = corral_hmap_find(&w->dfa_index, (int64_t)h, probe);
        if (slot == NULL) {
            break;
        }
        if (same_parts(&w->dfas[*slot], &p)) {
            id = (int32_t)*slot;
            break;
        }
    }
    if (id < 0) {
        const size_t size = p.len[0] + p.len[1] + p.len[2];
        uint8_t *data = malloc(size);
        int fresh;
        if (data == NULL ||
            corral_grow((void **)&w->dfas, &w->cap_dfas, w->n_dfas + 1, sizeof(walk_dfa)) < 0 ||
            corral_hmap_put(&w->dfa_index, (int64_t)h, probe, (int64_t)w->n_dfas, &fresh) < 0) {
            free(data);
            return -1;
        }
        size_t at = 0;
        for (int q = 0; q < 3; ++q) {
            memcpy(data + at, p.part[q], p.len[q]);
            at += p.len[q];
        }
        id = (int32_t)w->n_dfas;
        w->dfas[w->n_dfas++] =
            (walk_dfa){(int32_t)(g->dfa_base[t + 1] - g->dfa_base[t]), g->n_classes[t], data, size};
        w->bytes += size;
    }
    g->dfa_id[t] = id;
    g->dfa_gen[t] = w->gen;
    return id;
}

/* The entry of (t, d), walked on first use (from another state's entry when `nested` < 2,
 * derived_from); NULL when out of memory.  Lock held; the cache is not emptied here, so the
 * automaton ids of the walks in progress stay valid. */
static const walk_entry *entry_at(const corral_grammar *g, int32_t t, int32_t d, int nested) {
    struct corral_walks *w = g->walks;
    const int32_t dfa = automaton_id(g, t);
    if (dfa < 0) {
        return NULL;
    }
    const int32_t key = g->wclass[g->dfa_base[t] + d];
    const int64_t *at = corral_hmap_find(&w->index, dfa, key);
    if (at != NULL) {
        return &w->entries[*at];
    }
    walk_entry e;
    if (walk_one(g, t, d, &e, nested) < 0) {
        return NULL;
    }
    const size_t n_words = (g->trie->vocab_size + 31) / 32;
    const size_t nb = entry_bytes(&e, n_words);
    int fresh;
    if (corral_grow((void **)&w->entries, &w->cap, w->n + 1, sizeof(walk_entry)) < 0 ||
        corral_hmap_put(&w->index, dfa, key, (int64_t)w->n, &fresh) < 0) {
        free(e.bits);
        free(e.toks);
        free(e.done);
        return NULL;
    }
    w->entries[w->n] = e;
    w->bytes += nb;
    return &w->entries[w->n++];
}

static const walk_entry *entry_of(const corral_grammar *g, int32_t t, int32_t d) {
    struct corral_walks *w = g->walks;
    if (w->bytes > w->max_bytes && w->n > 0) {
        clear_entries(w);
    }
    return entry_at(g, t, d, 0);
}

int corral_walks_apply(corral_matcher *m, size_t lo, size_t hi, uint32_t *words) {
    const corral_grammar *g = m->g;
    const size_t n_words = (g->trie->vocab_size + 31) / 32;
    int code = CORRAL_ENGINE_OK;
    int fresh = 1; /* words not written yet: the first bitset is copied, not ORed into zeros */
    pthread_mutex_lock(&g->walks->lock);
    for (size_t i = lo; i < hi && code == CORRAL_ENGINE_OK; ++i) {
        const corral_thread th = m->thr[i];
        const corral_lexstate ls = m->lex[th.lex];
        for (int32_t p = 0; p < ls.n; ++p) {
        const int32_t term = m->lex_pairs[ls.lo + 2 * p];
        const walk_entry *e = entry_of(g, term, m->lex_pairs[ls.lo + 2 * p + 1]);
        if (e == NULL ||
            corral_grow((void **)&m->inj, &m->cap_inj, m->n_inj + (size_t)e->n_done,
                        sizeof(corral_inj)) < 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
            break;
        }
        if (e->bits != NULL && fresh) {
            memcpy(words, e->bits, n_words * sizeof(uint32_t));
        } else if (e->bits != NULL) {
            corral_or_words(words, e->bits, n_words);
        } else {
            if (fresh) {
                memset(words, 0, n_words * sizeof(uint32_t));
            }
            for (int32_t k = 0; k < e->n_toks; ++k) {
                words[e->toks[k] >> 5] |= UINT32_C(1) << (e->toks[k] & 31);
            }
        }
        fresh = 0;
        for (int32_t k = 0; k < e->n_done; ++k) {
            m->inj[m->n_inj++] = (corral_inj){e->done[k], th.origin, term};
        }
        if (e->class_ends > 0) {
            const class_slice *cs = &g->walks->slices[e->class_ends - 1];
            if (corral_class_ends(m, th.origin, term, cs->set, cs->ends, cs->n_ends, cs->front,
                                  cs->n_front) < 0) {
                code = CORRAL_ENGINE_NO_MEMORY;
                break;
            }
        }
        if (corral_grow((void **)&m->grp, &m->cap_grp, m->n_grp + (size_t)e->n_block,
                        sizeof(corral_grp)) < 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
            break;
        }
        for (int32_t k = 0; k < e->n_block; ++k) {
            m->grp[m->n_grp++] = (corral_grp){e->block_k[k], th.origin, term};
        }
        }
    }
    pthread_mutex_unlock(&g->walks->lock);
    if (fresh) {
        memset(words, 0, n_words * sizeof(uint32_t));
    }
    return code;
}

int corral_walk_uniform(const corral_grammar *g, int32_t t, int32_t d) {
    pthread_mutex_lock(&g->walks->lock);
    const walk_entry *e = entry_of(g, t, d);
    const int got = e == NULL ? -1 : e->uniform;
    pthread_mutex_unlock(&g->walks->lock);
    return got;
}

const class_slice *corral_class_slice(const corral_grammar *g, const uint64_t set[2], int now) {
    struct corral_walks *w = g->walks;
    for (size_t k = 0; k < w->n_slices; ++k) {
        if (w->slices[k].set[0] == set[0] && w->slices[k].set[1] == set[1]) {
            return w->slices[k].toks != NULL ? &w->slices[k] : NULL;
        }
    }
    /* a set asked for the first time is only noted: its state is walked whole, as cheap as
     * building the slice; a second state of the same set (a length counter) builds it, and so
     * does an accepting loop (`now`: one state, whose lexeme ends the slice lists) */
    if (now) {
        goto build;
    }
    for (size_t k = 0; k < w->n_seen; ++k) {
        if (w->seen[2 * k] == set[0] && w->seen[2 * k + 1] == set[1]) {
            w->seen[2 * k] = w->seen[2 * w->n_seen - 2];
            w->seen[2 * k + 1] = w->seen[2 * w->n_seen - 1];
            --w->n_seen;
            goto build;
        }
    }
    if (w->n_seen == 64) {
        w->n_seen = 0;
    }
    w->seen[2 * w->n_seen] = set[0];
    w->seen[2 * w->n_seen++ + 1] = set[1];
    return NULL;
build:;
    class_slice cs;
    if (w->n_slices >= 64 ||
        corral_grow((void **)&w->slices, &w->cap_slices, w->n_slices + 1, sizeof(class_slice)) <
            0 ||
        corral_class_slice_build(g->trie, set, &cs) < 0) {
        return NULL; /* the whole trie is walked instead */
    }
    w->slices[w->n_slices] = cs;
    w->bytes += cs.bytes;
    return &w->slices[w->n_slices++];
}
