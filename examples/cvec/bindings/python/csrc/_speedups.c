/* cvec._speedups: a small CPython extension module written against the
 * Python C API. It is independent of the vecops shared library (which is
 * loaded with ctypes), so it has no link-time dependency to relocate. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyDoc_STRVAR(fsum_list_doc,
"fsum_list(values, /)\n"
"--\n"
"\n"
"Return the sum of a list (or any sequence) of floats as a float.\n"
"Items must be real numbers (float, int, or objects with __float__).");

static PyObject *
fsum_list(PyObject *module, PyObject *arg)
{
    PyObject *seq;
    Py_ssize_t i, n;
    double total = 0.0;

    (void)module;
    seq = PySequence_Fast(arg, "fsum_list() argument must be a sequence of floats");
    if (seq == NULL) {
        return NULL;
    }
    n = PySequence_Fast_GET_SIZE(seq);
    for (i = 0; i < n; ++i) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i); /* borrowed */
        double v = PyFloat_AsDouble(item);
        if (v == -1.0 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return NULL;
        }
        total += v;
    }
    Py_DECREF(seq);
    return PyFloat_FromDouble(total);
}

static PyMethodDef speedups_methods[] = {
    {"fsum_list", fsum_list, METH_O, fsum_list_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "cvec._speedups",
    "C speedups for cvec (CPython C API).",
    0,
    speedups_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
