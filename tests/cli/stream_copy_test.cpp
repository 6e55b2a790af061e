// stream_copy must equal memcpy for every length and alignment: the SIMD
// body covers whole 64-byte blocks after an aligned head, and ordinary
// copies take the head and the tail.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "cli/analysis/stream_copy.h"

using pgsift::cli::analysis::stream_copy;
using pgsift::cli::analysis::stream_fence;

TEST_CASE("stream_copy copies every byte and nothing else, at any alignment", "[cli][jobs]") {
  std::vector<unsigned char> source(400);
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<unsigned char>(i * 7 + 3);
  std::vector<unsigned char> target(400 + 64);
  for (std::size_t to = 0; to < 32; ++to) {
    for (std::size_t from = 0; from < 17; from += 4) {
      for (std::size_t n = 0; n <= 300; ++n) {
        std::memset(target.data(), 0xEE, target.size());
        stream_copy(target.data() + to, source.data() + from, n);
        stream_fence();
        bool same = std::memcmp(target.data() + to, source.data() + from, n) == 0;
        for (std::size_t i = 0; i < to; ++i) same = same && target[i] == 0xEE;
        for (std::size_t i = to + n; i < target.size(); ++i) same = same && target[i] == 0xEE;
        INFO("to +" << to << ", from +" << from << ", " << n << " bytes");
        REQUIRE(same);
      }
    }
  }
}
