/*
 * sort_impl.h - an in-place sort with its comparison inlined, defined per element type.
 *
 * CORRAL_DEFINE_SORT(name, T, less) defines `static void name(T *v, size_t n)` sorting v by
 * `less(const T *, const T *)` (a strict order; equal elements end in any order): insertion sort
 * for 32 elements or fewer, above that a quicksort with median-of-three pivots and Hoare's
 * partition, recursing into the smaller side and looping on the larger, so the stack depth is
 * logarithmic.  glibc's qsort is a merge sort that calls its comparator through a pointer and
 * copies every element with memcpy; on the Earley sets of c.lark's largest masks it cost as
 * much as the trie walk.  Private to the engine's C files.
 */
#ifndef CORRAL_SORT_IMPL_H
#define CORRAL_SORT_IMPL_H

#include <stddef.h>

#define CORRAL_DEFINE_SORT(name, T, less)                                                      \
    static void name##_small(T *v, size_t n) {                                                 \
        for (size_t a = 1; a < n; ++a) {                                                       \
            const T x = v[a];                                                                  \
            size_t b = a;                                                                      \
            for (; b > 0 && less(&x, &v[b - 1]); --b) {                                        \
                v[b] = v[b - 1];                                                               \
            }                                                                                  \
            v[b] = x;                                                                          \
        }                                                                                      \
    }                                                                                          \
    static void name(T *v, size_t n) {                                                         \
        while (n > 32) {                                                                       \
            T *mid = v + n / 2, *last = v + n - 1, x;                                          \
            if (less(mid, v)) {                                                                \
                x = *mid, *mid = *v, *v = x;                                                   \
            }                                                                                  \
            if (less(last, mid)) {                                                             \
                x = *last, *last = *mid, *mid = x;                                             \
                if (less(mid, v)) {                                                            \
                    x = *mid, *mid = *v, *v = x;                                               \
                }                                                                              \
            }                                                                                  \
            const T pivot = *mid; /* v[0] <= pivot <= v[n - 1]: both scans stop in range */   \
            size_t i = 0, j = n - 1;                                                           \
            for (;;) {                                                                         \
                while (less(&v[i], &pivot)) {                                                  \
                    ++i;                                                                       \
                }                                                                              \
                while (less(&pivot, &v[j])) {                                                  \
                    --j;                                                                       \
                }                                                                              \
                if (i >= j) {                                                                  \
                    break;                                                                     \
                }                                                                              \
                x = v[i], v[i] = v[j], v[j] = x;                                               \
                ++i;                                                                           \
                --j;                                                                           \
            }                                                                                  \
            const size_t left = j + 1; /* v[0..j] <= pivot <= v[j+1..]; 0 < left < n */       \
            if (left < n - left) {                                                             \
                name(v, left);                                                                 \
                v += left;                                                                     \
                n -= left;                                                                     \
            } else {                                                                           \
                name(v + left, n - left);                                                      \
                n = left;                                                                      \
            }                                                                                  \
        }                                                                                      \
        name##_small(v, n);                                                                    \
    }

#endif
