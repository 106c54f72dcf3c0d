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

/// As retort_bytegroup_merge, for output that is not read again soon (a whole restored file):
/// widths 2 and 4 write with streaming (non-temporal) stores where the CPU has AVX-512 VBMI.
void retort_bytegroup_merge_streaming(const uint8_t *const *streams, size_t count, int width, int rotate,
                                      uint8_t *output);

/// The Shannon entropy of the bytes' histogram, in bits for the whole buffer: a lower
/// bound on what a Huffman code of them can reach.
double retort_entropy_bits(const uint8_t *bytes, size_t count);

/// Counts each byte value of `bytes` into `histogram`.
void retort_byte_histogram(const uint8_t *bytes, size_t count, uint32_t histogram[256]);

/// The Shannon entropy, in bits for all `count` bytes, of a byte histogram.
double retort_histogram_entropy_bits(const uint32_t histogram[256], size_t count);

/// Writes `input` (`count` bytes, whose byte histogram is `histogram`) as one raw deflate
/// block (RFC 1951) of literals coded with a dynamic Huffman code of at most 12 bits.
/// Returns the stream's length, or 0 when it would not be shorter than `limit` bytes or when
/// `capacity` is not at least that length + 8 (the writer stores 8 bytes at a time).
size_t retort_huffman_deflate(const uint8_t *input, size_t count, const uint32_t histogram[256], size_t limit,
                              uint8_t *output, size_t capacity);

/// Inflates the raw deflate stream `input` into exactly `output_count` bytes, for streams whose
/// blocks are all Huffman-coded literals (dynamic or fixed codes, no matches, no stored blocks),
/// several literals per table lookup. Returns 0 when the stream decoded to exactly
/// `output_count` bytes and used exactly all `input_count` bytes; 1 otherwise (a stream with
/// matches, stored blocks, an unusual code, or damage): the caller then decodes it with a
/// general inflater, which gives the verdict. Never reads or writes outside the two buffers.
int retort_huffman_inflate(const uint8_t *input, size_t input_count, uint8_t *output, size_t output_count);

/// The most parts a split stream may have.
#define RETORT_SPLIT_MAX_PARTS 16

/// Writes `input` as a split stream of `parts` (2 to RETORT_SPLIT_MAX_PARTS) raw deflate streams,
/// part k coding bytes [k·count/parts, (k+1)·count/parts), each one block of literals under the
/// same code (built from `histogram`, the byte histogram of all of `input`): u8 parts, then
/// the byte length of each part's stream but the last (u32 little-endian), then the streams.
/// Returns the total length, or 0 when it would not be shorter than `limit` bytes or
/// `capacity` is short (it must exceed the result by parts + 8 bytes).
size_t retort_huffman_deflate_split(const uint8_t *input, size_t count, const uint32_t histogram[256], unsigned parts,
                                    size_t limit, uint8_t *output, size_t capacity);

/// Entropy, in bits per byte, of the byte histogram of 32 evenly spread 512-byte blocks of
/// `bytes` (all of them when shorter): a cheap first look that tells random-looking bytes.
double retort_sampled_entropy_bits_per_byte(const uint8_t *bytes, size_t count);

/// Decodes a split stream (layout as retort_huffman_deflate_split writes it) into exactly
/// `output_count` bytes; four parts whose first blocks share a code are decoded in one
/// interleaved loop. Returns 0 on success; 1 when the layout is wrong or a part is one that
/// retort_huffman_inflate does not take (the caller then decodes each part with a general
/// inflater for the verdict). Never reads or writes outside the two buffers.
int retort_huffman_inflate_split(const uint8_t *input, size_t input_count, uint8_t *output, size_t output_count);

/// True when retort_crc32 has its vector kernel on this CPU (AVX-512 with VPCLMULQDQ);
/// otherwise it works byte by byte and a table-driven or PCLMULQDQ library is faster.
int retort_crc32_fast_available(void);

/// The CRC-32 (ISO-HDLC, as zlib and zip) of `bytes`, continuing from `crc` (0 to start).
uint32_t retort_crc32(uint32_t crc, const uint8_t *bytes, size_t count);
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

#ifndef RETORT_KERNELS_ALLOCATOR
#define RETORT_KERNELS_ALLOCATOR
/// For executables: asks glibc to serve allocations up to 64 MiB from its heap and to keep up to
/// 256 MiB of freed memory, instead of mapping and unmapping each large buffer (no-op elsewhere).
void retort_keep_freed_memory(void);

/// Starts asynchronous writeback of bytes [offset, offset + length) of the open file `fd`
/// (Linux sync_file_range with SYNC_FILE_RANGE_WRITE; nothing elsewhere). Errors are ignored:
/// the final fsync reports them.
void retort_start_writeback(int fd, long long offset, long long length);
#endif

#ifndef RETORT_KERNELS_POOL
#define RETORT_KERNELS_POOL
/// One task of a parallel loop: `index` in 0..<tasks.
typedef void (*retort_task_fn)(void *ctx, size_t index);

/// Runs fn(ctx, 0) … fn(ctx, tasks - 1) on up to `threads` threads (the caller and the pool's
/// workers, one per further core), returning when all have finished. Tasks are handed out in
/// order, one at a time. Workers spin for about a millisecond after a loop before they sleep,
/// so loops a few microseconds apart each start at once. A call made while another loop runs
/// (from another thread, or from inside a task) runs its tasks on the calling thread.
void retort_parallel_for(size_t tasks, size_t threads, retort_task_fn fn, void *ctx);
#endif
