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

/// Integer products (see qgemm.c): rounds each 32-element block of each row of A[M×K] to 16
/// bits, q (M×K, row-major), scales and sums (M × K/32 each). `vector` 0 forces portable C
/// (the same bits).
void retort_quantize_rows_i16(int vector, size_t M, size_t K, const float *A, size_t lda, short *q, float *scales,
                              float *sums);

/// The min of each block of W (N × K/32; 0 for types without one).
void retort_block_mins(int type, const unsigned char *W, size_t row_bytes, size_t N, size_t K, float *mins);

/// C[i, j] += Σ_b sums[i, b] · mins_t[b, j] for i < M, j < N, b < blocks (row b of mins_t at
/// mins_t + b*ldm): each element one chain of fused multiply-adds over b in order from 0, then added
/// to C, whatever M is (a row's bits do not depend on the rows beside it). `vector` 0 forces
/// portable C (the same bits).
void retort_add_mins_product(int vector, size_t M, size_t N, size_t blocks, const float *sums, const float *mins_t,
                             size_t ldm, float *C, size_t ldc);

/// Whether retort_qgemm_i16_bt has a vector kernel here (AVX-512 VNNI, else AVX2); the portable
/// one gives the same bits.
int retort_qgemm_i16_available(void);

/// Packs W (N×K of ggml type `type`) into panels of 32 rows for retort_qgemm_i16_bt: q gets
/// ceil(N/32)·K·32 bytes (each quant as int8), d gets ceil(N/32)·(K/32)·32 scales.
void retort_pack_panels_i8(int type, const unsigned char *W, size_t row_bytes, size_t N, size_t K, signed char *q,
                           float *d);

/// C[M×N] (+)= Σ_b d·s·(q_A · q_W) over the blocks, W given as panels (retort_pack_panels_i8;
/// pass the panel of row j0 for rows j0… with j0 a multiple of 32), without the mins' term (the
/// caller adds sums · minsᵀ). `vector` 1 takes the best kernel here (AVX-512 VNNI, else AVX2),
/// 2 the AVX2 one, 0 the portable one: all give the same bits.
void retort_qgemm_i16_bt(int vector, size_t M, size_t N, size_t K, const short *aq, const float *as,
                         const signed char *q, const float *d, float *C, size_t ldc, int accumulate);

#endif
