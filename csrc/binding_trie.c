/*
 * binding_trie.c - CPython binding of the token trie builder (trie_build.c).
 *
 * With binding.c and binding_engine.c, the only files that include Python.h.  The tokens'
 * bytes are copied into one buffer with the GIL held (so nothing another thread does to the
 * list can reach the build), then the trie is built with the GIL released.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "corral/corral.h"

PyDoc_STRVAR(trie_build_doc,
             "trie_build(tokens, excluded)\n"
             "--\n\n"
             "The token trie of `tokens` (a sequence of bytes, indexed by id), leaving out the\n"
             "ids whose byte in `excluded` (bytes, one per token) is not 0.  Returns (node_byte,\n"
             "child_ptr, child_ids, n_children, node_tok_ptr, node_tok_ids, token_node, max_depth):\n"
             "bytes of uint8 / int64 and an int, as TokenTrie.build_py computes them.\n");

static PyObject *native_trie_build(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tokens_obj = NULL;
    Py_buffer excl;
    if (!PyArg_ParseTuple(args, "Oy*:trie_build", &tokens_obj, &excl)) {
        return NULL;
    }
    PyObject *result = NULL;
    uint8_t *data = NULL;
    int64_t *offsets = NULL;
    PyObject *seq = PySequence_Fast(tokens_obj, "tokens must be a sequence of bytes");
    if (seq == NULL) {
        goto done;
    }
    const Py_ssize_t vocab = PySequence_Fast_GET_SIZE(seq);
    if (excl.len != vocab) {
        PyErr_Format(PyExc_ValueError, "excluded must have %zd bytes (one per token), got %zd",
                     vocab, excl.len);
        goto done;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    size_t total = 0;
    for (Py_ssize_t i = 0; i < vocab; ++i) {
        if (!PyBytes_Check(items[i])) {
            PyErr_Format(PyExc_TypeError, "token %zd must be bytes, got %.200s", i,
                         Py_TYPE(items[i])->tp_name);
            goto done;
        }
        total += (size_t)PyBytes_GET_SIZE(items[i]);
    }
    data = malloc(total > 0 ? total : 1);
    offsets = malloc(((size_t)vocab + 1) * sizeof(int64_t));
    if (data == NULL || offsets == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    offsets[0] = 0;
    for (Py_ssize_t i = 0; i < vocab; ++i) {
        const Py_ssize_t len = PyBytes_GET_SIZE(items[i]);
        if (len > 0) {
            memcpy(data + offsets[i], PyBytes_AS_STRING(items[i]), (size_t)len);
        }
        offsets[i + 1] = offsets[i] + len;
    }
    corral_built_trie t;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = corral_trie_build(data, offsets, (const uint8_t *)excl.buf, (size_t)vocab, &t);
    Py_END_ALLOW_THREADS
    if (code == CORRAL_TRIE_BUILD_NO_MEMORY) {
        PyErr_NoMemory();
        goto done;
    }
    if (code != CORRAL_TRIE_BUILD_OK) {
        PyErr_SetString(PyExc_ValueError, "token offsets decrease");
        goto done;
    }
    const Py_ssize_t n = (Py_ssize_t)t.n_nodes;
    result = Py_BuildValue("(y#y#y#y#y#y#y#L)", (const char *)t.node_byte, n,
                           (const char *)t.child_ptr, (n + 1) * 8, (const char *)t.child_ids,
                           (n - 1) * 8, (const char *)t.n_children, n * 8,
                           (const char *)t.node_tok_ptr, (n + 1) * 8,
                           (const char *)t.node_tok_ids, (Py_ssize_t)t.n_tok_ids * 8,
                           (const char *)t.token_node, vocab * 8, (long long)t.max_depth);
    corral_built_trie_free(&t);
done:
    free(data);
    free(offsets);
    Py_XDECREF(seq);
    PyBuffer_Release(&excl);
    return result;
}

PyMethodDef corral_trie_methods[] = {
    {"trie_build", (PyCFunction)native_trie_build, METH_VARARGS, trie_build_doc},
    {NULL, NULL, 0, NULL},
};
