#ifndef RETORT_KERNELS_H
#define RETORT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// True when the CPU has the SHA extensions (with SSSE3 and SSE4.1) that
/// retort_sha256_blocks_shani needs; checked with CPUID at run time.
int retort_cpu_has_sha_ni(void);

/// Runs the SHA-256 compression function over `blocks` 64-byte blocks of `data`,
/// updating `state` (a, b, …, h). Only call when retort_cpu_has_sha_ni() is true.
void retort_sha256_blocks_shani(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif

#ifndef RETORT_KERNELS_BYTEGROUP
#define RETORT_KERNELS_BYTEGROUP
/// Splits `count` little-endian elements of `width` bytes (2, 4 or 8) from `input` into
/// `width` streams of `count` bytes, back to back in `output`: byte k of element i goes to
/// output[k * count + i]. With `rotate`, each element (width 2 or 4) is first rotated left by one bit.
void retort_bytegroup_split(const uint8_t *input, size_t count, int width, int rotate, uint8_t *output);

/// The inverse of retort_bytegroup_split, reading stream k from `streams[k]`.
void retort_bytegroup_merge(const uint8_t *const *streams, size_t count, int width, int rotate, uint8_t *output);

/// The Shannon entropy of the bytes' histogram, in bits for the whole buffer: a lower
/// bound on what a Huffman code of them can reach.
double retort_entropy_bits(const uint8_t *bytes, size_t count);
#endif
#include "retort_gemm.h"

#ifndef RETORT_KERNELS_ACTIVATIONS
#define RETORT_KERNELS_ACTIVATIONS
/// Softmax over each of `rows` rows of `width` floats, in place: max-subtracted; a row that is
/// all −∞ becomes zeros; exp(x) below FLT_MIN is flushed to 0. AVX2+FMA when available.
void retort_softmax_rows(float *x, size_t rows, size_t width);

/// exp of each of `count` floats, in place (relative error below 2e-7; below FLT_MIN → 0).
void retort_exp(float *x, size_t count);
#endif
