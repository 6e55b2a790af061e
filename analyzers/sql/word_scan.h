// The inner loop of the lexer (lexer.cpp): how far an unquoted word runs
// and its case-folded copy, which goes straight into the cache key. Words
// are most of every statement, so with SSE2 sixteen bytes are classified and
// folded per step; the byte-by-byte loop finishes near the end of the text
// and is the reference the tests compare the fast loop with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pgsift::sql::lex::word_scan {

/// Whether a byte continues an unquoted word (scan.l's ident_cont:
/// letters, digits, '_', '$' and every byte >= 0x80).
constexpr std::array<bool, 256> make_word_bytes() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                     c == '_' || c == '$' || c >= 0x80;
  }
  return t;
}
inline constexpr std::array<bool, 256> kWordByte = make_word_bytes();

inline char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Byte by byte: the end of the word continuing at text[from] (from <= n),
/// writing the folded bytes text[from, end) to folded[0, end - from).
inline std::size_t scan_scalar(const char* text, std::size_t from, std::size_t n, char* folded) {
  std::size_t i = from;
  for (; i < n && kWordByte[static_cast<unsigned char>(text[i])]; ++i) folded[i - from] = fold(text[i]);
  return i;
}

#if defined(__SSE2__)
// Bytes of `v` in [lo, lo + count): unsigned range test with signed compares
// (shifted so that lo lands on -128).
inline __m128i in_range(__m128i v, char lo, int count) {
  const __m128i shifted = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(-128 - lo)));
  return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + count)));
}
#endif

/// The same result as scan_scalar, but may write up to 15 bytes past
/// folded[end - from) (the caller's buffer has that room). Reads only
/// text[from, n).
inline std::size_t scan(const char* text, std::size_t from, std::size_t n, char* folded) {
  std::size_t i = from;
#if defined(__SSE2__)
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i));
    const __m128i upper = in_range(v, 'A', 26);
    const __m128i letter = _mm_or_si128(upper, in_range(v, 'a', 26));
    const __m128i digit = in_range(v, '0', 10);
    const __m128i punct = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')), _mm_cmpeq_epi8(v, _mm_set1_epi8('$')));
    const __m128i high = _mm_cmplt_epi8(v, _mm_setzero_si128());
    const __m128i word = _mm_or_si128(_mm_or_si128(letter, digit), _mm_or_si128(punct, high));
    const __m128i lowered = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(folded + (i - from)), lowered);
    const unsigned others = ~static_cast<unsigned>(_mm_movemask_epi8(word)) & 0xFFFFu;
    if (others != 0) return i + static_cast<std::size_t>(__builtin_ctz(others));
    i += 16;
  }
#endif
  return scan_scalar(text, i, n, folded + (i - from));
}

}  // namespace pgsift::sql::lex::word_scan
