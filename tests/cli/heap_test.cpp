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
