// The fast field scanners of the csvlog and jsonlog readers (byte_scan.h,
// json_scan.h) against plain byte-by-byte references, with delimiters and
// escapes placed on every side of the 8- and 16-byte steps.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "cli/input/byte_scan.h"
#include "cli/input/json_scan.h"
#include "cli/input/reader.h"

namespace {

using namespace pgsift;
using namespace pgsift::cli::input;

std::size_t naive_find(std::string_view s, std::size_t from, char a, char b) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == a || s[i] == b) return i;
  }
  return s.size();
}

// The string grammar as first written: a backslash takes the next byte.
bool naive_string(std::string_view s, std::size_t& i, std::string_view& raw, bool& escaped) {
  std::size_t start = ++i;
  escaped = false;
  while (i < s.size()) {
    if (s[i] == '"') {
      raw = s.substr(start, i - start);
      ++i;
      return true;
    }
    if (s[i] == '\\') {
      escaped = true;
      i += 2;
      continue;
    }
    ++i;
  }
  return false;
}

}  // namespace

TEST_CASE("byte scan: the first of two bytes at any offset and length", "[ingest]") {
  std::mt19937 rng(7);
  const std::string alphabet = "ab,\"\\\xff";
  for (int round = 0; round < 3000; ++round) {
    std::string s(rng() % 70, 'x');
    for (char& c : s) c = rng() % 4 == 0 ? alphabet[rng() % alphabet.size()] : 'x';
    for (std::size_t from = 0; from <= s.size(); ++from) {
      REQUIRE(find_either<',', '"'>(s, from) == naive_find(s, from, ',', '"'));
      REQUIRE(find_either<'"', '\\'>(s, from) == naive_find(s, from, '"', '\\'));
      REQUIRE(find_either<'"', '"'>(s, from) == naive_find(s, from, '"', '"'));
    }
  }
}

TEST_CASE("json scan: string ends and escapes agree with the byte-by-byte grammar", "[ingest]") {
  std::mt19937 rng(11);
  const std::string pieces[] = {"a", "\\\"", "\\\\", "\\n", "\\u00e9", "\"", "\\", "bcdefgh"};
  for (int round = 0; round < 20000; ++round) {
    std::string s = "\"";
    int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) s += pieces[rng() % std::size(pieces)];
    if (rng() % 3 != 0) s += '"';
    s += std::string(rng() % 20, 'z');
    std::size_t i_fast = 0, i_ref = 0;
    JsonValue v;
    std::string_view raw;
    bool escaped = false;
    bool ok_ref = naive_string(s, i_ref, raw, escaped);
    bool ok_fast = json_detail::scan_string(s, i_fast, v);
    INFO(s);
    REQUIRE(ok_fast == ok_ref);
    if (ok_ref) {
      CHECK(i_fast == i_ref);
      CHECK(v.raw == raw);
      CHECK(v.escaped == escaped);
    }
  }
}

TEST_CASE("json scan: members, nesting, literals and malformed objects", "[ingest]") {
  auto members = [](std::string_view text, bool& ok) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    ok = scan_json_object(text, pos, [&](std::string_view k, const JsonValue& v) {
      std::string value;
      json_to_string(v, value);
      out.push_back(std::string(k) + "=" + value + "/" + std::to_string(static_cast<int>(v.type)));
    });
    return out;
  };
  bool ok = false;
  auto m = members(R"( { "a" : "x\"y\u00e9\ud83d\ude00" , "n":-12.5,"t":true,"z":null,)"
                   R"("o":{"k":[1,"]}"]},"l":[] } trailing)", ok);
  REQUIRE(ok);
  REQUIRE(m.size() == 6);
  CHECK(m[0] == "a=x\"y\xc3\xa9\xf0\x9f\x98\x80/0");
  CHECK(m[1] == "n=-12.5/1");
  CHECK(m[2] == "t=true/2");
  CHECK(m[3] == "z=/2");
  CHECK(m[4] == "o={\"k\":[1,\"]}\"]}/3");
  CHECK(m[5] == "l=[]/4");
  // A lone surrogate becomes U+FFFD; a bad \u stays as written.
  m = members(R"({"s":"\ud800x\uzz"})", ok);
  REQUIRE(ok);
  CHECK(m[0] == "s=\xef\xbf\xbdx\\uzz/0");
  for (std::string_view bad : {R"({"a":"x)", R"({"a" "x"})", R"({"a":})", R"({"a":1 "b":2})",
                               R"({"a":"x\")", R"({a:1})", R"({"a":[1,2})", "{\"a\":\"\\"}) {
    members(bad, ok);
    INFO(bad);
    CHECK_FALSE(ok);
  }
}

TEST_CASE("csvlog reader: quoted and bare fields across the 8- and 16-byte steps", "[ingest]") {
  InputSummary summary;
  ReaderContext ctx;
  ctx.summary = &summary;
  std::vector<model::LogRecord> records;
  ctx.emit = [&](model::LogRecord& r) { records.push_back(r); };
  ctx.warn = [](const std::string&) {};
  auto reader = make_reader("csvlog", "", ctx);
  std::vector<std::string> users, messages;
  std::uint64_t number = 0;
  for (std::size_t len = 0; len < 40; ++len) {
    std::string user(len, 'u');
    std::string message(len, 'm');
    if (len > 3) message[len / 2] = ',';
    std::string quoted = message;
    if (len > 5) {  // a doubled quote inside
      message[len / 3] = '"';
      quoted = message.substr(0, len / 3) + "\"\"" + message.substr(len / 3 + 1);
    }
    std::string line = "2026-12-05 19:41:33.514 UTC,\"" + user + "\",\"db\"," +
                       std::to_string(100 + len) +
                       ",\"[local]\",6b1468ed.770,42,\"UPDATE\",2026-12-05 19:41:33 UTC,4/10,759,"
                       "LOG,00000,\"" + quoted + "\",,,,,,,,,\"app\",\"client backend\",,0";
    reader->line(Line{line, ++number});
    users.push_back(user);
    messages.push_back(message);
  }
  // Quotes inside a bare field are kept as text (read up to the next comma).
  reader->line(Line{"2026-12-05 19:41:33.514 UTC,,,1x\"y\",,6b1468ed.770,1,,,,0,LOG,00000,\"m\",,,,,,,,,,,,0",
                    ++number});
  // A message over two lines.
  reader->line(Line{"2026-12-05 19:41:33.514 UTC,,,7,,s,1,,,,0,LOG,00000,\"first", ++number});
  reader->line(Line{"second\",,,,,,,,,,,,0", ++number});
  reader->finish();
  REQUIRE(records.size() == 42);
  for (std::size_t len = 0; len < 40; ++len) {
    INFO(len);
    CHECK(records[len].header.user == users[len]);
    CHECK(records[len].message == messages[len]);
    CHECK(records[len].header.pid == static_cast<std::int32_t>(100 + len));
    CHECK(records[len].header.application == "app");
  }
  CHECK(records[40].header.pid == 1);  // from_chars stops at the 'x'
  CHECK(records[41].message == "first\nsecond");
  CHECK(records[41].header.where.line == 42);
  CHECK(summary.skipped_lines == 0);
}
