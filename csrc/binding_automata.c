/*
 * binding_automata.c - CPython binding of the automata kernels that have no home in
 * binding.c: byte classes (byte_classes.c), the product of two DFAs (dfa_product.c), and the
 * automata of text sets (texts_dfa.c).
 *
 * With binding.c, binding_engine.c and binding_trie.c, the only files that include Python.h.
 * Tables arrive as contiguous buffers whose lengths are checked against their shapes; the
 * kernels range-check every entry they follow.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corral/corral.h"

PyDoc_STRVAR(byte_classes_doc,
             "byte_classes(table, n_states)\n"
             "--\n\n"
             "Classes of equal columns of a C-contiguous int32 (n_states, 256) next-state\n"
             "table, numbered by their first byte.  Returns 256 bytes (the class of each byte).\n");

/* The classes of equal columns of the (n, width) int32 table in `view` (released here), as
 * `width` bytes; shared by byte_classes and column_classes. */
static PyObject *classes_of_view(Py_buffer *view, Py_ssize_t n, Py_ssize_t width) {
    PyObject *result = NULL;
    if (n < 1 || width < 1 || width > 256 || n > PY_SSIZE_T_MAX / (4 * 256) ||
        view->len != n * width * 4) {
        PyErr_Format(PyExc_ValueError,
                     "table must hold n_states * width int32 entries (n_states >= 1, 1 <= "
                     "width <= 256): got %zd bytes for (%zd, %zd)",
                     view->len, n, width);
        goto done;
    }
    if ((uintptr_t)view->buf % 4 != 0) {
        PyErr_SetString(PyExc_ValueError, "table must be aligned to 4 bytes");
        goto done;
    }
    uint8_t out[256];
    Py_BEGIN_ALLOW_THREADS
    corral_column_classes((const int32_t *)view->buf, (size_t)n, (size_t)width, out);
    Py_END_ALLOW_THREADS
    result = PyBytes_FromStringAndSize((const char *)out, width);
done:
    PyBuffer_Release(view);
    return result;
}

static PyObject *native_byte_classes(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t n = 0;
    if (!PyArg_ParseTuple(args, "y*n:byte_classes", &view, &n)) {
        return NULL;
    }
    return classes_of_view(&view, n, 256);
}

/* Check that `view` holds rows * cols int32 entries, 4-byte aligned. */
static int check_matrix(const Py_buffer *view, Py_ssize_t rows, Py_ssize_t cols,
                        const char *what) {
    if (rows < 2 || cols < 1 || cols > 256 || rows > PY_SSIZE_T_MAX / (4 * 256) ||
        view->len != rows * cols * 4) {
        PyErr_Format(PyExc_ValueError,
                     "%s must hold n_states * n_classes int32 entries (n_states >= 2, 1 <= "
                     "n_classes <= 256): got %zd bytes for (%zd, %zd)",
                     what, view->len, rows, cols);
        return -1;
    }
    if ((uintptr_t)view->buf % 4 != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be aligned to 4 bytes", what);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(dfa_product_doc,
             "dfa_product(ta, na, tb, nb, n_classes, mode, max_states)\n"
             "--\n\n"
             "Reachable product of two DFAs given as C-contiguous int32 (na, n_classes) and\n"
             "(nb, n_classes) tables over shared byte classes; mode 0 (and), 1 (or), 2 (minus).\n"
             "Returns (table_bytes, xs_bytes, ys_bytes, n_states), int32 each, or None when a\n"
             "state id would pass max_states.\n");

static PyObject *native_dfa_product(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer va, vb;
    Py_ssize_t na = 0, nb = 0, n_classes = 0, max_states = 0;
    int mode = 0;
    if (!PyArg_ParseTuple(args, "y*ny*nnin:dfa_product", &va, &na, &vb, &nb, &n_classes, &mode,
                          &max_states)) {
        return NULL;
    }
    PyObject *result = NULL;
    if (check_matrix(&va, na, n_classes, "ta") < 0 || check_matrix(&vb, nb, n_classes, "tb") < 0) {
        goto done;
    }
    if (mode < CORRAL_PRODUCT_AND || mode > CORRAL_PRODUCT_MINUS) {
        PyErr_Format(PyExc_ValueError, "mode must be 0 (and), 1 (or) or 2 (minus), got %d", mode);
        goto done;
    }
    if (max_states < 1 || max_states > INT32_MAX - 1) {
        PyErr_Format(PyExc_ValueError, "max_states must lie in [1, 2**31 - 2], got %zd",
                     max_states);
        goto done;
    }
    corral_pair_product out = {NULL, NULL, NULL, 0};
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_dfa_product((const int32_t *)va.buf, (size_t)na, (const int32_t *)vb.buf,
                              (size_t)nb, (size_t)n_classes, mode, (size_t)max_states, &out);
    Py_END_ALLOW_THREADS
    if (code == CORRAL_PRODUCT_NO_MEMORY) {
        PyErr_NoMemory();
    } else if (code == CORRAL_PRODUCT_BAD_TABLE) {
        PyErr_SetString(PyExc_ValueError, "a table has a next state outside [0, n_states)");
    } else if (code == CORRAL_PRODUCT_TOO_LARGE) {
        result = Py_NewRef(Py_None);
    } else {
        const Py_ssize_t n = (Py_ssize_t)out.n_states;
        result = Py_BuildValue("(y#y#y#n)", (const char *)out.table, n * n_classes * 4,
                               (const char *)out.xs, n * 4, (const char *)out.ys, n * 4, n);
    }
    corral_pair_product_free(&out);
done:
    PyBuffer_Release(&va);
    PyBuffer_Release(&vb);
    return result;
}

PyDoc_STRVAR(bounded_classes_doc,
             "bounded_classes(table, n_states, n_classes, accepting, rounds)\n"
             "--\n\n"
             "Blocks of Moore's partition after `rounds` rounds of a DFA given as a C-contiguous\n"
             "int32 (n_states, n_classes) table (state 0 dead) and n_states accepting bytes:\n"
             "states no string of at most `rounds` bytes tells apart share a block.  Returns\n"
             "n_states int32 block numbers (arbitrary numbers; equal means same block).\n");

static PyObject *native_bounded_classes(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer vt, va;
    Py_ssize_t n = 0, width = 0, rounds = 0;
    if (!PyArg_ParseTuple(args, "y*nny*n:bounded_classes", &vt, &n, &width, &va, &rounds)) {
        return NULL;
    }
    PyObject *result = NULL;
    int32_t *cls = NULL;
    if (check_matrix(&vt, n, width, "table") < 0) {
        goto done;
    }
    if (n > INT32_MAX - 4 || va.len != n) {
        PyErr_Format(PyExc_ValueError, "accepting must hold n_states bytes: got %zd for %zd",
                     va.len, n);
        goto done;
    }
    if (rounds < 0 || rounds > INT32_MAX - 1) {
        PyErr_Format(PyExc_ValueError, "rounds must lie in [0, 2**31 - 2], got %zd", rounds);
        goto done;
    }
    const int32_t *table = (const int32_t *)vt.buf;
    for (Py_ssize_t e = 0; e < n * width; ++e) {
        if (table[e] < 0 || table[e] >= n) {
            PyErr_SetString(PyExc_ValueError, "table has a next state outside [0, n_states)");
            goto done;
        }
    }
    if ((cls = malloc((size_t)n * sizeof(int32_t))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_bounded_classes(table, (int32_t)n, (int32_t)width, (const uint8_t *)va.buf,
                                  (int32_t)rounds, cls, NULL);
    Py_END_ALLOW_THREADS
    if (code < 0) {
        PyErr_NoMemory();
    } else {
        result = PyBytes_FromStringAndSize((const char *)cls, n * 4);
    }
done:
    free(cls);
    PyBuffer_Release(&vt);
    PyBuffer_Release(&va);
    return result;
}

/* (table, classes, width, accepting, n_states) of a minimised automaton, as minimize_classes
 * returns it. */
static PyObject *minimized_tuple(const corral_minimized *m) {
    const Py_ssize_t rows = (Py_ssize_t)m->n_states, w = (Py_ssize_t)m->width;
    PyObject *table = PyByteArray_FromStringAndSize((const char *)m->table, rows * w * 4);
    if (table == NULL) {
        return NULL;
    }
    return Py_BuildValue("(Ny#ny#n)", table, (const char *)m->classes, (Py_ssize_t)256, w,
                         (const char *)m->accepting, rows, rows);
}

/* Whether `ends` holds at least one aligned int64 offset (else a ValueError is set). */
static int ends_ok(const Py_buffer *ends) {
    if (ends->len % 8 != 0 || ends->len == 0 || (uintptr_t)ends->buf % 8 != 0) {
        PyErr_Format(PyExc_ValueError,
                     "ends must hold at least one aligned int64 offset, got %zd bytes",
                     ends->len);
        return 0;
    }
    return 1;
}

/* The minimised automaton a kernel returned with `code`, as minimized_tuple gives it; NULL
 * with MemoryError, or with ValueError(`bad`) for bad input. */
static PyObject *minimized_result(int code, const corral_minimized *m, const char *bad) {
    if (code == CORRAL_MINIMIZE_NO_MEMORY) {
        return PyErr_NoMemory();
    }
    if (code != CORRAL_MINIMIZE_OK) {
        PyErr_SetString(PyExc_ValueError, bad);
        return NULL;
    }
    return minimized_tuple(m);
}

PyDoc_STRVAR(texts_dfa_doc,
             "texts_dfa(data, ends)\n"
             "--\n\n"
             "The minimal automaton of exactly the byte strings data[ends[i - 1]:ends[i]]\n"
             "(ends: ascending int64 offsets, at least one, the last at most len(data)), as\n"
             "minimize_classes returns it.\n");

static PyObject *native_texts_dfa(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer vd, ve;
    if (!PyArg_ParseTuple(args, "y*y*:texts_dfa", &vd, &ve)) {
        return NULL;
    }
    PyObject *result = NULL;
    corral_minimized m;
    memset(&m, 0, sizeof m);
    if (!ends_ok(&ve)) {
        goto done;
    }
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_texts_dfa((const uint8_t *)vd.buf, (size_t)vd.len, (const int64_t *)ve.buf,
                            (size_t)ve.len / 8, &m);
    Py_END_ALLOW_THREADS
    result = minimized_result(code, &m,
                              "ends must be ascending offsets within data, at most 2**30 bytes");
done:
    corral_minimized_free(&m);
    PyBuffer_Release(&vd);
    PyBuffer_Release(&ve);
    return result;
}

PyDoc_STRVAR(texts_complement_doc,
             "texts_complement(ktable, kn, kwidth, kclasses, kaccepting, data, ends)\n"
             "--\n\n"
             "The minimal automaton of L(K) minus the byte strings data[ends[i - 1]:ends[i]], K\n"
             "given as a C-contiguous int32 (kn, kwidth) table over its classes, the class of\n"
             "each byte (256 bytes) and kn accepting bytes; as minimize_classes returns it.\n");

static PyObject *native_texts_complement(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer vk, vc, va, vd, ve;
    Py_ssize_t kn = 0, kwidth = 0;
    if (!PyArg_ParseTuple(args, "y*nny*y*y*y*:texts_complement", &vk, &kn, &kwidth, &vc, &va,
                          &vd, &ve)) {
        return NULL;
    }
    PyObject *result = NULL;
    corral_minimized m;
    memset(&m, 0, sizeof m);
    if (check_matrix(&vk, kn, kwidth, "ktable") < 0) {
        goto done;
    }
    if (vc.len != 256 || va.len != kn) {
        PyErr_Format(PyExc_ValueError,
                     "kclasses must hold 256 bytes and kaccepting kn bytes: got %zd and %zd",
                     vc.len, va.len);
        goto done;
    }
    if (!ends_ok(&ve)) {
        goto done;
    }
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_texts_complement((const int32_t *)vk.buf, (size_t)kn, (size_t)kwidth,
                                   (const uint8_t *)vc.buf, (const uint8_t *)va.buf,
                                   (const uint8_t *)vd.buf, (size_t)vd.len,
                                   (const int64_t *)ve.buf, (size_t)ve.len / 8, &m);
    Py_END_ALLOW_THREADS
    result = minimized_result(code, &m,
                              "ktable has an entry outside [0, kn) or kclasses a class outside "
                              "[0, kwidth), or ends are not ascending offsets within data");
done:
    corral_minimized_free(&m);
    PyBuffer_Release(&vk);
    PyBuffer_Release(&vc);
    PyBuffer_Release(&va);
    PyBuffer_Release(&vd);
    PyBuffer_Release(&ve);
    return result;
}

PyDoc_STRVAR(minimize_classes_doc,
             "minimize_classes(table, n_states, width, colmap, accepting)\n"
             "--\n\n"
             "Trim and minimise a byte DFA given over byte classes: a C-contiguous int32\n"
             "(n_states, width) table (state 0 dead, 1 initial, entries in [0, n_states)),\n"
             "the column of each byte (256 bytes below width; None: width 256, byte b reads\n"
             "column b) and n_states accepting bytes.  Returns (table, classes, width,\n"
             "accepting, n_states): the minimised table over its own byte classes (a bytearray\n"
             "of int32 (n_states, width)), the class of each byte (256 bytes, numbered by first\n"
             "byte), and its acceptance flags.\n");

static PyObject *native_minimize_classes(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer vt, va, vc = {0};
    Py_ssize_t n = 0, width = 0;
    PyObject *colmap_obj;
    if (!PyArg_ParseTuple(args, "y*nnOy*:minimize_classes", &vt, &n, &width, &colmap_obj,
                          &va)) {
        return NULL;
    }
    PyObject *result = NULL;
    int have_colmap = 0;
    corral_minimized m;
    memset(&m, 0, sizeof m);
    if (check_matrix(&vt, n, width, "table") < 0) {
        goto done;
    }
    if (va.len != n) {
        PyErr_Format(PyExc_ValueError, "accepting must hold n_states bytes: got %zd for %zd",
                     va.len, n);
        goto done;
    }
    if (colmap_obj != Py_None) {
        if (PyObject_GetBuffer(colmap_obj, &vc, PyBUF_SIMPLE) < 0) {
            goto done;
        }
        have_colmap = 1;
        if (vc.len != 256) {
            PyErr_Format(PyExc_ValueError, "colmap must hold 256 bytes, got %zd", vc.len);
            goto done;
        }
    } else if (width != 256) {
        PyErr_SetString(PyExc_ValueError, "colmap may be None only for a width of 256");
        goto done;
    }
    const uint8_t *colmap = have_colmap ? (const uint8_t *)vc.buf : NULL;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_minimize_classes((const int32_t *)vt.buf, (size_t)width, colmap,
                                   (const uint8_t *)va.buf, (size_t)n, &m);
    Py_END_ALLOW_THREADS
    result = minimized_result(code, &m,
                              "table has a next state outside [0, n_states) or colmap a column "
                              "outside [0, width)");
done:
    corral_minimized_free(&m);
    if (have_colmap) {
        PyBuffer_Release(&vc);
    }
    PyBuffer_Release(&vt);
    PyBuffer_Release(&va);
    return result;
}

PyDoc_STRVAR(column_classes_doc,
             "column_classes(table, n_states, width)\n"
             "--\n\n"
             "Classes of equal columns of a C-contiguous int32 (n_states, width) table\n"
             "(1 <= width <= 256), numbered by their first column.  Returns `width` bytes.\n");

static PyObject *native_column_classes(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t n = 0, width = 0;
    if (!PyArg_ParseTuple(args, "y*nn:column_classes", &view, &n, &width)) {
        return NULL;
    }
    return classes_of_view(&view, n, width);
}

PyMethodDef corral_automata_methods[] = {
    {"column_classes", (PyCFunction)native_column_classes, METH_VARARGS, column_classes_doc},
    {"minimize_classes", (PyCFunction)native_minimize_classes, METH_VARARGS,
     minimize_classes_doc},
    {"texts_dfa", (PyCFunction)native_texts_dfa, METH_VARARGS, texts_dfa_doc},
    {"texts_complement", (PyCFunction)native_texts_complement, METH_VARARGS,
     texts_complement_doc},
    {"bounded_classes", (PyCFunction)native_bounded_classes, METH_VARARGS,
     bounded_classes_doc},
    {"dfa_product", (PyCFunction)native_dfa_product, METH_VARARGS, dfa_product_doc},
    {"byte_classes", (PyCFunction)native_byte_classes, METH_VARARGS, byte_classes_doc},
    {NULL, NULL, 0, NULL},
};
