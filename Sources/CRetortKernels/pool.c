// A small pool of worker threads for the numeric kernels' many short parallel loops.
//
// A language model's decode step runs a few hundred products of a few microseconds to a few
// hundred each. Waking a sleeping thread costs tens of microseconds under a hypervisor, which
// DispatchQueue.concurrentPerform pays on every call: the second core then buys nothing. Here the
// workers spin for a millisecond after each loop before they sleep, as OpenMP runtimes do, so a
// loop that follows another starts at once.
//
// One loop runs at a time. A call made while the pool is busy (from another thread, or from
// inside one of its own tasks) runs its tasks on the calling thread, in order: nested and
// concurrent callers are correct, only not parallel.
#include "retort_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 63 };
static const long SPIN_NANOSECONDS = 1000000;

static struct {
    pthread_mutex_t submit;  // held by the one caller whose loop is running
    pthread_mutex_t sleep;   // with `wake`, for workers that stopped spinning
    pthread_cond_t wake;
    pthread_once_t once;
    size_t workers;
    // The running loop, written by its caller while `open` is 0 and no worker is `inside`.
    retort_task_fn fn;
    void *ctx;
    size_t tasks, participants;
    atomic_size_t next, pending, inside;
    atomic_int open;
    atomic_ulong generation;
    atomic_int sleepers;
} pool = {
    .submit = PTHREAD_MUTEX_INITIALIZER,
    .sleep = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .once = PTHREAD_ONCE_INIT,
};

static _Thread_local int in_task;

static long elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

static void run_tasks(void) {
    const size_t tasks = pool.tasks;
    for (;;) {
        const size_t i = atomic_fetch_add(&pool.next, 1);
        if (i >= tasks) return;
        pool.fn(pool.ctx, i);
        atomic_fetch_sub(&pool.pending, 1);
    }
}

static void *worker(void *arg) {
    const size_t index = (size_t)arg;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g = atomic_load(&pool.generation);
        if (g == seen) {
            struct timespec start;
            clock_gettime(CLOCK_MONOTONIC, &start);
            for (unsigned spins = 1; (g = atomic_load(&pool.generation)) == seen; spins++) {
                CPU_RELAX();
                if (spins % 64 == 0 && elapsed_ns(&start) > SPIN_NANOSECONDS) {
                    pthread_mutex_lock(&pool.sleep);
                    atomic_fetch_add(&pool.sleepers, 1);
                    while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.sleep);
                    atomic_fetch_sub(&pool.sleepers, 1);
                    pthread_mutex_unlock(&pool.sleep);
                    clock_gettime(CLOCK_MONOTONIC, &start);
                }
            }
        }
        seen = g;
        // Announce before reading the loop: its caller rewrites it only once `inside` is 0 with
        // `open` cleared (both sequentially consistent, so one of the two sides sees the other).
        atomic_fetch_add(&pool.inside, 1);
        if (atomic_load(&pool.open) && atomic_load(&pool.generation) == seen && index < pool.participants) {
            in_task = 1;
            run_tasks();
            in_task = 0;
        }
        atomic_fetch_sub(&pool.inside, 1);
    }
    return NULL;
}

static void start_workers(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t wanted = cores > 1 ? (size_t)cores - 1 : 0;
    if (wanted > MAX_WORKERS) wanted = MAX_WORKERS;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (size_t i = 0; i < wanted; i++) {
        pthread_t thread;
        if (pthread_create(&thread, &attr, worker, (void *)i) != 0) break;
        pool.workers++;
    }
    pthread_attr_destroy(&attr);
}

void retort_parallel_for(size_t tasks, size_t threads, retort_task_fn fn, void *ctx) {
    if (tasks == 0) return;
    if (threads > 1 && tasks > 1 && !in_task) pthread_once(&pool.once, start_workers);
    if (threads <= 1 || tasks == 1 || in_task || pool.workers == 0 || pthread_mutex_trylock(&pool.submit) != 0) {
        for (size_t i = 0; i < tasks; i++) fn(ctx, i);
        return;
    }
    // `open` is 0 and no worker is inside: the loop is ours to write.
    pool.fn = fn;
    pool.ctx = ctx;
    pool.tasks = tasks;
    size_t helpers = threads - 1 < tasks - 1 ? threads - 1 : tasks - 1;
    pool.participants = helpers < pool.workers ? helpers : pool.workers;
    atomic_store(&pool.next, 0);
    atomic_store(&pool.pending, tasks);
    atomic_store(&pool.open, 1);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep);
    }
    in_task = 1;
    run_tasks();
    in_task = 0;
    while (atomic_load(&pool.pending) != 0) CPU_RELAX();
    atomic_store(&pool.open, 0);
    while (atomic_load(&pool.inside) != 0) CPU_RELAX();
    pthread_mutex_unlock(&pool.submit);
}
