/*
 * engine_batch.c - masks of a batch of matchers on native threads (corral/engine.h).
 *
 * The contract of XGrammar's BatchGrammarMatcher and llguidance's executor: the caller checks
 * every buffer while it holds the GIL, then rows are filled in parallel without it.  Matchers
 * are distinct (one generation each); grammars may be shared, their root-walk cache is locked.
 * Rows are dealt round robin to the threads.
 */
#include "corral/engine_impl.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct batch_job {
    corral_matcher *const *ms;
    uint32_t *const *words;
    const size_t *n_words;
    size_t n, first, step;
    int *codes;
} batch_job;

static void *run_job(void *arg) {
    const batch_job *job = arg;
    for (size_t k = job->first; k < job->n; k += job->step) {
        job->codes[k] = corral_matcher_mask(job->ms[k], job->words[k], job->n_words[k]);
    }
    return NULL;
}

int corral_mask_batch(corral_matcher *const *ms, uint32_t *const *words, const size_t *n_words,
                      size_t n, size_t n_threads, int *codes) {
    if (n_threads > n) {
        n_threads = n;
    }
    if (n_threads <= 1) {
        batch_job one = {ms, words, n_words, n, 0, 1, codes};
        run_job(&one);
        return CORRAL_ENGINE_OK;
    }
    pthread_t *threads = malloc(n_threads * sizeof(pthread_t));
    batch_job *jobs = malloc(n_threads * sizeof(batch_job));
    if (threads == NULL || jobs == NULL) {
        free(threads);
        free(jobs);
        batch_job one = {ms, words, n_words, n, 0, 1, codes};
        run_job(&one);
        return CORRAL_ENGINE_NO_MEMORY;
    }
    size_t started = 0;
    int code = CORRAL_ENGINE_OK;
    for (size_t t = 0; t < n_threads; ++t) {
        jobs[t] = (batch_job){ms, words, n_words, n, t, n_threads, codes};
    }
    for (size_t t = 1; t < n_threads; ++t) {
        if (pthread_create(&threads[t], NULL, run_job, &jobs[t]) != 0) {
            code = CORRAL_ENGINE_NO_MEMORY;
            break;
        }
        ++started;
    }
    run_job(&jobs[0]);
    for (size_t t = 1; t <= started; ++t) {
        pthread_join(threads[t], NULL);
    }
    for (size_t t = started + 1; t < n_threads; ++t) {
        run_job(&jobs[t]); /* the threads that could not start: their rows here */
    }
    free(threads);
    free(jobs);
    return code;
}
