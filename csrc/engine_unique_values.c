/*
 * engine_unique_values.c - canonical texts of JSON container items (corral/engine_impl.h).
 *
 * The twin of corral.constraint_engine.unique_values.canonical; the specification is
 * docs/design/unique_items.md.  A container item of a uniqueItems array is written in free
 * whitespace and member order, its scalars canonically, so two items are equal JSON values
 * exactly when their canonical texts are equal: whitespace outside strings dropped, the members
 * of every object sorted by key text (byte order, stable), a key written twice keeping its
 * last value.  One pass splits the text into tokens and builds the tree as node records; an
 * iterative post-order pass writes each node's canonical text into one output buffer.  No
 * recursion: nesting depth is bounded by memory only.
 */
#include "corral/engine_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct cnode {
    int32_t kind;      /* 0 scalar, 1 array, 2 object */
    int32_t a, b;      /* the scalar's (or the opening bracket's) bytes in the input */
    int32_t ka, kb;    /* the member's key in the input (-1: not a member) */
    int32_t first;     /* first child, -1: none */
    int32_t next;      /* next sibling, -1: none */
    int32_t last;      /* last child (appending), -1: none */
    int32_t n_kids;
} cnode;

static int is_sep(uint8_t b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == ',' || b == ':';
}

typedef struct cctx {
    const uint8_t *t;
    const cnode *nodes;
} cctx;

static int key_less(const cctx *c, int32_t x, int32_t y) {
    const cnode *nx = &c->nodes[x], *ny = &c->nodes[y];
    const size_t lx = (size_t)(nx->kb - nx->ka), ly = (size_t)(ny->kb - ny->ka);
    const int r = memcmp(c->t + nx->ka, c->t + ny->ka, lx < ly ? lx : ly);
    return r < 0 || (r == 0 && lx < ly);
}

static int key_equal(const cctx *c, int32_t x, int32_t y) {
    const cnode *nx = &c->nodes[x], *ny = &c->nodes[y];
    return nx->kb - nx->ka == ny->kb - ny->ka &&
           memcmp(c->t + nx->ka, c->t + ny->ka, (size_t)(nx->kb - nx->ka)) == 0;
}

/* Stable bottom-up merge sort of v[0 .. n) by key, tmp of the same size. */
static void sort_members(const cctx *c, int32_t *v, int32_t *tmp, size_t n) {
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            const size_t mid = lo + w < n ? lo + w : n;
            const size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                tmp[k++] = key_less(c, v[j], v[i]) ? v[j++] : v[i++];
            }
            while (i < mid) {
                tmp[k++] = v[i++];
            }
            while (j < hi) {
                tmp[k++] = v[j++];
            }
        }
        memcpy(v, tmp, n * sizeof(int32_t));
    }
}

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
} obuf;

static int put(obuf *o, const uint8_t *s, size_t n) {
    if (corral_grow((void **)&o->p, &o->cap, o->n + n + 1, 1) < 0) {
        return -1;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    return 0;
}

/* Post-order writer frame: node, and the index of the next member to write. */
typedef struct wframe {
    int32_t node;
    int32_t k;
    int32_t lo; /* the node's sorted members in order[lo .. lo + n_kids) */
} wframe;

int corral_uq_canonical(const uint8_t *t, size_t n, uint8_t **out, size_t *out_n) {
    cnode *nodes = NULL;
    size_t n_nodes = 0, cap_nodes = 0;
    int32_t *stack = NULL, *order = NULL, *tmp = NULL;
    wframe *ws = NULL;
    size_t cap_stack = 0, top = 0;
    obuf o = {NULL, 0, 0};
    int32_t key_a = -1, key_b = -1;
    int rc = -1;
    *out = NULL;
    *out_n = 0;
    if (n >= INT32_MAX) {
        return -1;
    }
    for (size_t i = 0; i < n;) {
        const uint8_t b = t[i];
        if (is_sep(b)) {
            ++i;
            continue;
        }
        if (b == ']' || b == '}') {
            top -= top > 0;
            ++i;
            continue;
        }
        size_t end = i + 1;
        if (b == '"') {
            while (end < n && t[end] != '"') {
                end += t[end] == '\\' ? 2 : 1;
            }
            end = end < n ? end + 1 : n;
        } else if (b != '[' && b != '{') {
            while (end < n && !is_sep(t[end]) && t[end] != ']' && t[end] != '}') {
                ++end;
            }
        }
        if (top > 0 && nodes[stack[top - 1]].kind == 2 && key_a < 0) {
            key_a = (int32_t)i;
            key_b = (int32_t)end;
            i = end;
            continue;
        }
        if (corral_grow((void **)&nodes, &cap_nodes, n_nodes + 1, sizeof(cnode)) < 0) {
            goto done;
        }
        const int32_t id = (int32_t)n_nodes++;
        nodes[id] = (cnode){b == '[' ? 1 : (b == '{' ? 2 : 0), (int32_t)i, (int32_t)end,
                            key_a, key_b, -1, -1, -1, 0};
        key_a = key_b = -1;
        if (top > 0) {
            cnode *p = &nodes[stack[top - 1]];
            if (p->last >= 0) {
                nodes[p->last].next = id;
            } else {
                p->first = id;
            }
            p->last = id;
            ++p->n_kids;
        }
        if (b == '[' || b == '{') {
            if (corral_grow((void **)&stack, &cap_stack, top + 1, sizeof(int32_t)) < 0) {
                goto done;
            }
            stack[top++] = id;
        }
        i = end;
    }
    if (n_nodes == 0) {
        rc = 0;
        goto done;
    }
    /* the members of every container, in order (objects: sorted), children lists flattened */
    order = malloc(n_nodes * sizeof(int32_t));
    tmp = malloc(n_nodes * sizeof(int32_t));
    ws = malloc(n_nodes * sizeof(wframe));
    if (order == NULL || tmp == NULL || ws == NULL) {
        goto done;
    }
    const cctx ctx = {t, nodes};
    size_t used = 0;
    size_t wtop = 0;
    ws[wtop++] = (wframe){0, 0, 0};
    int fresh = 1; /* the frame on top was just pushed */
    while (wtop > 0) {
        wframe *w = &ws[wtop - 1];
        const cnode *nd = &nodes[w->node];
        if (fresh) {
            fresh = 0;
            if (nd->kind == 0) {
                if (put(&o, t + nd->a, (size_t)(nd->b - nd->a)) < 0) {
                    goto done;
                }
                --wtop;
                continue;
            }
            w->lo = (int32_t)used;
            for (int32_t c = nd->first; c >= 0; c = nodes[c].next) {
                order[used++] = c;
            }
            if (nd->kind == 2 && nd->n_kids > 1) {
                int32_t *v = order + w->lo;
                sort_members(&ctx, v, tmp, (size_t)nd->n_kids);
                int32_t kept = 0; /* the last of each run of equal keys */
                for (int32_t k = 0; k < nd->n_kids; ++k) {
                    if (k + 1 == nd->n_kids || !key_equal(&ctx, v[k], v[k + 1])) {
                        v[kept++] = v[k];
                    }
                }
                for (int32_t k = kept; k < nd->n_kids; ++k) {
                    v[k] = -1;
                }
            }
            if (put(&o, nd->kind == 1 ? (const uint8_t *)"[" : (const uint8_t *)"{", 1) < 0) {
                goto done;
            }
        }
        const int32_t k = w->k;
        const int32_t c = k < nd->n_kids ? order[w->lo + k] : -1;
        if (c < 0) {
            if (put(&o, nd->kind == 1 ? (const uint8_t *)"]" : (const uint8_t *)"}", 1) < 0) {
                goto done;
            }
            --wtop;
            continue;
        }
        w->k = k + 1;
        if (k > 0 && put(&o, (const uint8_t *)",", 1) < 0) {
            goto done;
        }
        if (nd->kind == 2) {
            const cnode *m = &nodes[c];
            if (put(&o, t + m->ka, (size_t)(m->kb - m->ka)) < 0 ||
                put(&o, (const uint8_t *)":", 1) < 0) {
                goto done;
            }
        }
        ws[wtop++] = (wframe){c, 0, 0};
        fresh = 1;
    }
    rc = 0;
done:
    free(nodes);
    free(stack);
    free(order);
    free(tmp);
    free(ws);
    if (rc == 0) {
        *out = o.p;
        *out_n = o.n;
    } else {
        free(o.p);
    }
    return rc;
}
