// Row softmax and elementwise exp for the Network library, with an AVX2+FMA copy chosen at
// run time (the same CPU check as the matrix multiply). exp is Cephes' expf polynomial
// (relative error below 2e-7), so results agree with libm's expf to float32 tolerance.
#include <math.h>
#include <string.h>
#include "retort_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365478515625f);
    const __m256 below = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);  // also true for -inf
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    const __m256 input = x;
    // Lanes below `lo` (masked attention scores are -inf) are computed as exp(0) and zeroed at the
    // end: clamped to `lo` instead, their product would be subnormal, and every subnormal result
    // costs a microcode assist (a softmax over a causal mask ran 5x slower).
    x = _mm256_min_ps(_mm256_blendv_ps(x, _mm256_setzero_ps(), _mm256_or_ps(below, nan)), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    y = _mm256_andnot_ps(below, y);  // flush: exp(x) < FLT_MIN becomes 0, exp(-inf) = 0
    return _mm256_blendv_ps(y, input, nan);
}

static float exp1(float x) {
    if (x != x) return x;
    if (x < -87.3365478515625f) return 0.0f;
    if (x > 88.3762626647949f) x = 88.3762626647949f;
    float n = nearbyintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

__attribute__((target("avx2,fma"))) static void softmax_avx2(float *x, size_t rows, size_t width) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        // The largest element, NaNs passed over as by `row[j] > m ? row[j] : m` (maxps returns its
        // second operand when either is NaN).
        __m256 mx = _mm256_set1_ps(-INFINITY);
        size_t i = 0;
        for (; i + 8 <= width; i += 8) mx = _mm256_max_ps(_mm256_loadu_ps(row + i), mx);
        float lanes_max[8];
        _mm256_storeu_ps(lanes_max, mx);
        float m = -INFINITY;
        for (int k = 0; k < 8; k++) m = lanes_max[k] > m ? lanes_max[k] : m;
        for (; i < width; i++) m = row[i] > m ? row[i] : m;
        if (m == -INFINITY) {
            memset(row, 0, width * sizeof(float));
            continue;
        }
        const __m256 mv = _mm256_set1_ps(m);
        __m256 acc = _mm256_setzero_ps();
        size_t j = 0;
        for (; j + 8 <= width; j += 8) {
            __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), mv));
            _mm256_storeu_ps(row + j, e);
            acc = _mm256_add_ps(acc, e);
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, acc);
        float sum = 0;
        for (int k = 0; k < 8; k++) sum += lanes[k];
        for (; j < width; j++) {
            row[j] = exp1(row[j] - m);
            sum += row[j];
        }
        const __m256 inv = _mm256_set1_ps(1.0f / sum);
        j = 0;
        for (; j + 8 <= width; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inv));
        for (; j < width; j++) row[j] *= 1.0f / sum;
    }
}

__attribute__((target("avx2,fma"))) static void exp_avx2(float *x, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, exp8(_mm256_loadu_ps(x + i)));
    for (; i < count; i++) x[i] = exp1(x[i]);
}

static int have_avx2(void) { return retort_sgemm_isa() >= 1; }
#else
static float exp1(float x) { return expf(x); }
static int have_avx2(void) { return 0; }
#endif

static void softmax_portable(float *x, size_t rows, size_t width) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        float m = -INFINITY;
        for (size_t j = 0; j < width; j++) m = row[j] > m ? row[j] : m;
        if (m == -INFINITY) {
            memset(row, 0, width * sizeof(float));
            continue;
        }
        float sum = 0;
        for (size_t j = 0; j < width; j++) {
            row[j] = exp1(row[j] - m);
            sum += row[j];
        }
        const float inv = 1.0f / sum;
        for (size_t j = 0; j < width; j++) row[j] *= inv;
    }
}

void retort_softmax_rows(float *x, size_t rows, size_t width) {
    if (width == 0) return;
#if defined(__x86_64__)
    if (have_avx2()) {
        softmax_avx2(x, rows, width);
        return;
    }
#endif
    softmax_portable(x, rows, width);
}

void retort_exp(float *x, size_t count) {
#if defined(__x86_64__)
    if (have_avx2()) {
        exp_avx2(x, count);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++) x[i] = exp1(x[i]);
}
