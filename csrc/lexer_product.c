/*
 * lexer_product.c - the product automaton of several byte DFAs (corral/corral.h).
 *
 * The classic construction of a scanner's DFA from one DFA per token kind (lex; Aho, Sethi and
 * Ullman, "Compilers", section 3.8): a breadth-first search over tuples of part states from the
 * tuple of initial states, one transition per byte.  Tuples are numbered in order of
 * discovery through an open-addressing hash table keyed by the tuple's part states.
 *
 * No Python here: the caller hands over validated tables.
 */
#include "corral/corral.h"

#include <stdlib.h>
#include <string.h>

typedef struct builder {
    size_t n_parts;
    size_t n_states;
    size_t cap_states;   /* rows allocated in table and tuples */
    int32_t *table;      /* cap_states * 256 */
    int32_t *tuples;     /* cap_states * n_parts */
    int32_t *slots;      /* hash slots: state id or -1 */
    size_t n_slots;      /* a power of two, more than twice n_states */
} builder;

/* FNV-1a over the part states of a tuple. */
static uint64_t hash_tuple(const int32_t *tuple, size_t n) {
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t j = 0; j < n; ++j) {
        uint32_t v = (uint32_t)tuple[j];
        for (int k = 0; k < 4; ++k) {
            h ^= (uint64_t)(v & 0xFFu);
            h *= UINT64_C(1099511628211);
            v >>= 8;
        }
    }
    return h;
}

static const int32_t *tuple_of(const builder *b, size_t state) {
    return b->tuples + state * b->n_parts;
}

/* The slot where `tuple` is, or the empty slot where it would go. */
static size_t find_slot(const builder *b, const int32_t *tuple) {
    const size_t mask = b->n_slots - 1;
    size_t i = (size_t)hash_tuple(tuple, b->n_parts) & mask;
    for (;;) {
        const int32_t id = b->slots[i];
        if (id < 0 ||
            memcmp(tuple_of(b, (size_t)id), tuple, b->n_parts * sizeof(int32_t)) == 0) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow_slots(builder *b) {
    const size_t n_slots = b->n_slots * 2;
    int32_t *slots = malloc(n_slots * sizeof(int32_t));
    if (slots == NULL) {
        return -1;
    }
    free(b->slots);
    b->slots = slots;
    b->n_slots = n_slots;
    memset(slots, 0xFF, n_slots * sizeof(int32_t));
    for (size_t s = 1; s < b->n_states; ++s) {
        slots[find_slot(b, tuple_of(b, s))] = (int32_t)s;
    }
    return 0;
}

static int grow_states(builder *b) {
    const size_t cap = b->cap_states * 2;
    int32_t *table = realloc(b->table, cap * 256 * sizeof(int32_t));
    if (table == NULL) {
        return -1;
    }
    b->table = table;
    int32_t *tuples = realloc(b->tuples, cap * (b->n_parts ? b->n_parts : 1) * sizeof(int32_t));
    if (tuples == NULL) {
        return -1;
    }
    b->tuples = tuples;
    b->cap_states = cap;
    return 0;
}

/* Append `tuple` as a new state with an empty row; its id, or -1 without memory. */
static int64_t add_state(builder *b, const int32_t *tuple) {
    if (b->n_states == b->cap_states && grow_states(b) < 0) {
        return -1;
    }
    if (2 * (b->n_states + 1) >= b->n_slots && grow_slots(b) < 0) {
        return -1;
    }
    const size_t id = b->n_states++;
    if (b->n_parts) {
        memcpy(b->tuples + id * b->n_parts, tuple, b->n_parts * sizeof(int32_t));
    }
    memset(b->table + id * 256, 0, 256 * sizeof(int32_t));
    b->slots[find_slot(b, tuple)] = (int32_t)id;
    return (int64_t)id;
}

void corral_product_free(corral_product *product) {
    free(product->table);
    free(product->tuples);
    product->table = NULL;
    product->tuples = NULL;
    product->n_states = 0;
}

int corral_lexer_product(const int32_t *const *tables, const size_t *n_states, size_t n_parts,
                         size_t max_states, corral_product *out) {
    const size_t width = n_parts ? n_parts : 1;
    builder b = {n_parts, 0, 64, NULL, NULL, NULL, 256};
    int32_t *next = malloc(width * sizeof(int32_t));
    size_t *live = malloc(width * sizeof(size_t));
    size_t *bound = malloc(width * sizeof(size_t));
    const int32_t **rows = malloc(width * sizeof(int32_t *));
    b.table = malloc(b.cap_states * 256 * sizeof(int32_t));
    b.tuples = malloc(b.cap_states * width * sizeof(int32_t));
    b.slots = malloc(b.n_slots * sizeof(int32_t));
    int code = CORRAL_PRODUCT_NO_MEMORY;
    if (next == NULL || live == NULL || bound == NULL || rows == NULL || b.table == NULL || b.tuples == NULL ||
        b.slots == NULL) {
        goto done;
    }
    memset(b.slots, 0xFF, b.n_slots * sizeof(int32_t));
    /* State 0, the dead tuple, is never looked up: it is not in the hash table. */
    b.n_states = 1;
    memset(b.table, 0, 256 * sizeof(int32_t));
    memset(b.tuples, 0, width * sizeof(int32_t));
    for (size_t j = 0; j < n_parts; ++j) {
        next[j] = 1;
    }
    if (add_state(&b, next) < 0) {
        goto done;
    }
    for (size_t s = 1; s < b.n_states; ++s) {
        size_t n_live = 0;
        for (size_t j = 0; j < n_parts; ++j) {
            const int32_t part_state = tuple_of(&b, s)[j];
            if (part_state) {
                live[n_live] = j;
                bound[n_live] = n_states[j];
                rows[n_live] = tables[j] + (size_t)part_state * 256;
                ++n_live;
            }
        }
        for (unsigned byte = 0; byte < 256; ++byte) {
            int any = 0;
            memset(next, 0, width * sizeof(int32_t));
            for (size_t k = 0; k < n_live; ++k) {
                const int32_t to = rows[k][byte];
                if (to < 0 || (size_t)to >= bound[k]) {
                    code = CORRAL_PRODUCT_BAD_TABLE;
                    goto done;
                }
                if (to) {
                    next[live[k]] = to;
                    any = 1;
                }
            }
            if (!any) {
                continue;
            }
            const int32_t found = b.slots[find_slot(&b, next)];
            int64_t id = found;
            if (found < 0) {
                if (b.n_states >= max_states && n_parts > 1) {
                    code = CORRAL_PRODUCT_TOO_LARGE;
                    goto done;
                }
                if (b.n_states >= (size_t)INT32_MAX) {
                    goto done; /* ids are int32: treat as out of memory */
                }
                id = add_state(&b, next);
                if (id < 0) {
                    goto done;
                }
            }
            b.table[s * 256 + byte] = (int32_t)id;
        }
    }
    out->table = b.table;
    out->tuples = b.tuples;
    out->n_states = b.n_states;
    b.table = NULL;
    b.tuples = NULL;
    code = CORRAL_PRODUCT_OK;
done:
    free(next);
    free(live);
    free(bound);
    free(rows);
    free(b.table);
    free(b.tuples);
    free(b.slots);
    return code;
}
