// Matrix multiply by weights kept in ggml's 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0), C = A · Wᵀ with W an N×K matrix of blocks along K (a GGUF `[out, in]` weight).
//
// The weights stay quantized in memory, 4.5 to 8.5 bits each instead of 32, and are decoded a
// few rows at a time into a per-thread buffer that stays in L2, which the single-precision
// kernels of gemm.c then multiply. Decoding performs gguf-py's float32 operations in its order
// (`d * q + m`: a rounded product, then a rounded sum, never fused), so the decoded rows are
// bit-identical to a whole-tensor dequantization, and so is every element of C: each is the
// same dot product over K, whatever rows of W share a buffer.
//
// Decoders: AVX2 (with F16C for the scales) chosen at run time by gemm.c's CPUID check, and
// portable C.
#pragma STDC FP_CONTRACT OFF
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "retort_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define RETORT_QGEMM_X86 1
#endif

enum { Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8 };

size_t retort_qblock_bytes(int type) {
    switch (type) {
    case Q4_0: return 18;
    case Q4_1: return 20;
    case Q5_0: return 22;
    case Q5_1: return 24;
    case Q8_0: return 34;
    default: return 0;
    }
}

static inline uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

// IEEE half to single, exactly (subnormals, infinities and NaNs included).
static inline float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f;  // exact: at most 10 significant bits
        memcpy(&bits, &magnitude, 4);
        bits |= sign;
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// One block of 32 elements into o[0..32), in gguf-py's operations.
static inline void decode_block_portable(int type, const uint8_t *p, float *o) {
    switch (type) {
    case Q4_0: {
        const float d = half_to_float(load_u16(p));
        for (int j = 0; j < 16; j++) {
            o[j] = d * (float)((int)(p[2 + j] & 0x0F) - 8);
            o[j + 16] = d * (float)((int)(p[2 + j] >> 4) - 8);
        }
        break;
    }
    case Q4_1: {
        const float d = half_to_float(load_u16(p)), m = half_to_float(load_u16(p + 2));
        for (int j = 0; j < 16; j++) {
            const float lo = d * (float)(p[4 + j] & 0x0F), hi = d * (float)(p[4 + j] >> 4);
            o[j] = lo + m;
            o[j + 16] = hi + m;
        }
        break;
    }
    case Q5_0: {
        const float d = half_to_float(load_u16(p));
        const uint32_t qh = load_u32(p + 2);
        for (int j = 0; j < 16; j++) {
            const int lo = (p[6 + j] & 0x0F) | (int)((qh >> j) & 1) << 4;
            const int hi = (p[6 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            o[j] = d * (float)(lo - 16);
            o[j + 16] = d * (float)(hi - 16);
        }
        break;
    }
    case Q5_1: {
        const float d = half_to_float(load_u16(p)), m = half_to_float(load_u16(p + 2));
        const uint32_t qh = load_u32(p + 4);
        for (int j = 0; j < 16; j++) {
            const int lo = (p[8 + j] & 0x0F) | (int)((qh >> j) & 1) << 4;
            const int hi = (p[8 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            const float a = d * (float)lo, b = d * (float)hi;
            o[j] = a + m;
            o[j + 16] = b + m;
        }
        break;
    }
    case Q8_0: {
        const float d = half_to_float(load_u16(p));
        for (int j = 0; j < 32; j++) o[j] = (float)(int8_t)p[2 + j] * d;
        break;
    }
    }
}

static void decode_rows_portable(int type, const uint8_t *src, size_t row_bytes, size_t rows, size_t blocks,
                                 float *dst, size_t ldd) {
    const size_t size = retort_qblock_bytes(type);
    for (size_t r = 0; r < rows; r++)
        for (size_t b = 0; b < blocks; b++) decode_block_portable(type, src + r * row_bytes + b * size, dst + r * ldd + b * 32);
}

#if RETORT_QGEMM_X86
#define AVX2 __attribute__((target("avx2,f16c")))

// Eight int32 quants to floats: d·q (+ m), one rounding each.
AVX2 static inline void store8(float *o, __m256i q, __m256 d, __m256 m, int has_min) {
    __m256 v = _mm256_mul_ps(d, _mm256_cvtepi32_ps(q));
    if (has_min) v = _mm256_add_ps(v, m);
    _mm256_storeu_ps(o, v);
}

// The fifth bits of elements j..j+7 (bits j..j+7 of qh), as 16 or 0 in each lane.
AVX2 static inline __m256i fifth_bits(uint32_t qh, int j) {
    const __m256i shifts = _mm256_setr_epi32(j, j + 1, j + 2, j + 3, j + 4, j + 5, j + 6, j + 7);
    const __m256i bits = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)qh), shifts), _mm256_set1_epi32(1));
    return _mm256_slli_epi32(bits, 4);
}

AVX2 static void decode_rows_avx2(int type, const uint8_t *src, size_t row_bytes, size_t rows, size_t blocks,
                                  float *dst, size_t ldd) {
    const size_t size = retort_qblock_bytes(type);
    const __m128i low_mask = _mm_set1_epi8(0x0F);
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = src + r * row_bytes;
        float *out = dst + r * ldd;
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *p = row + b * size;
            float *o = out + b * 32;
            const __m256 d = _mm256_set1_ps(_cvtsh_ss(load_u16(p)));
            if (type == Q8_0) {
                for (int j = 0; j < 32; j += 8) {
                    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + j)));
                    _mm256_storeu_ps(o + j, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
                }
                continue;
            }
            const int has_min = type == Q4_1 || type == Q5_1;
            const __m256 m = has_min ? _mm256_set1_ps(_cvtsh_ss(load_u16(p + 2))) : _mm256_setzero_ps();
            const int nibbles_at = type == Q4_0 ? 2 : type == Q4_1 ? 4 : type == Q5_0 ? 6 : 8;
            const __m128i bytes = _mm_loadu_si128((const __m128i *)(p + nibbles_at));
            const __m128i lo = _mm_and_si128(bytes, low_mask);
            const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_mask);
            __m256i q[4] = {
                _mm256_cvtepu8_epi32(lo), _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)),
                _mm256_cvtepu8_epi32(hi), _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)),
            };
            if (type == Q5_0 || type == Q5_1) {
                const uint32_t qh = load_u32(p + (type == Q5_0 ? 2 : 4));
                for (int i = 0; i < 4; i++) q[i] = _mm256_or_si256(q[i], fifth_bits(qh, i * 8));
            }
            const int offset = type == Q4_0 ? 8 : type == Q5_0 ? 16 : 0;
            for (int i = 0; i < 4; i++) {
                if (offset) q[i] = _mm256_sub_epi32(q[i], _mm256_set1_epi32(offset));
                store8(o + i * 8, q[i], d, m, has_min);
            }
        }
    }
}
#endif

void retort_dequantize_rows(int type, const unsigned char *src, size_t row_bytes, size_t rows, size_t cols, float *dst,
                            size_t ldd) {
    if (retort_qblock_bytes(type) == 0 || rows == 0) return;
    const size_t blocks = cols / 32;
#if RETORT_QGEMM_X86
    if (retort_sgemm_isa() >= 1) {
        decode_rows_avx2(type, src, row_bytes, rows, blocks, dst, ldd);
        return;
    }
#endif
    decode_rows_portable(type, src, row_bytes, rows, blocks, dst, ldd);
}

// Per-thread decode buffer, freed when the thread exits.
#define QSCRATCH_ALIGN 64
static pthread_key_t qscratch_key;
static int qscratch_key_made;
static pthread_once_t qscratch_once = PTHREAD_ONCE_INIT;
static void qscratch_make_key(void) { qscratch_key_made = pthread_key_create(&qscratch_key, free) == 0; }

static float *qscratch(size_t floats) {
    if (pthread_once(&qscratch_once, qscratch_make_key) != 0 || !qscratch_key_made) return NULL;
    const size_t bytes = floats * sizeof(float);
    void *block = pthread_getspecific(qscratch_key);
    if (block && *(size_t *)block >= bytes) return (float *)((char *)block + QSCRATCH_ALIGN);
    void *fresh = NULL;
    if (posix_memalign(&fresh, QSCRATCH_ALIGN, bytes + QSCRATCH_ALIGN) != 0) return NULL;
    *(size_t *)fresh = bytes;
    if (pthread_setspecific(qscratch_key, fresh) != 0) {
        free(fresh);
        return NULL;
    }
    free(block);
    return (float *)((char *)fresh + QSCRATCH_ALIGN);
}

// Rows of W decoded per call of the float kernel: few rows (decoding a step's tokens) keep the
// decoded rows in L2 for the dot products; many rows (a prompt) give the packed kernel wider panels.
static size_t rows_per_chunk(size_t M, size_t N, size_t K) {
    const size_t budget = M <= 40 ? (192u << 10) : (1u << 20);
    size_t rows = budget / (K * sizeof(float));
    rows = rows / 16 * 16;
    if (rows < 16) rows = 16;
    return rows < N ? rows : N;
}

int retort_qgemm_bt(int isa, int type, size_t M, size_t N, size_t K, const float *A, size_t lda, const uint8_t *W,
                    size_t row_bytes, float *C, size_t ldc, int accumulate) {
    if (retort_qblock_bytes(type) == 0 || K % 32 != 0) return -1;
    if (M == 0 || N == 0) return 0;
    const size_t chunk = rows_per_chunk(M, N, K);
    float *buffer = K == 0 ? NULL : qscratch(chunk * K);
    if (!buffer && K > 0) {
        // No buffer to be had: one block at a time, same values, the dot products in a plain loop.
        float block[32];
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                float sum = 0;
                for (size_t b = 0; b < K / 32; b++) {
                    decode_block_portable(type, W + j * row_bytes + b * retort_qblock_bytes(type), block);
                    for (int t = 0; t < 32; t++) sum += A[i * lda + b * 32 + t] * block[t];
                }
                C[i * ldc + j] = accumulate ? C[i * ldc + j] + sum : sum;
            }
        return 0;
    }
    for (size_t n0 = 0; n0 < N; n0 += chunk) {
        const size_t rows = N - n0 < chunk ? N - n0 : chunk;
        retort_dequantize_rows(type, W + n0 * row_bytes, row_bytes, rows, K, buffer, K);
        retort_sgemm_with_isa(isa, 1, M, rows, K, A, lda, buffer, K, C + n0, ldc, accumulate);
    }
    return 0;
}
