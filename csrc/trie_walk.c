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

void corral_walk_free(corral_walk *walk) {
    free(walk->allowed);
    free(walk->done_nodes);
    free(walk->done_states);
    free(walk->level_ends);
    walk->allowed = NULL;
    walk->done_nodes = walk->done_states = walk->level_ends = NULL;
    walk->n_levels = 0;
}

/* Mark the tokens ending at `node`; -1 when the arrays are inconsistent. */
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
        allowed[token] = 1;
    }
    return 0;
}

int corral_trie_walk(const corral_trie *trie, const int32_t *table, size_t n_states,
                     const uint8_t *accepting, size_t start, corral_walk *out) {
    const size_t n = trie->n_nodes;
    const size_t cap = n > 0 ? n : 1;
    corral_walk w = {NULL, NULL, NULL, NULL, 0};
    size_t n_alive = 0;
    int64_t *front_nodes = malloc(cap * sizeof(int64_t));
    int64_t *front_states = malloc(cap * sizeof(int64_t));
    int64_t *next_nodes = malloc(cap * sizeof(int64_t));
    int64_t *next_states = malloc(cap * sizeof(int64_t));
    w.allowed = calloc(trie->vocab_size > 0 ? trie->vocab_size : 1, 1);
    w.done_nodes = malloc(cap * sizeof(int64_t));
    w.done_states = malloc(cap * sizeof(int64_t));
    w.level_ends = malloc((cap + 1) * sizeof(int64_t));
    int code = CORRAL_WALK_NO_MEMORY;
    if (front_nodes == NULL || front_states == NULL || next_nodes == NULL ||
        next_states == NULL || w.allowed == NULL || w.done_nodes == NULL ||
        w.done_states == NULL || w.level_ends == NULL) {
        goto done;
    }
    code = CORRAL_WALK_BAD_INPUT;
    if (n == 0 || start >= n_states) {
        goto done;
    }
    size_t n_front = 1;
    size_t n_done = 0;
    front_nodes[0] = 0;
    front_states[0] = (int64_t)start;
    while (n_front > 0) {
        size_t n_next = 0;
        const size_t level_start = n_alive;
        for (size_t i = 0; i < n_front; ++i) {
            const size_t node = (size_t)front_nodes[i];
            const int32_t *row = table + (size_t)front_states[i] * 256;
            const int64_t lo = trie->child_ptr[node];
            const int64_t hi = trie->child_ptr[node + 1];
            if (lo < 0 || hi < lo || (size_t)hi > trie->n_child_ids) {
                goto done;
            }
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
    *out = w;
    w.allowed = NULL;
    w.done_nodes = w.done_states = w.level_ends = NULL;
    code = CORRAL_WALK_OK;
done:
    corral_walk_free(&w);
    free(front_nodes);
    free(front_states);
    free(next_nodes);
    free(next_states);
    return code;
}
