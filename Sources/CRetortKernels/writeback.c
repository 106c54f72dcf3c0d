// Starting writeback of a file range early (Linux sync_file_range), for large outputs whose
// final fsync would otherwise write everything at once.
#define _GNU_SOURCE
#include <fcntl.h>
#include "retort_kernels.h"

void retort_start_writeback(int fd, long long offset, long long length) {
#ifdef __linux__
    (void)sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
#endif
}
