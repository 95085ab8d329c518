/*
 * engine_depth_classes.c - classes of automaton states that no string as long as the longest
 * token tells apart (corral/engine.h), the keys of the root-walk cache (engine_walks.c).
 *
 * Moore's partition refinement (1956), stopped after `rounds` rounds (one per byte of the
 * longest token) or when stable: two states share a class after round r when no string of at
 * most r bytes tells them apart (same acceptance after it).  A length counter far from its
 * bound then walks like its neighbours, so one walk serves all of them.  Each round hashes every
 * state's signature (its class and its successors' classes) into an open-addressing table,
 * checking equal hashes signature for signature.  O(rounds * states * classes).
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

/* Whether states a and b of a terminal's table have equal signatures under `cls`. */
static int same_signature(const int32_t *table, int32_t width, const int32_t *cls, int32_t a,
                          int32_t b) {
    if (cls[a] != cls[b]) {
        return 0;
    }
    for (int32_t c = 0; c < width; ++c) {
        if (cls[table[(int64_t)a * width + c]] != cls[table[(int64_t)b * width + c]]) {
            return 0;
        }
    }
    return 1;
}

int corral_depth_classes(corral_grammar *g, int32_t rounds) {
    corral_hmap h;
    int32_t *next = NULL;
    size_t cap_next = 0;
    if (corral_hmap_init(&h, 64) < 0) {
        return CORRAL_ENGINE_NO_MEMORY;
    }
    for (int32_t t = 0; t < g->n_terms; ++t) {
        const int32_t n = (int32_t)(g->dfa_base[t + 1] - g->dfa_base[t]);
        const int32_t width = g->n_classes[t];
        const int32_t *table = g->table + g->tbase[t];
        const uint8_t *acc = g->accept + g->dfa_base[t];
        int32_t *cls = g->wclass + g->dfa_base[t];
        if (corral_grow((void **)&next, &cap_next, (size_t)n, sizeof(int32_t)) < 0) {
            corral_hmap_free(&h);
            free(next);
            return CORRAL_ENGINE_NO_MEMORY;
        }
        int used[3] = {0, 0, 0};
        for (int32_t s = 0; s < n; ++s) {
            cls[s] = s == 0 ? 0 : (acc[s] ? 1 : 2);
            used[cls[s]] = 1;
        }
        /* the classes present (not always 3: with no live non-accepting state, a first round
         * that splits off one class would otherwise look stable) */
        int32_t n_cls = used[0] + used[1] + used[2];
        for (int32_t r = 0; r < rounds; ++r) {
            corral_hmap_clear(&h);
            int32_t k = 0;
            for (int32_t s = 0; s < n; ++s) {
                uint64_t hash = (uint64_t)cls[s] * UINT64_C(0x9E3779B97F4A7C15);
                for (int32_t c = 0; c < width; ++c) {
                    hash = (hash ^ (uint64_t)cls[table[(int64_t)s * width + c]]) *
                           UINT64_C(1099511628211);
                }
                for (int64_t probe = 0;; ++probe) {
                    int64_t *slot = corral_hmap_find(&h, (int64_t)hash, probe);
                    if (slot == NULL) {
                        int fresh;
                        if (corral_hmap_put(&h, (int64_t)hash, probe, ((int64_t)s << 32) | k,
                                            &fresh) < 0) {
                            corral_hmap_free(&h);
                            free(next);
                            return CORRAL_ENGINE_NO_MEMORY;
                        }
                        next[s] = k++;
                        break;
                    }
                    if (same_signature(table, width, cls, (int32_t)(*slot >> 32), s)) {
                        next[s] = (int32_t)(*slot & 0xFFFFFFFF);
                        break;
                    }
                }
            }
            memcpy(cls, next, (size_t)n * sizeof(int32_t));
            if (k == n_cls) {
                break; /* stable: no string of any length tells the classes apart */
            }
            n_cls = k;
        }
    }
    corral_hmap_free(&h);
    free(next);
    return CORRAL_ENGINE_OK;
}
