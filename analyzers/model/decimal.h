// Reading the decimal numbers of server messages ("duration: 0.733 ms",
// "after 1000.123 ms", "session time: 0:00:01.234"). The classifier reads
// one for most records, so the common shapes have hand-written paths; every
// path gives the same double as std::from_chars (the correctly rounded
// value), which parse_decimal_exact is and the tests compare against.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace pgsift::model {

/// std::from_chars on the front of `s`: on success the number is removed
/// from `s`. The reference the fast paths are tested against.
inline bool parse_decimal_exact(std::string_view& s, double& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
  return true;
}

namespace decimal_detail {

inline bool digit(char c) { return c >= '0' && c <= '9'; }

// A character that would make from_chars read further than plain
// "digits[.digits]": more digits, an exponent or a second point.
inline bool continues_number(char c) { return digit(c) || c == 'e' || c == 'E' || c == '.'; }

constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

}  // namespace decimal_detail

/// Same result as parse_decimal_exact, faster on what PostgreSQL prints.
///  1. "<1..12 digits>.<3 digits>": every duration (printed with "%.3f");
///     the three fraction digits are read without a loop.
///  2. digits with an optional fraction, at most 15 digits in all.
///  Both build the integer of all the digits, exact in a double (< 2^53),
///  and divide once by an exact power of ten: IEEE division rounds
///  correctly, so the value equals from_chars'. Anything else (exponents,
///  more digits, signs, "inf") goes to from_chars.
[[gnu::always_inline]] inline bool parse_decimal(std::string_view& s, double& v) {
  using namespace decimal_detail;
  const char* p = s.data();
  const std::size_t n = s.size();
  std::uint64_t mantissa = 0;
  std::size_t i = 0;
  const std::size_t limit = n < 12 ? n : 12;
  for (unsigned d; i < limit && (d = static_cast<unsigned char>(p[i]) - unsigned{'0'}) <= 9; ++i) mantissa = mantissa * 10 + d;
  if (i > 0 && i + 4 <= n && p[i] == '.') {
    const unsigned d1 = static_cast<unsigned char>(p[i + 1]) - unsigned{'0'};
    const unsigned d2 = static_cast<unsigned char>(p[i + 2]) - unsigned{'0'};
    const unsigned d3 = static_cast<unsigned char>(p[i + 3]) - unsigned{'0'};
    if (d1 <= 9 && d2 <= 9 && d3 <= 9 && (i + 4 == n || !continues_number(p[i + 4]))) {
      mantissa = mantissa * 1000 + d1 * 100 + d2 * 10 + d3;
      v = static_cast<double>(mantissa) / 1e3;
      s.remove_prefix(i + 4);
      return true;
    }
  }
  // 2: the general plain form (the integer part may continue past 12 digits).
  while (i < n && digit(p[i])) mantissa = mantissa * 10 + static_cast<std::uint64_t>(p[i++] - '0');
  std::size_t digits = i, fraction = 0;
  if (i > 0 && i < n && p[i] == '.') {
    std::size_t j = i + 1;
    while (j < n && digit(p[j])) mantissa = mantissa * 10 + static_cast<std::uint64_t>(p[j++] - '0');
    fraction = j - i - 1;
    if (fraction > 0) i = j;
    digits += fraction;
  }
  const bool plain_end = i == n || (p[i] != 'e' && p[i] != 'E' && p[i] != '.');
  if (i > 0 && digits <= 15 && plain_end) {
    v = static_cast<double>(mantissa) / kPow10[fraction];
    s.remove_prefix(i);
    return true;
  }
  return parse_decimal_exact(s, v);
}

}  // namespace pgsift::model
