/*
 * bounded_classes.c - the classes of a DFA's states that no string of at most `rounds` bytes
 * tells apart (corral/corral.h): Moore's (1956) partition after `rounds` rounds.
 *
 * Moore's round r+1 splits each block of round r by the signature "own block, successors'
 * blocks".  Done as written, every round costs O(states * classes), and a length counter
 * splits off one state per round, so a 14,000-state counter with 128 rounds (Qwen's longest
 * token) took tens of milliseconds.  Here a round looks only at the predecessors of the states
 * that changed block in the round before (Hopcroft's observation, 1971): a state none of whose
 * successors moved keeps the signature of its block's other untouched states, so it stays.
 * When a block splits, the part holding its untouched states, or else its largest part, keeps
 * the block's number and only the others move: a state moves O(log n) times, and the total
 * work is O(edges * classes * log n) rather than O(rounds * states * classes).  The partition
 * is exactly Moore's, round for round (the Python twin, corral.automata.minimize).
 *
 * Blocks are ranges of one array of states (a refinable partition, Valmari and Lehtinen 2008):
 * a part that leaves a block is swapped to its end and becomes the next block.
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t *pred_ptr, *preds;     /* reverse edges (none into the dead state), CSR */
    int32_t *elems, *loc;          /* states grouped by block; each state's place in elems */
    int32_t *bstart, *bend;        /* each block's range in elems */
    int32_t *tmark, *bmark;        /* round stamps: touched states, affected blocks */
    int32_t *thead, *tnext, *tcnt; /* per affected block, its touched states */
    int32_t *blocks;               /* the affected blocks of this round, in order */
    int32_t *rep;                  /* per affected block: an untouched state, or -1 */
    int32_t *leader, *gsize, *ghead, *gnext, *gmark, *lnext; /* per state: its group */
    int32_t *moved;                /* the states that changed block in the last round */
    int32_t n_moved;
    uint64_t *hkey;                /* this round's map from signature hash to group leader */
    int32_t *hval, *hstamp;
    size_t hmask;
    size_t cap_states, cap_edges; /* what the arrays hold (kept between automata) */
    int32_t stamp;                /* the last stamp used: stamps only grow, so nothing is
                                     cleared between rounds or automata */
} work;

static uint64_t signature_hash(const int32_t *table, int32_t width, const int32_t *cls,
                               int32_t block, int32_t s) {
    uint64_t h = ((uint64_t)block + 1) * UINT64_C(0x9E3779B97F4A7C15);
    const int32_t *row = table + (int64_t)s * width;
    for (int32_t c = 0; c < width; ++c) {
        h = (h ^ (uint64_t)(uint32_t)cls[row[c]]) * UINT64_C(1099511628211);
    }
    return h ^ (h >> 31);
}

static int same_successors(const int32_t *table, int32_t width, const int32_t *cls, int32_t a,
                           int32_t b) {
    const int32_t *ra = table + (int64_t)a * width, *rb = table + (int64_t)b * width;
    for (int32_t c = 0; c < width; ++c) {
        if (cls[ra[c]] != cls[rb[c]]) {
            return 0;
        }
    }
    return 1;
}

/* The leader of s's group in its block: the first state seen this round with its block and
 * signature (s itself when it is the first). */
static int32_t group_of(work *w, const int32_t *table, int32_t width, const int32_t *cls,
                        int32_t block, int32_t s, int32_t stamp) {
    const uint64_t key = signature_hash(table, width, cls, block, s);
    for (size_t i = key & w->hmask;; i = (i + 1) & w->hmask) {
        if (w->hstamp[i] != stamp) {
            w->hstamp[i] = stamp;
            w->hkey[i] = key;
            w->hval[i] = s;
            return s;
        }
        const int32_t l = w->hval[i];
        if (w->hkey[i] == key && cls[l] == cls[s] && same_successors(table, width, cls, l, s)) {
            return l;
        }
    }
}

/* Move the states of the list starting at `first` out of `block` into a new block. */
static void move_part(work *w, int32_t *cls, int32_t block, int32_t first, int32_t *n_blocks) {
    const int32_t nb = (*n_blocks)++;
    const int32_t end = w->bend[block];
    for (int32_t s = first; s >= 0; s = w->gnext[s]) {
        const int32_t at = w->loc[s], last = w->bend[block] - 1;
        const int32_t other = w->elems[last];
        w->elems[last] = s;
        w->loc[s] = last;
        w->elems[at] = other;
        w->loc[other] = at;
        w->bend[block] = last;
        cls[s] = nb;
        w->moved[w->n_moved++] = s;
    }
    w->bstart[nb] = w->bend[block];
    w->bend[nb] = end;
}

/* Phase 1: group each affected block's touched states (and one untouched state) by
 * signature, reading the partition of the round before. */
static void group_touched(work *w, const int32_t *table, int32_t width, const int32_t *cls,
                          int32_t n_affected, int32_t stamp) {
    for (int32_t i = 0; i < n_affected; ++i) {
        const int32_t b = w->blocks[i];
        int32_t r = -1;
        if (w->tcnt[b] < w->bend[b] - w->bstart[b]) {
            for (int32_t at = w->bstart[b]; r < 0; ++at) {
                if (w->tmark[w->elems[at]] != stamp) {
                    r = w->elems[at];
                }
            }
            (void)group_of(w, table, width, cls, b, r, stamp);
        }
        w->rep[b] = r;
        for (int32_t s = w->thead[b]; s >= 0; s = w->tnext[s]) {
            const int32_t l = group_of(w, table, width, cls, b, s, stamp);
            w->leader[s] = l;
            if (l == s) {
                w->gsize[s] = 0;
            }
            w->gsize[l]++;
        }
    }
}

/* Phase 2: in each affected block, the part with an untouched state (all of them share its
 * signature) or else the largest part stays; every other part becomes a new block. */
static void split_blocks(work *w, int32_t *cls, int32_t n_affected, int32_t stamp,
                         int32_t *n_blocks) {
    w->n_moved = 0;
    for (int32_t i = 0; i < n_affected; ++i) {
        const int32_t b = w->blocks[i];
        int32_t stay = w->rep[b];
        if (stay < 0) {
            for (int32_t s = w->thead[b]; s >= 0; s = w->tnext[s]) {
                const int32_t l = w->leader[s];
                if (stay < 0 || w->gsize[l] > w->gsize[stay]) {
                    stay = l;
                }
            }
        }
        int32_t first = -1, last = -1;
        for (int32_t s = w->thead[b]; s >= 0; s = w->tnext[s]) {
            const int32_t l = w->leader[s];
            if (l == stay) {
                continue;
            }
            if (w->gmark[l] != stamp) {
                w->gmark[l] = stamp;
                w->ghead[l] = -1;
                w->lnext[l] = -1;
                if (last >= 0) {
                    w->lnext[last] = l;
                } else {
                    first = l;
                }
                last = l;
            }
            w->gnext[s] = w->ghead[l];
            w->ghead[l] = s;
        }
        for (int32_t l = first; l >= 0; l = w->lnext[l]) {
            move_part(w, cls, b, w->ghead[l], n_blocks);
        }
    }
}

/* Mark s touched in this round, listing it under its block (blocks of one state never split
 * and are left out). */
static void touch(work *w, const int32_t *cls, int32_t s, int32_t stamp, int32_t *n_affected) {
    const int32_t b = cls[s];
    if (w->tmark[s] == stamp || w->bend[b] - w->bstart[b] < 2) {
        return;
    }
    w->tmark[s] = stamp;
    if (w->bmark[b] != stamp) {
        w->bmark[b] = stamp;
        w->thead[b] = -1;
        w->tcnt[b] = 0;
        w->blocks[(*n_affected)++] = b;
    }
    w->tnext[s] = w->thead[b];
    w->thead[b] = s;
    w->tcnt[b]++;
}

static void work_free(work *w) {
    int32_t **arrays[] = {&w->pred_ptr, &w->preds,  &w->elems,  &w->loc,    &w->bstart,
                          &w->bend,     &w->tmark,  &w->bmark,  &w->thead,  &w->tnext,
                          &w->tcnt,     &w->blocks, &w->rep,    &w->leader, &w->gsize,
                          &w->ghead,    &w->gnext,  &w->gmark,  &w->lnext,  &w->moved,
                          &w->hval,     &w->hstamp};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; ++i) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
    free(w->hkey);
    w->hkey = NULL;
    w->cap_states = w->cap_edges = 0;
}

void corral_classes_work_free(corral_classes_work *cw) {
    if (cw != NULL && cw->data != NULL) {
        work_free((work *)cw->data);
        free(cw->data);
        cw->data = NULL;
    }
}

/* Zero every stamp array and start the stamps again. */
static void reset_stamps(work *w) {
    memset(w->tmark, 0, w->cap_states * sizeof(int32_t));
    memset(w->bmark, 0, w->cap_states * sizeof(int32_t));
    memset(w->gmark, 0, w->cap_states * sizeof(int32_t));
    memset(w->hstamp, 0, (w->hmask + 1) * sizeof(int32_t));
    w->stamp = 0;
}

/* Make room for m states and n_edges edges (arrays kept from earlier automata when large
 * enough).  -1 without memory (the work is then freed). */
static int work_reserve(work *w, size_t m, size_t n_edges) {
    if (m > w->cap_states) {
        size_t cap = w->cap_states ? w->cap_states : 64;
        while (cap < m) {
            cap *= 2;
        }
        int32_t **per_state[] = {&w->elems, &w->loc,    &w->bstart, &w->bend,  &w->tmark,
                                 &w->bmark, &w->thead,  &w->tnext,  &w->tcnt,  &w->blocks,
                                 &w->rep,   &w->leader, &w->gsize,  &w->ghead, &w->gnext,
                                 &w->gmark, &w->lnext,  &w->moved,  &w->pred_ptr};
        for (size_t i = 0; i < sizeof per_state / sizeof per_state[0]; ++i) {
            free(*per_state[i]);
            if ((*per_state[i] = malloc((cap + 1) * sizeof(int32_t))) == NULL) {
                work_free(w);
                return -1;
            }
        }
        size_t hcap = 16;
        while (hcap < 2 * cap) {
            hcap *= 2;
        }
        free(w->hkey);
        free(w->hval);
        free(w->hstamp);
        w->hkey = malloc(hcap * sizeof(uint64_t));
        w->hval = malloc(hcap * sizeof(int32_t));
        w->hstamp = malloc(hcap * sizeof(int32_t));
        if (w->hkey == NULL || w->hval == NULL || w->hstamp == NULL) {
            work_free(w);
            return -1;
        }
        w->hmask = hcap - 1;
        w->cap_states = cap;
        reset_stamps(w);
    }
    if (n_edges > w->cap_edges) {
        size_t cap = w->cap_edges ? w->cap_edges : 256;
        while (cap < n_edges) {
            cap *= 2;
        }
        free(w->preds);
        if ((w->preds = malloc(cap * sizeof(int32_t))) == NULL) {
            work_free(w);
            return -1;
        }
        w->cap_edges = cap;
    }
    return 0;
}

/* The reverse edges of the table, leaving out those into the dead state. */
static void build_preds(work *w, const int32_t *table, int32_t n, int32_t width) {
    const size_t n_edges = (size_t)n * (size_t)width;
    memset(w->pred_ptr, 0, ((size_t)n + 1) * sizeof(int32_t));
    for (size_t e = 0; e < n_edges; ++e) {
        w->pred_ptr[table[e] + 1] += table[e] != 0;
    }
    for (int32_t s = 0; s < n; ++s) {
        w->pred_ptr[s + 1] += w->pred_ptr[s];
    }
    int32_t *fill = w->tnext; /* scratch: next free place per target */
    memcpy(fill, w->pred_ptr, (size_t)n * sizeof(int32_t));
    for (int32_t s = 0; s < n; ++s) {
        for (int32_t c = 0; c < width; ++c) {
            const int32_t t = table[(int64_t)s * width + c];
            if (t != 0) {
                w->preds[fill[t]++] = s;
            }
        }
    }
}

int corral_bounded_classes(const int32_t *table, int32_t n, int32_t width,
                           const uint8_t *accepting, int32_t rounds, int32_t *cls,
                           corral_classes_work *cw) {
    if (n <= 0) {
        return 0;
    }
    corral_classes_work own = {NULL};
    if (cw == NULL) {
        cw = &own;
    }
    if (cw->data == NULL && (cw->data = calloc(1, sizeof(work))) == NULL) {
        return -1;
    }
    work *w = (work *)cw->data;
    if (work_reserve(w, (size_t)n + 3, (size_t)n * (size_t)width) < 0) {
        corral_classes_work_free(cw);
        return -1;
    }
    if (w->stamp > INT32_MAX - rounds - 2) {
        reset_stamps(w);
    }
    const int32_t base = w->stamp;
    w->stamp += rounds + 1;
    build_preds(w, table, n, width);
    int32_t size[3] = {0, 0, 0};
    for (int32_t s = 0; s < n; ++s) {
        cls[s] = s == 0 ? 0 : (accepting[s] ? 1 : 2);
        size[cls[s]]++;
    }
    w->bstart[0] = 0;
    for (int b = 0; b < 3; ++b) {
        w->bend[b] = w->bstart[b] + size[b];
        if (b < 2) {
            w->bstart[b + 1] = w->bend[b];
        }
    }
    int32_t n_blocks = 3;
    {
        int32_t fill[3] = {w->bstart[0], w->bstart[1], w->bstart[2]};
        for (int32_t s = 0; s < n; ++s) {
            w->loc[s] = fill[cls[s]]++;
            w->elems[w->loc[s]] = s;
        }
    }
    for (int32_t r = 0; r < rounds; ++r) {
        const int32_t stamp = base + r + 1;
        int32_t n_affected = 0;
        if (r == 0) {
            for (int32_t s = 0; s < n; ++s) {
                touch(w, cls, s, stamp, &n_affected);
            }
        } else {
            for (int32_t i = 0; i < w->n_moved; ++i) {
                const int32_t m = w->moved[i];
                for (int32_t e = w->pred_ptr[m]; e < w->pred_ptr[m + 1]; ++e) {
                    touch(w, cls, w->preds[e], stamp, &n_affected);
                }
            }
        }
        group_touched(w, table, width, cls, n_affected, stamp);
        split_blocks(w, cls, n_affected, stamp, &n_blocks);
        if (w->n_moved == 0) {
            break; /* stable: no string of any length tells the blocks apart */
        }
    }
    corral_classes_work_free(&own);
    return 0;
}
