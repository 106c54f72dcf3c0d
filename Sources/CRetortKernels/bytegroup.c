// The .stz kernels: byte-grouping filters (the loops are written plainly so that the
// compiler vectorises them; an AVX2 copy of each, and an AVX-512 streaming merge, are chosen
// at run time on CPUs that have them), byte histograms and entropy, a Huffman-only deflate
// writer and a literal-block inflater (single and four-part split streams), and CRC-32.
#include <math.h>
#include <pthread.h>
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
#include <immintrin.h>
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

#if defined(__x86_64__)
/* The merge of 2 or 4 streams on 512-bit vectors: one byte permutation (VBMI) builds 64
 * bytes of elements, which are rotated back and written with streaming stores, so that a
 * large output does not first read every line it overwrites. */
static int has_avx512_vbmi(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned int a, b, c, d;
        v = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) && ((c >> 27) & 1)) {
            uint32_t lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            if ((lo & 0xe6) == 0xe6 && __get_cpuid_count(7, 0, &a, &b, &c, &d))
                v = ((b >> 16) & 1) && ((b >> 30) & 1) && ((c >> 1) & 1);  // AVX512F, AVX512BW, AVX512VBMI
        }
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static void merge_avx512_streaming(const uint8_t *const *streams, size_t count, int width, int rotate, uint8_t *output) {
    // Elements up to the first 64-byte boundary of the output the plain way, if the
    // boundary falls between elements; otherwise everything with unaligned stores.
    size_t misalign = (uintptr_t)output & 63, head = 0;
    int aligned = ((64 - misalign) & 63) % (size_t)width == 0;
    if (aligned) head = ((64 - misalign) & 63) / (size_t)width;
    if (head > count) head = count;
    if (head) {
        const uint8_t *s[4];
        for (int k = 0; k < width; k++) s[k] = streams[k];
        merge_avx2(s, head, width, rotate, output);
    }
    size_t i = head;
    uint8_t *out = output + (size_t)width * head;
    if (width == 4) {
        uint8_t index[64];
        for (int e = 0; e < 16; e++) for (int k = 0; k < 4; k++) index[4 * e + k] = (uint8_t)(16 * k + e);
        const __m512i permutation = _mm512_loadu_si512(index);
        const uint8_t *s0 = streams[0], *s1 = streams[1], *s2 = streams[2], *s3 = streams[3];
        for (; i + 16 <= count; i += 16, out += 64) {
            __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const void *)(s0 + i)));
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const void *)(s1 + i)), 1);
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const void *)(s2 + i)), 2);
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const void *)(s3 + i)), 3);
            v = _mm512_permutexvar_epi8(permutation, v);
            if (rotate) v = _mm512_ror_epi32(v, 1);
            if (aligned) _mm512_stream_si512((void *)out, v); else _mm512_storeu_si512(out, v);
        }
    } else {
        uint8_t index[64];
        for (int e = 0; e < 32; e++) for (int k = 0; k < 2; k++) index[2 * e + k] = (uint8_t)(32 * k + e);
        const __m512i permutation = _mm512_loadu_si512(index);
        const uint8_t *s0 = streams[0], *s1 = streams[1];
        for (; i + 32 <= count; i += 32, out += 64) {
            __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const void *)(s0 + i)));
            v = _mm512_inserti64x4(v, _mm256_loadu_si256((const void *)(s1 + i)), 1);
            v = _mm512_permutexvar_epi8(permutation, v);
            if (rotate) v = _mm512_or_si512(_mm512_srli_epi16(v, 1), _mm512_slli_epi16(v, 15));
            if (aligned) _mm512_stream_si512((void *)out, v); else _mm512_storeu_si512(out, v);
        }
    }
    _mm_sfence();
    if (i < count) {
        const uint8_t *s[4];
        for (int k = 0; k < width; k++) s[k] = streams[k] + i;
        merge_avx2(s, count - i, width, rotate, out);
    }
}
#endif

void retort_bytegroup_merge_streaming(const uint8_t *const *streams, size_t count, int width, int rotate,
                                      uint8_t *output) {
#if defined(__x86_64__)
    if ((width == 2 || width == 4) && has_avx2() && has_avx512_vbmi()) {
        merge_avx512_streaming(streams, count, width, rotate, output);
        return;
    }
#endif
    retort_bytegroup_merge(streams, count, width, rotate, output);
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

/* ------------------------------------------------------------------------------------------
 * Huffman-only deflate streams (RFC 1951) for .stz: an encoder that writes one dynamic block
 * of literals from a byte histogram, and a decoder for streams made of literal-only Huffman
 * blocks that resolves several literals per table lookup.
 * ---------------------------------------------------------------------------------------- */

static inline uint64_t load_le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void store_le64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

void retort_byte_histogram(const uint8_t *bytes, size_t count, uint32_t histogram[256]) {
    // Eight histograms break the store-to-load dependency on repeated bytes (exponent
    // streams hold few distinct values).
    uint32_t h[8][256];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        uint64_t v = load_le64(bytes + i), u = load_le64(bytes + i + 8);
        h[0][v & 255]++; h[1][(v >> 8) & 255]++; h[2][(v >> 16) & 255]++; h[3][(v >> 24) & 255]++;
        h[4][(v >> 32) & 255]++; h[5][(v >> 40) & 255]++; h[6][(v >> 48) & 255]++; h[7][v >> 56]++;
        h[0][u & 255]++; h[1][(u >> 8) & 255]++; h[2][(u >> 16) & 255]++; h[3][(u >> 24) & 255]++;
        h[4][(u >> 32) & 255]++; h[5][(u >> 40) & 255]++; h[6][(u >> 48) & 255]++; h[7][u >> 56]++;
    }
    for (; i < count; i++) h[0][bytes[i]]++;
    for (int v = 0; v < 256; v++) {
        uint32_t total = 0;
        for (int k = 0; k < 8; k++) total += h[k][v];
        histogram[v] = total;
    }
}

double retort_histogram_entropy_bits(const uint32_t histogram[256], size_t count) {
    double bits = 0, n = (double)count;
    for (int v = 0; v < 256; v++) {
        double c = (double)histogram[v];
        if (c > 0) bits -= c * log2(c / n);
    }
    return bits;
}

static uint32_t reverse_bits(uint32_t code, int length) {
    uint32_t r = 0;
    for (int i = 0; i < length; i++) { r = (r << 1) | (code & 1); code >>= 1; }
    return r;
}

/* Huffman code lengths of at most `limit` bits for `n` (≤ 288) symbols of frequencies `freq`
 * (0: no code). At least two symbols get a code, so the code is always complete. */
static void huffman_lengths(const uint32_t *freq, int n, int limit, uint8_t *lengths) {
    int sym[288];
    uint64_t weight[2 * 288];
    int parent[2 * 288], depth[2 * 288];
    int m = 0;
    for (int s = 0; s < n; s++) {
        lengths[s] = 0;
        if (freq[s]) sym[m++] = s;
    }
    if (m < 2) {
        int a = m == 1 ? sym[0] : 0, b = a == 0 ? 1 : 0;
        lengths[a] = 1; lengths[b] = 1;
        return;
    }
    // Ascending by frequency, then by symbol (insertion sort: n is small).
    for (int i = 1; i < m; i++) {
        int s = sym[i], j = i;
        while (j > 0 && freq[sym[j - 1]] > freq[s]) { sym[j] = sym[j - 1]; j--; }
        sym[j] = s;
    }
    for (int i = 0; i < m; i++) weight[i] = freq[sym[i]];
    // Two queues: leaves in order, internal nodes in order of creation.
    int leaf = 0, node = m, end = m;
    for (int k = 0; k < m - 1; k++) {
        int pick[2];
        for (int t = 0; t < 2; t++)
            pick[t] = (leaf < m && (node >= end || weight[leaf] <= weight[node])) ? leaf++ : node++;
        weight[end] = weight[pick[0]] + weight[pick[1]];
        parent[pick[0]] = parent[pick[1]] = end;
        end++;
    }
    depth[end - 1] = 0;
    for (int i = end - 2; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
    int counts[290];
    memset(counts, 0, sizeof counts);
    int deepest = 0;
    for (int i = 0; i < m; i++) { counts[depth[i]]++; if (depth[i] > deepest) deepest = depth[i]; }
    if (deepest > limit) {
        for (int l = limit + 1; l <= deepest; l++) { counts[limit] += counts[l]; counts[l] = 0; }
        uint64_t total = 0;
        for (int l = 1; l <= limit; l++) total += (uint64_t)counts[l] << (limit - l);
        while (total > (1ull << limit)) {
            counts[limit]--;
            for (int l = limit - 1; l > 0; l--)
                if (counts[l]) { counts[l]--; counts[l + 1] += 2; break; }
            total--;
        }
    }
    // The least frequent symbols get the longest codes.
    int index = 0;
    for (int l = limit < deepest ? limit : deepest; l >= 1; l--)
        for (int c = 0; c < counts[l]; c++) lengths[sym[index++]] = (uint8_t)l;
}

/* Canonical codes, bit-reversed for deflate's LSB-first packing. */
static void canonical_codes(const uint8_t *lengths, int n, uint32_t *codes) {
    int counts[16] = {0};
    uint32_t next[16];
    for (int s = 0; s < n; s++) counts[lengths[s]]++;
    counts[0] = 0;
    uint32_t code = 0;
    for (int l = 1; l < 16; l++) { code = (code + counts[l - 1]) << 1; next[l] = code; }
    for (int s = 0; s < n; s++) codes[s] = lengths[s] ? reverse_bits(next[lengths[s]]++, lengths[s]) : 0;
}

#define HUFFMAN_CODE_LIMIT 12

typedef struct { uint8_t *out; uint64_t buffer; unsigned count; } bit_writer;

static inline void put_bits(bit_writer *w, uint32_t bits, unsigned n) {
    w->buffer |= (uint64_t)bits << w->count;
    w->count += n;
    if (w->count >= 32) {
        store_le64(w->out, w->buffer);
        w->out += 4; w->buffer >>= 32; w->count -= 32;
    }
}

/* A literal code and the header that describes it, ready to write any number of streams. */
typedef struct {
    uint8_t lengths[259];         // 256 literals, end of block; then the two distance codes
    uint32_t codes[257];
    uint8_t items[259], extra[259];  // the code lengths, run-length coded with the precode
    int items_count, hclen;
    uint8_t precode_lengths[19];
    uint32_t precode_codes[19];
    uint64_t header_bits;         // BFINAL, BTYPE, HLIT, HDIST, HCLEN, precode and code lengths
} literal_code;

static const uint8_t precode_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
static const uint8_t precode_extra_bits[19] = {[16] = 2, [17] = 3, [18] = 7};

static void prepare_literal_code(const uint32_t histogram[256], literal_code *c) {
    uint32_t freq[257];
    memcpy(freq, histogram, 256 * sizeof(uint32_t));
    freq[256] = 1;
    huffman_lengths(freq, 257, HUFFMAN_CODE_LIMIT, c->lengths);
    c->lengths[257] = c->lengths[258] = 1;  // two distance codes of one bit, as zlib writes them: a complete code
    // Run-length code of the 259 code lengths (symbols 16, 17, 18 of the precode).
    int n = 0;
    for (int i = 0; i < 259;) {
        int v = c->lengths[i], run = 1;
        while (i + run < 259 && c->lengths[i + run] == v) run++;
        i += run;
        if (v == 0) {
            while (run >= 11) { int r = run > 138 ? 138 : run; c->items[n] = 18; c->extra[n++] = (uint8_t)(r - 11); run -= r; }
            if (run >= 3) { c->items[n] = 17; c->extra[n++] = (uint8_t)(run - 3); run = 0; }
            while (run-- > 0) { c->items[n] = 0; c->extra[n++] = 0; }
        } else {
            c->items[n] = (uint8_t)v; c->extra[n++] = 0; run--;
            while (run >= 3) { int r = run > 6 ? 6 : run; c->items[n] = 16; c->extra[n++] = (uint8_t)(r - 3); run -= r; }
            while (run-- > 0) { c->items[n] = (uint8_t)v; c->extra[n++] = 0; }
        }
    }
    c->items_count = n;
    uint32_t precode_freq[19] = {0};
    for (int i = 0; i < n; i++) precode_freq[c->items[i]]++;
    huffman_lengths(precode_freq, 19, 7, c->precode_lengths);
    int hclen = 19;
    while (hclen > 4 && c->precode_lengths[precode_order[hclen - 1]] == 0) hclen--;
    c->hclen = hclen;
    uint64_t bits = 3 + 5 + 5 + 4 + 3 * (uint64_t)hclen;
    for (int i = 0; i < n; i++) bits += c->precode_lengths[c->items[i]] + precode_extra_bits[c->items[i]];
    c->header_bits = bits;
    canonical_codes(c->lengths, 257, c->codes);
    canonical_codes(c->precode_lengths, 19, c->precode_codes);
}

/* The bits of `count` literals with histogram `histogram` under code `c`, end of block included. */
static uint64_t literal_bits(const literal_code *c, const uint32_t histogram[256]) {
    uint64_t bits = c->lengths[256];
    for (int s = 0; s < 256; s++) bits += (uint64_t)histogram[s] * c->lengths[s];
    return bits;
}

/* BFINAL, BTYPE = dynamic, and the code lengths of `c`. */
static void write_block_header(const literal_code *c, bit_writer *w) {
    put_bits(w, 1 | (2 << 1), 3);
    put_bits(w, 257 - 257, 5);
    put_bits(w, 2 - 1, 5);
    put_bits(w, (uint32_t)(c->hclen - 4), 4);
    for (int i = 0; i < c->hclen; i++) put_bits(w, c->precode_lengths[precode_order[i]], 3);
    for (int i = 0; i < c->items_count; i++) {
        unsigned item = c->items[i];
        put_bits(w, c->precode_codes[item], c->precode_lengths[item]);
        if (precode_extra_bits[item]) put_bits(w, c->extra[i], precode_extra_bits[item]);
    }
}

/* Writes `input` as one final block under code `c`; returns its length in bytes. The caller
 * guarantees room for that length + 8 (whole words are stored). */
static size_t write_literal_block(const literal_code *c, const uint8_t *input, size_t count, uint8_t *output) {
    bit_writer w = {output, 0, 0};
    write_block_header(c, &w);
    // The literals: four codes of at most 12 bits between flushes of whole bytes.
    uint32_t table[256];
    for (int s = 0; s < 256; s++) table[s] = (c->codes[s] << 8) | c->lengths[s];
    store_le64(w.out, w.buffer);  // down to fewer than 8 bits pending
    uint8_t *out = w.out + (w.count >> 3);
    uint64_t buffer = w.buffer >> (w.count & ~7u);
    unsigned filled = w.count & 7;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        uint32_t e0 = table[input[i]], e1 = table[input[i + 1]], e2 = table[input[i + 2]], e3 = table[input[i + 3]];
        buffer |= (uint64_t)(e0 >> 8) << filled; filled += e0 & 255;
        buffer |= (uint64_t)(e1 >> 8) << filled; filled += e1 & 255;
        buffer |= (uint64_t)(e2 >> 8) << filled; filled += e2 & 255;
        buffer |= (uint64_t)(e3 >> 8) << filled; filled += e3 & 255;
        store_le64(out, buffer);
        out += filled >> 3;
        buffer >>= filled & ~7u;
        filled &= 7;
    }
    w.out = out; w.buffer = buffer; w.count = filled;
    for (; i < count; i++) put_bits(&w, c->codes[input[i]], c->lengths[input[i]]);
    put_bits(&w, c->codes[256], c->lengths[256]);
    store_le64(w.out, w.buffer);
    return (size_t)(w.out - output) + (w.count + 7) / 8;
}

size_t retort_huffman_deflate(const uint8_t *input, size_t count, const uint32_t histogram[256], size_t limit,
                              uint8_t *output, size_t capacity) {
    literal_code c;
    prepare_literal_code(histogram, &c);
    size_t bytes = (size_t)((c.header_bits + literal_bits(&c, histogram) + 7) / 8);
    if (bytes >= limit || bytes + 8 > capacity) return 0;
    return write_literal_block(&c, input, count, output);
}

size_t retort_huffman_deflate_split(const uint8_t *input, size_t count, const uint32_t histogram[256], unsigned parts,
                                    size_t limit, uint8_t *output, size_t capacity) {
    if (parts < 2 || parts > RETORT_SPLIT_MAX_PARTS) return 0;
    literal_code c;
    prepare_literal_code(histogram, &c);
    size_t prefix = 1 + 4 * (size_t)(parts - 1);
    // Each part: header, its literals, end of block, rounded up to a byte.
    uint64_t bits = parts * (c.header_bits + c.lengths[256]) + literal_bits(&c, histogram) - c.lengths[256];
    size_t lower = prefix + (size_t)((bits + 7) / 8), upper = lower + parts;
    if (lower >= limit || upper + 8 > capacity) return 0;
    output[0] = (uint8_t)parts;
    size_t position = prefix;
    for (unsigned k = 0; k < parts; k++) {
        size_t begin = k * count / parts, end = (k + 1) * count / parts;
        size_t n = write_literal_block(&c, input + begin, end - begin, output + position);
        if (k + 1 < parts) {
            uint32_t v = (uint32_t)n;
            memcpy(output + 1 + 4 * k, &v, 4);
        }
        position += n;
    }
    return position < limit ? position : 0;
}

/* A sampled estimate: entropy bits per byte of 32 evenly spread 512-byte blocks. */
double retort_sampled_entropy_bits_per_byte(const uint8_t *bytes, size_t count) {
    const size_t block = 512, blocks = 32;
    if (count < block * blocks) {
        uint32_t histogram[256];
        retort_byte_histogram(bytes, count, histogram);
        return count ? retort_histogram_entropy_bits(histogram, count) / (double)count : 0;
    }
    uint32_t h[4][256], histogram[256];
    memset(h, 0, sizeof h);
    size_t stride = (count - block) / (blocks - 1);
    for (size_t k = 0; k < blocks; k++) {
        const uint8_t *p = bytes + k * stride;
        for (size_t i = 0; i < block; i += 4) { h[0][p[i]]++; h[1][p[i + 1]]++; h[2][p[i + 2]]++; h[3][p[i + 3]]++; }
    }
    for (int v = 0; v < 256; v++) histogram[v] = h[0][v] + h[1][v] + h[2][v] + h[3][v];
    return retort_histogram_entropy_bits(histogram, block * blocks) / (double)(block * blocks);
}

/* Decoding. A table entry (64 bits) for the next `bits` (at most TABLE_BITS) bits of the stream:
 *   bits 0–7    bits consumed
 *   bits 8–55   up to 6 literals, in order (or, with no literals, the entry's kind)
 *   bits 56–63  number of literals (0: a special entry)                                   */
#define TABLE_BITS 12
#define TABLE_SIZE (1 << TABLE_BITS)
#define MAX_LITERALS 6
enum { KIND_SLOW = 0, KIND_END = 1, KIND_LENGTH = 2 };

typedef struct {
    uint64_t table[TABLE_SIZE];
    unsigned bits;            // index bits of `table` (at most TABLE_BITS)
    uint16_t counts[16];      // codes per length, for codes longer than `bits`
    uint16_t symbols[288];    // symbols in canonical order
} literal_decoder;

typedef struct {
    const uint8_t *in, *end;
    uint64_t buffer;
    unsigned count;
    size_t overread;          // zero bytes fed past the end of the input
} bit_reader;

static inline void refill(bit_reader *r) {
    if (r->end - r->in >= 8) {
        r->buffer |= load_le64(r->in) << r->count;
        r->in += (63 - r->count) >> 3;
        r->count |= 56;
    } else {
        while (r->count <= 56) {
            uint64_t byte = 0;
            if (r->in < r->end) byte = *r->in++; else r->overread++;
            r->buffer |= byte << r->count;
            r->count += 8;
        }
    }
}

static inline uint32_t get_bits(bit_reader *r, unsigned n) {
    if (r->count < n) refill(r);
    uint32_t v = (uint32_t)(r->buffer & ((1ull << n) - 1));
    r->buffer >>= n;
    r->count -= n;
    return v;
}

/* Builds the decoder for `n` literal/length code lengths; 0 when the code is not complete
 * (the caller then leaves the stream to libdeflate, which knows every corner of the format).
 * `small`: the block has little to decode, so the table is only as wide as the longest code.
 *
 * The multi-literal entries come from a dynamic programme over the number of index bits a:
 * chain_a[j] holds the literals that decode greedily and whole from the a-bit index j, and
 * chain_a[j] = literal(j) followed by chain_{a−len}[j >> len]; each literal's code fills its
 * indices of level a from level a − len in one pass, so each entry costs O(1) without branches. */
static int build_literal_decoder(const uint8_t *lengths, int n, int small, literal_decoder *d) {
    uint16_t counts[16] = {0};
    for (int s = 0; s < n; s++) counts[lengths[s]]++;
    counts[0] = 0;
    int left = 1, longest = 0;
    for (int l = 1; l < 16; l++) {
        left <<= 1; left -= counts[l];
        if (left < 0) return 0;
        if (counts[l]) longest = l;
    }
    if (left != 0) return 0;
    uint16_t offsets[16];
    offsets[1] = 0;
    for (int l = 1; l < 15; l++) offsets[l + 1] = offsets[l] + counts[l];
    for (int s = 0; s < n; s++) if (lengths[s]) d->symbols[offsets[lengths[s]]++] = (uint16_t)s;
    memcpy(d->counts, counts, sizeof counts);
    unsigned bits = TABLE_BITS;
    if (small && longest < TABLE_BITS) bits = longest < 8 ? 8 : (unsigned)longest;
    d->bits = bits;
    // The codes of at most `bits` bits, bit-reversed (deflate packs them from the top bit).
    uint16_t code_symbol[288], code_reversed[288];
    uint8_t code_length[288];
    int codes = 0;
    uint32_t next[16], code = 0;
    for (int l = 1; l < 16; l++) { code = (code + counts[l - 1]) << 1; next[l] = code; }
    for (int s = 0; s < n; s++) {
        int l = lengths[s];
        if (!l) continue;
        uint32_t reversed = reverse_bits(next[l]++, l);
        if ((unsigned)l > bits) continue;
        code_symbol[codes] = (uint16_t)s; code_reversed[codes] = (uint16_t)reversed; code_length[codes] = (uint8_t)l;
        codes++;
    }
    // chain_a lives at chain[2^a ... 2^(a+1)) for a < bits; chain_bits is the table itself.
    // An index whose code is longer than a (or not a literal, below the top) is 0: no
    // literals, which at the top reads as KIND_SLOW.
    uint64_t chain[TABLE_SIZE];
    for (unsigned a = 1; a <= bits; a++) {
        uint64_t *level = a == bits ? d->table : chain + (1u << a);
        memset(level, 0, sizeof(uint64_t) << a);
        for (int c = 0; c < codes; c++) {
            unsigned l = code_length[c], symbol = code_symbol[c];
            if (l > a) continue;
            uint32_t r = code_reversed[c], step = 1u << l, tails = 1u << (a - l);
            if (symbol >= 256) {
                if (a < bits) continue;
                uint64_t e = symbol == 256 ? (((uint64_t)KIND_END << 8) | l) : (uint64_t)KIND_LENGTH << 8;
                for (uint32_t t = 0; t < tails; t++) level[r + t * step] = e;
                continue;
            }
            if (l == a) {
                level[r] = (uint64_t)l | ((uint64_t)symbol << 8) | (1ull << 56);
                continue;
            }
            const uint64_t *tail = chain + tails;
            uint64_t head = (uint64_t)l | ((uint64_t)symbol << 8);
            for (uint32_t t = 0; t < tails; t++) {
                // This literal, then the tail's (its first MAX_LITERALS − 1 when it is full).
                uint64_t e = tail[t], k = e >> 56;
                uint64_t full = k == MAX_LITERALS;
                uint64_t used = (e & 255) - (full ? lengths[(e >> 48) & 255] : 0);
                level[r + t * step] = head + used + ((e << 8) & 0x00FFFFFFFFFF0000ull) + ((k - full + 1) << 56);
            }
        }
    }
    return 1;
}

/* The next symbol, bit by bit through the canonical code (codes longer than TABLE_BITS). */
static int slow_symbol(bit_reader *r, const literal_decoder *d) {
    if (r->count < 15) refill(r);
    int code = 0, first = 0, index = 0;
    for (int l = 1; l < 16; l++) {
        code |= (int)(r->buffer & 1);
        r->buffer >>= 1;
        r->count--;
        int count = d->counts[l];
        if (code - count < first) return d->symbols[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

/* Reads a dynamic block's code lengths (after BFINAL and BTYPE): `hlit` literal/length
 * lengths then the distance lengths into `lengths`. 0 when the header is one this decoder
 * leaves to libdeflate. */
static int read_code_lengths(bit_reader *r, uint8_t lengths[288 + 32], unsigned *hlit_out, unsigned *hdist_out) {
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    unsigned hlit = get_bits(r, 5) + 257, hdist = get_bits(r, 5) + 1, hclen = get_bits(r, 4) + 4;
    uint8_t precode_lengths[19] = {0};
    for (unsigned i = 0; i < hclen; i++) precode_lengths[order[i]] = (uint8_t)get_bits(r, 3);
    // The precode: a complete code of at most 7 bits, looked up 7 bits at a time.
    uint16_t counts[8] = {0};
    for (int s = 0; s < 19; s++) counts[precode_lengths[s]]++;
    counts[0] = 0;
    int left = 1;
    for (int l = 1; l < 8; l++) { left <<= 1; left -= counts[l]; if (left < 0) return 0; }
    if (left != 0) return 0;
    uint16_t precode[128];
    uint32_t next[8], code = 0;
    for (int l = 1; l < 8; l++) { code = (code + counts[l - 1]) << 1; next[l] = code; }
    for (int s = 0; s < 19; s++) {
        int l = precode_lengths[s];
        if (!l) continue;
        uint32_t reversed = reverse_bits(next[l]++, l);
        for (uint32_t j = reversed; j < 128; j += 1u << l) precode[j] = (uint16_t)(s | (l << 8));
    }
    unsigned total = hlit + hdist, i = 0;
    while (i < total) {
        if (r->count < 7) refill(r);
        uint16_t e = precode[r->buffer & 127];
        unsigned l = e >> 8, s = e & 255;
        r->buffer >>= l;
        r->count -= l;
        if (s < 16) { lengths[i++] = (uint8_t)s; continue; }
        unsigned repeat;
        uint8_t value = 0;
        if (s == 16) {
            if (i == 0) return 0;
            value = lengths[i - 1];
            repeat = 3 + get_bits(r, 2);
        } else if (s == 17) {
            repeat = 3 + get_bits(r, 3);
        } else {
            repeat = 11 + get_bits(r, 7);
        }
        if (repeat > total - i) return 0;
        memset(lengths + i, value, repeat);
        i += repeat;
    }
    if (lengths[256] == 0) return 0;
    // The distance code is never used, but must be one libdeflate accepts: complete, empty,
    // or a single code of one bit.
    uint16_t dcounts[16] = {0};
    for (unsigned s = hlit; s < total; s++) dcounts[lengths[s]]++;
    dcounts[0] = 0;
    left = 1;
    int used = 0;
    for (int l = 1; l < 16; l++) { left <<= 1; left -= dcounts[l]; used += dcounts[l]; if (left < 0) return 0; }
    if (left != 0 && !(used == 0 || (used == 1 && dcounts[1] == 1))) return 0;
    *hlit_out = hlit;
    *hdist_out = hdist;
    return 1;
}

static int build_fixed_decoder(int small, literal_decoder *d) {
    uint8_t lengths[288];
    memset(lengths, 8, 144);
    memset(lengths + 144, 9, 112);
    memset(lengths + 256, 7, 24);
    memset(lengths + 280, 8, 8);
    return build_literal_decoder(lengths, 288, small, d);
}

/* One deflate stream being decoded. */
typedef struct {
    bit_reader r;
    const uint8_t *start;
    size_t input_count;
    uint8_t *out, *out_end;
    int final;                // the current block is the last
} inflate_stream;

static void stream_open(inflate_stream *s, const uint8_t *input, size_t input_count, uint8_t *output, size_t output_count) {
    s->r.in = input; s->r.end = input + input_count; s->r.buffer = 0; s->r.count = 0; s->r.overread = 0;
    s->start = input; s->input_count = input_count;
    s->out = output; s->out_end = output + output_count;
    s->final = 0;
}

/* Reads the next block's header and builds its table into `d`; 0 when the block is not
 * one of Huffman-coded literals this decoder takes. */
static int start_block(inflate_stream *s, literal_decoder *d) {
    s->final = (int)get_bits(&s->r, 1);
    unsigned type = get_bits(&s->r, 2);
    // A short remainder is not worth a full table.
    int small = s->out_end - s->out < 16 * TABLE_SIZE;
    if (type == 1) return build_fixed_decoder(small, d);
    if (type != 2) return 0;
    uint8_t lengths[288 + 32];
    unsigned hlit, hdist;
    if (!read_code_lengths(&s->r, lengths, &hlit, &hdist)) return 0;
    return build_literal_decoder(lengths, (int)hlit, small, d);
}

/* Decodes the current block up to and including its end-of-block code; 0 on success. */
static int continue_block(inflate_stream *s, const literal_decoder *d) {
    const uint64_t *table = d->table;
    const uint64_t mask = ((uint64_t)1 << d->bits) - 1;
    bit_reader r = s->r;
    uint8_t *out = s->out, *const out_end = s->out_end;
    int status = 1;
    for (;;) {
        uint64_t e;
        if (r.end - r.in >= 8 && out_end - out >= 32) {
            // Fast path: 56+ bits buffered cover four lookups of at most TABLE_BITS bits.
            uint64_t buffer = r.buffer | (load_le64(r.in) << r.count);
            r.in += (63 - r.count) >> 3;
            unsigned count = r.count | 56;
#define STEP                                                        \
            e = table[buffer & mask];                               \
            if (!(e >> 56)) goto special;                           \
            store_le64(out, e >> 8);                                \
            out += e >> 56;                                         \
            buffer >>= e & 255;                                     \
            count -= (unsigned)(e & 255);
            STEP STEP STEP STEP
#undef STEP
            r.buffer = buffer; r.count = count;
            continue;
        special:
            r.buffer = buffer; r.count = count;
        } else {
            if (r.count < TABLE_BITS) refill(&r);
            e = table[r.buffer & mask];
            unsigned k = (unsigned)(e >> 56);
            if (k) {
                if ((size_t)(out_end - out) < k) goto done;
                for (unsigned j = 0; j < k; j++) out[j] = (uint8_t)(e >> (8 + 8 * j));
                out += k;
                r.buffer >>= e & 255;
                r.count -= (unsigned)(e & 255);
                continue;
            }
        }
        unsigned kind = (unsigned)(e >> 8) & 255;
        if (kind == KIND_END) {
            r.buffer >>= e & 255;
            r.count -= (unsigned)(e & 255);
            status = 0;
            goto done;
        }
        if (kind == KIND_LENGTH) goto done;
        int symbol = slow_symbol(&r, d);
        if (symbol < 0 || symbol > 256) goto done;
        if (symbol == 256) { status = 0; goto done; }
        if (out == out_end) goto done;
        *out++ = (uint8_t)symbol;
    }
done:
    s->r = r;
    s->out = out;
    return status;
}

/* Decodes the blocks after the current one, then checks that the stream filled its
 * output exactly and used exactly all its input; 0 on success. */
static int finish_stream(inflate_stream *s, literal_decoder *d) {
    while (!s->final) {
        if (!start_block(s, d) || continue_block(s, d)) return 1;
    }
    if (s->out != s->out_end) return 1;
    // Every input byte used, and none of the zeros fed past the end.
    size_t unused = s->r.count >> 3;
    if (s->r.overread > unused) return 1;
    size_t loaded = (size_t)(s->r.in - s->start) + s->r.overread;
    return loaded - unused != s->input_count;
}

int retort_huffman_inflate(const uint8_t *input, size_t input_count, uint8_t *output, size_t output_count) {
    literal_decoder d;
    inflate_stream s;
    stream_open(&s, input, input_count, output, output_count);
    if (!start_block(&s, &d) || continue_block(&s, &d)) return 1;
    return finish_stream(&s, &d);
}

/* Four streams whose first blocks share one code, decoded in an interleaved loop so that
 * their four dependency chains (bit buffer → table lookup → shift) overlap. */
static int inflate_four(const uint8_t *const input[4], const size_t input_count[4], uint8_t *const output[4],
                        const size_t output_count[4]) {
    literal_decoder d;
    inflate_stream s[4];
    uint8_t lengths[4][288 + 32];
    unsigned hlit[4], hdist[4];
    int shared = 1;
    for (int q = 0; q < 4 && shared; q++) {
        stream_open(&s[q], input[q], input_count[q], output[q], output_count[q]);
        s[q].final = (int)get_bits(&s[q].r, 1);
        shared = get_bits(&s[q].r, 2) == 2 && read_code_lengths(&s[q].r, lengths[q], &hlit[q], &hdist[q])
                 && (q == 0 || (hlit[q] == hlit[0] && hdist[q] == hdist[0]
                                && !memcmp(lengths[q], lengths[0], hlit[0] + hdist[0])));
    }
    if (!shared || !build_literal_decoder(lengths[0], (int)hlit[0], 0, &d)) {
        for (int q = 0; q < 4; q++)
            if (retort_huffman_inflate(input[q], input_count[q], output[q], output_count[q])) return 1;
        return 0;
    }
    const uint64_t *table = d.table;
    uint64_t b0 = s[0].r.buffer, b1 = s[1].r.buffer, b2 = s[2].r.buffer, b3 = s[3].r.buffer;
    unsigned c0 = s[0].r.count, c1 = s[1].r.count, c2 = s[2].r.count, c3 = s[3].r.count;
    const uint8_t *i0 = s[0].r.in, *i1 = s[1].r.in, *i2 = s[2].r.in, *i3 = s[3].r.in;
    uint8_t *o0 = s[0].out, *o1 = s[1].out, *o2 = s[2].out, *o3 = s[3].out;
    for (;;) {
        if (s[0].r.end - i0 < 8 || s[1].r.end - i1 < 8 || s[2].r.end - i2 < 8 || s[3].r.end - i3 < 8
            || s[0].out_end - o0 < 32 || s[1].out_end - o1 < 32 || s[2].out_end - o2 < 32 || s[3].out_end - o3 < 32)
            break;
#define REFILL(q)                                                   \
        b##q |= load_le64(i##q) << c##q;                            \
        i##q += (63 - c##q) >> 3;                                   \
        c##q |= 56;
#define STEP(q)                                                     \
        {                                                           \
            uint64_t e = table[b##q & (TABLE_SIZE - 1)];            \
            if (!(e >> 56)) goto special;                           \
            store_le64(o##q, e >> 8);                               \
            o##q += e >> 56;                                        \
            b##q >>= e & 255;                                       \
            c##q -= (unsigned)(e & 255);                            \
        }
#define ROUND STEP(0) STEP(1) STEP(2) STEP(3)
        REFILL(0) REFILL(1) REFILL(2) REFILL(3)
        ROUND ROUND ROUND ROUND
#undef ROUND
#undef STEP
#undef REFILL
    }
special:
    s[0].r.buffer = b0; s[1].r.buffer = b1; s[2].r.buffer = b2; s[3].r.buffer = b3;
    s[0].r.count = c0; s[1].r.count = c1; s[2].r.count = c2; s[3].r.count = c3;
    s[0].r.in = i0; s[1].r.in = i1; s[2].r.in = i2; s[3].r.in = i3;
    s[0].out = o0; s[1].out = o1; s[2].out = o2; s[3].out = o3;
    // Each stream's first block to its end with the shared table, then the rest one by one.
    for (int q = 0; q < 4; q++)
        if (continue_block(&s[q], &d)) return 1;
    for (int q = 0; q < 4; q++)
        if (finish_stream(&s[q], &d)) return 1;
    return 0;
}

int retort_huffman_inflate_split(const uint8_t *input, size_t input_count, uint8_t *output, size_t output_count) {
    if (input_count < 1) return 1;
    unsigned parts = input[0];
    if (parts < 2 || parts > RETORT_SPLIT_MAX_PARTS) return 1;
    size_t position = 1 + 4 * (size_t)(parts - 1);
    if (input_count < position) return 1;
    const uint8_t *in[RETORT_SPLIT_MAX_PARTS];
    size_t in_count[RETORT_SPLIT_MAX_PARTS], out_count[RETORT_SPLIT_MAX_PARTS];
    uint8_t *out[RETORT_SPLIT_MAX_PARTS];
    for (unsigned k = 0; k < parts; k++) {
        size_t length;
        if (k + 1 < parts) {
            uint32_t v;
            memcpy(&v, input + 1 + 4 * k, 4);
            length = v;
            if (length > input_count - position) return 1;
        } else {
            length = input_count - position;
        }
        in[k] = input + position;
        in_count[k] = length;
        position += length;
        size_t begin = k * output_count / parts, end = (k + 1) * output_count / parts;
        out[k] = output + begin;
        out_count[k] = end - begin;
    }
    if (parts == 4) return inflate_four(in, in_count, out, out_count);
    for (unsigned k = 0; k < parts; k++)
        if (retort_huffman_inflate(in[k], in_count[k], out[k], out_count[k])) return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * CRC-32 (ISO-HDLC: reflected, polynomial 0x04C11DB7, as zlib and zip) by carry-less
 * multiplication on 512-bit vectors (VPCLMULQDQ), folding four vectors 256 bytes at a time.
 * A fold by D bits multiplies a 128-bit lane's low half by x^(D+32) mod P and its high half
 * by x^(D−32) mod P (bit-reflected, shifted left by one). The folded 128-bit remainder is
 * congruent to the message, so its CRC (from a zero register) is the message's.
 * ---------------------------------------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        crc_table[i] = c;
    }
}

/* The register update, byte by byte (no pre- or post-inversion). */
static uint32_t crc_update_bytes(uint32_t reg, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) reg = (reg >> 8) ^ crc_table[(reg ^ p[i]) & 255];
    return reg;
}

#if defined(__x86_64__)
static int detect_vpclmul(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!((c >> 27) & 1) || !((c >> 1) & 1)) return 0;  // OSXSAVE, PCLMULQDQ
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6) != 0xe6) return 0;  // SSE, AVX, opmask, ZMM state enabled by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return ((b >> 16) & 1) && ((c >> 10) & 1);  // AVX512F, VPCLMULQDQ
}

#define CRC_TARGET __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1")))

CRC_TARGET static inline __m512i fold512(__m512i x, __m512i k) {
    return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}

CRC_TARGET static inline __m128i fold128(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* At least 256 bytes. */
CRC_TARGET static uint32_t crc32_vpclmul(uint32_t crc, const uint8_t *p, size_t n) {
    const __m512i k2048 = _mm512_set_epi64(0x1322d1430, 0x11542778a, 0x1322d1430, 0x11542778a, 0x1322d1430,
                                           0x11542778a, 0x1322d1430, 0x11542778a);
    const __m512i k512 = _mm512_set_epi64(0x1c6e41596, 0x154442bd4, 0x1c6e41596, 0x154442bd4, 0x1c6e41596,
                                          0x154442bd4, 0x1c6e41596, 0x154442bd4);
    const __m128i k128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
    __m512i x0 = _mm512_loadu_si512(p), x1 = _mm512_loadu_si512(p + 64), x2 = _mm512_loadu_si512(p + 128),
            x3 = _mm512_loadu_si512(p + 192);
    x0 = _mm512_xor_si512(x0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    p += 256;
    n -= 256;
    for (; n >= 256; p += 256, n -= 256) {
        x0 = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x0, k2048, 0x00), _mm512_clmulepi64_epi128(x0, k2048, 0x11),
                                       _mm512_loadu_si512(p), 0x96);
        x1 = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x1, k2048, 0x00), _mm512_clmulepi64_epi128(x1, k2048, 0x11),
                                       _mm512_loadu_si512(p + 64), 0x96);
        x2 = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x2, k2048, 0x00), _mm512_clmulepi64_epi128(x2, k2048, 0x11),
                                       _mm512_loadu_si512(p + 128), 0x96);
        x3 = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x3, k2048, 0x00), _mm512_clmulepi64_epi128(x3, k2048, 0x11),
                                       _mm512_loadu_si512(p + 192), 0x96);
    }
    __m512i x = _mm512_xor_si512(fold512(x0, k512), x1);
    x = _mm512_xor_si512(fold512(x, k512), x2);
    x = _mm512_xor_si512(fold512(x, k512), x3);
    for (; n >= 64; p += 64, n -= 64) x = _mm512_xor_si512(fold512(x, k512), _mm512_loadu_si512(p));
    __m128i r = _mm512_castsi512_si128(x);
    r = _mm_xor_si128(fold128(r, k128), _mm512_extracti32x4_epi32(x, 1));
    r = _mm_xor_si128(fold128(r, k128), _mm512_extracti32x4_epi32(x, 2));
    r = _mm_xor_si128(fold128(r, k128), _mm512_extracti32x4_epi32(x, 3));
    for (; n >= 16; p += 16, n -= 16) r = _mm_xor_si128(fold128(r, k128), _mm_loadu_si128((const void *)p));
    uint8_t remainder[16];
    _mm_storeu_si128((void *)remainder, r);
    uint32_t reg = crc_update_bytes(0, remainder, 16);
    return ~crc_update_bytes(reg, p, n);
}
#endif

static int crc_fast;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    crc_table_init();
#if defined(__x86_64__)
    crc_fast = detect_vpclmul();
#else
    crc_fast = 0;
#endif
}

int retort_crc32_fast_available(void) {
    pthread_once(&crc_once, crc_init);
    return crc_fast;
}

uint32_t retort_crc32(uint32_t crc, const uint8_t *bytes, size_t count) {
    int fast = retort_crc32_fast_available();
#if defined(__x86_64__)
    if (fast && count >= 256) return crc32_vpclmul(crc, bytes, count);
#endif
    (void)fast;
    return ~crc_update_bytes(~crc, bytes, count);
}
