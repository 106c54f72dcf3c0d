// Byte-grouping filters for .stz. The loops are written plainly so that the compiler
// vectorises them; an AVX2 copy of each is chosen at run time on CPUs that have it.
#include <math.h>
#include <string.h>
#include "retort_kernels.h"

#define SPLIT_BODY                                                                  \
    if (width == 4) {                                                               \
        uint8_t *o0 = output, *o1 = output + count, *o2 = output + 2 * count, *o3 = output + 3 * count; \
        for (size_t i = 0; i < count; i++) {                                        \
            uint32_t x;                                                             \
            memcpy(&x, input + 4 * i, 4);                                           \
            if (rotate) x = (x << 1) | (x >> 31);                                   \
            o0[i] = (uint8_t)x; o1[i] = (uint8_t)(x >> 8);                          \
            o2[i] = (uint8_t)(x >> 16); o3[i] = (uint8_t)(x >> 24);                 \
        }                                                                           \
    } else if (width == 2) {                                                        \
        uint8_t *o0 = output, *o1 = output + count;                                 \
        for (size_t i = 0; i < count; i++) {                                        \
            uint16_t x;                                                             \
            memcpy(&x, input + 2 * i, 2);                                           \
            if (rotate) x = (uint16_t)((x << 1) | (x >> 15));                       \
            o0[i] = (uint8_t)x; o1[i] = (uint8_t)(x >> 8);                          \
        }                                                                           \
    } else {                                                                        \
        for (size_t i = 0; i < count; i++)                                          \
            for (int k = 0; k < width; k++) output[k * count + i] = input[(size_t)width * i + k]; \
    }

#define MERGE_BODY                                                                  \
    if (width == 4) {                                                               \
        const uint8_t *s0 = streams[0], *s1 = streams[1], *s2 = streams[2], *s3 = streams[3]; \
        for (size_t i = 0; i < count; i++) {                                        \
            uint32_t x = (uint32_t)s0[i] | ((uint32_t)s1[i] << 8) | ((uint32_t)s2[i] << 16) | ((uint32_t)s3[i] << 24); \
            if (rotate) x = (x >> 1) | (x << 31);                                   \
            memcpy(output + 4 * i, &x, 4);                                          \
        }                                                                           \
    } else if (width == 2) {                                                        \
        const uint8_t *s0 = streams[0], *s1 = streams[1];                           \
        for (size_t i = 0; i < count; i++) {                                        \
            uint16_t x = (uint16_t)(s0[i] | (s1[i] << 8));                          \
            if (rotate) x = (uint16_t)((x >> 1) | (x << 15));                       \
            memcpy(output + 2 * i, &x, 2);                                          \
        }                                                                           \
    } else {                                                                        \
        for (size_t i = 0; i < count; i++)                                          \
            for (int k = 0; k < width; k++) output[(size_t)width * i + k] = streams[k][i]; \
    }

static void split_generic(const uint8_t *input, size_t count, int width, int rotate, uint8_t *output) { SPLIT_BODY }
static void merge_generic(const uint8_t *const *streams, size_t count, int width, int rotate, uint8_t *output) { MERGE_BODY }

#if defined(__x86_64__)
#include <cpuid.h>
__attribute__((target("avx2")))
static void split_avx2(const uint8_t *input, size_t count, int width, int rotate, uint8_t *output) { SPLIT_BODY }
__attribute__((target("avx2")))
static void merge_avx2(const uint8_t *const *streams, size_t count, int width, int rotate, uint8_t *output) { MERGE_BODY }

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        unsigned int a, b, c, d;
        cached = __get_cpuid_count(7, 0, &a, &b, &c, &d) ? (int)((b >> 5) & 1) : 0;
    }
    return cached;
}
#endif

void retort_bytegroup_split(const uint8_t *input, size_t count, int width, int rotate, uint8_t *output) {
#if defined(__x86_64__)
    if (has_avx2()) { split_avx2(input, count, width, rotate, output); return; }
#endif
    split_generic(input, count, width, rotate, output);
}

void retort_bytegroup_merge(const uint8_t *const *streams, size_t count, int width, int rotate, uint8_t *output) {
#if defined(__x86_64__)
    if (has_avx2()) { merge_avx2(streams, count, width, rotate, output); return; }
#endif
    merge_generic(streams, count, width, rotate, output);
}

double retort_entropy_bits(const uint8_t *bytes, size_t count) {
    // Four histograms break the store-to-load dependency on repeated bytes.
    uint32_t h[4][256];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        h[0][bytes[i]]++; h[1][bytes[i + 1]]++; h[2][bytes[i + 2]]++; h[3][bytes[i + 3]]++;
    }
    for (; i < count; i++) h[0][bytes[i]]++;
    double bits = 0, n = (double)count;
    for (int v = 0; v < 256; v++) {
        double c = (double)h[0][v] + h[1][v] + h[2][v] + h[3][v];
        if (c > 0) bits -= c * log2(c / n);
    }
    return bits;
}
