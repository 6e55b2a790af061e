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
namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}  // namespace

#ifdef PGSIFT_TUNE_HEAP
namespace {

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

// The spacers of the main heap and of the first thread heap tuned
// (huge_page_spacer), kept reachable for leak checkers.
void* g_spacers[2] = {nullptr, nullptr};

}  // namespace

std::size_t tune_heap() {
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(4 * kTopPad));
  mallopt(M_TOP_PAD, static_cast<int>(kTopPad));
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
  // Where the next chunk from the top starts: a block too large for glibc's
  // thread cache and fast bins is carved from the top and merges back into
  // it when freed.
  void* volatile probe = std::malloc(std::size_t{4} << 10);
  const auto next = reinterpret_cast<std::uintptr_t>(probe);
  std::free(probe);
  // The spacer is also the allocation that makes the heap grow by the pad
  // now, so that the advice covers the memory the run will use: it must be
  // larger than the top (mallinfo2().keepcost). Nothing at or past the
  // boundary where it ends is touched before the advice.
  std::size_t request = huge_page_spacer(next);
  const std::size_t top = mallinfo2().keepcost;
  while (request <= top) request += kHugePage;
  g_spacers[0] = std::malloc(request);
  const auto end = reinterpret_cast<std::uintptr_t>(sbrk(0));
  if (end <= before) {  // malloc is not glibc's (sanitizers)
    std::free(g_spacers[0]);
    g_spacers[0] = nullptr;
    return 0;
  }
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
  // The probe's chunk stays cached for this thread: the top starts after it.
  if (g_spacers[1] == nullptr) g_spacers[1] = std::malloc(huge_page_spacer(at + 64 + 16));
  return advise_huge(heap, heap + kArenaHeap);
}

#else

std::size_t tune_heap() { return 0; }
std::size_t tune_thread_heap() { return 0; }

#endif

std::size_t huge_page_spacer(std::uintptr_t next) {
  constexpr std::uintptr_t kMinSpacer = std::uintptr_t{16} << 10;  // closer: the boundary after
  const std::uintptr_t boundary = (next + kMinSpacer + kHugePage - 1) & ~std::uintptr_t{kHugePage - 1};
  // glibc's chunk for a request of n bytes spans n + 8 rounded up to 16,
  // from 16 bytes before the memory it returns: the next chunk's header then
  // sits just below the boundary and its memory starts just after it.
  return boundary - next - 64;
}

}  // namespace pgsift::cli
