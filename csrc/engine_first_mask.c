/*
 * engine_first_mask.c - the first mask of a grammar, kept with it (corral/engine.h).
 *
 * Every matcher of a grammar starts in the same state (the initial Earley set and its lexer
 * threads), and a mask is a function of the state, so the mask at the first position is the
 * same for all of them: a server that compiles a schema once and runs many requests on it
 * computes it once.  Kept behind its own mutex (matchers of one grammar run on many threads);
 * not used with unique items, whose masks read the input.
 */
#include "corral/engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct corral_first {
    pthread_mutex_t lock;
    uint32_t *words; /* NULL until a first mask is kept */
    size_t n_words;
};

struct corral_first *corral_first_new(void) {
    struct corral_first *f = calloc(1, sizeof(struct corral_first));
    if (f != NULL && pthread_mutex_init(&f->lock, NULL) != 0) {
        free(f);
        return NULL;
    }
    return f;
}

void corral_first_free(struct corral_first *f) {
    if (f != NULL) {
        pthread_mutex_destroy(&f->lock);
        free(f->words);
        free(f);
    }
}

int corral_first_get(struct corral_first *f, uint32_t *words, size_t n_words) {
    pthread_mutex_lock(&f->lock);
    const int got = f->words != NULL && f->n_words == n_words;
    if (got) {
        memcpy(words, f->words, n_words * sizeof(uint32_t));
    }
    pthread_mutex_unlock(&f->lock);
    return got;
}

void corral_first_put(struct corral_first *f, const uint32_t *words, size_t n_words) {
    uint32_t *copy = malloc((n_words > 0 ? n_words : 1) * sizeof(uint32_t));
    if (copy == NULL) {
        return; /* best effort: the next matcher computes it again */
    }
    memcpy(copy, words, n_words * sizeof(uint32_t));
    pthread_mutex_lock(&f->lock);
    if (f->words == NULL) {
        f->words = copy;
        f->n_words = n_words;
        copy = NULL;
    }
    pthread_mutex_unlock(&f->lock);
    free(copy);
}

size_t corral_first_bytes(struct corral_first *f) {
    pthread_mutex_lock(&f->lock);
    const size_t b = f->words != NULL ? f->n_words * sizeof(uint32_t) : 0;
    pthread_mutex_unlock(&f->lock);
    return b;
}
