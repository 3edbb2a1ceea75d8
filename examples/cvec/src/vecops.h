/* vecops: a tiny C library of operations on double arrays.
 *
 * Built as a shared library (libvecops.so / vecops.dll / libvecops.dylib)
 * and loaded at run time with ctypes by the cvec Python package.
 */
#ifndef VECOPS_H
#define VECOPS_H

#include <stddef.h>

#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(VECOPS_BUILDING)
#    define VECOPS_API __declspec(dllexport)
#  else
#    define VECOPS_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define VECOPS_API __attribute__((visibility("default")))
#else
#  define VECOPS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the C library, e.g. "1.4.9". */
VECOPS_API const char *vecops_version(void);

/* Sum of a[i] * b[i] for i in [0, n). */
VECOPS_API double vecops_dot(const double *a, const double *b, size_t n);

/* Euclidean (L2) norm of a[0..n). Scaled so it does not overflow for large values. */
VECOPS_API double vecops_norm(const double *a, size_t n);

/* y[i] += alpha * x[i] for i in [0, n). */
VECOPS_API void vecops_axpy(double alpha, const double *x, double *y, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* VECOPS_H */
