// libarchive functions pgsift calls (decompressing .gz/.bz2/.xz/.zst logs),
// loaded on first use: see on_demand.h.
#include <archive.h>
#include <archive_entry.h>

#include "cli/ondemand/on_demand.h"

#define PGSIFT_ARCHIVE(ret, name, params, args) \
  PGSIFT_ON_DEMAND("libarchive.so.13", "libarchive13", ret, name, params, args)

PGSIFT_ARCHIVE(struct archive*, archive_read_new, (void), ())
PGSIFT_ARCHIVE(int, archive_read_support_filter_all, (struct archive* a), (a))
PGSIFT_ARCHIVE(int, archive_read_support_format_raw, (struct archive* a), (a))
PGSIFT_ARCHIVE(int, archive_read_open_memory, (struct archive* a, const void* buff, size_t size),
               (a, buff, size))
PGSIFT_ARCHIVE(int, archive_read_open_fd, (struct archive* a, int fd, size_t block_size),
               (a, fd, block_size))
PGSIFT_ARCHIVE(int, archive_read_next_header, (struct archive* a, struct archive_entry** entry),
               (a, entry))
PGSIFT_ARCHIVE(la_ssize_t, archive_read_data, (struct archive* a, void* buff, size_t size),
               (a, buff, size))
PGSIFT_ARCHIVE(int, archive_read_free, (struct archive* a), (a))
PGSIFT_ARCHIVE(const char*, archive_filter_name, (struct archive* a, int n), (a, n))
PGSIFT_ARCHIVE(const char*, archive_error_string, (struct archive* a), (a))

#undef PGSIFT_ARCHIVE
