// parse_decimal (analyzers/model/decimal.h) against std::from_chars on
// numbers shaped like the server's ("%.3f" durations, lock wait times,
// session seconds) and on generated ones around every fast path's edges.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>

#include "analyzers/model/decimal.h"

using pgsift::model::parse_decimal;
using pgsift::model::parse_decimal_exact;

namespace {

// Both parsers on `text`: same success, same bits, same rest of the text.
void same_as_exact(const std::string& text) {
  std::string_view fast = text, exact = text;
  double a = -7, b = -7;
  const bool ok_fast = parse_decimal(fast, a);
  const bool ok_exact = parse_decimal_exact(exact, b);
  INFO("text: '" << text << "'");
  REQUIRE(ok_fast == ok_exact);
  if (!ok_exact) return;
  REQUIRE(std::memcmp(&a, &b, sizeof a) == 0);
  REQUIRE(fast.size() == exact.size());
}

std::string digits(std::mt19937_64& rng, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += static_cast<char>('0' + rng() % 10);
  return out;
}

}  // namespace

TEST_CASE("parse_decimal reads durations as from_chars does", "[decimal]") {
  for (const char* text : {"0.733", "146.298", "0.000", "1000.123 ms", "12", "12.", "12.5", "1.2345", ".5",
                           "1e3", "1.000e3", "1.5.3", "-1.000", "+1.000", "999999999999.999", "9999999999999.999",
                           "123456789012345.6", "0.1234567890123456789", "007.010", "inf", "", "x", "1.00x",
                           "3.14159", "1.23E", "2.000.", "18446744073709551616.000"}) {
    same_as_exact(text);
  }
}

TEST_CASE("parse_decimal agrees with from_chars on generated numbers", "[decimal]") {
  std::mt19937_64 rng(20261206);
  const char* tails[] = {"", " ms", "e5", "E-2", ".", ".1", "5", "x", ":", ",", "\n"};
  for (int n = 0; n < 200000; ++n) {
    std::string text = digits(rng, 1 + rng() % 16);
    switch (rng() % 4) {
      case 0: text += "." + digits(rng, 3); break;             // the %.3f shape
      case 1: text += "." + digits(rng, rng() % 8); break;     // any fraction, also "12."
      case 2: break;                                           // an integer
      default: text = "." + digits(rng, 1 + rng() % 6); break; // no integer part
    }
    text += tails[rng() % (sizeof tails / sizeof tails[0])];
    same_as_exact(text);
  }
}
