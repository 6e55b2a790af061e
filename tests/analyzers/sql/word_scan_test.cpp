// The lexer's word loop (analyzers/sql/word_scan.h): the sixteen-bytes-a-
// step scan must end every word where the byte-by-byte loop does and fold
// it the same, whatever the bytes around it.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "analyzers/sql/lexer.h"
#include "analyzers/sql/word_scan.h"

namespace ws = pgsift::sql::lex::word_scan;

namespace {

void same_as_scalar(const std::string& text, std::size_t from) {
  std::string fast(text.size() + 16, '\x7f'), slow(text.size() + 16, '\x7f');
  const std::size_t end_fast = ws::scan(text.data(), from, text.size(), fast.data());
  const std::size_t end_slow = ws::scan_scalar(text.data(), from, text.size(), slow.data());
  INFO("text: '" << text << "' from " << from);
  REQUIRE(end_fast == end_slow);
  REQUIRE(fast.substr(0, end_fast - from) == slow.substr(0, end_slow - from));
}

}  // namespace

TEST_CASE("word scan: every byte value inside and after a long word", "[sql][lexer]") {
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string text = "Pgbench_Accounts_ABC$xyz_0123456789_QRSTUVWXYZ_tail";
      if (at < text.size()) text[at] = static_cast<char>(b);
      same_as_scalar(text, 0);
      same_as_scalar(text, 1);
    }
  }
}

TEST_CASE("word scan agrees with the byte loop on generated texts", "[sql][lexer]") {
  std::mt19937_64 rng(6122026);
  const std::string alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$ \t\n(),;.'\"=<>+-*/:@[]`{|}~\x80\xc3\xa9\xff\x7f";
  for (int n = 0; n < 50000; ++n) {
    std::string text;
    const std::size_t length = rng() % 80;
    // Mostly word bytes, so that runs cross the sixteen-byte steps.
    for (std::size_t i = 0; i < length; ++i) text += alphabet[rng() % (rng() % 4 == 0 ? alphabet.size() : 64)];
    same_as_scalar(text, text.empty() ? 0 : rng() % (text.size() + 1));
  }
}

TEST_CASE("lexing words through the fast scan: key and tokens", "[sql][lexer]") {
  using namespace pgsift::sql::lex;
  Lexed a, b;
  lex("SELECT Abalance FROM PGBENCH_ACCOUNTS_with_a_long_name_$1 WHERE aid = 5", a);
  lex("select abalance from pgbench_accounts_WITH_A_LONG_NAME_$1 where AID = 7", b);
  REQUIRE(a.tokens.size() == 8);
  REQUIRE(a.tokens[3].end - a.tokens[3].begin == std::string("PGBENCH_ACCOUNTS_with_a_long_name_$1").size());
  REQUIRE(a.key_low == b.key_low);
  REQUIRE(a.key_high == b.key_high);
  Lexed c;
  lex("select abalance from pgbench_accounts_with_a_long_name_$2 where aid = 7", c);
  REQUIRE(c.key_low != b.key_low);
}
