/*
 * trie_walk.c - a byte automaton stepped down the whole token trie (corral/corral.h).
 *
 * The level-synchronous trie walk of llguidance's and XGrammar's token masks: the frontier
 * of one level is the surviving nodes of the level above that have children; a child whose
 * byte kills the automaton is dropped with its whole subtrie.  In a trie each node has one
 * path from the root, so each node is visited at most once and every buffer is bounded by the
 * number of nodes.
 *
 * No Python here: the caller hands over plain arrays; offsets, ids and states are checked as
 * they are read, so inconsistent arrays give CORRAL_WALK_BAD_INPUT, never a wild read.
 */
#include "corral/corral.h"

#include <stdlib.h>

#include "corral/sort_impl.h"

/* A token end of a `moves` walk: its state and node (as met), or its state and its index
 * among those met (to sort them). */
typedef struct end_key {
    int64_t state;
    int64_t at;
} end_key;

static inline int end_less(const end_key *a, const end_key *b) {
    return a->state < b->state || (a->state == b->state && a->at < b->at);
}

/* Sort token ends by state, then by the order met (corral/sort_impl.h). */
CORRAL_DEFINE_SORT(sort_ends, end_key, end_less)

void corral_walk_free(corral_walk *walk) {
    free(walk->allowed);
    free(walk->done_nodes);
    free(walk->done_states);
    free(walk->level_ends);
    free(walk->end_nodes);
    free(walk->group_states);
    free(walk->group_ends);
    walk->allowed = NULL;
    walk->done_nodes = walk->done_states = walk->level_ends = NULL;
    walk->end_nodes = walk->group_states = walk->group_ends = NULL;
    walk->n_levels = walk->n_ends = walk->n_groups = 0;
    walk->work = 0;
}

/* Group the n token ends `met` (state, node), in the order met, by state into
 * walk->end_nodes and the groups; `keys` is scratch.  Every buffer holds at least n entries. */
static void group_ends(corral_walk *walk, const end_key *met, end_key *keys, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        keys[i] = (end_key){met[i].state, (int64_t)i};
    }
    sort_ends(keys, n);
    walk->n_groups = 0;
    for (size_t i = 0; i < n; ++i) {
        walk->end_nodes[i] = met[keys[i].at].at;
        if (i == 0 || keys[i].state != keys[i - 1].state) {
            walk->group_states[walk->n_groups++] = keys[i].state;
        }
        walk->group_ends[walk->n_groups - 1] = (int64_t)i + 1;
    }
    walk->n_ends = n;
}

/* Mark the tokens ending at `node` (only check them when `allowed` is NULL); -1 when the
 * arrays are inconsistent. */
static int mark_tokens(const corral_trie *trie, size_t node, uint8_t *allowed) {
    const int64_t lo = trie->node_tok_ptr[node];
    const int64_t hi = trie->node_tok_ptr[node + 1];
    if (lo < 0 || hi < lo || (size_t)hi > trie->n_tok_ids) {
        return -1;
    }
    for (int64_t k = lo; k < hi; ++k) {
        const int64_t token = trie->node_tok_ids[k];
        if (token < 0 || (size_t)token >= trie->vocab_size) {
            return -1;
        }
        if (allowed != NULL) {
            allowed[token] = 1;
        }
    }
    return 0;
}

int corral_trie_walk(const corral_trie *trie, const int32_t *table, size_t n_states,
                     const uint8_t *accepting, size_t start, size_t from, int moves,
                     corral_walk *out) {
    const size_t n = trie->n_nodes;
    const size_t cap = n > 0 ? n : 1;
    corral_walk w = {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, 0, 0};
    end_key *met = NULL; /* with `moves`: the token ends as met (state, node) */
    end_key *keys = NULL;
    size_t n_met = 0;
    size_t n_alive = 0;
    int64_t *front_nodes = malloc(cap * sizeof(int64_t));
    int64_t *front_states = malloc(cap * sizeof(int64_t));
    int64_t *next_nodes = malloc(cap * sizeof(int64_t));
    int64_t *next_states = malloc(cap * sizeof(int64_t));
    w.allowed = moves ? NULL : calloc(trie->vocab_size > 0 ? trie->vocab_size : 1, 1);
    w.done_nodes = malloc(cap * sizeof(int64_t));
    w.done_states = malloc(cap * sizeof(int64_t));
    w.level_ends = malloc((cap + 1) * sizeof(int64_t));
    if (moves) {
        w.end_nodes = malloc(cap * sizeof(int64_t));
        w.group_states = malloc(cap * sizeof(int64_t));
        w.group_ends = malloc(cap * sizeof(int64_t));
        met = malloc(cap * sizeof(end_key));
        keys = malloc(cap * sizeof(end_key));
    }
    int code = CORRAL_WALK_NO_MEMORY;
    if (front_nodes == NULL || front_states == NULL || next_nodes == NULL ||
        next_states == NULL || (!moves && w.allowed == NULL) || w.done_nodes == NULL ||
        w.done_states == NULL || w.level_ends == NULL ||
        (moves && (w.end_nodes == NULL || w.group_states == NULL || w.group_ends == NULL ||
                   met == NULL || keys == NULL))) {
        goto done;
    }
    code = CORRAL_WALK_BAD_INPUT;
    if (n == 0 || start >= n_states || from >= n) {
        goto done;
    }
    size_t n_front = 1;
    size_t n_done = 0;
    front_nodes[0] = (int64_t)from;
    front_states[0] = (int64_t)start;
    while (n_front > 0) {
        size_t n_next = 0;
        const size_t level_start = n_alive;
        int64_t kids = 0;
        for (size_t i = 0; i < n_front; ++i) {
            const size_t node = (size_t)front_nodes[i];
            const int32_t *row = table + (size_t)front_states[i] * 256;
            const int64_t lo = trie->child_ptr[node];
            const int64_t hi = trie->child_ptr[node + 1];
            if (lo < 0 || hi < lo || (size_t)hi > trie->n_child_ids) {
                goto done;
            }
            kids += hi - lo;
            for (int64_t c = lo; c < hi; ++c) {
                const int64_t kid = trie->child_ids[c];
                if (kid <= 0 || (size_t)kid >= n) {
                    goto done;
                }
                const int32_t to = row[trie->node_byte[kid]];
                if (to < 0 || (size_t)to >= n_states) {
                    goto done;
                }
                if (to == 0) {
                    continue;
                }
                if (n_alive >= cap || mark_tokens(trie, (size_t)kid, w.allowed) < 0) {
                    goto done; /* a node reached twice (not a trie), or bad token lists */
                }
                ++n_alive;
                if (moves && trie->node_tok_ptr[kid + 1] > trie->node_tok_ptr[kid]) {
                    met[n_met++] = (end_key){to, kid}; /* n_met <= n_alive <= cap */
                }
                const int64_t k_lo = trie->child_ptr[kid];
                const int64_t k_hi = trie->child_ptr[kid + 1];
                if (k_hi > k_lo) {
                    next_nodes[n_next] = kid;
                    next_states[n_next] = to;
                    ++n_next;
                    if (accepting[to]) {
                        w.done_nodes[n_done] = kid;
                        w.done_states[n_done] = to;
                        ++n_done;
                    }
                }
            }
        }
        w.work += 1 + kids / 64;
        if (n_alive == level_start) {
            break;
        }
        w.level_ends[w.n_levels++] = (int64_t)n_done;
        int64_t *swap = front_nodes;
        front_nodes = next_nodes;
        next_nodes = swap;
        swap = front_states;
        front_states = next_states;
        next_states = swap;
        n_front = n_next;
    }
    if (moves) {
        group_ends(&w, met, keys, n_met);
    }
    *out = w;
    w.allowed = NULL;
    w.done_nodes = w.done_states = w.level_ends = NULL;
    w.end_nodes = w.group_states = w.group_ends = NULL;
    code = CORRAL_WALK_OK;
done:
    corral_walk_free(&w);
    free(front_nodes);
    free(front_states);
    free(next_nodes);
    free(next_states);
    free(met);
    free(keys);
    return code;
}
