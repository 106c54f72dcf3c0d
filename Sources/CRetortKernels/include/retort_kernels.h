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
