// Heap settings for a process that streams a large log through a working set
// of a few tens of megabytes. The working set is allocated, freed and
// allocated again millions of times; with glibc's defaults every page of it
// is first touched through a page fault (thousands per run, each costly on a
// virtual machine), memory freed at the top of the heap is given back and
// faulted in again, and the small pages cost TLB misses. Backing the heap
// with transparent huge pages and keeping freed memory made one-thread runs
// of the benchmark logs 15-20% faster (README, Performance).
#pragma once

#include <cstddef>

namespace pgsift::cli {

/// Call once at program start, before other threads exist: glibc malloc then
/// keeps freed memory, takes allocations of up to 32 MB from the heap, grows
/// the heap in 64 MB steps (address space, not memory) and asks the kernel
/// for transparent huge pages there (when it allows them on request,
/// /sys/kernel/mm/transparent_hugepage/enabled `madvise` or `always`).
/// Returns the bytes advised (0: not glibc, or under a sanitizer's malloc).
std::size_t tune_heap();

/// For a thread that allocates much of its own (glibc gives it its own
/// arena): asks for huge pages in that arena too. Returns the bytes advised.
std::size_t tune_thread_heap();

}  // namespace pgsift::cli
