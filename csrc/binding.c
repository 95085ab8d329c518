/*
 * binding.c - CPython binding of corral.constraint_engine._native.
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
/* Module definition                                                         */
/* ------------------------------------------------------------------------- */

static PyMethodDef native_methods[] = {
    {"apply_token_bitmask_inplace", (PyCFunction)(void (*)(void))native_apply_token_bitmask_inplace,
     METH_VARARGS | METH_KEYWORDS, apply_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(module_doc, "Native (C) kernels of corral's constraint engine.");

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "corral.constraint_engine._native",
    .m_doc = module_doc,
    .m_size = 0,
    .m_methods = native_methods,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&native_module); }
