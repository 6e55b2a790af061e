// Finding delimiter bytes in log text, many bytes per step: 16 with SSE2
// (every x86-64 CPU), else 8 with plain 64-bit arithmetic. Used by the csvlog
// and jsonlog readers, whose fields are mostly short (so memchr's set-up cost
// per call would dominate) but whose messages can be long: find_either() for
// one delimiter at a time, and 64-byte bitmasks of two delimiters (with the
// quote parity of prefix_xor) for the readers that take a whole line at once;
// the jsonlog reader's masks of a whole line take 32 bytes per step with AVX2
// when the CPU has it.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// The AVX2 forms are built beside the others, for a choice at run time.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PGSIFT_SCAN_AVX2 1
#include <immintrin.h>
#else
#define PGSIFT_SCAN_AVX2 0
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

namespace byte_scan_detail {
// Where the last n - base bytes of a text (0 < n - base < 64) end a readable
// 64-byte block: the text's own last 64 bytes when it is that long, else a
// zero-padded copy (no byte past the text is read). The block's masks
// shifted right by 64 - (n - base) are those of the tail.
inline const char* last_block(const char* s, std::size_t n, char (&copy)[64]) {
  if (n >= 64) return s + n - 64;
  std::memset(copy, 0, 64 - n);
  std::memcpy(copy + 64 - n, s, n);
  return copy;
}
}  // namespace byte_scan_detail

/// The masks of A over a whole text of n bytes, 64 bytes to a word: bit i of
/// a[w] is set when s[64w + i] == A, bits past the end clear; (n + 63) / 64
/// words. Returns whether any byte is B (the jsonlog reader: its quotes, and
/// whether the line has a backslash). The forms below give the same;
/// best_line_masks() picks the fastest the CPU runs.
using LineMasksFn = bool (*)(const char* s, std::size_t n, std::uint64_t* a);

/// line_masks with byte_masks64_swar: any CPU.
template <char A, char B>
bool line_masks_portable(const char* s, std::size_t n, std::uint64_t* a) {
  static_assert(A != '\0' && B != '\0', "the padding of a short tail is zeros");
  std::uint64_t any = 0;
  auto put = [&](std::uint64_t* out, const char* p, unsigned shift) {
    const ByteMasks m = byte_masks64_swar<A, B>(p);
    *out = m.a >> shift;
    any |= m.b;  // the overlap of a shifted block is text too
  };
  std::size_t base = 0;
  for (; base + 64 <= n; base += 64) put(a + base / 64, s + base, 0);
  if (base < n) {
    char copy[64];
    put(a + base / 64, byte_scan_detail::last_block(s, n, copy), static_cast<unsigned>(64 - (n - base)));
  }
  return any != 0;
}

/// line_masks_portable out of line, for the faster forms' texts shorter than
/// a block (rare: a jsonlog record is longer): they then need no stack frame
/// for a padded copy.
template <char A, char B>
[[gnu::noinline]] bool line_masks_short(const char* s, std::size_t n, std::uint64_t* a) {
  return line_masks_portable<A, B>(s, n, a);
}

#if defined(__SSE2__)
/// line_masks, 16 bytes per step with SSE2 (every x86-64 CPU). The B bytes
/// are gathered over the whole text and looked at once.
template <char A, char B>
bool line_masks_sse2(const char* s, std::size_t n, std::uint64_t* a) {
  static_assert(A != '\0' && B != '\0', "the padding of a short tail is zeros");
  using namespace byte_scan_detail;
  if (n < 64) [[unlikely]] return line_masks_short<A, B>(s, n, a);
  const __m128i va = _mm_set1_epi8(A), vb = _mm_set1_epi8(B);
  __m128i any = _mm_setzero_si128();
  auto put = [&](std::uint64_t* out, const char* p, unsigned shift) __attribute__((always_inline)) {
    const Block64 k = load64(p);
    *out = equal_mask(k, va) >> shift;
    any = _mm_or_si128(any, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(k.x0, vb), _mm_cmpeq_epi8(k.x1, vb)),
                                         _mm_or_si128(_mm_cmpeq_epi8(k.x2, vb), _mm_cmpeq_epi8(k.x3, vb))));
  };
  const char* p = s;
  for (const char* const last = s + n - n % 64; p != last; p += 64, ++a) put(a, p, 0);
  if (n % 64 != 0) put(a, s + n - 64, static_cast<unsigned>(64 - n % 64));
  return _mm_movemask_epi8(any) != 0;
}
#endif

#if PGSIFT_SCAN_AVX2
namespace byte_scan_detail {
// One block of line_masks_avx2 (a lambda there would not get its target).
[[gnu::target("avx2"), gnu::always_inline]] inline void put_avx2(std::uint64_t* out, const char* p, unsigned shift,
                                                                 const __m256i& va, const __m256i& vb,
                                                                 __m256i& any) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const std::uint64_t m = std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, va)))} |
                          std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, va)))}
                              << 32;
  *out = m >> shift;
  any = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(lo, vb), _mm256_cmpeq_epi8(hi, vb)), any);
}
}  // namespace byte_scan_detail

/// line_masks, 32 bytes per step with AVX2, for the CPUs that have it: only
/// these functions are built for it, chosen at run time (best_line_masks).
template <char A, char B>
[[gnu::target("avx2")]] bool line_masks_avx2(const char* s, std::size_t n, std::uint64_t* a) {
  static_assert(A != '\0' && B != '\0', "the padding of a short tail is zeros");
  using namespace byte_scan_detail;
  if (n < 64) [[unlikely]] return line_masks_short<A, B>(s, n, a);
  const __m256i va = _mm256_set1_epi8(A), vb = _mm256_set1_epi8(B);
  __m256i any = _mm256_setzero_si256();
  const char* p = s;
  const char* const last = s + n - n % 64;
  for (; last - p >= 128; p += 128, a += 2) {  // two blocks a step: half the loop's own steps
    put_avx2(a, p, 0, va, vb, any);
    put_avx2(a + 1, p + 64, 0, va, vb, any);
  }
  if (p != last) put_avx2(a++, p, 0, va, vb, any);
  if (n % 64 != 0) put_avx2(a, s + n - 64, static_cast<unsigned>(64 - n % 64), va, vb, any);
  return !_mm256_testz_si256(any, any);
}
#endif

/// The fastest line_masks form this CPU runs.
template <char A, char B>
LineMasksFn best_line_masks() {
#if PGSIFT_SCAN_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return line_masks_avx2<A, B>;
#endif
#if defined(__SSE2__)
  return line_masks_sse2<A, B>;
#else
  return line_masks_portable<A, B>;
#endif
}

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
