// Allocator tuning for the retort executables (see Sources/retort/Frontend/Allocator.swift).
#include "retort_kernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void retort_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}
