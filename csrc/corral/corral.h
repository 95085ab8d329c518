/*
 * corral/corral.h - the plain C API of corral's native code (no Python.h).
 *
 * Bitmask apply: a packed token bitmask applied to a buffer of logits.
 *
 * Layout (shared with XGrammar and llguidance): token i is allowed iff bit
 * (i % 32) of 32-bit word i / 32 of the mask row is 1.  Disallowed tokens get
 * their logit overwritten with -inf.  Allowed tokens keep their exact bits
 * (a word with many disallowed tokens may be blended with SIMD, which rewrites
 * the allowed logits of that word with their own value); columns at or past
 * n_cols and rows that are not selected are never accessed.
 *
 * These functions take plain memory and trust their caller: every size, stride
 * and row index must already have been validated (see binding.c).  Logits and
 * mask words are accessed with memcpy, so neither needs any particular alignment.
 */
#ifndef CORRAL_CORRAL_H
#define CORRAL_CORRAL_H

#include <stddef.h>
#include <stdint.h>

/* Bit pattern of -inf in IEEE 754 binary32. */
#define CORRAL_F32_NEG_INF_BITS UINT32_C(0xFF800000)
/* Bit pattern of -inf in IEEE 754 binary16. */
#define CORRAL_F16_NEG_INF_BITS UINT16_C(0xFC00)

/* Where and how to read a (possibly strided) 2-D array of 32-bit mask words. */
typedef struct corral_mask_view {
    const unsigned char *base; /* address of word (row 0, word 0) */
    ptrdiff_t row_stride;      /* bytes between consecutive rows */
    ptrdiff_t word_stride;     /* bytes between consecutive words of a row */
} corral_mask_view;

/*
 * Where to write a (possibly strided) 2-D array of logits: a row of a
 * llama-cpp-python candidates record array, for example, has a column stride
 * of 12 bytes.  Strides may be negative; they are never zero for a column.
 */
typedef struct corral_logits_view {
    unsigned char *base;   /* address of logit (row 0, column 0) */
    ptrdiff_t row_stride;  /* bytes between consecutive rows */
    ptrdiff_t col_stride;  /* bytes between consecutive logits of a row */
} corral_logits_view;

/*
 * Mask columns [0, n_cols) of the selected rows.  `rows` lists n_rows row
 * indices (duplicates allowed); when it is NULL, rows 0 .. n_rows - 1 are used.
 * Row r of the logits is masked with row r of the mask.
 */
void corral_bitmask_apply_f32(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows);

/* Same as corral_bitmask_apply_f32 for binary16 logits stored as uint16 bit patterns. */
void corral_bitmask_apply_f16(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows);

#endif /* CORRAL_CORRAL_H */
