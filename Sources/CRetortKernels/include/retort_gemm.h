#ifndef RETORT_GEMM_H
#define RETORT_GEMM_H
#include <stddef.h>

/// Single-precision matrix multiply, row-major, on the calling thread:
/// C[M×N] = A[M×K] · B[K×N], or C += A·B when `accumulate` is non-zero.
/// Row i of A starts at A + i*lda (lda >= K), row k of B at B + k*ldb (ldb >= N),
/// row i of C at C + i*ldc (ldc >= N). C must not overlap A or B. With K == 0,
/// C is zeroed (or left as it is when accumulating). Callers parallelise by
/// splitting the rows of A and C (or the columns of B and C). Each calling thread
/// keeps a packing buffer of about 1 MiB, freed when the thread exits; should it not
/// be had, a plain loop does the work.
void retort_sgemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                  float *C, size_t ldc, int accumulate);

/// The same with B given transposed: B is N×K row-major (row j at B + j*ldb,
/// ldb >= K), and C[M×N] = A · Bᵀ (or += when `accumulate` is non-zero).
void retort_sgemm_bt(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                     float *C, size_t ldc, int accumulate);

/// The instruction set retort_sgemm uses on this CPU: 0 portable C, 1 AVX2+FMA,
/// 2 AVX-512F (checked with CPUID and XGETBV once).
int retort_sgemm_isa(void);

/// retort_sgemm / retort_sgemm_bt (by `transposed_b`) with the instruction set capped at
/// `isa` (0, 1 or 2; capped again to what the CPU supports), for tests and benchmarks.
void retort_sgemm_with_isa(int isa, int transposed_b, size_t M, size_t N, size_t K, const float *A, size_t lda,
                           const float *B, size_t ldb, float *C, size_t ldc, int accumulate);

/// Bytes per 32-element block of ggml type `type` (2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 8 Q8_0:
/// ggml's type ids), or 0 for any other type.
size_t retort_qblock_bytes(int type);

/// Decodes `rows` rows of `cols` elements (a multiple of 32) of ggml type `type`, row r at
/// src + r*row_bytes, into dst (row r at dst + r*ldd), bit-identical to gguf-py's dequantize.
void retort_dequantize_rows(int type, const unsigned char *src, size_t row_bytes, size_t rows, size_t cols,
                            float *dst, size_t ldd);

/// C[M×N] = A[M×K] · Wᵀ (or += when `accumulate`), W an N×K matrix of ggml type `type` with
/// row j at W + j*row_bytes, on the calling thread, with the float kernels capped at `isa`
/// (as retort_sgemm_with_isa). Every element equals retort_sgemm_bt's with W dequantized.
/// Returns -1 (and leaves C alone) when `type` is not a 32-element block type or K is not a
/// multiple of 32, else 0.
int retort_qgemm_bt(int isa, int type, size_t M, size_t N, size_t K, const float *A, size_t lda,
                    const unsigned char *W, size_t row_bytes, float *C, size_t ldc, int accumulate);

#endif
