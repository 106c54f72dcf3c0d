// Single-precision matrix multiply (row-major), blocked in the manner of GotoBLAS/BLIS:
//
//   for each NC-wide column block of B and C (jc)
//     for each KC-deep slice of K (pc): pack B[pc:pc+kc, jc:jc+nc] into NR-wide panels
//       for each MR-row strip of A and C (ir): pack A[ir:ir+MR, pc:pc+kc] (rows kept,
//                                              fixed row stride, stays in L1)
//         for each NR-wide panel (jr): microkernel C[MR×NR] (+)= Apanel · Bpanel
//
// The packed A strip (MR × kc floats) is reused from L1 by every B panel of the block,
// and the packed B block (kc × nc floats) stays in L2 while the strips of A go by.
// The row stride of the packed A strip is a compile-time constant, so the microkernel
// reaches every element of A with one pointer plus a constant displacement.
//
// Microkernels, chosen at run time (CPUID + XGETBV), compiled for their instruction set
// by function attributes so that the package needs no unsafe flags:
//   AVX-512F: 14×32 (28 zmm accumulators, 2 zmm of B, one broadcast of A)
//   AVX2+FMA:  6×16 (12 ymm accumulators, 2 ymm of B, one broadcast of A)
//   portable:  4×16 plain C (the compiler vectorises it for the baseline SSE2)
// Tiles that overhang M or N are computed into a small buffer and the valid part copied.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "retort_gemm.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define RETORT_GEMM_X86 1
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

#ifndef GEMM512_MR
#define GEMM512_MR 14
#endif
#ifndef GEMM512_KC
#define GEMM512_KC 256
#endif
#ifndef GEMM512_NC
#define GEMM512_NC 512
#endif
#define GEMM512_NR 32
#define GEMM512_AS (GEMM512_KC + 16)

#ifndef GEMM256_KC
#define GEMM256_KC 256
#endif
#ifndef GEMM256_NC
#define GEMM256_NC 512
#endif
#define GEMM256_MR 6
#define GEMM256_NR 16
#define GEMM256_AS (GEMM256_KC + 16)

#define GEMMC_MR 4
#define GEMMC_NR 16
#define GEMMC_KC 256
#define GEMMC_NC 512
#define GEMMC_AS (GEMMC_KC + 8)

// ---------------------------------------------------------------------------------------
// Per-thread packing buffer. Its size is bounded by the block constants above, so no size
// computation here can overflow. Freed when the thread exits.

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_make_key(void) { (void)pthread_key_create(&scratch_key, free); }

typedef struct {
    size_t bytes;  // usable bytes after the header
} scratch_header;

#define SCRATCH_ALIGN 64

/// A 64-byte-aligned buffer of at least `bytes` bytes for this thread, or NULL.
static void *scratch_get(size_t bytes) {
    if (pthread_once(&scratch_once, scratch_make_key) != 0) return NULL;
    void *block = pthread_getspecific(scratch_key);
    if (block && ((scratch_header *)block)->bytes >= bytes) return (char *)block + SCRATCH_ALIGN;
    if (bytes > SIZE_MAX - 2 * SCRATCH_ALIGN) return NULL;
    void *fresh = NULL;
    if (posix_memalign(&fresh, SCRATCH_ALIGN, bytes + SCRATCH_ALIGN) != 0) return NULL;
    ((scratch_header *)fresh)->bytes = bytes;
    if (pthread_setspecific(scratch_key, fresh) != 0) {
        free(fresh);
        return NULL;
    }
    free(block);
    return (char *)fresh + SCRATCH_ALIGN;
}

// ---------------------------------------------------------------------------------------
// Reference loops: used when no packing buffer can be had, and as the tail for K == 0.

static void sgemm_naive(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                        int bt, float *C, size_t ldc, int accumulate) {
    for (size_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (!accumulate)
            for (size_t j = 0; j < N; j++) c[j] = 0.0f;
        const float *a = A + i * lda;
        if (bt) {
            for (size_t j = 0; j < N; j++) {
                const float *b = B + j * ldb;
                float s = 0.0f;
                for (size_t k = 0; k < K; k++) s += a[k] * b[k];
                c[j] += s;
            }
        } else {
            for (size_t k = 0; k < K; k++) {
                const float av = a[k], *b = B + k * ldb;
                for (size_t j = 0; j < N; j++) c[j] += av * b[j];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Packing (generic, inlined into each instruction-set driver and compiled for it).

/// Copies rows [0, mr) of the kc-wide slice of A at `a` into `ap` with row stride `as`;
/// rows mr..MR-1 are zero so that an overhanging tile computes finite values.
ALWAYS_INLINE void pack_a(const float *a, size_t lda, size_t mr, size_t kc, float *ap, const size_t MR,
                          const size_t as) {
    for (size_t r = 0; r < mr; r++) memcpy(ap + r * as, a + r * lda, kc * sizeof(float));
    for (size_t r = mr; r < MR; r++) memset(ap + r * as, 0, kc * sizeof(float));
}

/// Packs B[0:kc, 0:nr] (row-major, `ldb`) into one NR-wide panel: bp[k*NR + j], zero-padded.
ALWAYS_INLINE void pack_b_panel(const float *b, size_t ldb, size_t nr, size_t kc, float *bp, const size_t NR) {
    if (nr == NR) {
        for (size_t k = 0; k < kc; k++) memcpy(bp + k * NR, b + k * ldb, NR * sizeof(float));
    } else {
        for (size_t k = 0; k < kc; k++) {
            size_t j = 0;
            for (; j < nr; j++) bp[k * NR + j] = b[k * ldb + j];
            for (; j < NR; j++) bp[k * NR + j] = 0.0f;
        }
    }
}

/// Packs Bᵀ: b points at row j0 (of N×K) column pc; bp[k*NR + j] = b[j*ldb + k], zero-padded.
ALWAYS_INLINE void pack_bt_panel(const float *b, size_t ldb, size_t nr, size_t kc, float *bp, const size_t NR) {
    size_t j = 0;
    for (; j < nr; j++) {
        const float *src = b + j * ldb;
        for (size_t k = 0; k < kc; k++) bp[k * NR + j] = src[k];
    }
    for (; j < NR; j++)
        for (size_t k = 0; k < kc; k++) bp[k * NR + j] = 0.0f;
}

typedef void (*microkernel)(size_t kc, const float *ap, const float *bp, float *c, size_t ldc, int load_c);

/// The blocked driver; inlined into one function per instruction set together with
/// its packers and `kernel`.
ALWAYS_INLINE void sgemm_blocked(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                                 int bt, float *C, size_t ldc, int accumulate, const size_t MR, const size_t NR,
                                 const size_t KC, const size_t NC, const size_t AS, microkernel kernel,
                                 void (*pack_bt)(const float *, size_t, size_t, size_t, float *)) {
    // Column blocks: ceil(N / NC) of them, each a multiple of NR wide (but the last).
    const size_t nblocks = (N + NC - 1) / NC;
    size_t ncb = (N + nblocks - 1) / nblocks;
    ncb = (ncb + NR - 1) / NR * NR;
    const size_t kblocks = (K + KC - 1) / KC;
    size_t kcb = (K + kblocks - 1) / kblocks;
    kcb = (kcb + 7) / 8 * 8;
    if (kcb > KC) kcb = KC;

    // Buffer: B block (KC × NC rounded to NR), A strip (MR × AS), one C tile (MR × NR).
    const size_t bfloats = KC * ((NC + NR - 1) / NR * NR);
    const size_t afloats = MR * AS;
    const size_t tfloats = MR * NR;
    float *bp = (float *)scratch_get((bfloats + afloats + tfloats) * sizeof(float));
    if (!bp) {
        sgemm_naive(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate);
        return;
    }
    float *ap = bp + bfloats;
    float *tile = ap + afloats;

    for (size_t jc = 0; jc < N; jc += ncb) {
        const size_t nc = N - jc < ncb ? N - jc : ncb;
        for (size_t pc = 0; pc < K; pc += kcb) {
            const size_t kc = K - pc < kcb ? K - pc : kcb;
            const int load_c = accumulate || pc > 0;
            for (size_t jr = 0; jr < nc; jr += NR) {
                const size_t nr = nc - jr < NR ? nc - jr : NR;
                float *dst = bp + jr * kc;
                if (bt) {
                    const float *src = B + (jc + jr) * ldb + pc;
                    if (pack_bt && nr == NR)
                        pack_bt(src, ldb, nr, kc, dst);
                    else
                        pack_bt_panel(src, ldb, nr, kc, dst, NR);
                } else {
                    pack_b_panel(B + pc * ldb + jc + jr, ldb, nr, kc, dst, NR);
                }
            }
            for (size_t ir = 0; ir < M; ir += MR) {
                const size_t mr = M - ir < MR ? M - ir : MR;
                pack_a(A + ir * lda + pc, lda, mr, kc, ap, MR, AS);
                float *crow = C + ir * ldc + jc;
                for (size_t jr = 0; jr < nc; jr += NR) {
                    const size_t nr = nc - jr < NR ? nc - jr : NR;
                    if (mr == MR && nr == NR) {
                        kernel(kc, ap, bp + jr * kc, crow + jr, ldc, load_c);
                    } else {
                        kernel(kc, ap, bp + jr * kc, tile, NR, 0);
                        for (size_t r = 0; r < mr; r++) {
                            float *c = crow + r * ldc + jr;
                            const float *t = tile + r * NR;
                            if (load_c)
                                for (size_t j = 0; j < nr; j++) c[j] += t[j];
                            else
                                for (size_t j = 0; j < nr; j++) c[j] = t[j];
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Portable microkernel, 4×16.

static void kernel_c(size_t kc, const float *ap, const float *bp, float *c, size_t ldc, int load_c) {
    float acc[GEMMC_MR][GEMMC_NR];
    memset(acc, 0, sizeof acc);
    for (size_t k = 0; k < kc; k++) {
        const float *b = bp + k * GEMMC_NR;
        for (size_t r = 0; r < GEMMC_MR; r++) {
            const float av = ap[r * GEMMC_AS + k];
            for (size_t j = 0; j < GEMMC_NR; j++) acc[r][j] += av * b[j];
        }
    }
    for (size_t r = 0; r < GEMMC_MR; r++) {
        float *cr = c + r * ldc;
        if (load_c)
            for (size_t j = 0; j < GEMMC_NR; j++) cr[j] += acc[r][j];
        else
            for (size_t j = 0; j < GEMMC_NR; j++) cr[j] = acc[r][j];
    }
}

static void sgemm_portable(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb, int bt,
                           float *C, size_t ldc, int accumulate) {
    sgemm_blocked(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate, GEMMC_MR, GEMMC_NR, GEMMC_KC, GEMMC_NC, GEMMC_AS,
                  kernel_c, NULL);
}

#if RETORT_GEMM_X86

#define REP6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define REP14(X) REP6(X) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

// ---------------------------------------------------------------------------------------
// AVX2 + FMA microkernel, 6×16.

#define TARGET_AVX2 __attribute__((target("avx2,fma")))

TARGET_AVX2 static void kernel_avx2(size_t kc, const float *ap, const float *bp, float *c, size_t ldc, int load_c) {
#define A2_ZERO(r) __m256 c##r##a = _mm256_setzero_ps(), c##r##b = _mm256_setzero_ps();
    REP6(A2_ZERO)
    for (size_t r = 0; r < GEMM256_MR; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }
    const float *a = ap;
    for (size_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#define A2_FMA(r)                                                \
    {                                                            \
        const __m256 av = _mm256_broadcast_ss(a + r * GEMM256_AS); \
        c##r##a = _mm256_fmadd_ps(av, b0, c##r##a);              \
        c##r##b = _mm256_fmadd_ps(av, b1, c##r##b);              \
    }
        REP6(A2_FMA)
        a += 1;
        bp += GEMM256_NR;
    }
#define A2_STORE(r)                                                                            \
    {                                                                                          \
        float *cr = c + r * ldc;                                                               \
        if (load_c) {                                                                          \
            c##r##a = _mm256_add_ps(c##r##a, _mm256_loadu_ps(cr));                             \
            c##r##b = _mm256_add_ps(c##r##b, _mm256_loadu_ps(cr + 8));                         \
        }                                                                                      \
        _mm256_storeu_ps(cr, c##r##a);                                                         \
        _mm256_storeu_ps(cr + 8, c##r##b);                                                     \
    }
    REP6(A2_STORE)
}

TARGET_AVX2 static void sgemm_avx2(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                                   int bt, float *C, size_t ldc, int accumulate) {
    sgemm_blocked(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate, GEMM256_MR, GEMM256_NR, GEMM256_KC, GEMM256_NC,
                  GEMM256_AS, kernel_avx2, NULL);
}

// ---------------------------------------------------------------------------------------
// AVX-512F microkernel, 14×32.

#define TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

TARGET_AVX512 static void kernel_avx512(size_t kc, const float *ap, const float *bp, float *c, size_t ldc,
                                        int load_c) {
#define A5_ZERO(r) __m512 c##r##a = _mm512_setzero_ps(), c##r##b = _mm512_setzero_ps();
    REP14(A5_ZERO)
    for (size_t r = 0; r < GEMM512_MR; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);
    }
    const float *a = ap;
    for (size_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#define A5_FMA(r)                                                \
    {                                                            \
        const __m512 av = _mm512_set1_ps(a[r * GEMM512_AS]);     \
        c##r##a = _mm512_fmadd_ps(av, b0, c##r##a);              \
        c##r##b = _mm512_fmadd_ps(av, b1, c##r##b);              \
    }
        REP14(A5_FMA)
        a += 1;
        bp += GEMM512_NR;
    }
#define A5_STORE(r)                                                                            \
    {                                                                                          \
        float *cr = c + r * ldc;                                                               \
        if (load_c) {                                                                          \
            c##r##a = _mm512_add_ps(c##r##a, _mm512_loadu_ps(cr));                             \
            c##r##b = _mm512_add_ps(c##r##b, _mm512_loadu_ps(cr + 16));                        \
        }                                                                                      \
        _mm512_storeu_ps(cr, c##r##a);                                                         \
        _mm512_storeu_ps(cr + 16, c##r##b);                                                    \
    }
    REP14(A5_STORE)
}

TARGET_AVX512 static void sgemm_avx512(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                                       size_t ldb, int bt, float *C, size_t ldc, int accumulate) {
    sgemm_blocked(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate, GEMM512_MR, GEMM512_NR, GEMM512_KC, GEMM512_NC,
                  GEMM512_AS, kernel_avx512, NULL);
}

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int detect_isa(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !fma) return 0;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0;  // SSE and AVX state enabled by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (!avx2) return 0;
    if (avx512f && (xcr0 & 0xe6) == 0xe6) return 2;  // opmask, ZMM_Hi256, Hi16_ZMM too
    return 1;
}
#else
static int detect_isa(void) { return 0; }
#endif

int retort_sgemm_isa(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        v = detect_isa();
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

static void sgemm_dispatch(int isa, int bt, size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                           size_t ldb, float *C, size_t ldc, int accumulate) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        if (!accumulate)
            for (size_t i = 0; i < M; i++) memset(C + i * ldc, 0, N * sizeof(float));
        return;
    }
    const int have = retort_sgemm_isa();
    if (isa > have) isa = have;
#if RETORT_GEMM_X86
    if (isa >= 2) {
        sgemm_avx512(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate);
        return;
    }
    if (isa == 1) {
        sgemm_avx2(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate);
        return;
    }
#endif
    sgemm_portable(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate);
}

void retort_sgemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *C,
                  size_t ldc, int accumulate) {
    sgemm_dispatch(2, 0, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void retort_sgemm_bt(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *C,
                     size_t ldc, int accumulate) {
    sgemm_dispatch(2, 1, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void retort_sgemm_with_isa(int isa, int transposed_b, size_t M, size_t N, size_t K, const float *A, size_t lda,
                           const float *B, size_t ldb, float *C, size_t ldc, int accumulate) {
    sgemm_dispatch(isa < 0 ? 0 : isa, transposed_b != 0, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}
