/*
 * bitmask.c - pure C kernels that apply a packed token bitmask to logits.
 *
 * No Python here: the caller hands over validated plain buffers (corral/corral.h).
 */
#include "corral/corral.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Index of the lowest set bit of a non-zero word. */
static inline unsigned lowest_bit(uint32_t word) {
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctz(word);
#else
    unsigned bit = 0;
    while ((word & 1u) == 0u) {
        word >>= 1;
        ++bit;
    }
    return bit;
#endif
}

/* Store -inf into logit `index` of `row`; `elem_size` is 4 (binary32) or 2 (binary16). */
static inline void store_neg_inf(unsigned char *row, size_t index, size_t elem_size) {
    if (elem_size == 4) {
        const uint32_t bits = CORRAL_F32_NEG_INF_BITS;
        memcpy(row + index * 4, &bits, 4);
    } else {
        const uint16_t bits = CORRAL_F16_NEG_INF_BITS;
        memcpy(row + index * 2, &bits, 2);
    }
}

/* Whether `off` has at most four bits set. */
static inline int few_bits(uint32_t off) {
    off &= off - 1u;
    off &= off - 1u;
    off &= off - 1u;
    off &= off - 1u;
    return off == 0u;
}

#if defined(__SSE2__)
/* Rewrite the 16 bytes at `p`: lanes where `keep` is all ones stay, the others become `fill`. */
static inline void blend_lanes(unsigned char *p, __m128i keep, __m128i fill) {
    __m128i *lane = (__m128i *)(void *)p;
    const __m128i kept = _mm_and_si128(keep, _mm_loadu_si128(lane));
    _mm_storeu_si128(lane, _mm_or_si128(kept, _mm_andnot_si128(keep, fill)));
}

/*
 * Blend the 32 binary32 logits at `p` with -inf where `off` has a bit set:
 * allowed logits are written back with their own bits.  Branch-free, so much
 * faster than a bit loop on words with many disallowed tokens.
 */
static inline void blend_f32(unsigned char *p, uint32_t off) {
    const __m128i neg_inf = _mm_set1_epi32((int)CORRAL_F32_NEG_INF_BITS);
    const __m128i first = _mm_setr_epi32(0x1, 0x2, 0x4, 0x8);
    for (int q = 0; q < 8; ++q) {
        const __m128i bits = _mm_set1_epi32((int)(off >> (4 * q)));
        const __m128i keep = _mm_cmpeq_epi32(_mm_and_si128(bits, first), _mm_setzero_si128());
        blend_lanes(p + 16 * q, keep, neg_inf);
    }
}

/* Same as blend_f32 for 32 binary16 logits (four vectors of eight). */
static inline void blend_f16(unsigned char *p, uint32_t off) {
    const __m128i neg_inf = _mm_set1_epi16((short)CORRAL_F16_NEG_INF_BITS);
    const __m128i first = _mm_setr_epi16(0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80);
    for (int q = 0; q < 4; ++q) {
        const __m128i bits = _mm_set1_epi16((short)(off >> (8 * q) & 0xFFu));
        const __m128i keep = _mm_cmpeq_epi16(_mm_and_si128(bits, first), _mm_setzero_si128());
        blend_lanes(p + 16 * q, keep, neg_inf);
    }
}
#endif

/* Overwrite the logits of `row` (starting at token `first`) whose bit in `off` is set. */
static inline void mask_word(unsigned char *row, size_t first, uint32_t off, size_t elem_size,
                             int whole_word) {
    if (off == UINT32_MAX) {
        for (size_t k = 0; k < 32; ++k) {
            store_neg_inf(row, first + k, elem_size);
        }
        return;
    }
#if defined(__SSE2__)
    /* Only full words may be blended: a partial last word must not touch past the row. */
    if (whole_word && !few_bits(off)) {
        if (elem_size == 4) {
            blend_f32(row + first * 4, off);
        } else {
            blend_f16(row + first * 2, off);
        }
        return;
    }
#else
    (void)whole_word;
#endif
    while (off != 0u) {
        store_neg_inf(row, first + lowest_bit(off), elem_size);
        off &= off - 1u;
    }
}

static inline uint32_t load_word(const unsigned char *row, ptrdiff_t word_stride, size_t w) {
    uint32_t word;
    memcpy(&word, row + (ptrdiff_t)w * word_stride, sizeof word);
    return word;
}

/* Store -inf into every logit of a strided row whose bit in `off` is set. */
static inline void mask_word_strided(unsigned char *row, ptrdiff_t col_stride, size_t first,
                                     uint32_t off, size_t elem_size) {
    const uint32_t f32 = CORRAL_F32_NEG_INF_BITS;
    const uint16_t f16 = CORRAL_F16_NEG_INF_BITS;
    while (off != 0u) {
        unsigned char *p = row + (ptrdiff_t)(first + lowest_bit(off)) * col_stride;
        if (elem_size == 4) {
            memcpy(p, &f32, 4);
        } else {
            memcpy(p, &f16, 2);
        }
        off &= off - 1u;
    }
}

/* Mask one row whose logits are not adjacent (the column stride is not the element size). */
static void apply_row_strided(unsigned char *logits_row, ptrdiff_t col_stride,
                              const unsigned char *mask_row, ptrdiff_t word_stride,
                              size_t n_cols, size_t elem_size) {
    const size_t words = n_cols / 32 + (n_cols % 32 != 0);
    for (size_t w = 0; w < words; ++w) {
        uint32_t off = ~load_word(mask_row, word_stride, w);
        if (w == n_cols / 32) {
            off &= (UINT32_C(1) << (n_cols % 32)) - 1u;
        }
        mask_word_strided(logits_row, col_stride, w * 32, off, elem_size);
    }
}

/* Mask one row; always inlined into the two public functions with a constant elem_size. */
static inline void apply_row(unsigned char *logits_row, const unsigned char *mask_row,
                             ptrdiff_t word_stride, size_t n_cols, size_t elem_size) {
    const size_t full_words = n_cols / 32;
    const size_t tail = n_cols % 32;
    for (size_t w = 0; w < full_words; ++w) {
        const uint32_t off = ~load_word(mask_row, word_stride, w);
        if (off != 0u) {
            mask_word(logits_row, w * 32, off, elem_size, 1);
        }
    }
    if (tail != 0) {
        const uint32_t keep = (UINT32_C(1) << tail) - 1u;
        const uint32_t off = ~load_word(mask_row, word_stride, full_words) & keep;
        if (off != 0u) {
            mask_word(logits_row, full_words * 32, off, elem_size, 0);
        }
    }
}

static inline void apply_rows(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows, size_t elem_size) {
    const int adjacent = logits.col_stride == (ptrdiff_t)elem_size;
    for (size_t i = 0; i < n_rows; ++i) {
        const size_t r = rows != NULL ? rows[i] : i;
        unsigned char *row = logits.base + (ptrdiff_t)r * logits.row_stride;
        const unsigned char *mask_row = mask.base + (ptrdiff_t)r * mask.row_stride;
        if (adjacent) {
            apply_row(row, mask_row, mask.word_stride, n_cols, elem_size);
        } else {
            apply_row_strided(row, logits.col_stride, mask_row, mask.word_stride, n_cols,
                              elem_size);
        }
    }
}

void corral_bitmask_apply_f32(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows) {
    apply_rows(logits, mask, n_cols, rows, n_rows, 4);
}

void corral_bitmask_apply_f16(corral_logits_view logits, corral_mask_view mask, size_t n_cols,
                              const size_t *rows, size_t n_rows) {
    apply_rows(logits, mask, n_cols, rows, n_rows, 2);
}
