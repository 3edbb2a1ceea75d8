#define VECOPS_BUILDING 1
#include "vecops.h"

#include <math.h>

#ifndef VECOPS_VERSION
#define VECOPS_VERSION "1.4.9"
#endif

const char *vecops_version(void)
{
    return VECOPS_VERSION;
}

double vecops_dot(const double *a, const double *b, size_t n)
{
    double acc = 0.0;
    size_t i;
    for (i = 0; i < n; ++i) {
        acc += a[i] * b[i];
    }
    return acc;
}

double vecops_norm(const double *a, size_t n)
{
    /* Two passes: find the largest magnitude, then sum squares of the
       scaled values, so that e.g. [1e200, 1e200] does not overflow. */
    double scale = 0.0;
    double acc = 0.0;
    size_t i;
    for (i = 0; i < n; ++i) {
        double v = fabs(a[i]);
        if (isnan(v)) {
            return v;
        }
        if (v > scale) {
            scale = v;
        }
    }
    if (scale == 0.0 || isinf(scale)) {
        return scale;
    }
    for (i = 0; i < n; ++i) {
        double v = a[i] / scale;
        acc += v * v;
    }
    return scale * sqrt(acc);
}

void vecops_axpy(double alpha, const double *x, double *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        y[i] += alpha * x[i];
    }
}
