/*
 * engine_mask.h - the parts of a mask's walk shared by engine_mask.c (the walk),
 * engine_configs.c (its configurations) and engine_mask_regions.c (its shortcuts over word
 * bytes).  Private to those three files.
 */
#ifndef CORRAL_ENGINE_MASK_H
#define CORRAL_ENGINE_MASK_H

#include "corral/engine_impl.h"

/* A configuration that dies on a byte. */
#define CORRAL_CFG_DEAD (-2)

/* Subtries smaller than this are walked node by node, not as word regions. */
#define CORRAL_REGION_MIN 48

/* The configuration of the threads m->thr[lo, n_thr) (sorted here), interned; -1: no memory.
 * Configuration 0 is the empty one. */
int32_t corral_cfg_intern(corral_matcher *m, size_t lo);

/* The configuration after `byte` from c (a Matcher._push_byte of its threads, memoised): an
 * id, CORRAL_CFG_DEAD, or -3 (no memory). */
int32_t corral_cfg_next(corral_matcher *m, int32_t c, uint8_t byte);

/* corral_cfg_next with its memo read inline: a walk steps most nodes through the memo. */
static inline int32_t corral_cfg_step(corral_matcher *m, int32_t c, uint8_t byte) {
    const uint64_t known = m->cfg_trans[(size_t)c * 256 + byte];
    return (uint32_t)(known >> 32) == m->cfg_stamp ? (int32_t)(uint32_t)known
                                                    : corral_cfg_next(m, c, byte);
}

/* Configuration c with the fresh threads of set s (memoised); -3: no memory. */
int32_t corral_cfg_with_fresh(corral_matcher *m, int32_t c, int32_t s);

/* Walk the subtrie of `top` below it from c_top, its configuration (engine_mask.c); with a
 * cursor, the injections met on the way join the walk.  CORRAL_ENGINE_OK or
 * CORRAL_ENGINE_NO_MEMORY. */
int corral_walk_subtrie(corral_matcher *m, int32_t top, int32_t c_top, size_t *cursor,
                        uint32_t *words);

/* Node `node` stepped from its parent's configuration c_parent: its tokens where the
 * configuration lives, and its subtrie walked (corral_walk_subtrie) where threads go on. */
int corral_walk_node(corral_matcher *m, int32_t node, int32_t c_parent, size_t *cursor,
                     uint32_t *words);

/* The word region below node n from configuration c (engine_mask_regions.c): 1 walked, 0 not
 * such a configuration (or injections below), -1 no memory. */
int corral_word_region(corral_matcher *m, int32_t n, int32_t c, size_t *cursor,
                       uint32_t *words);

/* The walks of the class-end frontier nodes noted by corral_class_ends. */
int corral_walk_fronts(corral_matcher *m, uint32_t *words);

#endif
