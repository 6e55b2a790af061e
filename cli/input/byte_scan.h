// Finding delimiter bytes in log text, many bytes per step: 16 with SSE2
// (every x86-64 CPU), else 8 with plain 64-bit arithmetic. Used by the csvlog
// and jsonlog readers, whose fields are mostly short (so memchr's set-up cost
// per call would dominate) but whose messages can be long.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pgsift::cli::input {

/// Index of the first byte equal to A or B in text[from, size), or size.
template <char A, char B>
inline std::size_t find_either(std::string_view text, std::size_t from) {
  const char* p = text.data();
  const std::size_t n = text.size();
  std::size_t i = from;
#if defined(__SSE2__)
  const __m128i a = _mm_set1_epi8(A), b = _mm_set1_epi8(B);
  for (; i + 16 <= n; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    unsigned hit = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, a), _mm_cmpeq_epi8(x, b))));
    if (hit != 0) return i + static_cast<std::size_t>(std::countr_zero(hit));
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
    constexpr std::uint64_t kA = kOnes * static_cast<unsigned char>(A);
    constexpr std::uint64_t kB = kOnes * static_cast<unsigned char>(B);
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      std::uint64_t x = w ^ kA, y = w ^ kB;
      // A zero byte of x or y marks a match; the lowest flagged byte is exact.
      std::uint64_t hit = (((x - kOnes) & ~x) | ((y - kOnes) & ~y)) & kHighs;
      if (hit != 0) return i + static_cast<std::size_t>(std::countr_zero(hit) >> 3);
    }
  }
  while (i < n && p[i] != A && p[i] != B) ++i;
  return i;
}

}  // namespace pgsift::cli::input
