// The one-pass csvlog and jsonlog readers (readers.cpp) against slower
// references, on random lines built to put quotes, commas, escapes and bad
// input on every side of the 64-byte blocks:
//  - the 64-byte masks of byte_scan.h (SSE2 and the portable form), and the
//    jsonlog reader's masks of whole lines (each form: portable, SSE2, AVX2
//    when the CPU has it), against byte-by-byte loops;
//  - csvlog: each line against a field-by-field reference, a copy of the
//    reading the reader had before its one-pass form (parse_fields());
//  - jsonlog: each line as the server writes it (no spaces: read in one pass)
//    against the same line with a space after every ':', which only the
//    general scanner reads.
// One reader takes the whole stream, so fields that a line does not set must
// not keep the previous line's value.
#include <catch2/catch.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli/input/byte_scan.h"
#include "cli/input/log_line_prefix.h"
#include "cli/input/reader.h"
#include "cli/input/timestamp.h"

namespace {

using namespace pgsift;
using namespace pgsift::cli::input;

// ------------------------------------------------------------------ masks
ByteMasks naive_masks(const char* p, char a, char b, std::size_t n = 64) {
  ByteMasks m;
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == a) m.a |= std::uint64_t{1} << i;
    if (p[i] == b) m.b |= std::uint64_t{1} << i;
  }
  return m;
}

std::uint64_t naive_prefix_xor(std::uint64_t x) {
  std::uint64_t out = 0;
  bool inside = false;
  for (int i = 0; i < 64; ++i) {
    inside ^= ((x >> i) & 1) != 0;
    if (inside) out |= std::uint64_t{1} << i;
  }
  return out;
}

// ------------------------------------------------------------------ csvlog
// What the reader made of a line: a record's fields, or "skipped".
struct Fields {
  bool skipped = false;
  model::Timestamp time = model::kNoTime;
  std::int32_t pid = 0;
  std::uint64_t session_line = 0, xid = 0;
  model::LogLevel level = model::LogLevel::unknown;
  std::vector<std::string> text;  // the string fields, in a fixed order
  std::uint64_t line = 0;

  bool operator==(const Fields&) const = default;
};

std::string describe(const Fields& f) {
  if (f.skipped) return "skipped";
  std::string out = "line " + std::to_string(f.line) + " time " + std::to_string(f.time) +
                    " pid " + std::to_string(f.pid) + " l " + std::to_string(f.session_line) +
                    " xid " + std::to_string(f.xid) + " level " +
                    std::to_string(static_cast<int>(f.level));
  for (const std::string& t : f.text) out += " [" + t + "]";
  return out;
}

// The records a reader gave, one by one against those expected (whose
// line numbers index `lines`).
void require_same(const std::vector<Fields>& got, const std::vector<Fields>& want,
                  const std::vector<std::string>& lines) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO(i << ": line " << want[i].line << ": " << lines[want[i].line - 1]);
    INFO("got  " << describe(got[i]));
    INFO("want " << describe(want[i]));
    REQUIRE(got[i] == want[i]);
  }
}

Fields fields_of(const model::LogRecord& r) {
  Fields f;
  f.time = r.header.time;
  f.pid = r.header.pid;
  f.session_line = r.header.session_line;
  f.xid = r.header.xid;
  f.level = r.level;
  f.text = {r.header.user, r.header.database, r.header.client, r.header.session_id,
            r.header.virtual_xid, r.header.sqlstate, r.message, r.detail, r.hint, r.query,
            r.context, r.statement, r.location, r.header.application, r.header.backend_type};
  f.line = r.header.where.line;
  return f;
}

// The field-by-field reading the csvlog reader had before its one-pass form.
struct OldParse {
  bool complete = true, quote_in_bare = false;
  std::vector<std::string> fields;
};

OldParse old_parse(std::string_view text) {
  OldParse p;
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (true) {
    std::string value;
    if (i < n && text[i] == '"') {
      ++i;
      std::size_t q = text.find('"', i);
      if (q == std::string_view::npos) {
        p.complete = false;
        return p;
      }
      if (q + 1 < n && text[q + 1] == '"') {
        value.assign(text.data() + i, q - i);
        value += '"';
        i = q + 2;
        while (true) {
          q = text.find('"', i);
          if (q == std::string_view::npos) {
            p.complete = false;
            return p;
          }
          value.append(text.data() + i, q - i);
          i = q + 1;
          if (i < n && text[i] == '"') {
            value += '"';
            ++i;
            continue;
          }
          break;
        }
      } else {
        value.assign(text.data() + i, q - i);
        i = q + 1;
      }
    } else if (i < n && text[i] == ',') {
    } else {
      std::size_t end = i;
      while (end < n && text[end] != ',' && text[end] != '"') ++end;
      if (end < n && text[end] == '"') {
        p.quote_in_bare = true;
        end = text.find(',', end);
        if (end == std::string_view::npos) end = n;
      }
      value.assign(text.data() + i, end - i);
      i = end;
    }
    p.fields.push_back(value);
    if (i >= n) break;
    if (text[i] != ',') {
      p.complete = false;
      return p;
    }
    ++i;
  }
  return p;
}

template <typename T>
T old_number(std::string_view s) {
  T v{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// The record the old reader gave for a line that is a whole record; nullopt
// when it would have waited for the next line (an odd number of quotes).
std::optional<Fields> csv_reference(std::string_view line, std::uint64_t number) {
  OldParse p = old_parse(line);
  std::size_t quotes = static_cast<std::size_t>(std::count(line.begin(), line.end(), '"'));
  if (!(p.complete && !p.quote_in_bare) && quotes % 2 == 1) return std::nullopt;
  Fields f;
  if (!p.complete || p.fields.size() < 22 || p.fields.size() > 26) {
    f.skipped = true;
    return f;
  }
  auto col = [&](std::size_t c) { return c < p.fields.size() ? p.fields[c] : std::string(); };
  ParsedTime pt;
  if (!col(0).empty() && parse_sql_time(col(0), true, pt)) f.time = pt.time;
  f.pid = old_number<std::int32_t>(col(3));
  f.session_line = old_number<std::uint64_t>(col(6));
  f.xid = old_number<std::uint64_t>(col(10));
  bool localized = false;
  f.level = col(11).empty() ? model::LogLevel::unknown : level_from_word(col(11), localized);
  std::string message = col(13);
  f.text = {col(1),  col(2),  col(4),  col(5),  col(9),  col(12), message, col(14),
            col(15), col(16), col(18), col(19), col(21), col(22), col(23)};
  if (f.time == model::kNoTime || f.level == model::LogLevel::unknown) {
    f.skipped = true;
    return f;
  }
  f.line = number;
  return f;
}

std::string random_text(std::mt19937& rng, std::size_t max_len, std::string_view alphabet) {
  std::string s(rng() % (max_len + 1), 'x');
  for (char& c : s) c = alphabet[rng() % alphabet.size()];
  return s;
}

// One csvlog field as written, sometimes malformed.
std::string csv_field(std::mt19937& rng, std::size_t column) {
  static const char* const kTimes[] = {"2026-12-05 19:41:33.514 UTC", "2026-12-05 19:41:33.515 UTC",
                                       "2026-12-05 19:41:34 CET", "2026-12-05 19:41:33.5+02",
                                       "yesterday"};
  static const char* const kLevels[] = {"LOG", "ERROR", "WARNING", "DETAIL", "", "LOG", "FOO"};
  const unsigned pick = rng() % 100;
  if (column == 0) return pick < 3 ? "" : kTimes[pick % std::size(kTimes)];
  if (column == 11) return pick < 3 ? "\"LOG\"" : kLevels[pick % std::size(kLevels)];
  if (column == 3 || column == 6 || column == 10) {
    if (pick < 5) return "1x";
    if (pick < 8) return "-12";
    if (pick < 11) return "123456789012345678901";
    if (pick < 15) return "";
    return std::to_string(rng() % 100000000);
  }
  if (pick < 30) return "";
  if (pick < 50) return random_text(rng, 20, "abc0123 ./[]:");
  if (pick < 98) {
    std::string body = random_text(rng, 150, "abcdefgh ,,\"");
    std::string quoted = "\"";
    for (char c : body) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  // Malformed: a quote in a bare field, text after a closing quote, an
  // unterminated or a lone quote.
  switch (rng() % 4) {
    case 0: return "ab\"cd";
    case 1: return "\"ab\"cd";
    case 2: return "\"ab";
    default: return "\"";
  }
}

// ------------------------------------------------------------------ jsonlog
struct Member {
  std::string key, value;  // value as written (quoted string, number, literal, nested)
};

std::string json_line(const std::vector<Member>& members, std::string_view after_colon) {
  std::string out = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ',';
    out += "\"" + members[i].key + "\":" + std::string(after_colon) + members[i].value;
  }
  return out + "}";
}

std::string json_value(std::mt19937& rng, std::string_view key) {
  const unsigned pick = rng() % 100;
  if (pick < 4) return "null";
  if (pick < 6) return rng() % 2 ? "true" : "false";
  if (pick < 8) return "{\"a\":[1,\"}\"]}";
  if (key == "timestamp") {
    static const char* const kTimes[] = {"\"2026-12-05 19:41:33.514 UTC\"",
                                         "\"2026-12-05 19:41:33.515 UTC\"", "\"2026-12-05 19:41:34 CET\"",
                                         "\"soon\"", "\"\"", "12"};
    return kTimes[rng() % std::size(kTimes)];
  }
  if (key == "error_severity") {
    static const char* const kLevels[] = {"\"LOG\"", "\"ERROR\"", "\"\"", "\"FOO\"", "3", "\"LOG\""};
    return kLevels[rng() % std::size(kLevels)];
  }
  if (key == "pid" || key == "line_num" || key == "txid" || key == "remote_port" ||
      key == "query_id") {
    if (pick < 12) return "-42";
    if (pick < 16) return "12345678901234567890123";
    if (pick < 20) return "\"77\"";
    if (pick < 24) return "1e3";
    return std::to_string(rng() % 1000000000);
  }
  std::string body = random_text(rng, 120, "abcdefgh ,:{}[]'");
  if (pick < 15) {
    static const char* const kEscapes[] = {"\\\"", "\\\\", "\\n", "\\u00e9", "\\/"};
    body.insert(rng() % (body.size() + 1), kEscapes[rng() % std::size(kEscapes)]);
  }
  return "\"" + body + "\"";
}

std::vector<Member> json_members(std::mt19937& rng) {
  static const char* const kKeys[] = {
      "timestamp", "user", "dbname", "pid", "remote_host", "remote_port", "session_id",
      "line_num", "ps", "session_start", "vxid", "txid", "error_severity", "state_code",
      "message", "detail", "hint", "internal_query", "context", "statement",
      "application_name", "backend_type", "query_id", "leader_pid"};
  std::vector<Member> members;
  for (const char* key : kKeys) {
    const bool essential = std::string_view(key) == "timestamp" || std::string_view(key) == "error_severity";
    if (rng() % 100 < (essential ? 95u : 60u)) members.push_back({key, json_value(rng, key)});
  }
  if (rng() % 10 == 0 && !members.empty()) members.push_back(members[rng() % members.size()]);
  if (rng() % 10 == 0 && members.size() > 1) std::swap(members[0], members[rng() % members.size()]);
  return members;
}

// The fields of each record the jsonlog reader makes of `lines`.
std::vector<Fields> read_jsonlog(const std::vector<std::string>& lines, InputSummary& summary) {
  ReaderContext ctx;
  ctx.summary = &summary;
  std::vector<Fields> out;
  ctx.emit = [&](model::LogRecord& r) { out.push_back(fields_of(r)); };
  ctx.warn = [](const std::string&) {};
  auto reader = make_reader("jsonlog", "", ctx);
  std::uint64_t number = 0;
  for (const std::string& line : lines) reader->line(Line{line, ++number});
  reader->finish();
  return out;
}

}  // namespace

TEST_CASE("byte scan: 64-byte masks, tails and quote parity agree with byte-by-byte loops",
          "[ingest]") {
  std::mt19937 rng(5);
  const std::string alphabet(",\"\\x\xff\0a", 7);
  for (int round = 0; round < 20000; ++round) {
    char block[64];
    for (char& c : block) c = rng() % 3 == 0 ? alphabet[rng() % alphabet.size()] : 'x';
    const ByteMasks want = naive_masks(block, ',', '"');
    const ByteMasks sse = byte_masks64<',', '"'>(block);
    const ByteMasks swar = byte_masks64_swar<',', '"'>(block);
    REQUIRE(sse.a == want.a);
    REQUIRE(sse.b == want.b);
    REQUIRE(swar.a == want.a);
    REQUIRE(swar.b == want.b);
    const ByteMasks json = naive_masks(block, '"', '\\');
    const ByteMasks json_swar = byte_masks64_swar<'"', '\\'>(block);
    REQUIRE(json_swar.a == json.a);
    REQUIRE(json_swar.b == json.b);
    const std::size_t n = rng() % 64;
    const ByteMasks tail = byte_masks_tail<',', '"'>(block, n);
    const ByteMasks tail_want = naive_masks(block, ',', '"', n);
    REQUIRE(tail.a == tail_want.a);
    REQUIRE(tail.b == tail_want.b);
    REQUIRE(tail.valid == (std::uint64_t{1} << n) - 1);
    const std::uint64_t x = (std::uint64_t{rng()} << 32) ^ rng();
    REQUIRE(prefix_xor(x) == naive_prefix_xor(x));
  }
}

// Every form of line_masks (each forced, and the one the reader picks) on
// texts of every length around the 64-byte blocks, each in a heap block of
// exactly its size (ASan builds catch a read past it); the words after the
// text's must stay untouched.
static void check_line_masks(LineMasksFn masks, std::mt19937& rng) {
  const std::string alphabet(",\"\\x\xff\0a", 7);
  constexpr std::uint64_t kUntouched = 0x5a5a5a5a5a5a5a5aull;
  for (int round = 0; round < 3000; ++round) {
    const std::size_t n = round < 300 ? static_cast<std::size_t>(round) : rng() % 700;
    const unsigned density = rng() % 6;  // in eighths; 0: no delimiter at all
    std::unique_ptr<char[]> text(new char[n]);
    for (std::size_t i = 0; i < n; ++i)
      text[i] = rng() % 8 < density ? alphabet[rng() % alphabet.size()] : 'x';
    const std::size_t words = (n + 63) / 64;
    std::vector<std::uint64_t> quotes(words + 2, kUntouched);
    const bool any = masks(text.get(), n, quotes.data());
    bool want_any = false;
    for (std::size_t w = 0; w < words; ++w) {
      const ByteMasks want = naive_masks(text.get() + 64 * w, '"', '\\', std::min<std::size_t>(64, n - 64 * w));
      REQUIRE(quotes[w] == want.a);
      want_any |= want.b != 0;
    }
    REQUIRE(any == want_any);
    REQUIRE(quotes[words] == kUntouched);
    REQUIRE(quotes[words + 1] == kUntouched);
  }
}

TEST_CASE("byte scan: the masks of whole lines, in every form, agree with byte-by-byte loops", "[ingest]") {
  std::mt19937 rng(11);
  check_line_masks(line_masks_portable<'"', '\\'>, rng);
#if defined(__SSE2__)
  check_line_masks(line_masks_sse2<'"', '\\'>, rng);
#endif
#if PGSIFT_SCAN_AVX2
  if (__builtin_cpu_supports("avx2")) check_line_masks(line_masks_avx2<'"', '\\'>, rng);
#endif
  check_line_masks(best_line_masks<'"', '\\'>(), rng);
}

TEST_CASE("csvlog reader: one-pass lines give what the field-by-field reading gave", "[ingest]") {
  std::mt19937 rng(23);
  InputSummary summary;
  ReaderContext ctx;
  ctx.summary = &summary;
  std::vector<Fields> got;
  ctx.emit = [&](model::LogRecord& r) { got.push_back(fields_of(r)); };
  ctx.warn = [](const std::string&) {};
  auto reader = make_reader("csvlog", "", ctx);
  std::vector<Fields> want;
  std::vector<std::string> lines;
  std::uint64_t number = 0, doubled = 0;
  while (lines.size() < 6000) {
    const std::size_t columns = rng() % 10 < 8 ? 26 : 20 + rng() % 9;
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      if (c > 0) line += ',';
      line += csv_field(rng, c);
    }
    if (line.find('\n') != std::string::npos) continue;  // one physical line each
    std::optional<Fields> expected = csv_reference(line, number + 1);
    if (!expected) continue;  // would wait for a continuation line
    ++number;
    if (!expected->skipped) {
      want.push_back(*expected);
      if (line.find("\"\"") != std::string::npos) ++doubled;
    }
    lines.push_back(line);
    reader->line(Line{lines.back(), number});
  }
  reader->finish();
  std::size_t skipped = 0;
  for (const std::string& line : lines) {
    if (csv_reference(line, 0)->skipped) ++skipped;
  }
  CHECK(summary.skipped_lines == skipped);
  require_same(got, want, lines);
  // The stream exercised what it is meant to.
  CHECK(want.size() > 1000);
  CHECK(skipped > 500);
  CHECK(doubled > 100);
}

TEST_CASE("jsonlog reader: lines as the server writes them read like the general scanner reads them",
          "[ingest]") {
  std::mt19937 rng(31);
  const auto run = read_jsonlog;
  std::vector<std::string> compact, spaced;
  std::size_t plain = 0;
  for (int round = 0; round < 6000; ++round) {
    std::vector<Member> members = json_members(rng);
    std::string a = json_line(members, ""), b = json_line(members, " ");
    const unsigned pick = rng() % 100;
    if (pick < 3) {  // cut short
      const std::size_t cut = rng() % a.size();
      a.resize(cut);
      b = a;
      // The spaced twin cannot be cut at the same place: both read the
      // compact text, so the two readers still see the same line.
    } else if (pick < 5) {
      a += " trailing";
      b += " trailing";
    } else if (pick < 7 && a.size() > 2) {
      a.insert(1 + rng() % (a.size() - 2), "\"");
      b = a;
    }
    if (a.find('\\') == std::string::npos && a == json_line(members, "")) ++plain;
    compact.push_back(a);
    spaced.push_back(b);
  }
  InputSummary s_compact, s_spaced;
  std::vector<Fields> got = run(compact, s_compact), want = run(spaced, s_spaced);
  CHECK(s_compact.skipped_lines == s_spaced.skipped_lines);
  CHECK(s_compact.noise_lines == s_spaced.noise_lines);
  CHECK(s_compact.records == s_spaced.records);
  require_same(got, want, compact);
  CHECK(got.size() > 1000);
  CHECK(s_compact.skipped_lines > 100);
  CHECK(plain > 2000);
}

// ------------------------------------------------------------------ memos
namespace {

// A server session as jsonlog and csvlog write it: what its records repeat.
struct FakeSession {
  std::string user, dbname, pid, host, port, session_id, application, backend_type;
};

FakeSession fake_session(std::mt19937& rng, int index) {
  static const char* const kUsers[] = {"postgres", "app", "reporting_user_with_a_long_name"};
  static const char* const kHosts[] = {"[local]", "10.0.0.7", "2001:db8::17", ""};
  static const char* const kApps[] = {"pgbench", "", "psql", "a very long application name, with a comma"};
  FakeSession s;
  s.user = rng() % 10 == 0 ? "" : kUsers[rng() % std::size(kUsers)];
  s.dbname = rng() % 10 == 0 ? "" : s.user.empty() ? "postgres" : s.user;
  s.pid = std::to_string(1000 + index * 37);
  s.host = kHosts[rng() % std::size(kHosts)];
  s.port = s.host.empty() || s.host == "[local]" ? "" : std::to_string(40000 + rng() % 20000);
  char id[32];
  std::snprintf(id, sizeof id, "6b1468f7.%x", 0x700 + index);
  s.session_id = id;
  s.application = kApps[rng() % std::size(kApps)];
  s.backend_type = rng() % 8 == 0 ? "autovacuum worker" : "client backend";
  return s;
}

// The members of one jsonlog record of `s`, in the server's order.
std::vector<Member> session_members(std::mt19937& rng, const FakeSession& s, std::uint64_t line) {
  auto quoted = [](const std::string& v) { return "\"" + v + "\""; };
  std::vector<Member> m;
  m.push_back({"timestamp", rng() % 3 == 0 ? "\"2026-12-05 19:41:45.690 UTC\"" : "\"2026-12-05 19:41:45.691 UTC\""});
  if (!s.user.empty()) m.push_back({"user", quoted(s.user)});
  if (!s.dbname.empty()) m.push_back({"dbname", quoted(s.dbname)});
  m.push_back({"pid", s.pid});
  if (!s.host.empty()) m.push_back({"remote_host", quoted(s.host)});
  if (!s.port.empty()) m.push_back({"remote_port", s.port});
  m.push_back({"session_id", quoted(s.session_id)});
  m.push_back({"line_num", std::to_string(line)});
  m.push_back({"ps", rng() % 2 ? "\"BIND\"" : "\"idle in transaction\""});
  m.push_back({"session_start", "\"2026-12-05 19:41:43 UTC\""});
  if (rng() % 4 != 0) m.push_back({"vxid", "\"5/" + std::to_string(rng() % 5000) + "\""});
  m.push_back({"txid", std::to_string(rng() % 3 == 0 ? 0 : rng() % 100000)});
  const bool error = rng() % 10 == 0;
  m.push_back({"error_severity", error ? "\"ERROR\"" : "\"LOG\""});
  if (error) m.push_back({"state_code", "\"23505\""});
  m.push_back({"message", quoted(random_text(rng, 90, "abcdefgh ,:{}[]'"))});
  if (rng() % 3 == 0) m.push_back({"detail", "\"parameters: $1 = '5'\""});
  if (rng() % 20 == 0) m.push_back({"hint", "\"a hint\""});
  if (error && rng() % 2) m.push_back({"statement", "\"insert into t values (1)\""});
  if (!s.application.empty()) m.push_back({"application_name", quoted(s.application)});
  m.push_back({"backend_type", quoted(s.backend_type)});
  if (rng() % 10 == 0) m.push_back({"leader_pid", "1234"});
  m.push_back({"query_id", rng() % 5 == 0 ? "-4125418432125" : "0"});
  return m;
}

// An odd member list: what must not be taken from (or left in) a memo.
void make_odd(std::mt19937& rng, std::vector<Member>& m) {
  switch (rng() % 8) {
    case 0: m.push_back({"user", "\"intruder\""}); break;           // a second user, after the tail
    case 1: std::swap(m[1], m[2]); break;                             // head out of order
    case 2: m.insert(m.end() - 1, {"application_name", "\"late\""}); break;  // tail out of order
    case 3: m[1].value = "null"; break;                               // a null in the head
    case 4: m.back().value = "{\"a\":1}"; break;                      // nested in the tail
    case 5: m[m.size() - 2].value = "\"esc\\\"aped\""; break;         // escape in the tail
    case 6: m.erase(m.begin()); break;                                // no timestamp first
    default: m.insert(m.begin() + 3, {"remote_port", "5432"}); break;  // a port from nowhere
  }
}

}  // namespace

TEST_CASE("jsonlog reader: per-session memos of the head and tail members read like the general scanner",
          "[ingest]") {
  std::mt19937 rng(47);
  std::vector<FakeSession> sessions;
  for (int k = 0; k < 12; ++k) sessions.push_back(fake_session(rng, k));
  std::vector<std::string> compact, spaced;
  std::size_t odd = 0, changed = 0;
  std::vector<std::uint64_t> line_nums(sessions.size(), 0);
  for (int round = 0; round < 8000; ++round) {
    // Mostly a few sessions at a time, now and then more than the memo holds.
    const std::size_t k = round % 1000 < 700 ? rng() % 5 : rng() % sessions.size();
    FakeSession& s = sessions[k];
    if (rng() % 50 == 0) {  // SET application_name, a new connection in the slot...
      s = fake_session(rng, static_cast<int>(k));
      if (rng() % 2) s.application = "renamed";
      ++changed;
    }
    std::vector<Member> members = session_members(rng, s, ++line_nums[k]);
    if (rng() % 25 == 0) {
      make_odd(rng, members);
      ++odd;
    }
    compact.push_back(json_line(members, ""));
    spaced.push_back(json_line(members, " "));
    if (rng() % 40 == 0) {  // cut short: the same text for both readers
      compact.back().resize(rng() % compact.back().size());
      spaced.back() = compact.back();
    }
  }
  const auto run = read_jsonlog;
  InputSummary s_compact, s_spaced;
  std::vector<Fields> got = run(compact, s_compact), want = run(spaced, s_spaced);
  CHECK(s_compact.skipped_lines == s_spaced.skipped_lines);
  CHECK(s_compact.records == s_spaced.records);
  require_same(got, want, compact);
  CHECK(got.size() > 7000);
  CHECK(odd > 200);
  CHECK(changed > 100);
}

namespace {

std::string csv_quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The columns of one csvlog record of `s` as PostgreSQL 14+ writes them.
std::vector<std::string> session_columns(std::mt19937& rng, const FakeSession& s, std::uint64_t line) {
  const bool error = rng() % 10 == 0;
  std::string client = s.host.empty() ? "" : s.port.empty() ? s.host : s.host + ":" + s.port;
  return {rng() % 3 == 0 ? "2026-12-05 19:41:45.690 UTC" : "2026-12-05 19:41:45.691 UTC",
          s.user.empty() ? "" : csv_quoted(s.user),
          s.dbname.empty() ? "" : csv_quoted(s.dbname),
          s.pid,
          client.empty() ? "" : csv_quoted(client),
          s.session_id,
          std::to_string(line),
          csv_quoted(rng() % 2 ? "BIND" : "idle in transaction"),
          "2026-12-05 19:41:43 UTC",
          rng() % 4 == 0 ? "" : "5/" + std::to_string(rng() % 5000),
          std::to_string(rng() % 3 == 0 ? 0 : rng() % 100000),
          error ? "ERROR" : "LOG",
          error ? "23505" : "00000",
          csv_quoted(random_text(rng, 90, "abcdefgh ,\"")),
          rng() % 3 == 0 ? csv_quoted("parameters: $1 = '5'") : "",
          rng() % 20 == 0 ? csv_quoted("a hint") : "",
          "", "", "",
          error && rng() % 2 ? csv_quoted("insert into t values (1)") : "",
          "", "",
          csv_quoted(s.application),
          csv_quoted(s.backend_type),
          rng() % 10 == 0 ? "1234" : "",
          rng() % 5 == 0 ? "-4125418432125" : "0"};
}

// Odd records: what must not be taken from (or left in) a memo.
void make_odd_csv(std::mt19937& rng, std::vector<std::string>& c, const FakeSession& s) {
  switch (rng() % 10) {
    case 8: c.insert(c.begin() + 20, ""); break;                        // a column more before the tail
    case 9: c.erase(c.begin() + 20); break;                             // a column fewer before the tail
    case 0: c[1] = csv_quoted("o\"brien"); break;                      // doubled quotes in the head
    case 1: c[3] = "12\"3"; break;                                      // a quote in a bare head field
    case 2: c.pop_back(); break;                                        // one column fewer
    case 3: c.push_back("7"); break;                                    // one column more
    case 4:  // the message ends like the tail
      c[13] = csv_quoted("x\"," + csv_quoted(s.application) + "," + csv_quoted(s.backend_type) + ",,0");
      break;
    case 5: c[21] = "\"zz"; c[20] = "\"yy"; break;                      // quotes out of place before the tail
    case 6: c[0] = "\"" + c[0] + "\""; break;                           // a quoted time
    default: c[5] = ""; break;                                          // no session id
  }
}

}  // namespace

TEST_CASE("csvlog reader: per-session memos of the head and tail columns read like the field-by-field reading",
          "[ingest]") {
  std::mt19937 rng(53);
  std::vector<FakeSession> sessions;
  for (int k = 0; k < 12; ++k) sessions.push_back(fake_session(rng, k));
  std::vector<std::uint64_t> line_nums(sessions.size(), 0);
  InputSummary summary;
  ReaderContext ctx;
  ctx.summary = &summary;
  std::vector<Fields> got;
  ctx.emit = [&](model::LogRecord& r) { got.push_back(fields_of(r)); };
  ctx.warn = [](const std::string&) {};
  auto reader = make_reader("csvlog", "", ctx);
  std::vector<Fields> want;
  std::vector<std::string> lines;
  std::size_t odd = 0, changed = 0, skipped = 0;
  while (lines.size() < 8000) {
    const std::size_t k = lines.size() % 1000 < 700 ? rng() % 5 : rng() % sessions.size();
    FakeSession& s = sessions[k];
    if (rng() % 50 == 0) {  // SET application_name, a new connection in the slot...
      s = fake_session(rng, static_cast<int>(k));
      if (rng() % 2) s.application = "renamed";
      ++changed;
    }
    std::vector<std::string> columns = session_columns(rng, s, ++line_nums[k]);
    const bool is_odd = rng() % 25 == 0;
    if (is_odd) make_odd_csv(rng, columns, s);
    std::string line;
    for (std::size_t c = 0; c < columns.size(); ++c) line += (c > 0 ? "," : "") + columns[c];
    std::optional<Fields> expected = csv_reference(line, lines.size() + 1);
    if (!expected) continue;  // would wait for a continuation line
    if (is_odd) ++odd;
    if (expected->skipped) ++skipped; else want.push_back(*expected);
    lines.push_back(line);
    reader->line(Line{lines.back(), lines.size()});
  }
  reader->finish();
  CHECK(summary.skipped_lines == skipped);
  require_same(got, want, lines);
  CHECK(want.size() > 7000);
  CHECK(odd > 200);
  CHECK(changed > 100);
}
