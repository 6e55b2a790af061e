#include "cli/heap.h"

#include <cstdint>
#include <cstdlib>

#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#define PGSIFT_TUNE_HEAP 1
#endif

namespace pgsift::cli {

#ifdef PGSIFT_TUNE_HEAP
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kTopPad = std::size_t{64} << 20;
// glibc maps each heap of a thread's arena as one region of this size,
// aligned to it (HEAP_MAX_SIZE: twice the largest mmap threshold on 64-bit).
constexpr std::size_t kArenaHeap = std::size_t{64} << 20;

// Where the main heap (sbrk) starts, once tune_heap() ran: a thread's
// allocation outside it is in that thread's arena.
std::uintptr_t g_heap_start = 0;

std::size_t advise_huge(std::uintptr_t from, std::uintptr_t to) {
  from = (from + kHugePage - 1) & ~(kHugePage - 1);
  to &= ~(kHugePage - 1);
  if (to <= from) return 0;
  return madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE) == 0 ? to - from : 0;
}

}  // namespace

std::size_t tune_heap() {
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(4 * kTopPad));
  mallopt(M_TOP_PAD, static_cast<int>(kTopPad));
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
  // One allocation larger than what is left at the top makes the heap grow
  // by the pad now, so the advice covers the memory the run will use.
  void* volatile block = std::malloc(std::size_t{1} << 20);
  std::free(block);
  const auto end = reinterpret_cast<std::uintptr_t>(sbrk(0));
  if (end <= before) return 0;  // malloc is not glibc's (sanitizers)
  // The whole main heap, from its first byte (mallinfo2().arena is its size).
  const std::uintptr_t start = end - mallinfo2().arena;
  g_heap_start = start;
  return advise_huge(start, end);
}

std::size_t tune_thread_heap() {
  void* volatile probe = std::malloc(64);
  const auto at = reinterpret_cast<std::uintptr_t>(probe);
  std::free(probe);
  const auto heap_end = reinterpret_cast<std::uintptr_t>(sbrk(0));
  if (g_heap_start == 0 || (at >= g_heap_start && at < heap_end)) return 0;
  const std::uintptr_t heap = at & ~(kArenaHeap - 1);
  return advise_huge(heap, heap + kArenaHeap);
}

#else

std::size_t tune_heap() { return 0; }
std::size_t tune_thread_heap() { return 0; }

#endif

}  // namespace pgsift::cli
