// Single-precision matrix multiply (row-major), blocked in the manner of GotoBLAS/BLIS:
//
//   for each NC-wide column block of B and C (jc)
//     for each KC-deep slice of K (pc): pack B[pc:pc+kc, jc:jc+nc] into NR-wide panels
//       for each MR-row strip of A and C (ir): pack A[ir:ir+MR, pc:pc+kc] (rows kept,
//                                              fixed row stride, stays in L1)
//         for each NR-wide panel (jr): microkernel C[MR×NR] (+)= Apanel · Bpanel
//
// The packed A strip (MR × kc floats) is reused from L1 by every B panel of the block,
// and the packed B block (kc × nc floats) streams from L2 while the strips of A go by.
// The row stride of the packed A strip is a compile-time constant, so the microkernel
// reaches every element of A with one pointer plus a constant displacement.
// Bᵀ (retort_sgemm_bt) is packed into the same panels by 8×8 transposes.
//
// Microkernels, chosen at run time (CPUID + XGETBV), compiled for their instruction set
// by function attributes so that the package needs no unsafe flags:
//   AVX-512F: 14×32 (28 zmm accumulators, 2 zmm of B, one broadcast of A), KC 512, NC 512
//   AVX2+FMA:  6×16 (12 ymm accumulators, 2 ymm of B, one broadcast of A), KC 256, NC 512
//   portable:  4×16 plain C (the compiler vectorises it for the baseline SSE2)
// Tiles that overhang M or N: with AVX-512 a copy of the microkernel cut to the rows left
// and masked to the columns left; otherwise computed into a small buffer and copied.
//
// The first strip of A multiplies each B panel straight from B and packs it on the way
// (AVX-512), so that B needs no separate packing pass.
//
// With few rows (M up to 16, or 40 for Bᵀ; 4 and 32 with AVX2) packing B costs more than
// it saves, so small_nn_* / small_bt_* read B in place: rows of C in registers over all
// of K, or (one row, or up to 4 with a B over 1 MiB, AVX-512) C in L1 updated from 4 rows
// of B at a time in one sequential pass over B (A·B); register blocks of dot products (A·Bᵀ).
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
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif

#ifndef GEMM512_MR
#define GEMM512_MR 14
#endif
#ifndef GEMM512_KC
#define GEMM512_KC 512
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

// Up to this many rows, B is read in place instead of packed (small_nn_*, small_bt_*):
// packing costs O(K·N) whatever M is, which few rows do not repay.
// Measured on a Zen 5 (AMD EPYC, 1 MiB L2) with K, N in 512…4096.
#ifndef GEMM_SMALL_M_NN
#define GEMM_SMALL_M_NN 16
#endif
#ifndef GEMM_SMALL_M_BT
#define GEMM_SMALL_M_BT 40
#endif
#ifndef GEMM_SMALL_M_NN_AVX2
#define GEMM_SMALL_M_NN_AVX2 4
#endif
#ifndef GEMM_SMALL_M_BT_AVX2
#define GEMM_SMALL_M_BT_AVX2 32
#endif

#define GEMMC_MR 4
#define GEMMC_NR 16
#define GEMMC_KC 256
#define GEMMC_NC 512
#define GEMMC_AS (GEMMC_KC + 8)

// ---------------------------------------------------------------------------------------
// Per-thread packing buffer. Its size is bounded by the block constants above, so no size
// computation here can overflow. Freed when the thread exits.

static pthread_key_t scratch_key;
static int scratch_key_made;  // written once, under scratch_once
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_make_key(void) { scratch_key_made = pthread_key_create(&scratch_key, free) == 0; }

typedef struct {
    size_t bytes;  // usable bytes after the header
} scratch_header;

#define SCRATCH_ALIGN 64

/// A 64-byte-aligned buffer of at least `bytes` bytes for this thread, or NULL.
static void *scratch_get(size_t bytes) {
    if (pthread_once(&scratch_once, scratch_make_key) != 0 || !scratch_key_made) return NULL;
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
// Reference loops: used when no packing buffer can be had.

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

/// Packs B[0:kc, 0:nc] into NR-wide panels (panel p at bp + p*NR*kc), row by row of B so
/// that B is read sequentially.
ALWAYS_INLINE void pack_b_block(const float *b, size_t ldb, size_t nc, size_t kc, float *bp, const size_t NR) {
    const size_t full = nc / NR * NR;
    for (size_t k = 0; k < kc; k++) {
        const float *src = b + k * ldb;
        for (size_t jr = 0; jr < full; jr += NR) memcpy(bp + jr * kc + k * NR, src + jr, NR * sizeof(float));
    }
    if (full < nc) pack_b_panel(b + full, ldb, nc - full, kc, bp + full * kc, NR);
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
/// A full-tile microkernel that reads its B panel from B itself (row stride ldb) and packs
/// it into bp on the way, for the first strip of A, so that B needs no packing pass.
typedef void (*packing_kernel)(size_t kc, const float *ap, const float *b, size_t ldb, float *bp, float *c, size_t ldc,
                               int load_c);
/// A microkernel for a tile of mr ≤ MR rows and nr ≤ NR columns, writing only those.
typedef void (*edge_kernel)(size_t mr, size_t nr, size_t kc, const float *ap, const float *bp, float *c, size_t ldc,
                            int load_c);

/// The blocked driver; inlined into one function per instruction set together with
/// its packers and `kernel`.
ALWAYS_INLINE void sgemm_blocked(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                                 int bt, float *C, size_t ldc, int accumulate, const size_t MR, const size_t NR,
                                 const size_t KC, const size_t NC, const size_t AS, microkernel kernel,
                                 void (*pack_bt)(const float *, size_t, size_t, size_t, float *), edge_kernel edge,
                                 packing_kernel fused) {
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
    const int fuse = fused && !bt && M >= MR;  // the first strip is a full one

    for (size_t jc = 0; jc < N; jc += ncb) {
        const size_t nc = N - jc < ncb ? N - jc : ncb;
        for (size_t pc = 0; pc < K; pc += kcb) {
            const size_t kc = K - pc < kcb ? K - pc : kcb;
            const int load_c = accumulate || pc > 0;
            if (bt) {
                for (size_t jr = 0; jr < nc; jr += NR) {
                    const size_t nr = nc - jr < NR ? nc - jr : NR;
                    const float *src = B + (jc + jr) * ldb + pc;
                    if (pack_bt && nr == NR)
                        pack_bt(src, ldb, nr, kc, bp + jr * kc);
                    else
                        pack_bt_panel(src, ldb, nr, kc, bp + jr * kc, NR);
                }
            } else if (fuse) {
                // Full panels are packed by the first strip's kernels; only a partial one here.
                const size_t full = nc / NR * NR;
                if (full < nc) pack_b_panel(B + pc * ldb + jc + full, ldb, nc - full, kc, bp + full * kc, NR);
            } else {
                pack_b_block(B + pc * ldb + jc, ldb, nc, kc, bp, NR);
            }
            for (size_t ir = 0; ir < M; ir += MR) {
                const size_t mr = M - ir < MR ? M - ir : MR;
                pack_a(A + ir * lda + pc, lda, mr, kc, ap, MR, AS);
                float *crow = C + ir * ldc + jc;
                for (size_t jr = 0; jr < nc; jr += NR) {
                    const size_t nr = nc - jr < NR ? nc - jr : NR;
                    if (fuse && ir == 0 && nr == NR) {
                        fused(kc, ap, B + pc * ldb + jc + jr, ldb, bp + jr * kc, crow + jr, ldc, load_c);
                    } else if (mr == MR && nr == NR) {
                        kernel(kc, ap, bp + jr * kc, crow + jr, ldc, load_c);
                    } else if (edge) {
                        edge(mr, nr, kc, ap, bp + jr * kc, crow + jr, ldc, load_c);
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
                  kernel_c, NULL, NULL, NULL);
}

#if RETORT_GEMM_X86

#define REP6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define REP14(X) REP6(X) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

// ---------------------------------------------------------------------------------------
// AVX2 + FMA microkernel, 6×16, and the 8×8 transposes that pack Bᵀ.

#define TARGET_AVX2 __attribute__((target("avx2,fma")))

/// Transposes the 8×8 block at `src` (row stride `lds`) into `dst` (row stride `ldd`).
TARGET_AVX2 ALWAYS_INLINE void transpose8x8(const float *src, size_t lds, float *dst, size_t ldd) {
    const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
                 r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds),
                 r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds),
                 r7 = _mm256_loadu_ps(src + 7 * lds);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_store_ps(dst + ldd, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_store_ps(dst + 2 * ldd, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_store_ps(dst + 3 * ldd, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_store_ps(dst + 4 * ldd, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_store_ps(dst + 5 * ldd, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_store_ps(dst + 6 * ldd, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_store_ps(dst + 7 * ldd, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/// Packs a full NR-wide panel of Bᵀ (NR a multiple of 8) by 8×8 transposes; the K tail by scalars.
TARGET_AVX2 ALWAYS_INLINE void pack_bt_panel_avx2(const float *b, size_t ldb, size_t kc, float *bp, const size_t NR) {
    size_t k = 0;
    for (; k + 8 <= kc; k += 8)
        for (size_t j = 0; j < NR; j += 8) transpose8x8(b + j * ldb + k, ldb, bp + k * NR + j, NR);
    for (; k < kc; k++)
        for (size_t j = 0; j < NR; j++) bp[k * NR + j] = b[j * ldb + k];
}

TARGET_AVX2 static void pack_bt16_avx2(const float *b, size_t ldb, size_t nr, size_t kc, float *bp) {
    (void)nr;
    pack_bt_panel_avx2(b, ldb, kc, bp, 16);
}

TARGET_AVX2 static void pack_bt32_avx2(const float *b, size_t ldb, size_t nr, size_t kc, float *bp) {
    (void)nr;
    pack_bt_panel_avx2(b, ldb, kc, bp, 32);
}



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
                  GEMM256_AS, kernel_avx2, pack_bt16_avx2, NULL, NULL);
}

// ---------------------------------------------------------------------------------------
// Few rows (M small): packing B would cost as much as the product, so B is read in place.
// Rows go in groups of up to 4; C's columns in groups of V vectors held in registers over
// all of K; the last vector of a row may be partial (masked).

/// AVX2: C[0:R, 0:8V] (+)= A[0:R, :] · B[:, 0:8V]; the last vector covers `last` (1…8) columns.
TARGET_AVX2 ALWAYS_INLINE void small_nn_tile_avx2(size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                                                  float *C, size_t ldc, int accumulate, const int R, const int V,
                                                  int last) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(last), lane);
    __m256 acc[4][8];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm256_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m256 b[8];
        const float *brow = B + k * ldb;
        UNROLL for (int v = 0; v < V; v++) {
            b[v] = v == V - 1 && last < 8 ? _mm256_maskload_ps(brow + 8 * v, mask) : _mm256_loadu_ps(brow + 8 * v);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
            UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int v = 0; v < V; v++) {
            float *c = C + r * ldc + 8 * v;
            if (v == V - 1 && last < 8) {
                if (accumulate) acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_maskload_ps(c, mask));
                _mm256_maskstore_ps(c, mask, acc[r][v]);
            } else {
                if (accumulate) acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_loadu_ps(c));
                _mm256_storeu_ps(c, acc[r][v]);
            }
        }
    }
}

/// AVX2: rows 0..R-1 of C, all N columns.
TARGET_AVX2 ALWAYS_INLINE void small_nn_rows_avx2(size_t N, size_t K, const float *A, size_t lda, const float *B,
                                                  size_t ldb, float *C, size_t ldc, int accumulate, const int R,
                                                  const int V) {
    size_t j = 0;
    for (; j + 8 * (size_t)V <= N; j += 8 * (size_t)V)
        small_nn_tile_avx2(K, A, lda, B + j, ldb, C + j, ldc, accumulate, R, V, 8);
    for (; j < N; j += 8)
        small_nn_tile_avx2(K, A, lda, B + j, ldb, C + j, ldc, accumulate, R, 1, N - j < 8 ? (int)(N - j) : 8);
}

/// AVX2, few rows: column blocks of 64 outside (the block of B stays in L2), row groups inside.
TARGET_AVX2 static void small_nn_avx2(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                                      size_t ldb, float *C, size_t ldc, int accumulate) {
    for (size_t j0 = 0; j0 < N; j0 += 64) {
        const size_t nb = N - j0 < 64 ? N - j0 : 64;
        for (size_t i = 0; i < M; i += 4) {
            const float *a = A + i * lda, *b = B + j0;
            float *c = C + i * ldc + j0;
            switch (M - i) {
            case 1: small_nn_rows_avx2(nb, K, a, lda, b, ldb, c, ldc, accumulate, 1, 8); break;
            case 2: small_nn_rows_avx2(nb, K, a, lda, b, ldb, c, ldc, accumulate, 2, 4); break;
            case 3: small_nn_rows_avx2(nb, K, a, lda, b, ldb, c, ldc, accumulate, 3, 2); break;
            default: small_nn_rows_avx2(nb, K, a, lda, b, ldb, c, ldc, accumulate, 4, 2); break;
            }
        }
    }
}

/// AVX2: C[0:R, 0:J] (+)= dot products of rows of A with rows of Bᵀ (J ≤ 4).
TARGET_AVX2 ALWAYS_INLINE void small_bt_tile_avx2(size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                                                  float *C, size_t ldc, int accumulate, const int R, const int J) {
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int j = 0; j < J; j++) acc[r][j] = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 b[4];
        UNROLL for (int j = 0; j < J; j++) b[j] = _mm256_loadu_ps(B + j * ldb + k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_loadu_ps(A + r * lda + k);
            UNROLL for (int j = 0; j < J; j++) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]);
        }
    }
    if (k < K) {
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 b[4];
        UNROLL for (int j = 0; j < J; j++) b[j] = _mm256_maskload_ps(B + j * ldb + k, mask);
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_maskload_ps(A + r * lda + k, mask);
            UNROLL for (int j = 0; j < J; j++) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int j = 0; j < J; j++) {
            const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[r][j]), _mm256_extractf128_ps(acc[r][j], 1));
            const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
            const float s = _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
            C[r * ldc + j] = accumulate ? C[r * ldc + j] + s : s;
        }
    }
}

TARGET_AVX2 ALWAYS_INLINE void small_bt_rows_avx2(size_t N, size_t K, const float *A, size_t lda, const float *B,
                                                  size_t ldb, float *C, size_t ldc, int accumulate, const int R) {
    size_t j = 0;
    for (; j + 4 <= N; j += 4) small_bt_tile_avx2(K, A, lda, B + j * ldb, ldb, C + j, ldc, accumulate, R, 4);
    for (; j < N; j++) small_bt_tile_avx2(K, A, lda, B + j * ldb, ldb, C + j, ldc, accumulate, R, 1);
}

/// AVX2, few rows, Bᵀ: blocks of 32 rows of Bᵀ outside (they stay in L2), row pairs of A inside.
TARGET_AVX2 static void small_bt_avx2(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                                      size_t ldb, float *C, size_t ldc, int accumulate) {
    for (size_t j0 = 0; j0 < N; j0 += 32) {
        const size_t nb = N - j0 < 32 ? N - j0 : 32;
        const float *b = B + j0 * ldb;
        for (size_t i = 0; i < M; i += 2) {
            if (M - i == 1)
                small_bt_rows_avx2(nb, K, A + i * lda, lda, b, ldb, C + i * ldc + j0, ldc, accumulate, 1);
            else
                small_bt_rows_avx2(nb, K, A + i * lda, lda, b, ldb, C + i * ldc + j0, ldc, accumulate, 2);
        }
    }
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

/// The 14×32 microkernel reading B from B itself and packing it on the way.
TARGET_AVX512 static void kernel_avx512_packing(size_t kc, const float *ap, const float *b, size_t ldb, float *bp,
                                                float *c, size_t ldc, int load_c) {
    REP14(A5_ZERO)
    const float *a = ap;
    for (size_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm512_store_ps(bp, b0);
        _mm512_store_ps(bp + 16, b1);
        REP14(A5_FMA)
        a += 1;
        b += ldb;
        bp += GEMM512_NR;
    }
    REP14(A5_STORE)
}

/// The 14×32 microkernel cut to R rows (a constant after inlining) and to the columns in
/// masks m0 (0…15) and m1 (16…31), for tiles that overhang M or N.
TARGET_AVX512 ALWAYS_INLINE void kernel_avx512_part(size_t kc, const float *ap, const float *bp, float *c, size_t ldc,
                                                    int load_c, const int R, __mmask16 m0, __mmask16 m1) {
    __m512 acc[GEMM512_MR][2];
    UNROLL for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(bp + k * GEMM512_NR), b1 = _mm512_load_ps(bp + k * GEMM512_NR + 16);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 av = _mm512_set1_ps(ap[r * GEMM512_AS + k]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        float *cr = c + r * ldc;
        if (load_c) {
            acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_maskz_loadu_ps(m0, cr));
            acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, acc[r][0]);
        _mm512_mask_storeu_ps(cr + 16, m1, acc[r][1]);
    }
}

TARGET_AVX512 static void edge_avx512(size_t mr, size_t nr, size_t kc, const float *ap, const float *bp, float *c,
                                      size_t ldc, int load_c) {
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xffff : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
    switch (mr) {
#define EDGE512(r) \
    case r: kernel_avx512_part(kc, ap, bp, c, ldc, load_c, r, m0, m1); break;
        EDGE512(1) EDGE512(2) EDGE512(3) EDGE512(4) EDGE512(5) EDGE512(6) EDGE512(7)
        EDGE512(8) EDGE512(9) EDGE512(10) EDGE512(11) EDGE512(12) EDGE512(13)
#undef EDGE512
    default: kernel_avx512_part(kc, ap, bp, c, ldc, load_c, GEMM512_MR, m0, m1); break;
    }
}

TARGET_AVX512 static void sgemm_avx512(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                                       size_t ldb, int bt, float *C, size_t ldc, int accumulate) {
    sgemm_blocked(M, N, K, A, lda, B, ldb, bt, C, ldc, accumulate, GEMM512_MR, GEMM512_NR, GEMM512_KC, GEMM512_NC,
                  GEMM512_AS, kernel_avx512, pack_bt32_avx2, edge_avx512, kernel_avx512_packing);
}

/// AVX-512: C[0:R, 0:16V] (+)= A[0:R, :] · B[:, 0:16V]; the last vector covers the columns in `last`.
TARGET_AVX512 ALWAYS_INLINE void small_nn_tile_avx512(size_t K, const float *A, size_t lda, const float *B,
                                                      size_t ldb, float *C, size_t ldc, int accumulate, const int R,
                                                      const int V, __mmask16 last) {
    __m512 acc[4][8];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m512 b[8];
        const float *brow = B + k * ldb;
        UNROLL for (int v = 0; v < V; v++) {
            b[v] = v == V - 1 ? _mm512_maskz_loadu_ps(last, brow + 16 * v) : _mm512_loadu_ps(brow + 16 * v);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(A[r * lda + k]);
            UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int v = 0; v < V; v++) {
            float *c = C + r * ldc + 16 * v;
            const __mmask16 m = v == V - 1 ? last : (__mmask16)0xffff;
            if (accumulate) acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_maskz_loadu_ps(m, c));
            _mm512_mask_storeu_ps(c, m, acc[r][v]);
        }
    }
}

TARGET_AVX512 ALWAYS_INLINE void small_nn_rows_avx512(size_t N, size_t K, const float *A, size_t lda, const float *B,
                                                      size_t ldb, float *C, size_t ldc, int accumulate, const int R,
                                                      const int V) {
    size_t j = 0;
    for (; j + 16 * (size_t)V <= N; j += 16 * (size_t)V)
        small_nn_tile_avx512(K, A, lda, B + j, ldb, C + j, ldc, accumulate, R, V, 0xffff);
    for (; j < N; j += 16) {
        const __mmask16 last = N - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (N - j)) - 1);
        small_nn_tile_avx512(K, A, lda, B + j, ldb, C + j, ldc, accumulate, R, 1, last);
    }
}

/// AVX-512, up to 4 rows (R) of C in column blocks of up to 2048, kept in L1: C[r] += A[r][k..k+3] · B[k..k+3]
/// for each 4 rows of B in turn, so that B is read in long sequential runs (one pass, few TLB misses).
TARGET_AVX512 ALWAYS_INLINE void small_nn_stream_avx512(size_t N, size_t K, const float *A, size_t lda,
                                                        const float *B, size_t ldb, float *C, size_t ldc,
                                                        int accumulate, const int R) {
    for (size_t j0 = 0; j0 < N; j0 += 2048) {
        const size_t nb = N - j0 < 2048 ? N - j0 : 2048;
        const size_t full = nb / 16 * 16;
        const __mmask16 tail = (__mmask16)((1u << (nb - full)) - 1);
        float *c = C + j0;
        if (!accumulate)
            UNROLL for (int r = 0; r < R; r++) memset(c + r * ldc, 0, nb * sizeof(float));
        size_t k = 0;
        for (; k + 4 <= K; k += 4) {
            __m512 a[4][4];
            UNROLL for (int r = 0; r < R; r++) {
                UNROLL for (int q = 0; q < 4; q++) a[r][q] = _mm512_set1_ps(A[r * lda + k + q]);
            }
            const float *b0 = B + k * ldb + j0, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            for (size_t j = 0; j < nb; j += 16) {
                const __mmask16 m = j < full ? (__mmask16)0xffff : tail;
                const __m512 v0 = _mm512_maskz_loadu_ps(m, b0 + j), v1 = _mm512_maskz_loadu_ps(m, b1 + j),
                             v2 = _mm512_maskz_loadu_ps(m, b2 + j), v3 = _mm512_maskz_loadu_ps(m, b3 + j);
                UNROLL for (int r = 0; r < R; r++) {
                    __m512 acc = _mm512_maskz_loadu_ps(m, c + r * ldc + j);
                    acc = _mm512_fmadd_ps(a[r][0], v0, acc);
                    acc = _mm512_fmadd_ps(a[r][1], v1, acc);
                    acc = _mm512_fmadd_ps(a[r][2], v2, acc);
                    acc = _mm512_fmadd_ps(a[r][3], v3, acc);
                    _mm512_mask_storeu_ps(c + r * ldc + j, m, acc);
                }
            }
        }
        for (; k < K; k++) {
            __m512 a[4];
            UNROLL for (int r = 0; r < R; r++) a[r] = _mm512_set1_ps(A[r * lda + k]);
            const float *b0 = B + k * ldb + j0;
            for (size_t j = 0; j < nb; j += 16) {
                const __mmask16 m = j < full ? (__mmask16)0xffff : tail;
                const __m512 v0 = _mm512_maskz_loadu_ps(m, b0 + j);
                UNROLL for (int r = 0; r < R; r++) {
                    const __m512 acc = _mm512_fmadd_ps(a[r], v0, _mm512_maskz_loadu_ps(m, c + r * ldc + j));
                    _mm512_mask_storeu_ps(c + r * ldc + j, m, acc);
                }
            }
        }
    }
}

/// AVX-512, few rows. One row, or up to 4 with a B larger than L2: one streaming pass over B.
/// Otherwise column blocks of 128 outside (the block of B stays in L2), row groups of 4 held
/// in registers over all of K inside.
TARGET_AVX512 static void small_nn_avx512(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                                          size_t ldb, float *C, size_t ldc, int accumulate) {
    const int big_b = N > ((size_t)1 << 18) / K;  // K·N·4 bytes > 1 MiB
    switch (M == 1 || big_b ? M : 0) {
    case 1: small_nn_stream_avx512(N, K, A, lda, B, ldb, C, ldc, accumulate, 1); return;
    case 2: small_nn_stream_avx512(N, K, A, lda, B, ldb, C, ldc, accumulate, 2); return;
    case 3: small_nn_stream_avx512(N, K, A, lda, B, ldb, C, ldc, accumulate, 3); return;
    case 4: small_nn_stream_avx512(N, K, A, lda, B, ldb, C, ldc, accumulate, 4); return;
    default: break;
    }
    for (size_t j0 = 0; j0 < N; j0 += 128) {
        const size_t nb = N - j0 < 128 ? N - j0 : 128;
        for (size_t i = 0; i < M; i += 4) {
            const float *a = A + i * lda, *b = B + j0;
            float *c = C + i * ldc + j0;
            switch (M - i) {
            case 1: small_nn_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 1, 8); break;
            case 2: small_nn_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 2, 4); break;
            case 3: small_nn_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 3, 4); break;
            default: small_nn_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 4, 4); break;
            }
        }
    }
}

/// AVX-512: C[0:R, 0:J] (+)= dot products of rows of A with rows of Bᵀ.
TARGET_AVX512 ALWAYS_INLINE void small_bt_tile_avx512(size_t K, const float *A, size_t lda, const float *B,
                                                      size_t ldb, float *C, size_t ldc, int accumulate, const int R,
                                                      const int J) {
    __m512 acc[4][8];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int j = 0; j < J; j++) acc[r][j] = _mm512_setzero_ps();
    for (size_t k = 0; k < K; k += 16) {
        const __mmask16 m = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
        __m512 b[8];
        UNROLL for (int j = 0; j < J; j++) b[j] = _mm512_maskz_loadu_ps(m, B + j * ldb + k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_maskz_loadu_ps(m, A + r * lda + k);
            UNROLL for (int j = 0; j < J; j++) acc[r][j] = _mm512_fmadd_ps(a, b[j], acc[r][j]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int j = 0; j < J; j++) {
            const float s = _mm512_reduce_add_ps(acc[r][j]);
            C[r * ldc + j] = accumulate ? C[r * ldc + j] + s : s;
        }
    }
}

TARGET_AVX512 ALWAYS_INLINE void small_bt_rows_avx512(size_t N, size_t K, const float *A, size_t lda, const float *B,
                                                      size_t ldb, float *C, size_t ldc, int accumulate, const int R,
                                                      const int J) {
    size_t j = 0;
    for (; j + (size_t)J <= N; j += (size_t)J)
        small_bt_tile_avx512(K, A, lda, B + j * ldb, ldb, C + j, ldc, accumulate, R, J);
    for (; j < N; j++) small_bt_tile_avx512(K, A, lda, B + j * ldb, ldb, C + j, ldc, accumulate, R, 1);
}

/// AVX-512, few rows, Bᵀ: blocks of 32 rows of Bᵀ outside (they stay in L2), row groups of A inside.
TARGET_AVX512 static void small_bt_avx512(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                                          size_t ldb, float *C, size_t ldc, int accumulate) {
    for (size_t j0 = 0; j0 < N; j0 += 32) {
        const size_t nb = N - j0 < 32 ? N - j0 : 32;
        const float *b = B + j0 * ldb;
        for (size_t i = 0; i < M; i += 4) {
            const float *a = A + i * lda;
            float *c = C + i * ldc + j0;
            switch (M - i) {
            case 1: small_bt_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 1, 8); break;
            case 2: small_bt_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 2, 4); break;
            case 3: small_bt_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 3, 4); break;
            default: small_bt_rows_avx512(nb, K, a, lda, b, ldb, c, ldc, accumulate, 4, 4); break;
            }
        }
    }
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
    if (isa >= 2 && M <= (bt ? GEMM_SMALL_M_BT : GEMM_SMALL_M_NN)) {
        (bt ? small_bt_avx512 : small_nn_avx512)(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
        return;
    }
    if (isa == 1 && M <= (bt ? GEMM_SMALL_M_BT_AVX2 : GEMM_SMALL_M_NN_AVX2)) {
        (bt ? small_bt_avx2 : small_nn_avx2)(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
        return;
    }
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
