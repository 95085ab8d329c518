/*
 * binding_regex.c - CPython binding of the subset construction (subset.c).
 *
 * With binding.c, binding_automata.c, binding_engine.c and binding_trie.c, the only files that
 * include Python.h.  The NFA arrives as contiguous buffers; every pointer, index and cut is
 * checked here, with the GIL held, before the kernel runs without it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "corral/corral.h"

/* `view` holds `count` entries of `size` bytes, aligned to `size`. */
static int check_array(const Py_buffer *view, Py_ssize_t size, const char *what,
                       Py_ssize_t *count) {
    if (view->len % size != 0 || (uintptr_t)view->buf % (uintptr_t)size != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be an aligned array of %zd-byte integers", what,
                     size);
        return -1;
    }
    *count = view->len / size;
    return 0;
}

/* ptr holds n + 1 offsets from 0 up to `total`, never decreasing. */
static int check_offsets(const int64_t *ptr, Py_ssize_t n, Py_ssize_t total, const char *what) {
    if (ptr[0] != 0 || ptr[n] != total) {
        PyErr_Format(PyExc_ValueError, "%s must start at 0 and end at %zd", what, total);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; ++i) {
        if (ptr[i + 1] < ptr[i]) {
            PyErr_Format(PyExc_ValueError, "%s must never decrease", what);
            return -1;
        }
    }
    return 0;
}

/* Every entry of v[0..n) in [lo, hi). */
static int check_range(const int32_t *v, Py_ssize_t n, int64_t lo, int64_t hi, const char *what) {
    for (Py_ssize_t i = 0; i < n; ++i) {
        if (v[i] < lo || v[i] >= hi) {
            PyErr_Format(PyExc_ValueError, "%s holds %d, outside [%lld, %lld)", what, (int)v[i],
                         (long long)lo, (long long)hi);
            return -1;
        }
    }
    return 0;
}

PyDoc_STRVAR(subset_construct_doc,
             "subset_construct(eps_ptr, eps_ids, edge_ptr, edge_k0, edge_k1, edge_t, span_lo,\n"
             "                 initial, final, max_states, deadline)\n"
             "--\n\n"
             "The subset construction of a byte DFA from an NFA: int64 offsets eps_ptr and\n"
             "edge_ptr (n_states + 1 each), int32 eps_ids, edge_k0, edge_k1 (an edge reads the\n"
             "byte intervals [k0, k1)), edge_t (its target), and span_lo (the interval cuts, 0\n"
             "first and 256 last, increasing).  Returns (table, accepting, n_states): the\n"
             "(n_states, 256) int32 table and n_states flag bytes, state 0 dead and 1 initial;\n"
             "or -2 past max_states states, -3 past the deadline (the thread's CPU time in\n"
             "seconds; negative: none).\n");

static PyObject *native_subset_construct(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer v[7];
    Py_ssize_t initial = 0, final = 0, max_states = 0;
    double deadline = -1.0;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*nnnd:subset_construct", &v[0], &v[1], &v[2],
                          &v[3], &v[4], &v[5], &v[6], &initial, &final, &max_states,
                          &deadline)) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t n_eps_ptr, n_eps, n_edge_ptr, n_k0, n_k1, n_t, n_cuts;
    if (check_array(&v[0], 8, "eps_ptr", &n_eps_ptr) < 0 ||
        check_array(&v[1], 4, "eps_ids", &n_eps) < 0 ||
        check_array(&v[2], 8, "edge_ptr", &n_edge_ptr) < 0 ||
        check_array(&v[3], 4, "edge_k0", &n_k0) < 0 ||
        check_array(&v[4], 4, "edge_k1", &n_k1) < 0 ||
        check_array(&v[5], 4, "edge_t", &n_t) < 0 ||
        check_array(&v[6], 4, "span_lo", &n_cuts) < 0) {
        goto done;
    }
    const Py_ssize_t n = n_eps_ptr - 1;
    if (n < 1 || n > INT32_MAX || n_edge_ptr != n_eps_ptr || n_k1 != n_k0 || n_t != n_k0) {
        PyErr_SetString(PyExc_ValueError,
                        "eps_ptr and edge_ptr must hold n_states + 1 offsets (n_states >= 1), "
                        "edge_k0, edge_k1 and edge_t one entry per edge");
        goto done;
    }
    const int64_t *eps_ptr = (const int64_t *)v[0].buf;
    const int64_t *edge_ptr = (const int64_t *)v[2].buf;
    const int32_t *k0 = (const int32_t *)v[3].buf;
    const int32_t *k1 = (const int32_t *)v[4].buf;
    const int32_t *cuts = (const int32_t *)v[6].buf;
    const Py_ssize_t n_spans = n_cuts - 1;
    if (n_spans < 1 || n_spans > 256 || cuts[0] != 0 || cuts[n_spans] != 256) {
        PyErr_SetString(PyExc_ValueError, "span_lo must run from 0 to 256");
        goto done;
    }
    for (Py_ssize_t k = 0; k < n_spans; ++k) {
        if (cuts[k + 1] <= cuts[k]) {
            PyErr_SetString(PyExc_ValueError, "span_lo must increase");
            goto done;
        }
    }
    if (check_offsets(eps_ptr, n, n_eps, "eps_ptr") < 0 ||
        check_offsets(edge_ptr, n, n_k0, "edge_ptr") < 0 ||
        check_range((const int32_t *)v[1].buf, n_eps, 0, n, "eps_ids") < 0 ||
        check_range((const int32_t *)v[5].buf, n_t, 0, n, "edge_t") < 0 ||
        check_range(k0, n_k0, 0, n_spans, "edge_k0") < 0 ||
        check_range(k1, n_k1, 1, n_spans + 1, "edge_k1") < 0) {
        goto done;
    }
    for (Py_ssize_t e = 0; e < n_k0; ++e) {
        if (k1[e] <= k0[e]) {
            PyErr_SetString(PyExc_ValueError, "an edge must read at least one interval");
            goto done;
        }
    }
    if (initial < 0 || initial >= n || final < 0 || final >= n) {
        PyErr_Format(PyExc_ValueError, "initial and final must lie in [0, %zd)", n);
        goto done;
    }
    if (max_states < 1 || max_states > INT32_MAX - 1) {
        PyErr_Format(PyExc_ValueError, "max_states must lie in [1, 2**31 - 2], got %zd",
                     max_states);
        goto done;
    }
    const corral_nfa nfa = {
        (size_t)n, eps_ptr,  (const int32_t *)v[1].buf, edge_ptr, k0, k1,
        (const int32_t *)v[5].buf, (size_t)n_spans, cuts, (int32_t)initial, (int32_t)final,
    };
    corral_subset_out out;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_subset(&nfa, (size_t)max_states, deadline, &out);
    Py_END_ALLOW_THREADS
    if (code == CORRAL_SUBSET_NO_MEMORY) {
        PyErr_NoMemory();
    } else if (code != CORRAL_SUBSET_OK) {
        result = PyLong_FromLong(code);
    } else {
        const Py_ssize_t m = (Py_ssize_t)out.n_states;
        result = Py_BuildValue("(y#y#n)", (const char *)out.table, m * 256 * 4,
                               (const char *)out.accepting, m, m);
    }
    corral_subset_free(&out);
done:
    for (int i = 0; i < 7; ++i) {
        PyBuffer_Release(&v[i]);
    }
    return result;
}

PyMethodDef corral_regex_methods[] = {
    {"subset_construct", (PyCFunction)native_subset_construct, METH_VARARGS,
     subset_construct_doc},
    {NULL, NULL, 0, NULL},
};
