// Finding delimiter bytes in log text, many bytes per step: 16 with SSE2
// (every x86-64 CPU), else 8 with plain 64-bit arithmetic. Used by the csvlog
// and jsonlog readers, whose fields are mostly short (so memchr's set-up cost
// per call would dominate) but whose messages can be long: find_either() for
// one delimiter at a time, and 64-byte bitmasks of two delimiters (with the
// quote parity of prefix_xor) for the readers that take a whole line at once.
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

/// Bitmasks of two delimiter bytes over 64 bytes: bit i of `a` is set when
/// byte i equals A, of `b` when it equals B. Readers walk the set bits
/// (countr_zero, clear lowest) instead of looking at every byte.
struct ByteMasks {
  std::uint64_t a = 0, b = 0;
  std::uint64_t valid = ~std::uint64_t{0};  // the bytes that are text (all but in a tail)
};

/// The portable form, 8 bytes per step with 64-bit arithmetic: exact (no
/// false hits from borrows, unlike find_either's first-hit test).
template <char A, char B>
inline ByteMasks byte_masks64_swar(const char* p) {
  ByteMasks m;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kLows = 0x7f7f7f7f7f7f7f7full;
    constexpr std::uint64_t kA = kOnes * static_cast<unsigned char>(A);
    constexpr std::uint64_t kB = kOnes * static_cast<unsigned char>(B);
    // Gathers bit 8k (k = 0..7) to bit 56 + k; the partial products never
    // overlap, so nothing carries.
    constexpr std::uint64_t kGather = 0x0102040810204080ull;
    auto zero_bytes = [](std::uint64_t x) {  // high bit of each zero byte
      return ~(((x & kLows) + kLows) | x | kLows);
    };
    for (int k = 0; k < 8; ++k) {
      std::uint64_t w;
      std::memcpy(&w, p + 8 * k, 8);
      m.a |= (((zero_bytes(w ^ kA) >> 7) * kGather) >> 56) << (8 * k);
      m.b |= (((zero_bytes(w ^ kB) >> 7) * kGather) >> 56) << (8 * k);
    }
  } else {
    for (int i = 0; i < 64; ++i) {
      m.a |= static_cast<std::uint64_t>(p[i] == A) << i;
      m.b |= static_cast<std::uint64_t>(p[i] == B) << i;
    }
  }
  return m;
}

#if defined(__SSE2__)
namespace byte_scan_detail {
// 64 bytes as four SSE2 registers. Written out: GCC keeps a four-step loop
// as a loop.
struct Block64 {
  __m128i x0, x1, x2, x3;
};
[[gnu::always_inline]] inline Block64 load64(const char* p) {
  return {_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48))};
}
// Bit i set when byte i of the block equals c.
[[gnu::always_inline]] inline std::uint64_t equal_mask(const Block64& k, __m128i c) {
  auto bits = [c](__m128i x) {
    return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, c))));
  };
  return bits(k.x0) | bits(k.x1) << 16 | bits(k.x2) << 32 | bits(k.x3) << 48;
}
}  // namespace byte_scan_detail
#endif

/// byte_masks64_swar, 16 bytes per step with SSE2 when the CPU has it.
template <char A, char B>
[[gnu::always_inline]] inline ByteMasks byte_masks64(const char* p) {
#if defined(__SSE2__)
  const byte_scan_detail::Block64 k = byte_scan_detail::load64(p);
  ByteMasks m;
  m.a = byte_scan_detail::equal_mask(k, _mm_set1_epi8(A));
  m.b = byte_scan_detail::equal_mask(k, _mm_set1_epi8(B));
  return m;
#else
  return byte_masks64_swar<A, B>(p);
#endif
}

/// The mask of A over 64 bytes, and whether any of them is B (cheaper than
/// its mask: one movemask for the four steps).
template <char A, char B>
[[gnu::always_inline]] inline std::uint64_t mask64_and_any(const char* p, bool& any_b) {
#if defined(__SSE2__)
  const byte_scan_detail::Block64 k = byte_scan_detail::load64(p);
  const __m128i b = _mm_set1_epi8(B);
  const __m128i bs = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(k.x0, b), _mm_cmpeq_epi8(k.x1, b)),
                                  _mm_or_si128(_mm_cmpeq_epi8(k.x2, b), _mm_cmpeq_epi8(k.x3, b)));
  any_b = _mm_movemask_epi8(bs) != 0;
  return byte_scan_detail::equal_mask(k, _mm_set1_epi8(A));
#else
  const ByteMasks m = byte_masks64_swar<A, B>(p);
  any_b = m.b != 0;
  return m.a;
#endif
}

/// The mask of A over 64 bytes; whether any of them is B is ORed into `any_b`
/// (all-ones bytes where B was seen), looked at once for a whole line.
#if defined(__SSE2__)
template <char A, char B>
[[gnu::always_inline]] inline std::uint64_t mask64_and_gather(const char* p, __m128i& any_b) {
  const byte_scan_detail::Block64 k = byte_scan_detail::load64(p);
  const __m128i b = _mm_set1_epi8(B);
  any_b = _mm_or_si128(any_b, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(k.x0, b), _mm_cmpeq_epi8(k.x1, b)),
                                           _mm_or_si128(_mm_cmpeq_epi8(k.x2, b), _mm_cmpeq_epi8(k.x3, b))));
  return byte_scan_detail::equal_mask(k, _mm_set1_epi8(A));
}
#endif

/// byte_masks64 of the first `n` bytes at p (n < 64): the rest counts as no hit.
template <char A, char B>
inline ByteMasks byte_masks_tail(const char* p, std::size_t n) {
  char block[64] = {};
  std::memcpy(block, p, n);
  ByteMasks m = byte_masks64<A, B>(block);
  m.valid = (std::uint64_t{1} << n) - 1;
  if constexpr (A == '\0' || B == '\0') {
    m.a &= m.valid;
    m.b &= m.valid;
  }
  return m;
}

/// Bit i of the result is the parity of the set bits 0..i of x: with x the
/// quotes of a block, the bytes inside quotes (an opening quote included, a
/// closing one not).
inline std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

}  // namespace pgsift::cli::input
