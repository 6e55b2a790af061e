// cli/heap.h: the heap (and a reading thread's arena) must end up advised for
// transparent huge pages, as the kernel itself reports it in /proc/self/smaps.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "cli/heap.h"

namespace {

// The VmFlags of the mapping that holds `address`, from /proc/self/smaps.
std::string vm_flags_at(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    const std::size_t dash = line.find('-');
    const std::size_t space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find(':') > space) {
      const std::uintptr_t start = std::stoull(line.substr(0, dash), nullptr, 16);
      const std::uintptr_t end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      inside = start <= at && at < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line + " ";
    }
  }
  return "";
}

bool advised_huge(const void* address) { return vm_flags_at(address).find(" hg ") != std::string::npos; }

}  // namespace

TEST_CASE("tune_heap advises the heap and a reading thread's arena for huge pages", "[heap]") {
  const std::size_t advised = pgsift::cli::tune_heap();
  if (advised == 0) {
    WARN("heap not tuned here (not glibc's malloc, a sanitizer, or no transparent huge pages)");
    return;
  }
  CHECK(advised >= (std::size_t{32} << 20));
  // What the run allocates next comes from the advised heap (but for the
  // heap's first, partial huge page: the middle of a 4 MB block is past it).
  char* volatile block = static_cast<char*>(std::malloc(std::size_t{4} << 20));
  CHECK(advised_huge(block + (std::size_t{2} << 20)));
  std::free(block);

  std::size_t thread_advised = 0;
  bool thread_block_advised = false;
  bool before = true;
  std::thread reader([&] {
    char* volatile first = static_cast<char*>(std::malloc(std::size_t{4} << 20));
    before = advised_huge(first + (std::size_t{2} << 20));
    thread_advised = pgsift::cli::tune_thread_heap();
    char* volatile later = static_cast<char*>(std::malloc(std::size_t{4} << 20));
    thread_block_advised = advised_huge(later + (std::size_t{2} << 20));
    std::free(first);
    std::free(later);
  });
  reader.join();
  CHECK_FALSE(before);  // a thread's arena is not advised by tune_heap()
  CHECK(thread_advised > 0);
  CHECK(thread_block_advised);
}

TEST_CASE("huge_page_spacer moves the next chunk of a heap to the huge page boundary", "[heap]") {
  using pgsift::cli::huge_page_spacer;
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const std::uintptr_t boundary = std::uintptr_t{0x7f0000000000} + 5 * kHuge;
  for (const std::uintptr_t gap : {kHuge - 16, kHuge / 2, std::uintptr_t{16} << 10, std::uintptr_t{40000}, std::uintptr_t{16400}}) {
    const std::uintptr_t next = boundary - gap;
    const std::size_t request = huge_page_spacer(next);
    // glibc: the chunk starts 16 bytes before `next` and spans the request
    // plus 8, rounded up to 16; the next chunk's memory is 16 bytes in.
    const std::uintptr_t chunk_end = next - 16 + ((request + 8 + 15) & ~std::uintptr_t{15});
    CHECK(chunk_end < boundary);                 // its header below the boundary (one page)
    CHECK(chunk_end + 16 + 64 > boundary);       // and its memory from just below it on
  }
  // Closer than 16 KB (or on it): to the boundary after.
  for (const std::uintptr_t next : {boundary, boundary - 4096}) {
    const std::size_t request = huge_page_spacer(next);
    const std::uintptr_t chunk_end = next - 16 + ((request + 8 + 15) & ~std::uintptr_t{15});
    CHECK(chunk_end < boundary + kHuge);
    CHECK(chunk_end + 16 + 64 > boundary + kHuge);
  }
}
