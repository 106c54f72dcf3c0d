#ifndef RETORT_CZLIB_SHIM_H
#define RETORT_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 and deflateInit2 are macros that Swift cannot import; these wrappers
// pass the version and struct size the macros would.
static inline int retort_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
static inline int retort_deflateInit2(z_streamp strm, int level, int method, int windowBits,
                                      int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}
#endif
