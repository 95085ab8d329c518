/*
 * binding.c - CPython binding of corral._native.
 *
 * This is the only file of the extension that includes Python.h.  It turns
 * Python objects into validated plain buffers and hands them to the pure C
 * algorithm files (bitmask.c, ...) declared in corral/corral.h.  Every entry point validates its inputs
 * completely, whatever the caller passes, so that no Python input can crash
 * the interpreter.  Only the plain C-API and the buffer protocol are used (no
 * NumPy C-API).
 *
 * Adding a function: write a `static PyObject *native_<name>(...)` below, then
 * list it in `native_methods` at the end of the file.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "corral/corral.h"

/* ------------------------------------------------------------------------- */
/* Shared helpers                                                            */
/* ------------------------------------------------------------------------- */

static int host_is_little_endian(void) {
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/*
 * Type code of a struct-module buffer format that describes a single item in
 * the host's byte order ("f", "@f", "=f", "<f" on little-endian hosts, ...), or
 * 0 when the format is anything else.
 */
static char native_format_code(const char *format) {
    if (format == NULL) {
        return 'B';
    }
    const int little = host_is_little_endian();
    const char order = format[0];
    if (order == '@' || order == '=' || (order == '<' && little) ||
        ((order == '>' || order == '!') && !little)) {
        ++format;
    } else if (order == '<' || order == '>' || order == '!') {
        return 0;
    }
    return (format[0] != '\0' && format[1] == '\0') ? format[0] : 0;
}

/*
 * Get a buffer of `obj` with shape and strides (both always set on success).
 * Raises TypeError (naming `what`) when `obj` does not export one, and
 * ValueError for indirect (suboffset) buffers or an ndim outside [1, max_ndim].
 */
static int get_buffer(PyObject *obj, Py_buffer *view, const char *what, int max_ndim) {
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a numpy array (an object with the buffer protocol), got %.200s",
                     what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT) < 0) {
        return -1;
    }
    if (view->suboffsets != NULL) {
        PyErr_Format(PyExc_ValueError, "%s must not be an indirect (suboffset) buffer", what);
        goto fail;
    }
    if (view->ndim < 1 || view->ndim > max_ndim) {
        PyErr_Format(PyExc_ValueError, "%s must have 1 to %d dimensions, got ndim=%d", what,
                     max_ndim, view->ndim);
        goto fail;
    }
    if (view->shape == NULL || view->strides == NULL) {
        PyErr_Format(PyExc_ValueError, "%s buffer does not report its shape and strides", what);
        goto fail;
    }
    return 0;
fail:
    PyBuffer_Release(view);
    return -1;
}

/*
 * Convert an optional non-negative integer argument.  None gives `fallback`.
 * Values too large for Py_ssize_t saturate to PY_SSIZE_T_MAX so that the
 * caller's range check reports them.
 */
static int parse_optional_size(PyObject *obj, const char *what, Py_ssize_t fallback,
                               Py_ssize_t *out) {
    if (obj == Py_None) {
        *out = fallback;
        return 0;
    }
    if (!PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an integer or None, got %.200s", what,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t value = PyNumber_AsSsize_t(obj, NULL);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (value < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0, got %zd", what, value);
        return -1;
    }
    *out = value;
    return 0;
}

/*
 * Copy an optional sequence of integers into a new PyMem array (*out stays NULL
 * for None).  Range checks happen later, once the row count is known.
 */
static int parse_indices(PyObject *obj, Py_ssize_t **out, Py_ssize_t *count) {
    *out = NULL;
    *count = 0;
    if (obj == Py_None) {
        return 0;
    }
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "indices must be a sequence of integers or None, got %.200s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    /* A private tuple: __index__ methods below cannot mutate what we iterate. */
    PyObject *items = PySequence_Tuple(obj);
    if (items == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Format(PyExc_TypeError,
                         "indices must be a sequence of integers or None, got %.200s",
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    const Py_ssize_t n = PyTuple_GET_SIZE(items);
    Py_ssize_t *values = PyMem_New(Py_ssize_t, n > 0 ? (size_t)n : 1);
    if (values == NULL) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject *item = PyTuple_GET_ITEM(items, k);
        if (!PyIndex_Check(item)) {
            PyErr_Format(PyExc_TypeError, "indices[%zd] must be an integer, got %.200s", k,
                         Py_TYPE(item)->tp_name);
            goto fail;
        }
        /* Saturates on overflow; the range check then rejects the value. */
        values[k] = PyNumber_AsSsize_t(item, NULL);
        if (values[k] == -1 && PyErr_Occurred()) {
            goto fail;
        }
    }
    Py_DECREF(items);
    *out = values;
    *count = n;
    return 0;
fail:
    PyMem_Free(values);
    Py_DECREF(items);
    return -1;
}

/* ------------------------------------------------------------------------- */
/* apply_token_bitmask_inplace                                               */
/* ------------------------------------------------------------------------- */

/* Check the logits buffer; sets *is_f16.  Raises and returns -1 on failure. */
static int check_logits(const Py_buffer *view, int *is_f16) {
    const char code = native_format_code(view->format);
    if (code == 'f' && view->itemsize == 4) {
        *is_f16 = 0;
    } else if (code == 'e' && view->itemsize == 2) {
        *is_f16 = 1;
    } else {
        PyErr_Format(PyExc_TypeError,
                     "logits dtype must be float32 or float16 in native byte order, got buffer "
                     "format '%.50s' with itemsize %zd",
                     view->format != NULL ? view->format : "B", view->itemsize);
        return -1;
    }
    if (view->readonly) {
        PyErr_SetString(PyExc_ValueError, "logits must be writable, got a read-only buffer");
        return -1;
    }
    if (view->len > 0 && view->strides[view->ndim - 1] == 0 && view->shape[view->ndim - 1] > 1) {
        PyErr_SetString(PyExc_ValueError,
                        "logits must not repeat one element along a row (a zero stride)");
        return -1;
    }
    return 0;
}

static int check_mask_format(const Py_buffer *view) {
    const char code = native_format_code(view->format);
    if (view->itemsize != 4 || (code != 'i' && code != 'I' && code != 'l' && code != 'L')) {
        PyErr_Format(PyExc_TypeError,
                     "bitmask dtype must be int32 (or uint32) in native byte order, got buffer "
                     "format '%.50s' with itemsize %zd",
                     view->format != NULL ? view->format : "B", view->itemsize);
        return -1;
    }
    return 0;
}

/* Match the shapes; fills the row count, columns and mask geometry. */
static int check_shapes(const Py_buffer *logits, const Py_buffer *mask, Py_ssize_t vocab_arg,
                        Py_ssize_t *n_batch, Py_ssize_t *n_cols, corral_mask_view *mview) {
    const Py_ssize_t batch = logits->ndim == 2 ? logits->shape[0] : 1;
    const Py_ssize_t vocab = logits->shape[logits->ndim - 1];
    const Py_ssize_t mask_rows = mask->ndim == 2 ? mask->shape[0] : 1;
    const Py_ssize_t words = mask->shape[mask->ndim - 1];
    if (logits->ndim == 2 && mask->ndim != 2) {
        PyErr_Format(PyExc_ValueError,
                     "bitmask shape mismatch: 2-D logits of shape (%zd, %zd) need a 2-D bitmask "
                     "of shape (%zd, W)",
                     batch, vocab, batch);
        return -1;
    }
    if (mask_rows != batch) {
        PyErr_Format(PyExc_ValueError,
                     "bitmask shape mismatch: bitmask has %zd rows but logits have %zd", mask_rows,
                     batch);
        return -1;
    }
    const Py_ssize_t cols = vocab_arg < 0 ? vocab : vocab_arg;
    if (cols > vocab) {
        PyErr_Format(PyExc_ValueError, "vocab_size %zd exceeds the logits' last dimension %zd",
                     cols, vocab);
        return -1;
    }
    const Py_ssize_t needed = cols / 32 + (cols % 32 != 0);
    if (words < needed) {
        PyErr_Format(PyExc_ValueError,
                     "bitmask too small: it has %zd words per row but %zd tokens need %zd words "
                     "(W * 32 must be >= vocab size)",
                     words, cols, needed);
        return -1;
    }
    mview->base = (const unsigned char *)mask->buf;
    mview->row_stride = mask->ndim == 2 ? mask->strides[0] : 0;
    mview->word_stride = mask->strides[mask->ndim - 1];
    *n_batch = batch;
    *n_cols = cols;
    return 0;
}

PyDoc_STRVAR(apply_doc,
             "apply_token_bitmask_inplace(logits, bitmask, *, vocab_size=None, indices=None)\n"
             "--\n\n"
             "Set logits of tokens whose bit is 0 in the packed int32 bitmask to -inf.\n\n"
             "logits: writable float32/float16 buffer, (V,) or (B, V), any strides.\n"
             "bitmask: int32 buffer, (W,) or (1, W) for 1-D logits, (B, W) for 2-D.\n"
             "vocab_size: number of leading columns to mask (default V).\n"
             "indices: rows to mask (default all).\n");

static PyObject *native_apply_token_bitmask_inplace(PyObject *self, PyObject *args,
                                                    PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"logits", "bitmask", "vocab_size", "indices", NULL};
    PyObject *logits_obj = NULL;
    PyObject *mask_obj = NULL;
    PyObject *vocab_obj = Py_None;
    PyObject *indices_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$OO:apply_token_bitmask_inplace", kwlist,
                                     &logits_obj, &mask_obj, &vocab_obj, &indices_obj)) {
        return NULL;
    }

    Py_ssize_t vocab_arg = -1;
    Py_ssize_t *indices = NULL;
    Py_ssize_t n_indices = 0;
    Py_buffer logits = {0};
    Py_buffer mask = {0};
    int have_logits = 0;
    int have_mask = 0;
    PyObject *result = NULL;

    /* Python-level conversions first: they may run arbitrary __index__ code. */
    if (parse_optional_size(vocab_obj, "vocab_size", -1, &vocab_arg) < 0 ||
        parse_indices(indices_obj, &indices, &n_indices) < 0) {
        goto done;
    }
    if (get_buffer(logits_obj, &logits, "logits", 2) < 0) {
        goto done;
    }
    have_logits = 1;
    int is_f16 = 0;
    if (check_logits(&logits, &is_f16) < 0) {
        goto done;
    }
    if (get_buffer(mask_obj, &mask, "bitmask", 2) < 0) {
        goto done;
    }
    have_mask = 1;
    Py_ssize_t n_batch = 0;
    Py_ssize_t n_cols = 0;
    corral_mask_view mview;
    if (check_mask_format(&mask) < 0 ||
        check_shapes(&logits, &mask, vocab_arg, &n_batch, &n_cols, &mview) < 0) {
        goto done;
    }
    for (Py_ssize_t k = 0; k < n_indices; ++k) {
        if (indices[k] < 0 || indices[k] >= n_batch) {
            PyErr_Format(PyExc_ValueError, "indices[%zd] = %zd is out of range for %zd rows", k,
                         indices[k], n_batch);
            goto done;
        }
    }

    const Py_ssize_t n_rows = indices != NULL ? n_indices : n_batch;
    if (n_cols > 0 && n_rows > 0) {
        /* Every index was checked to be in [0, n_batch), so it fits a size_t. */
        const size_t *rows = (const size_t *)indices;
        const corral_logits_view lview = {(unsigned char *)logits.buf,
                                          logits.ndim == 2 ? logits.strides[0] : 0,
                                          logits.strides[logits.ndim - 1]};
        Py_BEGIN_ALLOW_THREADS
        if (is_f16) {
            corral_bitmask_apply_f16(lview, mview, (size_t)n_cols, rows, (size_t)n_rows);
        } else {
            corral_bitmask_apply_f32(lview, mview, (size_t)n_cols, rows, (size_t)n_rows);
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);

done:
    if (have_mask) {
        PyBuffer_Release(&mask);
    }
    if (have_logits) {
        PyBuffer_Release(&logits);
    }
    PyMem_Free(indices);
    return result;
}

/* ------------------------------------------------------------------------- */
/* lexer_product                                                             */
/* ------------------------------------------------------------------------- */

/* Check that `view` is a C-contiguous int32 (n, 256) next-state table with n >= 2 (and,
 * with `scan_entries`, that its entries all lie in [0, n)).  Raises and returns -1
 * otherwise; the C code range-checks every entry it reads in any case. */
static int check_dfa_table(const Py_buffer *view, const char *what, int scan_entries) {
    const char code = native_format_code(view->format);
    if (view->itemsize != 4 || (code != 'i' && code != 'l')) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be int32 in native byte order, got buffer format '%.50s' "
                     "with itemsize %zd",
                     what, view->format != NULL ? view->format : "B", view->itemsize);
        return -1;
    }
    if (view->ndim != 2 || view->shape[1] != 256 || view->shape[0] < 2) {
        PyErr_Format(PyExc_ValueError,
                     "%s must have shape (n_states, 256) with n_states >= 2", what);
        return -1;
    }
    if (view->strides[1] != 4 || view->strides[0] != 1024 || (uintptr_t)view->buf % 4 != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be C-contiguous and aligned", what);
        return -1;
    }
    const int32_t *entries = (const int32_t *)view->buf;
    const Py_ssize_t n = scan_entries ? view->shape[0] : 0;
    for (Py_ssize_t i = 0; i < n * 256; ++i) {
        if (entries[i] < 0 || entries[i] >= n) {
            PyErr_Format(PyExc_ValueError,
                         "%s has next state %d at row %zd, byte %zd: outside [0, %zd)",
                         what, (int)entries[i], i / 256, i % 256, n);
            return -1;
        }
    }
    return 0;
}

PyDoc_STRVAR(lexer_product_doc,
             "lexer_product(tables, max_states)\n"
             "--\n\n"
             "Product automaton of byte DFAs (state 0 dead, 1 initial), reachable tuples only.\n\n"
             "tables: sequence of C-contiguous int32 (n_states, 256) next-state tables.\n"
             "max_states: bound on the product's states when there are several tables.\n"
             "Returns (table_bytes, tuples_bytes, n_states) - int32 rows of 256 next states and\n"
             "of len(tables) part states - or None past the bound.\n");

static PyObject *native_lexer_product(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tables_obj = NULL;
    Py_ssize_t max_states = 0;
    if (!PyArg_ParseTuple(args, "On:lexer_product", &tables_obj, &max_states)) {
        return NULL;
    }
    if (max_states < 2) {
        PyErr_Format(PyExc_ValueError, "max_states must be at least 2, got %zd", max_states);
        return NULL;
    }
    if (PyUnicode_Check(tables_obj) || PyBytes_Check(tables_obj)) {
        PyErr_SetString(PyExc_TypeError, "tables must be a sequence of int32 arrays");
        return NULL;
    }
    PyObject *items = PySequence_Tuple(tables_obj);
    if (items == NULL) {
        return NULL;
    }
    const Py_ssize_t n_parts = PyTuple_GET_SIZE(items);
    Py_buffer *views = PyMem_New(Py_buffer, n_parts > 0 ? (size_t)n_parts : 1);
    const int32_t **tables = PyMem_New(const int32_t *, n_parts > 0 ? (size_t)n_parts : 1);
    size_t *sizes = PyMem_New(size_t, n_parts > 0 ? (size_t)n_parts : 1);
    Py_ssize_t have = 0;
    PyObject *result = NULL;
    if (views == NULL || tables == NULL || sizes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (; have < n_parts; ++have) {
        if (get_buffer(PyTuple_GET_ITEM(items, have), &views[have], "tables[k]", 2) < 0) {
            goto done;
        }
        char what[48];
        PyOS_snprintf(what, sizeof what, "tables[%zd]", have);
        if (check_dfa_table(&views[have], what, 1) < 0) {
            PyBuffer_Release(&views[have]);
            goto done;
        }
        tables[have] = (const int32_t *)views[have].buf;
        sizes[have] = (size_t)views[have].shape[0];
    }
    corral_product product = {NULL, NULL, 0};
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_lexer_product(tables, sizes, (size_t)n_parts, (size_t)max_states, &product);
    Py_END_ALLOW_THREADS
    if (code == CORRAL_PRODUCT_BAD_TABLE) {
        PyErr_SetString(PyExc_ValueError, "a table changed while the product was being built");
        goto done;
    }
    if (code == CORRAL_PRODUCT_NO_MEMORY) {
        PyErr_NoMemory();
        goto done;
    }
    if (code == CORRAL_PRODUCT_TOO_LARGE) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    const size_t width = n_parts > 0 ? (size_t)n_parts : 0;
    result = Py_BuildValue(
        "(y#y#n)", (const char *)product.table, (Py_ssize_t)(product.n_states * 256 * 4),
        (const char *)product.tuples, (Py_ssize_t)(product.n_states * width * 4),
        (Py_ssize_t)product.n_states);
    corral_product_free(&product);
done:
    for (Py_ssize_t k = 0; k < have; ++k) {
        PyBuffer_Release(&views[k]);
    }
    PyMem_Free(views);
    PyMem_Free(tables);
    PyMem_Free(sizes);
    Py_DECREF(items);
    return result;
}

/* ------------------------------------------------------------------------- */
/* trie_walk                                                                 */
/* ------------------------------------------------------------------------- */

/* Get a 1-D C-contiguous aligned buffer of `itemsize` bytes per item whose format code is
 * one of `codes`.  Raises and returns -1 otherwise. */
static int get_vector(PyObject *obj, Py_buffer *view, const char *what, Py_ssize_t itemsize,
                      const char *codes) {
    if (get_buffer(obj, view, what, 1) < 0) {
        return -1;
    }
    const char code = native_format_code(view->format);
    if (view->itemsize != itemsize || code == 0 || strchr(codes, code) == NULL) {
        PyErr_Format(PyExc_TypeError,
                     "%s must hold %zd-byte items of format '%s', got format '%.50s' with "
                     "itemsize %zd",
                     what, itemsize, codes, view->format != NULL ? view->format : "B",
                     view->itemsize);
        goto fail;
    }
    if (view->shape[0] > 1 && view->strides[0] != itemsize) {
        PyErr_Format(PyExc_ValueError, "%s must be contiguous", what);
        goto fail;
    }
    if ((uintptr_t)view->buf % (uintptr_t)itemsize != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be aligned", what);
        goto fail;
    }
    return 0;
fail:
    PyBuffer_Release(view);
    return -1;
}

PyDoc_STRVAR(trie_walk_doc,
             "trie_walk(child_ptr, child_ids, node_byte, node_tok_ptr, node_tok_ids, vocab_size,\n"
             "          table, accepting, start, moves=False, node=0)\n"
             "--\n\n"
             "Step a byte automaton from `start` down the token trie below `node` (the root:\n"
             "all of it), level by level.\n\n"
             "child_ptr, child_ids: int64 CSR children of the trie's nodes (root 0);\n"
             "node_byte: uint8 byte into each node; node_tok_ptr, node_tok_ids: int64 CSR token\n"
             "ids ending at each node (below vocab_size); table: C-contiguous int32\n"
             "(n_states, 256); accepting: bool (n_states,).  Returns (allowed, done_nodes,\n"
             "done_states, level_ends): vocab_size bytes flagging the tokens that end at a\n"
             "surviving node, and, as int64 bytes, per level (ending at level_ends) the\n"
             "surviving nodes with children where the automaton accepts, with its state.\n"
             "With moves true, allowed is empty, and after level_ends come end_nodes,\n"
             "group_states, group_ends (int64 bytes: the surviving nodes where a token ends,\n"
             "grouped by the automaton's state there, ascending, each group level by level) and\n"
             "work, the sum over the frontiers stepped of 1 + their children // 64 (infilling's\n"
             "whole-token moves).\n");

static PyObject *native_trie_walk(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *objs[7];
    Py_ssize_t vocab_size = 0;
    Py_ssize_t start = 0;
    int moves = 0;
    Py_ssize_t from = 0;
    if (!PyArg_ParseTuple(args, "OOOOOnOOn|pn:trie_walk", &objs[0], &objs[1], &objs[2], &objs[5],
                          &objs[6], &vocab_size, &objs[3], &objs[4], &start, &moves, &from)) {
        return NULL;
    }
    if (vocab_size < 0) {
        PyErr_Format(PyExc_ValueError, "vocab_size must be >= 0, got %zd", vocab_size);
        return NULL;
    }
    Py_buffer views[7];
    int have = 0;
    PyObject *result = NULL;
    if (get_vector(objs[0], &views[0], "child_ptr", 8, "qlL") < 0) {
        goto done;
    }
    have = 1;
    if (get_vector(objs[1], &views[1], "child_ids", 8, "qlL") < 0) {
        goto done;
    }
    have = 2;
    if (get_vector(objs[2], &views[2], "node_byte", 1, "Bb?c") < 0) {
        goto done;
    }
    have = 3;
    if (get_buffer(objs[3], &views[3], "table", 2) < 0) {
        goto done;
    }
    have = 4;
    if (check_dfa_table(&views[3], "table", 0) < 0) {
        goto done;
    }
    if (get_vector(objs[4], &views[4], "accepting", 1, "?Bb") < 0) {
        goto done;
    }
    have = 5;
    if (get_vector(objs[5], &views[5], "node_tok_ptr", 8, "qlL") < 0) {
        goto done;
    }
    have = 6;
    if (get_vector(objs[6], &views[6], "node_tok_ids", 8, "qlL") < 0) {
        goto done;
    }
    have = 7;
    const Py_ssize_t n_nodes = views[2].shape[0];
    const Py_ssize_t n_states = views[3].shape[0];
    if (views[0].shape[0] != n_nodes + 1 || n_nodes < 1) {
        PyErr_Format(PyExc_ValueError,
                     "child_ptr must have one more entry than node_byte (%zd nodes), got %zd",
                     n_nodes, views[0].shape[0]);
        goto done;
    }
    if (views[5].shape[0] != n_nodes + 1) {
        PyErr_Format(PyExc_ValueError,
                     "node_tok_ptr must have one more entry than node_byte (%zd nodes), got %zd",
                     n_nodes, views[5].shape[0]);
        goto done;
    }
    if (views[4].shape[0] != n_states) {
        PyErr_Format(PyExc_ValueError, "accepting must have %zd entries (one per state), got %zd",
                     n_states, views[4].shape[0]);
        goto done;
    }
    if (start < 0 || start >= n_states) {
        PyErr_Format(PyExc_ValueError, "start state %zd is outside [0, %zd)", start, n_states);
        goto done;
    }
    if (from < 0 || from >= n_nodes) {
        PyErr_Format(PyExc_ValueError, "node %zd is outside [0, %zd)", from, n_nodes);
        goto done;
    }
    const corral_trie trie = {(const int64_t *)views[0].buf, (const int64_t *)views[1].buf,
                              (const uint8_t *)views[2].buf, (const int64_t *)views[5].buf,
                              (const int64_t *)views[6].buf, (size_t)n_nodes,
                              (size_t)views[1].shape[0], (size_t)views[6].shape[0],
                              (size_t)vocab_size};
    corral_walk walk = {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, 0, 0};
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_trie_walk(&trie, (const int32_t *)views[3].buf, (size_t)n_states,
                            (const uint8_t *)views[4].buf, (size_t)start, (size_t)from, moves,
                            &walk);
    Py_END_ALLOW_THREADS
    if (code == CORRAL_WALK_NO_MEMORY) {
        PyErr_NoMemory();
        goto done;
    }
    if (code != CORRAL_WALK_OK) {
        PyErr_SetString(PyExc_ValueError,
                        "the trie arrays are inconsistent (an offset, node id or state out of "
                        "range, or a node reached twice)");
        goto done;
    }
    const Py_ssize_t n_done = walk.n_levels ? (Py_ssize_t)walk.level_ends[walk.n_levels - 1] : 0;
    if (moves) {
        result = Py_BuildValue(
            "(y#y#y#y#y#y#y#L)", "", (Py_ssize_t)0, (const char *)walk.done_nodes, n_done * 8,
            (const char *)walk.done_states, n_done * 8, (const char *)walk.level_ends,
            (Py_ssize_t)walk.n_levels * 8, (const char *)walk.end_nodes,
            (Py_ssize_t)walk.n_ends * 8, (const char *)walk.group_states,
            (Py_ssize_t)walk.n_groups * 8, (const char *)walk.group_ends,
            (Py_ssize_t)walk.n_groups * 8, (long long)walk.work);
    } else {
        result = Py_BuildValue("(y#y#y#y#)", (const char *)walk.allowed, vocab_size,
                               (const char *)walk.done_nodes, n_done * 8,
                               (const char *)walk.done_states, n_done * 8,
                               (const char *)walk.level_ends, (Py_ssize_t)walk.n_levels * 8);
    }
    corral_walk_free(&walk);
done:
    for (int k = 0; k < have; ++k) {
        PyBuffer_Release(&views[k]);
    }
    return result;
}

/* ------------------------------------------------------------------------- */
/* minimize                                                                  */
/* ------------------------------------------------------------------------- */

PyDoc_STRVAR(minimize_doc,
             "minimize(table, accepting)\n"
             "--\n\n"
             "Trim and minimise a byte DFA (state 0 dead, 1 initial; Hopcroft's refinement).\n\n"
             "table: C-contiguous int32 (n, 256), n >= 2, entries in [0, n); accepting: bool\n"
             "(n,).  Returns (table, accepting_bytes, n_states), the table a bytearray (so that\n"
             "NumPy can take it over writable without a copy).\n");

static PyObject *native_minimize(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *table_obj = NULL;
    PyObject *acc_obj = NULL;
    if (!PyArg_ParseTuple(args, "OO:minimize", &table_obj, &acc_obj)) {
        return NULL;
    }
    Py_buffer views[2];
    int have = 0;
    PyObject *result = NULL;
    if (get_buffer(table_obj, &views[0], "table", 2) < 0) {
        goto done;
    }
    have = 1;
    if (check_dfa_table(&views[0], "table", 0) < 0) {
        goto done;
    }
    if (get_vector(acc_obj, &views[1], "accepting", 1, "?Bb") < 0) {
        goto done;
    }
    have = 2;
    const Py_ssize_t n = views[0].shape[0];
    if (views[1].shape[0] != n) {
        PyErr_Format(PyExc_ValueError, "accepting must have %zd entries (one per state), got %zd",
                     n, views[1].shape[0]);
        goto done;
    }
    corral_minimized m;
    memset(&m, 0, sizeof m);
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_minimize((const int32_t *)views[0].buf, (const uint8_t *)views[1].buf,
                           (size_t)n, &m);
    Py_END_ALLOW_THREADS
    if (code == CORRAL_MINIMIZE_NO_MEMORY) {
        PyErr_NoMemory();
        goto done;
    }
    if (code != CORRAL_MINIMIZE_OK) {
        PyErr_SetString(PyExc_ValueError, "table has a next state outside [0, n_states)");
        goto done;
    }
    PyObject *table = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(m.n_states * 256 * 4));
    if (table != NULL) {
        int32_t *full = (int32_t *)PyByteArray_AS_STRING(table);
        for (size_t r = 0; r < m.n_states; ++r) {
            for (size_t b = 0; b < 256; ++b) {
                full[r * 256 + b] = m.table[r * m.width + m.classes[b]];
            }
        }
        result = Py_BuildValue("(Ny#n)", table, (const char *)m.accepting,
                               (Py_ssize_t)m.n_states, (Py_ssize_t)m.n_states);
    }
    corral_minimized_free(&m);
done:
    for (int k = 0; k < have; ++k) {
        PyBuffer_Release(&views[k]);
    }
    return result;
}

/* ------------------------------------------------------------------------- */
/* Module definition                                                         */
/* ------------------------------------------------------------------------- */

static PyMethodDef native_methods[] = {
    {"apply_token_bitmask_inplace", (PyCFunction)(void (*)(void))native_apply_token_bitmask_inplace,
     METH_VARARGS | METH_KEYWORDS, apply_doc},
    {"lexer_product", (PyCFunction)native_lexer_product, METH_VARARGS, lexer_product_doc},
    {"trie_walk", (PyCFunction)native_trie_walk, METH_VARARGS, trie_walk_doc},
    {"minimize", (PyCFunction)native_minimize, METH_VARARGS, minimize_doc},
    {NULL, NULL, 0, NULL},
};

/* The native matcher's functions (binding_engine.c), the trie builder (binding_trie.c), the
 * automata kernels (binding_automata.c) and the subset construction (binding_regex.c). */
extern PyMethodDef corral_engine_methods[];
extern PyMethodDef corral_trie_methods[];
extern PyMethodDef corral_automata_methods[];
extern PyMethodDef corral_regex_methods[];

static int native_exec(PyObject *module) {
    if (PyModule_AddFunctions(module, corral_engine_methods) < 0 ||
        PyModule_AddFunctions(module, corral_trie_methods) < 0 ||
        PyModule_AddFunctions(module, corral_regex_methods) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, corral_automata_methods);
}

static PyModuleDef_Slot native_slots[] = {
    {Py_mod_exec, native_exec},
    {0, NULL},
};

PyDoc_STRVAR(module_doc, "Native (C) kernels of corral's constraint engine.");

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "corral._native",
    .m_doc = module_doc,
    .m_size = 0,
    .m_methods = native_methods,
    .m_slots = native_slots,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&native_module); }
