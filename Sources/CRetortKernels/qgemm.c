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
#include <cpuid.h>
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

// ---------------------------------------------------------------------------------------
// Integer products: activations rounded to 16 bits per 32-element block, weights as their
// integer quants, exact int32 dot products per block (AVX-512 VNNI vpdpwssd, or portable C),
// scaled and summed in float32.
//
// For row i of A and block b (elements 32b … 32b+31): s = max|a| / 32767, a' = rint(a · (32767 /
// max|a|)) (all 0 when the block is 0), σ = the float32 sum of the block's elements in order.
// For row j of W and block b: w = d·q + m (m = 0 for Q4_0, Q5_0, Q8_0). Then
//   C[i, j] = Σ_b fma(float(Σ_t a'·q), d·s, ·)   (b in order, starting from 0)
// and the caller adds Σ_b m·σ (a float32 matrix product of the sums by the mins). Every step
// is fixed per element, so the portable and the vector kernels give the same bits.

// The block's sum in a fixed tree: lanes l and l + 16, then halves of 16, 8, 4, 2 (the vector
// kernel's order).
static inline float block_sum(const float *x) {
    float s[16];
    for (int l = 0; l < 16; l++) s[l] = x[l] + x[l + 16];
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}

// Scale of a block from its largest magnitude and sum; NaN when either is not finite.
static inline float block_scale(float largest, float sum) {
    if (!(sum - sum == 0) || !(largest - largest == 0)) return __builtin_nanf("");
    return largest / 32767.0f;
}

static void quantize_block_portable(const float *x, int16_t *out, float *scale, float *sum) {
    float largest = 0;
    for (int t = 0; t < 32; t++) {
        const float v = x[t] < 0 ? -x[t] : x[t];
        largest = v > largest ? v : largest;
    }
    *sum = block_sum(x);
    *scale = block_scale(largest, *sum);
    if (!(*scale == *scale) || largest == 0) {
        for (int t = 0; t < 32; t++) out[t] = 0;
        return;
    }
    const float inverse = 32767.0f / largest;
    for (int t = 0; t < 32; t++) {
        float r = __builtin_rintf(x[t] * inverse);
        r = r > 32767.0f ? 32767.0f : r < -32768.0f ? -32768.0f : r;
        out[t] = (int16_t)r;
    }
}

#if RETORT_QGEMM_X86
__attribute__((target("avx512f,avx512bw"))) static void quantize_block_avx512(const float *x, int16_t *out,
                                                                               float *scale, float *sum) {
    const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
    const float largest = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
    // The tree of block_sum: a + b, then halves.
    __m512 s16 = _mm512_add_ps(a, b);
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(s16), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s16), 1)));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    *sum = _mm_cvtss_f32(s1);
    *scale = block_scale(largest, *sum);
    if (!(*scale == *scale) || largest == 0) {
        _mm512_storeu_si512(out, _mm512_setzero_si512());
        return;
    }
    const __m512 inverse = _mm512_set1_ps(32767.0f / largest);
    // Round to nearest even (the default mode, as rint), then saturate to 16 bits.
    const __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, inverse));
    const __m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, inverse));
    _mm256_storeu_si256((__m256i *)out, _mm512_cvtsepi32_epi16(qa));
    _mm256_storeu_si256((__m256i *)(out + 16), _mm512_cvtsepi32_epi16(qb));
}
#endif

void retort_quantize_rows_i16(int vector, size_t M, size_t K, const float *A, size_t lda, int16_t *q,
                              float *scales, float *sums) {
    const size_t blocks = K / 32;
#if RETORT_QGEMM_X86
    vector = vector && retort_sgemm_isa() >= 2;
#else
    (void)vector;
#endif
    for (size_t i = 0; i < M; i++)
        for (size_t b = 0; b < blocks; b++) {
            const float *x = A + i * lda + b * 32;
            int16_t *out = q + i * K + b * 32;
#if RETORT_QGEMM_X86
            if (vector) {
                quantize_block_avx512(x, out, scales + i * blocks + b, sums + i * blocks + b);
                continue;
            }
#endif
            quantize_block_portable(x, out, scales + i * blocks + b, sums + i * blocks + b);
        }
}

// One block's integer quants, scale and min.
static inline void block_ints(int type, const uint8_t *p, int16_t *q, float *d, float *m) {
    *d = half_to_float(load_u16(p));
    *m = (type == Q4_1 || type == Q5_1) ? half_to_float(load_u16(p + 2)) : 0.0f;
    switch (type) {
    case Q4_0:
        for (int j = 0; j < 16; j++) {
            q[j] = (int16_t)((p[2 + j] & 0x0F) - 8);
            q[j + 16] = (int16_t)((p[2 + j] >> 4) - 8);
        }
        break;
    case Q4_1:
        for (int j = 0; j < 16; j++) {
            q[j] = (int16_t)(p[4 + j] & 0x0F);
            q[j + 16] = (int16_t)(p[4 + j] >> 4);
        }
        break;
    case Q5_0:
    case Q5_1: {
        const int at = type == Q5_0 ? 2 : 4, offset = type == Q5_0 ? 16 : 0;
        const uint32_t qh = load_u32(p + at);
        for (int j = 0; j < 16; j++) {
            q[j] = (int16_t)(((p[at + 4 + j] & 0x0F) | (int)((qh >> j) & 1) << 4) - offset);
            q[j + 16] = (int16_t)(((p[at + 4 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - offset);
        }
        break;
    }
    case Q8_0:
        for (int j = 0; j < 32; j++) q[j] = (int8_t)p[2 + j];
        break;
    }
}

void retort_block_mins(int type, const unsigned char *W, size_t row_bytes, size_t N, size_t K, float *mins) {
    const size_t size = retort_qblock_bytes(type), blocks = K / 32;
    int16_t q[32];
    float d;
    for (size_t j = 0; j < N; j++)
        for (size_t b = 0; b < blocks; b++) block_ints(type, W + j * row_bytes + b * size, q, &d, mins + j * blocks + b);
}

// Panels: W's rows in groups of 32 (columns of C), each block's quants as int8 in the order the
// vector kernel reads them: for block b, pair p, half h, lane l, the quants of row 16h + l at
// elements 32b + 2p and 32b + 2p + 1 (1,024 bytes per block), then the block's 32 scales.
// Rows past N are zeros with scale 0.
#define PANEL 32
#define PANEL_BLOCK_BYTES (32 * PANEL)

void retort_pack_panels_i8(int type, const unsigned char *W, size_t row_bytes, size_t N, size_t K, signed char *q,
                           float *d) {
    const size_t size = retort_qblock_bytes(type), blocks = K / 32, panels = (N + PANEL - 1) / PANEL;
    int16_t values[32];
    float scale, min;
    for (size_t g = 0; g < panels; g++)
        for (size_t b = 0; b < blocks; b++) {
            signed char *out = q + (g * blocks + b) * PANEL_BLOCK_BYTES;
            float *scales = d + (g * blocks + b) * PANEL;
            for (size_t r = 0; r < PANEL; r++) {
                const size_t row = g * PANEL + r, h = r / 16, l = r % 16;
                if (row < N) {
                    block_ints(type, W + row * row_bytes + b * size, values, &scale, &min);
                } else {
                    memset(values, 0, sizeof values);
                    scale = 0;
                }
                for (int p = 0; p < 16; p++) {
                    out[(p * 2 + h) * 32 + l * 2] = (signed char)values[2 * p];
                    out[(p * 2 + h) * 32 + l * 2 + 1] = (signed char)values[2 * p + 1];
                }
                scales[r] = scale;
            }
        }
}

static void tile_i16_portable(size_t mr, size_t cols, size_t blocks, const int16_t *aq, size_t K, const float *as,
                              const signed char *panel, const float *ds, float *C, size_t ldc, int accumulate) {
    for (size_t i = 0; i < mr; i++)
        for (size_t c = 0; c < cols; c++) {
            const size_t h = c / 16, l = c % 16;
            float f = 0;
            for (size_t b = 0; b < blocks; b++) {
                int32_t sum = 0;
                for (int p = 0; p < 16; p++) {
                    const signed char *w = panel + b * PANEL_BLOCK_BYTES + (p * 2 + h) * 32 + l * 2;
                    const int16_t *x = aq + i * K + b * 32 + 2 * p;
                    sum += (int32_t)x[0] * w[0] + (int32_t)x[1] * w[1];
                }
                f = __builtin_fmaf((float)sum, ds[b * PANEL + c] * as[i * (K / 32) + b], f);
            }
            C[i * ldc + c] = accumulate ? C[i * ldc + c] + f : f;
        }
}

#if RETORT_QGEMM_X86
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define ALWAYS_INLINE_Q static inline __attribute__((always_inline))
// vpdpwssd written out: without a tuning that knows it is fast, the compiler splits the
// intrinsic into vpmaddwd + vpaddd, twice the instructions.
#define DPWSSD(acc, a, w) __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w))

VNNI ALWAYS_INLINE_Q void tile_i16_vnni(const int mr, size_t cols, size_t blocks, const int16_t *aq, size_t K,
                                         const float *as, const signed char *panel, const float *ds, float *C,
                                         size_t ldc, int accumulate) {
    __m512 f[6][2];
    for (int i = 0; i < mr; i++) f[i][0] = f[i][1] = _mm512_setzero_ps();
    const size_t nb = K / 32;
    for (size_t b = 0; b < blocks; b++) {
        __m512i acc[6][2];
        for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
        const signed char *w = panel + b * PANEL_BLOCK_BYTES;
        const int16_t *x = aq + b * 32;
        for (int p = 0; p < 16; p++) {
            const __m512i w0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(w + p * 64)));
            const __m512i w1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(w + p * 64 + 32)));
            for (int i = 0; i < mr; i++) {
                int32_t pair;
                memcpy(&pair, x + i * K + 2 * p, 4);
                const __m512i a = _mm512_set1_epi32(pair);
                DPWSSD(acc[i][0], a, w0);
                DPWSSD(acc[i][1], a, w1);
            }
        }
        const __m512 d0 = _mm512_loadu_ps(ds + b * PANEL), d1 = _mm512_loadu_ps(ds + b * PANEL + 16);
        for (int i = 0; i < mr; i++) {
            const __m512 s = _mm512_set1_ps(as[i * nb + b]);
            f[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][0]), _mm512_mul_ps(d0, s), f[i][0]);
            f[i][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][1]), _mm512_mul_ps(d1, s), f[i][1]);
        }
    }
    const __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (int i = 0; i < mr; i++) {
        float *c = C + i * ldc;
        if (accumulate) {
            f[i][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), f[i][0]);
            f[i][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), f[i][1]);
        }
        _mm512_mask_storeu_ps(c, m0, f[i][0]);
        _mm512_mask_storeu_ps(c + 16, m1, f[i][1]);
    }
}

// Every 6-row tile of A against `panels` panels: the tile stays in L1 while the panels go by.
VNNI static void tiles_i16_vnni(size_t M, size_t N, size_t panels, size_t blocks, const int16_t *aq, size_t K,
                                const float *as, const signed char *q, const float *d, float *C, size_t ldc,
                                int accumulate) {
    for (size_t i = 0; i < M; i += 6) {
        const size_t mr = M - i < 6 ? M - i : 6;
        const int16_t *a = aq + i * K;
        const float *s = as + i * (K / 32);
        for (size_t g = 0; g < panels; g++) {
            const size_t first = g * PANEL, cols = N - first < PANEL ? N - first : PANEL;
            const signed char *w = q + g * blocks * PANEL_BLOCK_BYTES;
            const float *ds = d + g * blocks * PANEL;
            float *c = C + i * ldc + first;
            switch (mr) {
            case 6: tile_i16_vnni(6, cols, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
            case 5: tile_i16_vnni(5, cols, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
            case 4: tile_i16_vnni(4, cols, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
            case 3: tile_i16_vnni(3, cols, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
            case 2: tile_i16_vnni(2, cols, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
            default: tile_i16_vnni(1, cols, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
            }
        }
    }
}

// The same products with AVX2 (vpmaddwd + vpaddd: the same exact int32 sums as vpdpwssd, then
// the same float32 operations per lane in the same order): for CPUs without AVX-512 VNNI.
// A tile is up to 3 rows of A by one half (16 columns) of a panel.
#define AVX2_I16 __attribute__((target("avx2,fma")))

AVX2_I16 ALWAYS_INLINE_Q void tile_i16_avx2(const int mr, size_t cols, size_t half, size_t blocks,
                                             const int16_t *aq, size_t K, const float *as, const signed char *panel,
                                             const float *ds, float *C, size_t ldc, int accumulate) {
    __m256 f[3][2];
    for (int i = 0; i < mr; i++) f[i][0] = f[i][1] = _mm256_setzero_ps();
    const size_t nb = K / 32;
    for (size_t b = 0; b < blocks; b++) {
        __m256i acc[3][2];
        for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
        const signed char *w = panel + b * PANEL_BLOCK_BYTES + half * 32;
        const int16_t *x = aq + b * 32;
        for (int p = 0; p < 16; p++) {
            const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + p * 64)));
            const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + p * 64 + 16)));
            for (int i = 0; i < mr; i++) {
                int32_t pair;
                memcpy(&pair, x + i * K + 2 * p, 4);
                const __m256i a = _mm256_set1_epi32(pair);
                acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(a, w0));
                acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(a, w1));
            }
        }
        const float *d = ds + b * PANEL + half * 16;
        const __m256 d0 = _mm256_loadu_ps(d), d1 = _mm256_loadu_ps(d + 8);
        for (int i = 0; i < mr; i++) {
            const __m256 s = _mm256_set1_ps(as[i * nb + b]);
            f[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i][0]), _mm256_mul_ps(d0, s), f[i][0]);
            f[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i][1]), _mm256_mul_ps(d1, s), f[i][1]);
        }
    }
    for (int i = 0; i < mr; i++) {
        float out[16];
        _mm256_storeu_ps(out, f[i][0]);
        _mm256_storeu_ps(out + 8, f[i][1]);
        float *c = C + i * ldc;
        for (size_t j = 0; j < cols; j++) c[j] = accumulate ? c[j] + out[j] : out[j];
    }
}

AVX2_I16 static void tiles_i16_avx2(size_t M, size_t N, size_t panels, size_t blocks, const int16_t *aq, size_t K,
                                    const float *as, const signed char *q, const float *d, float *C, size_t ldc,
                                    int accumulate) {
    for (size_t i = 0; i < M; i += 3) {
        const size_t mr = M - i < 3 ? M - i : 3;
        const int16_t *a = aq + i * K;
        const float *s = as + i * (K / 32);
        for (size_t g = 0; g < panels; g++)
            for (size_t half = 0; half < 2; half++) {
                const size_t first = g * PANEL + half * 16;
                if (first >= N) break;
                const size_t cols = N - first < 16 ? N - first : 16;
                const signed char *w = q + g * blocks * PANEL_BLOCK_BYTES;
                const float *ds = d + g * blocks * PANEL;
                float *c = C + i * ldc + first;
                switch (mr) {
                case 3: tile_i16_avx2(3, cols, half, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
                case 2: tile_i16_avx2(2, cols, half, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
                default: tile_i16_avx2(1, cols, half, blocks, a, K, s, w, ds, c, ldc, accumulate); break;
                }
            }
    }
}

static int have_vnni(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned int a, b, c, d;
        v = retort_sgemm_isa() >= 2 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 30) & 1) && ((c >> 11) & 1);
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

int retort_qgemm_i16_available(void) {
#if RETORT_QGEMM_X86
    return have_vnni() || retort_sgemm_isa() >= 1;
#else
    return 0;
#endif
}

void retort_qgemm_i16_bt(int vector, size_t M, size_t N, size_t K, const short *aq, const float *as,
                         const signed char *q, const float *d, float *C, size_t ldc, int accumulate) {
    if (M == 0 || N == 0) return;
    const size_t blocks = K / 32, panels = (N + PANEL - 1) / PANEL;
    // Panels per pass over the rows of A: about 512 KiB of them, at least one.
    const size_t per = blocks * (PANEL_BLOCK_BYTES + PANEL * sizeof(float));
    size_t group = per == 0 ? panels : (512u << 10) / per;
    if (group < 1) group = 1;
#if RETORT_QGEMM_X86
    // 1: the best kernel here; 2: AVX2 even where VNNI is (to test it); 0: portable.
    const int use_vnni = vector == 1 && have_vnni();
    const int use_avx2 = !use_vnni && vector != 0 && retort_sgemm_isa() >= 1;
#else
    (void)vector;
#endif
    for (size_t g0 = 0; g0 < panels; g0 += group) {
        const size_t count = panels - g0 < group ? panels - g0 : group;
        const size_t first = g0 * PANEL, width = N - first < count * PANEL ? N - first : count * PANEL;
        const signed char *w = q + g0 * blocks * PANEL_BLOCK_BYTES;
        const float *ds = d + g0 * blocks * PANEL;
#if RETORT_QGEMM_X86
        if (use_vnni) {
            tiles_i16_vnni(M, width, count, blocks, aq, K, as, w, ds, C + first, ldc, accumulate);
            continue;
        }
        if (use_avx2) {
            tiles_i16_avx2(M, width, count, blocks, aq, K, as, w, ds, C + first, ldc, accumulate);
            continue;
        }
#endif
        for (size_t g = 0; g < count; g++) {
            const size_t cols = width - g * PANEL < PANEL ? width - g * PANEL : PANEL;
            tile_i16_portable(M, cols, blocks, aq, K, as, w + g * blocks * PANEL_BLOCK_BYTES, ds + g * blocks * PANEL,
                              C + first + g * PANEL, ldc, accumulate);
        }
    }
}

// The mins' term of the integer product, C[i, j] += Σ_b sums[i, b] · mins[j, b], with the mins
// given by block (mins_t: blocks rows of N, ldm apart). Each element is one chain of fused multiply-adds over b
// in order, from 0, then added to C: what the blocked sgemm of gemm.c computes for K up to its
// KC, but for any M, so that a row's result does not depend on how many rows share the call
// (the small-M kernels sum in 16 lanes instead). The same bits on every instruction set.
#if RETORT_QGEMM_X86
// Four rows at a time share each load of the mins; every element keeps its own chain.
__attribute__((target("avx512f"))) static void mins_product_avx512(size_t M, size_t N, size_t blocks,
                                                                  const float *sums, const float *mins_t, size_t ldm,
                                                                  float *C, size_t ldc) {
    size_t i = 0;
    for (; i + 4 <= M; i += 4) {
        const float *s = sums + i * blocks;
        float *c = C + i * ldc;
        for (size_t j = 0; j < N; j += 16) {
            const __mmask16 m = N - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (N - j)) - 1);
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
            for (size_t b = 0; b < blocks; b++) {
                const __m512 w = _mm512_maskz_loadu_ps(m, mins_t + b * ldm + j);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(s[b]), w, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(s[blocks + b]), w, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(s[2 * blocks + b]), w, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(s[3 * blocks + b]), w, a3);
            }
            _mm512_mask_storeu_ps(c + j, m, _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m, c + j)));
            _mm512_mask_storeu_ps(c + ldc + j, m, _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m, c + ldc + j)));
            _mm512_mask_storeu_ps(c + 2 * ldc + j, m, _mm512_add_ps(a2, _mm512_maskz_loadu_ps(m, c + 2 * ldc + j)));
            _mm512_mask_storeu_ps(c + 3 * ldc + j, m, _mm512_add_ps(a3, _mm512_maskz_loadu_ps(m, c + 3 * ldc + j)));
        }
    }
    for (; i < M; i++) {
        const float *s = sums + i * blocks;
        float *c = C + i * ldc;
        for (size_t j = 0; j < N; j += 16) {
            const __mmask16 m = N - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (N - j)) - 1);
            __m512 acc = _mm512_setzero_ps();
            for (size_t b = 0; b < blocks; b++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(s[b]), _mm512_maskz_loadu_ps(m, mins_t + b * ldm + j), acc);
            _mm512_mask_storeu_ps(c + j, m, _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, c + j)));
        }
    }
}

__attribute__((target("avx2,fma"))) static void mins_product_avx2(size_t M, size_t N, size_t blocks, const float *sums,
                                                                 const float *mins_t, size_t ldm, float *C, size_t ldc) {
    for (size_t i = 0; i < M; i++) {
        const float *s = sums + i * blocks;
        float *c = C + i * ldc;
        size_t j = 0;
        for (; j + 8 <= N; j += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (size_t b = 0; b < blocks; b++)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(s[b]), _mm256_loadu_ps(mins_t + b * ldm + j), acc);
            _mm256_storeu_ps(c + j, _mm256_add_ps(acc, _mm256_loadu_ps(c + j)));
        }
        for (; j < N; j++) {
            float acc = 0;
            for (size_t b = 0; b < blocks; b++) acc = __builtin_fmaf(s[b], mins_t[b * ldm + j], acc);
            c[j] = acc + c[j];
        }
    }
}
#endif

void retort_add_mins_product(int vector, size_t M, size_t N, size_t blocks, const float *sums, const float *mins_t,
                             size_t ldm, float *C, size_t ldc) {
    if (M == 0 || N == 0 || blocks == 0) return;
#if RETORT_QGEMM_X86
    if (vector && retort_sgemm_isa() >= 2) return mins_product_avx512(M, N, blocks, sums, mins_t, ldm, C, ldc);
    if (vector && retort_sgemm_isa() >= 1) return mins_product_avx2(M, N, blocks, sums, mins_t, ldm, C, ldc);
#else
    (void)vector;
#endif
    for (size_t i = 0; i < M; i++) {
        const float *s = sums + i * blocks;
        float *c = C + i * ldc;
        for (size_t j = 0; j < N; j++) {
            float acc = 0;
            for (size_t b = 0; b < blocks; b++) acc = __builtin_fmaf(s[b], mins_t[b * ldm + j], acc);
            c[j] = acc + c[j];
        }
    }
}
