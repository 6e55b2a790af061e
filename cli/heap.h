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
#include <cstdint>

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

/// The region between a heap's start and its first huge page boundary cannot
/// be a huge page (its first page is touched before any advice), so what is
/// allocated there is faulted in page by page. The two calls above allocate
/// once, and never touch, a spacer block that moves the next allocations
/// past that boundary (address space only): page faults per run on the
/// bench log went from 854 to 243 with one thread, 1,052 to 256 with two.
/// This is its size, for a heap whose next chunk's memory would start at
/// `next`: the chunk after it then starts at the first boundary at least
/// 16 KB away.
std::size_t huge_page_spacer(std::uintptr_t next);

}  // namespace pgsift::cli
