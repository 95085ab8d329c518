/*
 * binding_engine.c - CPython binding of the native matcher (corral/engine.h).
 *
 * With binding.c, the only files that include Python.h.  Tries, grammars and matchers are
 * capsules: a grammar keeps its trie alive, a matcher its grammar (capsule contexts).  Tables
 * arrive as bytes of int32 / int64 / uint8 (the Python side converts with NumPy) and are copied
 * and range-checked here, once, so that the C loops index without checks and no input from
 * Python can make them read out of bounds.  A matcher in use by one thread (the GIL released)
 * refuses a second caller with RuntimeError instead of racing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "corral/engine.h"

#define TRIE_NAME "corral._native.engine_trie"
#define GRAMMAR_NAME "corral._native.engine_grammar"
#define MATCHER_NAME "corral._native.engine_matcher"

typedef struct matcher_box {
    corral_matcher *m;
    int busy;
} matcher_box;

/* A malloc'd copy of a bytes argument holding n items of `size` bytes; *n set. */
static void *copy_array(PyObject *obj, size_t size, const char *what, size_t *n) {
    if (!PyBytes_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes, got %.200s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    const size_t len = (size_t)PyBytes_GET_SIZE(obj);
    if (len % size != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %zu bytes is not a whole number of %zu-byte items",
                     what, len, size);
        return NULL;
    }
    void *out = malloc(len > 0 ? len : 1);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(out, PyBytes_AS_STRING(obj), len);
    *n = len / size;
    return out;
}

/* CSR offsets: n + 1 entries from 0 to total, never decreasing. */
static int check_ptr(const int32_t *ptr, size_t n, size_t total, const char *what) {
    if (ptr[0] != 0 || (size_t)ptr[n] != total) {
        PyErr_Format(PyExc_ValueError, "%s must run from 0 to %zu", what, total);
        return -1;
    }
    for (size_t i = 0; i < n; ++i) {
        if (ptr[i + 1] < ptr[i]) {
            PyErr_Format(PyExc_ValueError, "%s decreases at %zu", what, i);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* trie                                                                      */
/* ------------------------------------------------------------------------- */

static void etrie_free(corral_etrie *t) {
    free(t->child_ptr);
    free(t->child_ids);
    free(t->node_byte);
    free(t->node_tok_ptr);
    free(t->node_tok_ids);
    free(t->subtree_end);
    free(t->depth);
    free(t->nodes);
    free(t->word_exits);
    free(t->slice_bits);
    free(t->slice_count);
    free(t->plain_at_ptr);
    free(t->plain_at);
    free(t->frontier);
    free(t->frontier_by_chars);
    free(t->frontier_ptr);
    corral_walks_free(t->walks);
    free(t);
}

static void trie_capsule_free(PyObject *cap) {
    corral_etrie *t = PyCapsule_GetPointer(cap, TRIE_NAME);
    if (t != NULL) {
        etrie_free(t);
    }
}

/* Subtree ends, depths and packed nodes (corral_trie_derive); a ValueError when the nodes are
 * not numbered in preorder. */
static int derive_preorder(corral_etrie *t, size_t n) {
    char why[160];
    const int code = corral_trie_derive(t, n, why, sizeof(why));
    if (code == CORRAL_ENGINE_NO_MEMORY) {
        PyErr_NoMemory();
    } else if (code != CORRAL_ENGINE_OK) {
        PyErr_SetString(PyExc_ValueError, why);
    }
    return code == CORRAL_ENGINE_OK ? 0 : -1;
}

static PyObject *engine_trie(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[5];
    Py_ssize_t vocab, cache_bytes;
    if (!PyArg_ParseTuple(args, "OOOOOnn:engine_trie", &o[0], &o[1], &o[2], &o[3], &o[4], &vocab,
                          &cache_bytes)) {
        return NULL;
    }
    if (cache_bytes < 0) {
        PyErr_Format(PyExc_ValueError, "cache_bytes must be >= 0, got %zd", cache_bytes);
        return NULL;
    }
    if (vocab < 0 || vocab > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "vocab_size %zd is outside [0, 2**31)", vocab);
        return NULL;
    }
    corral_etrie *t = calloc(1, sizeof(corral_etrie));
    if (t == NULL) {
        return PyErr_NoMemory();
    }
    size_t n_ptr = 0, n_ids = 0, n_nodes = 0, n_tptr = 0, n_toks = 0;
    if ((t->child_ptr = copy_array(o[0], 4, "child_ptr", &n_ptr)) == NULL ||
        (t->child_ids = copy_array(o[1], 4, "child_ids", &n_ids)) == NULL ||
        (t->node_byte = copy_array(o[2], 1, "node_byte", &n_nodes)) == NULL ||
        (t->node_tok_ptr = copy_array(o[3], 4, "node_tok_ptr", &n_tptr)) == NULL ||
        (t->node_tok_ids = copy_array(o[4], 4, "node_tok_ids", &n_toks)) == NULL) {
        goto fail;
    }
    /* one entry of padding (token 0) past the last: a scan reads a node's first token
     * unconditionally (corral_walk_scan) */
    int32_t *padded = realloc(t->node_tok_ids, (n_toks + 1) * sizeof(int32_t));
    if (padded == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    t->node_tok_ids = padded;
    t->node_tok_ids[n_toks] = 0;
    if (n_nodes < 1 || n_nodes > INT32_MAX - 1 || n_ptr != n_nodes + 1 || n_tptr != n_nodes + 1) {
        PyErr_SetString(PyExc_ValueError,
                        "a trie needs n_nodes >= 1 and n_nodes + 1 entries in child_ptr and "
                        "node_tok_ptr");
        goto fail;
    }
    if (check_ptr(t->child_ptr, n_nodes, n_ids, "child_ptr") < 0 ||
        check_ptr(t->node_tok_ptr, n_nodes, n_toks, "node_tok_ptr") < 0) {
        goto fail;
    }
    for (size_t p = 0; p < n_nodes; ++p) {
        for (int32_t k = t->child_ptr[p]; k < t->child_ptr[p + 1]; ++k) {
            if (t->child_ids[k] <= (int32_t)p || (size_t)t->child_ids[k] >= n_nodes) {
                PyErr_Format(PyExc_ValueError,
                             "child %d of node %zu must lie in (%zu, %zu): nodes in preorder",
                             t->child_ids[k], p, p, n_nodes);
                goto fail;
            }
        }
    }
    for (size_t k = 0; k < n_toks; ++k) {
        if (t->node_tok_ids[k] < 0 || t->node_tok_ids[k] >= vocab) {
            PyErr_Format(PyExc_ValueError, "token id %d is outside [0, %zd)", t->node_tok_ids[k],
                         vocab);
            goto fail;
        }
    }
    if (derive_preorder(t, n_nodes) < 0) {
        goto fail;
    }
    if ((t->walks = corral_walks_new((size_t)cache_bytes)) == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    t->n_nodes = n_nodes;
    t->vocab_size = (size_t)vocab;
    if (corral_trie_slices(t) != CORRAL_ENGINE_OK) {
        PyErr_NoMemory();
        goto fail;
    }
    PyObject *cap = PyCapsule_New(t, TRIE_NAME, trie_capsule_free);
    if (cap == NULL) {
        goto fail;
    }
    return cap;
fail:
    etrie_free(t);
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* grammar                                                                   */
/* ------------------------------------------------------------------------- */

static void grammar_free(corral_grammar *g) {
    free(g->dnext);
    free(g->dlhs);
    free(g->pred_ptr);
    free(g->pred_ids);
    free(g->nullable);
    free(g->ignore);
    free(g->ignore_list);
    free(g->dfa_base);
    free(g->n_classes);
    free(g->classes);
    free(g->tbase);
    free(g->table);
    free(g->accept);
    free(g->wclass);
    free(g->dfa_id);
    free(g->dfa_gen);
    free(g->uq_term);
    free(g->uq_count);
    corral_first_free(g->first);
    free(g);
}

static void grammar_capsule_free(PyObject *cap) {
    corral_grammar *g = PyCapsule_GetPointer(cap, GRAMMAR_NAME);
    PyObject *owner = PyCapsule_GetContext(cap);
    if (g != NULL) {
        grammar_free(g);
    }
    Py_XDECREF(owner);
}

static int check_grammar(corral_grammar *g, size_t n_pred, size_t n_ign, size_t n_rows,
                         size_t n_entries) {
    const int32_t last = g->n_dotted - 1;
    if (g->n_dotted < 2 || g->dnext[last] != CORRAL_END || g->final_dotted < 0 ||
        g->final_dotted > last || g->n_nts < 1 || g->n_terms < 0) {
        PyErr_SetString(PyExc_ValueError, "bad Earley tables: sizes, final item or last item");
        return -1;
    }
    for (int32_t d = 0; d < g->n_dotted; ++d) {
        const int32_t s = g->dnext[d];
        if ((s != CORRAL_END && (s >= g->n_terms || s < -g->n_nts)) || g->dlhs[d] < 0 ||
            g->dlhs[d] >= g->n_nts) {
            PyErr_Format(PyExc_ValueError, "bad Earley tables: dotted item %d", d);
            return -1;
        }
    }
    if (check_ptr(g->pred_ptr, (size_t)g->n_nts, n_pred, "pred_ptr") < 0) {
        return -1;
    }
    for (size_t k = 0; k < n_pred; ++k) {
        if (g->pred_ids[k] < 0 || g->pred_ids[k] >= g->n_dotted) {
            PyErr_Format(PyExc_ValueError, "bad Earley tables: prediction %zu", k);
            return -1;
        }
    }
    memset(g->ignore, 0, (size_t)g->n_terms);
    for (size_t k = 0; k < n_ign; ++k) {
        const int32_t t = g->ignore_list[k];
        if (t < 0 || t >= g->n_terms || (k > 0 && t <= g->ignore_list[k - 1])) {
            PyErr_SetString(PyExc_ValueError, "ignored terminals must be ascending terminals");
            return -1;
        }
        g->ignore[t] = 1;
    }
    if (g->dfa_base[0] != 0 || (size_t)g->dfa_base[g->n_terms] != n_rows) {
        PyErr_SetString(PyExc_ValueError, "dfa_base must run from 0 to the number of rows");
        return -1;
    }
    int64_t at = 0;
    for (int32_t t = 0; t < g->n_terms; ++t) {
        const int64_t lo = g->dfa_base[t];
        const int64_t n = g->dfa_base[t + 1] - lo;
        const int32_t width = g->n_classes[t];
        if (n < 2 || n > INT32_MAX || width < 1 || width > 256) {
            PyErr_Format(PyExc_ValueError,
                         "terminal %d's automaton needs >= 2 states and 1 to 256 byte classes", t);
            return -1;
        }
        for (int b = 0; b < 256; ++b) {
            if (g->classes[(size_t)t * 256 + (size_t)b] >= width) {
                PyErr_Format(PyExc_ValueError, "terminal %d: byte %d's class is out of range", t,
                             b);
                return -1;
            }
        }
        g->tbase[t] = at;
        if (n * width > (int64_t)n_entries - at) {
            PyErr_SetString(PyExc_ValueError, "the automata tables are too short");
            return -1;
        }
        for (int64_t i = at; i < at + n * width; ++i) {
            if (g->table[i] < 0 || g->table[i] >= n) {
                PyErr_Format(PyExc_ValueError, "terminal %d: next state %d outside [0, %lld)", t,
                             g->table[i], (long long)n);
                return -1;
            }
        }
        at += n * width;
    }
    if ((size_t)at != n_entries) {
        PyErr_SetString(PyExc_ValueError, "the automata tables are too long");
        return -1;
    }
    return 0;
}

static PyObject *engine_grammar(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *trie_cap, *o[14];
    int n_terms, n_nts, final_dotted;
    Py_ssize_t vocab;
    if (!PyArg_ParseTuple(args, "OiiiOOOOOOOOOOOnOOO:engine_grammar", &trie_cap, &n_terms,
                          &n_nts, &final_dotted, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[9], &o[10], &o[7], &o[8], &vocab, &o[11], &o[12], &o[13])) {
        return NULL;
    }
    corral_etrie *trie = PyCapsule_GetPointer(trie_cap, TRIE_NAME);
    if (trie == NULL) {
        return NULL;
    }
    if (n_terms < 0 || n_nts < 1 || vocab < (Py_ssize_t)trie->vocab_size) {
        PyErr_SetString(PyExc_ValueError, "bad sizes: n_terms, n_nts or vocab_size");
        return NULL;
    }
    corral_grammar *g = calloc(1, sizeof(corral_grammar));
    if (g == NULL) {
        return PyErr_NoMemory();
    }
    size_t n_dotted = 0, n_lhs = 0, n_pptr = 0, n_pred = 0, n_null = 0, n_ign = 0, n_base = 0;
    size_t n_table = 0, n_acc = 0, n_ncls = 0, n_cls = 0, n_uqt = 0, n_uqc = 0, n_wcls = 0;
    if ((g->dnext = copy_array(o[0], 4, "dotted_next", &n_dotted)) == NULL ||
        (g->dlhs = copy_array(o[1], 4, "dotted_lhs", &n_lhs)) == NULL ||
        (g->pred_ptr = copy_array(o[2], 4, "pred_ptr", &n_pptr)) == NULL ||
        (g->pred_ids = copy_array(o[3], 4, "pred_ids", &n_pred)) == NULL ||
        (g->nullable = copy_array(o[4], 1, "nullable", &n_null)) == NULL ||
        (g->ignore_list = copy_array(o[5], 4, "ignore", &n_ign)) == NULL ||
        (g->dfa_base = copy_array(o[6], 8, "dfa_base", &n_base)) == NULL ||
        (g->table = copy_array(o[7], 4, "table", &n_table)) == NULL ||
        (g->accept = copy_array(o[8], 1, "accept", &n_acc)) == NULL ||
        (g->n_classes = copy_array(o[9], 4, "n_classes", &n_ncls)) == NULL ||
        (g->classes = copy_array(o[10], 1, "classes", &n_cls)) == NULL ||
        (g->uq_term = copy_array(o[11], 1, "uq_term", &n_uqt)) == NULL ||
        (g->uq_count = copy_array(o[12], 4, "uq_count", &n_uqc)) == NULL ||
        (g->wclass = copy_array(o[13], 4, "wclass", &n_wcls)) == NULL ||
        (g->ignore = malloc(n_terms > 0 ? (size_t)n_terms : 1)) == NULL ||
        (g->tbase = malloc((n_terms > 0 ? (size_t)n_terms : 1) * sizeof(int64_t))) == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto fail;
    }
    g->n_terms = n_terms;
    g->n_nts = n_nts;
    g->final_dotted = final_dotted;
    g->n_ignore = (int32_t)n_ign;
    if (n_dotted > INT32_MAX || n_lhs != n_dotted || n_pptr != (size_t)n_nts + 1 ||
        n_null != (size_t)n_nts || n_base != (size_t)n_terms + 1 ||
        n_ncls != (size_t)n_terms || n_cls != (size_t)n_terms * 256 ||
        n_uqt != (size_t)n_terms) {
        PyErr_SetString(PyExc_ValueError, "bad table sizes");
        goto fail;
    }
    g->n_dotted = (int32_t)n_dotted;
    if (check_grammar(g, n_pred, n_ign, n_acc, n_table) < 0) {
        goto fail;
    }
    if (n_wcls != n_acc) {
        PyErr_SetString(PyExc_ValueError, "wclass needs one entry per automaton state");
        goto fail;
    }
    if (n_uqc != n_acc) {
        PyErr_SetString(PyExc_ValueError, "uq_count needs one entry per automaton state");
        goto fail;
    }
    for (int32_t t = 0; t < n_terms; ++t) {
        if (g->uq_term[t] > CORRAL_UQ_CLOSE) {
            PyErr_SetString(PyExc_ValueError, "uq_term: 0, 1 (unique item) or 2 (item-closing)");
            goto fail;
        }
        g->has_unique |= g->uq_term[t] != 0;
    }
    for (size_t i = 0; i < n_uqc; ++i) {
        if (g->uq_count[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "uq_count: a negative count");
            goto fail;
        }
    }
    g->trie = trie;
    g->vocab_size = (size_t)vocab;
    g->walks = trie->walks;
    g->dfa_id = calloc(n_terms > 0 ? (size_t)n_terms : 1, sizeof(int32_t));
    g->dfa_gen = calloc(n_terms > 0 ? (size_t)n_terms : 1, sizeof(uint64_t));
    g->first = corral_first_new();
    if (g->dfa_id == NULL || g->dfa_gen == NULL || g->first == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    PyObject *cap = PyCapsule_New(g, GRAMMAR_NAME, grammar_capsule_free);
    if (cap == NULL) {
        goto fail;
    }
    Py_INCREF(trie_cap);
    if (PyCapsule_SetContext(cap, trie_cap) < 0) {
        Py_DECREF(trie_cap);
        Py_DECREF(cap);
        return NULL;
    }
    return cap;
fail:
    grammar_free(g);
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* matcher                                                                   */
/* ------------------------------------------------------------------------- */

static void matcher_capsule_free(PyObject *cap) {
    matcher_box *box = PyCapsule_GetPointer(cap, MATCHER_NAME);
    PyObject *owner = PyCapsule_GetContext(cap);
    if (box != NULL) {
        corral_matcher_free(box->m);
        free(box);
    }
    Py_XDECREF(owner);
}

static PyObject *engine_matcher(PyObject *self, PyObject *gcap) {
    (void)self;
    corral_grammar *g = PyCapsule_GetPointer(gcap, GRAMMAR_NAME);
    if (g == NULL) {
        return NULL;
    }
    matcher_box *box = calloc(1, sizeof(matcher_box));
    if (box == NULL || (box->m = corral_matcher_new(g)) == NULL) {
        free(box);
        return PyErr_NoMemory();
    }
    PyObject *cap = PyCapsule_New(box, MATCHER_NAME, matcher_capsule_free);
    if (cap == NULL) {
        corral_matcher_free(box->m);
        free(box);
        return NULL;
    }
    Py_INCREF(gcap);
    if (PyCapsule_SetContext(cap, gcap) < 0) {
        Py_DECREF(gcap);
        Py_DECREF(cap);
        return NULL;
    }
    return cap;
}

/* The matcher of a capsule, marked busy; NULL (with an exception) otherwise. */
static matcher_box *take(PyObject *cap) {
    matcher_box *box = PyCapsule_GetPointer(cap, MATCHER_NAME);
    if (box == NULL) {
        return NULL;
    }
    if (box->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this matcher is in use by another thread (a matcher is one generation's "
                        "state: use one per thread)");
        return NULL;
    }
    box->busy = 1;
    return box;
}

/* take(), and the grammar of the matcher's capsule in *g; NULL (with an exception) otherwise. */
static matcher_box *take_with_grammar(PyObject *cap, const corral_grammar **g) {
    matcher_box *box = take(cap);
    if (box == NULL) {
        return NULL;
    }
    PyObject *gcap = PyCapsule_GetContext(cap);
    *g = gcap != NULL ? PyCapsule_GetPointer(gcap, GRAMMAR_NAME) : NULL;
    if (*g == NULL) {
        box->busy = 0;
        return NULL;
    }
    return box;
}

static PyObject *engine_reset(PyObject *self, PyObject *cap) {
    (void)self;
    matcher_box *box = take(cap);
    if (box == NULL) {
        return NULL;
    }
    const int code = corral_matcher_reset(box->m);
    box->busy = 0;
    return code == CORRAL_ENGINE_OK ? Py_NewRef(Py_None) : PyErr_NoMemory();
}

static PyObject *engine_state(PyObject *self, PyObject *cap) {
    (void)self;
    matcher_box *box = take(cap);
    if (box == NULL) {
        return NULL;
    }
    const Py_ssize_t positions = (Py_ssize_t)corral_matcher_positions(box->m);
    const int accepting = corral_matcher_accepting(box->m);
    box->busy = 0;
    return Py_BuildValue("(nO)", positions, accepting ? Py_True : Py_False);
}

static PyObject *engine_sizes(PyObject *self, PyObject *cap) {
    (void)self;
    matcher_box *box = take(cap);
    if (box == NULL) {
        return NULL;
    }
    size_t sets, items, threads;
    corral_matcher_sizes(box->m, &sets, &items, &threads);
    box->busy = 0;
    return Py_BuildValue("(nnn)", (Py_ssize_t)sets, (Py_ssize_t)items, (Py_ssize_t)threads);
}

static PyObject *engine_feed(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    Py_buffer data;
    long long max_work;
    if (!PyArg_ParseTuple(args, "Oy*L:engine_feed", &cap, &data, &max_work)) {
        return NULL;
    }
    matcher_box *box = take(cap);
    if (box == NULL) {
        PyBuffer_Release(&data);
        return NULL;
    }
    size_t n_done = 0;
    int64_t work = 0;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_matcher_feed(box->m, data.buf, (size_t)data.len, (int64_t)max_work, &n_done,
                               &work);
    Py_END_ALLOW_THREADS
    box->busy = 0;
    PyBuffer_Release(&data);
    if (code == CORRAL_ENGINE_NO_MEMORY) {
        return PyErr_NoMemory();
    }
    return Py_BuildValue("(nL)", (Py_ssize_t)n_done, code == 1 ? (long long)work : -1LL);
}

static PyObject *engine_truncate(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "On:engine_truncate", &cap, &n)) {
        return NULL;
    }
    matcher_box *box = take(cap);
    if (box == NULL) {
        return NULL;
    }
    const size_t have = corral_matcher_positions(box->m);
    if (n < 1 || (size_t)n > have) {
        box->busy = 0;
        PyErr_Format(PyExc_ValueError, "cannot truncate to %zd positions of %zu", n, have);
        return NULL;
    }
    corral_matcher_truncate(box->m, (size_t)n);
    box->busy = 0;
    return Py_NewRef(Py_None);
}

static PyObject *engine_mask(PyObject *self, PyObject *cap) {
    (void)self;
    const corral_grammar *g;
    matcher_box *box = take_with_grammar(cap, &g);
    if (box == NULL) {
        return NULL;
    }
    const size_t words = (g->vocab_size + 31) / 32;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(words * 4));
    if (out == NULL) {
        box->busy = 0;
        return NULL;
    }
    uint32_t *buf = malloc(words > 0 ? words * 4 : 4);
    if (buf == NULL) {
        box->busy = 0;
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_matcher_mask(box->m, buf, words);
    Py_END_ALLOW_THREADS
    box->busy = 0;
    memcpy(PyBytes_AS_STRING(out), buf, words * 4);
    free(buf);
    if (code != CORRAL_ENGINE_OK) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    return out;
}

/*
 * The mask written straight into a caller's row (a writable C-contiguous buffer of 4-byte
 * items, at least the grammar's words long): the words, the end-of-sequence bits where the
 * matcher accepts, zeros past the vocabulary.  Everything is checked before the matcher is
 * taken, so a bad row leaves it unchanged.
 */
/* Fill `have` words at `out` with the mask of matcher capsule `cap` (needing at least the
 * vocabulary's words: -2 when there are fewer), EOS bits where it accepts, zeros after the
 * vocabulary.  0 on success, -1 with an exception set. */
static int fill_row(PyObject *cap, uint32_t *out, size_t have, const Py_buffer *eos) {
    PyObject *gcap = NULL;
    const corral_grammar *g = NULL;
    if (PyCapsule_GetPointer(cap, MATCHER_NAME) == NULL ||
        (gcap = PyCapsule_GetContext(cap)) == NULL ||
        (g = PyCapsule_GetPointer(gcap, GRAMMAR_NAME)) == NULL) {
        return -1;
    }
    const size_t words = (g->vocab_size + 31) / 32;
    if (have < words) {
        return -2;
    }
    const int32_t *eos_ids = (const int32_t *)eos->buf;
    const size_t n_eos = (size_t)eos->len / 4;
    for (size_t k = 0; k < n_eos; ++k) {
        if (eos_ids[k] < 0 || (size_t)eos_ids[k] >= words * 32) {
            PyErr_Format(PyExc_ValueError, "end-of-sequence id %d is outside the mask",
                         eos_ids[k]);
            return -1;
        }
    }
    matcher_box *box = take(cap);
    if (box == NULL) {
        return -1;
    }
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_matcher_mask(box->m, out, words);
    if (code == CORRAL_ENGINE_OK && corral_matcher_accepting(box->m)) {
        for (size_t k = 0; k < n_eos; ++k) {
            out[eos_ids[k] >> 5] |= UINT32_C(1) << (eos_ids[k] & 31);
        }
    }
    memset(out + words, 0, (have - words) * 4);
    Py_END_ALLOW_THREADS
    box->busy = 0;
    if (code != CORRAL_ENGINE_OK) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *engine_fill(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap, *row_obj;
    Py_buffer eos;
    if (!PyArg_ParseTuple(args, "OOy*:engine_fill", &cap, &row_obj, &eos)) {
        return NULL;
    }
    Py_buffer row;
    if (PyObject_GetBuffer(row_obj, &row, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) <
        0) {
        PyBuffer_Release(&eos);
        return NULL;
    }
    PyObject *result = NULL;
    int code = -2;
    if (row.itemsize == 4 && row.len % 4 == 0 && (uintptr_t)row.buf % 4 == 0) {
        code = fill_row(cap, row.buf, (size_t)row.len / 4, &eos);
    }
    if (code == -2) {
        PyErr_Format(PyExc_ValueError,
                     "the row must hold at least the vocabulary's aligned 4-byte words, got "
                     "%zd bytes of %zd-byte items",
                     row.len, row.itemsize);
    } else if (code == 0) {
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&row);
    PyBuffer_Release(&eos);
    return result;
}

/*
 * engine_fill_at(matcher, bitmask, index, eos): engine_fill on row `index` of a 1-D or 2-D
 * int32 buffer, chosen and checked here (no Python-level view).  Returns False, writing
 * nothing, when the buffer is not of that common kind (another dtype or ndim, an index that is
 * not an int in range, a read-only, unaligned or strided row, too few words): the caller then
 * takes the general path, which reports what is wrong.  A fast call: no argument tuple is
 * made, so a mask allocates no Python object that could start a garbage collection.
 */
static PyObject *engine_fill_at(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "engine_fill_at() takes 4 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *cap = args[0], *mask_obj = args[1], *index_obj = args[2];
    Py_buffer eos;
    if (PyUnicode_Check(args[3]) || PyObject_GetBuffer(args[3], &eos, PyBUF_SIMPLE) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "engine_fill_at() eos must be a bytes-like object");
        }
        return NULL;
    }
    PyObject *result = Py_False;
    Py_buffer view;
    int have_view = 0;
    if (!PyLong_CheckExact(index_obj) || !PyObject_CheckBuffer(mask_obj)) {
        goto done;
    }
    const Py_ssize_t index = PyLong_AsSsize_t(index_obj);
    if (index == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        goto done;
    }
    if (PyObject_GetBuffer(mask_obj, &view, PyBUF_WRITABLE | PyBUF_STRIDES | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        goto done;
    }
    have_view = 1;
    const char *fmt = view.format != NULL ? view.format : "B";
    if (fmt[0] == '@' || fmt[0] == '=' || fmt[0] == '<') {
        ++fmt;
    }
    const int int32 = view.itemsize == 4 && (fmt[0] == 'i' || fmt[0] == 'l') && fmt[1] == '\0';
    if (!int32 || view.suboffsets != NULL || view.shape == NULL || view.strides == NULL ||
        (view.ndim != 1 && view.ndim != 2) || view.strides[view.ndim - 1] != 4 ||
        (view.ndim == 1 ? index != 0 : (index < 0 || index >= view.shape[0]))) {
        goto done;
    }
    char *row = (char *)view.buf + (view.ndim == 2 ? index * view.strides[0] : 0);
    if ((uintptr_t)row % 4 != 0) {
        goto done;
    }
    const int code = fill_row(cap, (uint32_t *)row, (size_t)view.shape[view.ndim - 1], &eos);
    result = code == 0 ? Py_True : code == -2 ? Py_False : NULL;
done:
    if (have_view) {
        PyBuffer_Release(&view);
    }
    PyBuffer_Release(&eos);
    return Py_XNewRef(result);
}

static PyObject *engine_mask_batch(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *seq;
    Py_ssize_t n_threads;
    if (!PyArg_ParseTuple(args, "On:engine_mask_batch", &seq, &n_threads)) {
        return NULL;
    }
    if (n_threads < 1 || n_threads > 1024) {
        PyErr_Format(PyExc_ValueError, "n_threads %zd is outside [1, 1024]", n_threads);
        return NULL;
    }
    PyObject *caps = PySequence_Tuple(seq);
    if (caps == NULL) {
        return NULL;
    }
    const Py_ssize_t n = PyTuple_GET_SIZE(caps);
    PyObject *result = NULL;
    PyObject *outs = PyList_New(n);
    corral_matcher **ms = calloc(n > 0 ? (size_t)n : 1, sizeof(corral_matcher *));
    matcher_box **boxes = calloc(n > 0 ? (size_t)n : 1, sizeof(matcher_box *));
    uint32_t **words = calloc(n > 0 ? (size_t)n : 1, sizeof(uint32_t *));
    size_t *n_words = calloc(n > 0 ? (size_t)n : 1, sizeof(size_t));
    int *codes = calloc(n > 0 ? (size_t)n : 1, sizeof(int));
    Py_ssize_t taken = 0;
    if (outs == NULL || ms == NULL || boxes == NULL || words == NULL || n_words == NULL ||
        codes == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject *cap = PyTuple_GET_ITEM(caps, k);
        matcher_box *box = take(cap); /* a matcher listed twice is busy the second time */
        if (box == NULL) {
            goto done;
        }
        boxes[taken++] = box;
        PyObject *gcap = PyCapsule_GetContext(cap);
        const corral_grammar *g = gcap != NULL ? PyCapsule_GetPointer(gcap, GRAMMAR_NAME) : NULL;
        if (g == NULL) {
            goto done;
        }
        n_words[k] = (g->vocab_size + 31) / 32;
        PyObject *row = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n_words[k] * 4));
        words[k] = malloc(n_words[k] > 0 ? n_words[k] * 4 : 4);
        if (row == NULL || words[k] == NULL) {
            Py_XDECREF(row);
            if (!PyErr_Occurred()) {
                PyErr_NoMemory();
            }
            goto done;
        }
        PyList_SET_ITEM(outs, k, row);
        ms[k] = box->m;
    }
    Py_BEGIN_ALLOW_THREADS
    corral_mask_batch(ms, words, n_words, (size_t)n, (size_t)n_threads, codes);
    Py_END_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; ++k) {
        if (codes[k] != CORRAL_ENGINE_OK) {
            PyErr_NoMemory();
            goto done;
        }
        memcpy(PyBytes_AS_STRING(PyList_GET_ITEM(outs, k)), words[k], n_words[k] * 4);
    }
    result = Py_NewRef(outs);
done:
    for (Py_ssize_t k = 0; k < taken; ++k) {
        boxes[k]->busy = 0;
    }
    for (Py_ssize_t k = 0; words != NULL && k < n; ++k) {
        free(words[k]);
    }
    free(ms);
    free(boxes);
    free(words);
    free(n_words);
    free(codes);
    Py_XDECREF(outs);
    Py_DECREF(caps);
    return result;
}

static PyObject *engine_uq_canonical(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint8_t *out = NULL;
    size_t n_out = 0;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_uq_canonical((const uint8_t *)view.buf, (size_t)view.len, &out, &n_out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (code < 0) {
        return PyErr_NoMemory();
    }
    PyObject *res = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)n_out);
    free(out);
    return res;
}

static PyObject *engine_uq_candidates(PyObject *self, PyObject *cap) {
    (void)self;
    const corral_grammar *g;
    matcher_box *box = take_with_grammar(cap, &g);
    if (box == NULL) {
        return NULL;
    }
    const size_t n_words = (g->vocab_size + 31) / 32;
    uint32_t *words = malloc(n_words > 0 ? n_words * sizeof(uint32_t) : 4);
    if (words == NULL) {
        box->busy = 0;
        return PyErr_NoMemory();
    }
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_uq_candidates(box->m, words, n_words);
    Py_END_ALLOW_THREADS
    box->busy = 0;
    if (code != CORRAL_ENGINE_OK) {
        free(words);
        return PyErr_NoMemory();
    }
    size_t count = 0;
    for (size_t w = 0; w < n_words; ++w) {
        for (uint32_t x = words[w]; x != 0; x &= x - 1) {
            ++count;
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(count * sizeof(int32_t)));
    if (out != NULL) {
        int32_t *ids = (int32_t *)PyBytes_AS_STRING(out);
        size_t at = 0;
        for (size_t w = 0; w < n_words; ++w) {
            for (uint32_t x = words[w]; x != 0; x &= x - 1) {
                int b = 0;
                while (!(x >> b & 1u)) {
                    ++b;
                }
                ids[at++] = (int32_t)(w * 32 + (size_t)b);
            }
        }
    }
    free(words);
    return out;
}

static PyObject *engine_forced(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "On:engine_forced", &cap, &limit)) {
        return NULL;
    }
    if (limit < 0 || limit > (1 << 24)) {
        PyErr_Format(PyExc_ValueError, "limit %zd is outside [0, 2**24]", limit);
        return NULL;
    }
    matcher_box *box = take(cap);
    if (box == NULL) {
        return NULL;
    }
    uint8_t *buf = malloc(limit > 0 ? (size_t)limit : 1);
    if (buf == NULL) {
        box->busy = 0;
        return PyErr_NoMemory();
    }
    int64_t n;
    Py_BEGIN_ALLOW_THREADS
    n = corral_matcher_forced(box->m, buf, (size_t)limit);
    Py_END_ALLOW_THREADS
    box->busy = 0;
    PyObject *out = n < 0 ? PyErr_NoMemory()
                          : PyBytes_FromStringAndSize((const char *)buf, (Py_ssize_t)n);
    free(buf);
    return out;
}

static PyObject *engine_cache_bytes(PyObject *self, PyObject *gcap) {
    (void)self;
    corral_grammar *g = PyCapsule_GetPointer(gcap, GRAMMAR_NAME);
    if (g == NULL) {
        return NULL;
    }
    size_t b;
    Py_BEGIN_ALLOW_THREADS
    b = corral_walks_bytes(g->walks);
    Py_END_ALLOW_THREADS
    const size_t n_rows = (size_t)g->dfa_base[g->n_terms];
    const size_t n_entries = g->n_terms > 0 ? (size_t)(g->tbase[g->n_terms - 1] +
                                                        (g->dfa_base[g->n_terms] -
                                                         g->dfa_base[g->n_terms - 1]) *
                                                            g->n_classes[g->n_terms - 1])
                                            : 0;
    const size_t tables = (size_t)g->n_dotted * 8 + n_rows * 5 + n_entries * 4 +
                          (size_t)g->n_nts * 9 + (size_t)g->pred_ptr[g->n_nts] * 4 +
                          (size_t)g->n_terms * (256 + 29) + corral_first_bytes(g->first);
    return Py_BuildValue("(nn)", (Py_ssize_t)tables, (Py_ssize_t)b);
}

PyMethodDef corral_engine_methods[] = {
    {"engine_fill", engine_fill, METH_VARARGS,
     "engine_fill(matcher, row, eos)\n--\n\n"
     "Write the mask into `row` (a writable C-contiguous buffer of at least the vocabulary's\n"
     "words), with the end-of-sequence ids `eos` (int32 bytes) where it accepts."},
    {"engine_fill_at", (PyCFunction)(void (*)(void))engine_fill_at, METH_FASTCALL,
     "engine_fill_at(matcher, bitmask, index, eos)\n--\n\n"
     "engine_fill on row `index` of a 1-D or 2-D int32 array, checked here; False (nothing\n"
     "written) when the array is not of that kind, True when filled."},
    {"engine_memory", engine_cache_bytes, METH_O,
     "engine_memory(grammar)\n--\n\n"
     "(bytes of the grammar's tables, bytes of its trie's root-walk cache, shared)."},
    {"engine_trie", engine_trie, METH_VARARGS,
     "engine_trie(child_ptr, child_ids, node_byte, node_tok_ptr, node_tok_ids, vocab_size,\n"
     "            cache_bytes)\n--\n\n"
     "A native token trie (int32 / uint8 bytes, nodes in preorder) with its root-walk cache."},
    {"engine_grammar", engine_grammar, METH_VARARGS,
     "engine_grammar(trie, n_terms, n_nts, final_dotted, dotted_next, dotted_lhs, pred_ptr,\n"
     "               pred_ids, nullable, ignore, dfa_base, n_classes, classes, table, accept,\n"
     "               vocab_size, uq_term, uq_count, wclass)\n--\n\n"
     "Native tables of a compiled grammar (bytes of int32, int64 dfa_base, uint8 flags)."},
    {"engine_matcher", engine_matcher, METH_O, "engine_matcher(grammar)\n--\n\nA new matcher."},
    {"engine_reset", engine_reset, METH_O, "engine_reset(matcher)\n--\n\nBack to position 0."},
    {"engine_state", engine_state, METH_O,
     "engine_state(matcher)\n--\n\n(positions, accepting)."},
    {"engine_sizes", engine_sizes, METH_O,
     "engine_sizes(matcher)\n--\n\n(Earley sets, their items, threads at the current position)."},
    {"engine_feed", engine_feed, METH_VARARGS,
     "engine_feed(matcher, data, max_work)\n--\n\n"
     "Push bytes while they extend the input: (bytes pushed, work over max_work or -1)."},
    {"engine_truncate", engine_truncate, METH_VARARGS,
     "engine_truncate(matcher, n_positions)\n--\n\nDrop positions from n_positions on."},
    {"engine_mask", engine_mask, METH_O,
     "engine_mask(matcher)\n--\n\nThe allowed-token bitmask words (bytes of uint32)."},
    {"engine_mask_batch", engine_mask_batch, METH_VARARGS,
     "engine_mask_batch(matchers, n_threads)\n--\n\n"
     "The masks of distinct matchers, filled on up to n_threads native threads."},
    {"engine_uq_canonical", engine_uq_canonical, METH_O,
     "engine_uq_canonical(text)\n--\n\nThe canonical text of a JSON container item."},
    {"engine_uq_candidates", engine_uq_candidates, METH_O,
     "engine_uq_candidates(matcher)\n--\n\nUnique-item mask candidates: int32 token ids."},
    {"engine_forced", engine_forced, METH_VARARGS,
     "engine_forced(matcher, limit)\n--\n\nBytes every continuation takes next."},
    {NULL, NULL, 0, NULL},
};
