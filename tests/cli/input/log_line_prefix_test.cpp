// The log_line_prefix matcher: every escape, padding, names with any
// characters, %q, and no space before the severity (RDS).
#include <catch2/catch.hpp>

#include "cli/input/log_line_prefix.h"
#include "cli/input/timestamp.h"

using namespace pgsift;
using pgsift::cli::input::LineTag;
using pgsift::cli::input::LogLinePrefix;
using pgsift::cli::input::PrefixFields;

namespace {
model::Timestamp utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
  return (cli::input::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) *
             model::kMicrosPerSecond +
         ms * 1000;
}
}  // namespace

TEST_CASE("prefix: the harness prefix with every field", "[ingest]") {
  LogLinePrefix p("%m [%p] %c %v %x %e %a %u@%d ");
  PrefixFields f;
  LineTag tag;
  std::string line =
      "2026-11-26 12:18:58.177 UTC [17975] 6b0823b2.4637 3/10415 42007 00000 app,v2 "
      "alice smith@shop db LOG:  duration: 1.000 ms  statement: SELECT 1";
  REQUIRE(p.match(line, f, tag));
  CHECK(f.time == utc(2026, 11, 26, 12, 18, 58, 177));
  CHECK(f.pid == 17975);
  CHECK(f.session_id == "6b0823b2.4637");
  CHECK(f.virtual_xid == "3/10415");
  CHECK(f.xid == 42007);
  CHECK(f.sqlstate == "00000");
  // Free-text names may contain the separators: the matcher backtracks.
  CHECK(f.application == "app,v2");
  CHECK(f.user == "alice smith");
  CHECK(f.database == "shop db");
  CHECK(tag.level == model::LogLevel::log);
  CHECK(line.substr(tag.text_start) == "duration: 1.000 ms  statement: SELECT 1");
}

TEST_CASE("prefix: an application name with spaces before the severity", "[ingest]") {
  LogLinePrefix p("%m [%p] %q%u@%d/%a ");
  PrefixFields f;
  LineTag tag;
  REQUIRE(p.match("2026-01-01 00:00:00.000 UTC [5] bob@db/PostgreSQL JDBC Driver LOG:  x", f, tag));
  CHECK(f.application == "PostgreSQL JDBC Driver");
  CHECK(f.user == "bob");
}

TEST_CASE("prefix: RDS has no space before the severity", "[ingest]") {
  LogLinePrefix p("%t:%r:%u@%d:[%p]:");
  PrefixFields f;
  LineTag tag;
  REQUIRE(p.match("2020-03-11 20:40:44 CET:10.0.3.121(36864):u@db:[12774]:LOG:  duration: 1 ms",
                  f, tag));
  CHECK(f.time == utc(2020, 3, 11, 19, 40, 44));  // CET = UTC+1
  CHECK(f.client == "10.0.3.121(36864)");
  CHECK(f.user == "u");
  CHECK(f.database == "db");
  CHECK(f.pid == 12774);
  // Background processes print empty session fields.
  REQUIRE(p.match("2020-03-11 20:40:43 CET::@:[12760]:LOG:  starting PostgreSQL 12.2", f, tag));
  CHECK(f.user.empty());
  CHECK(f.pid == 12760);
}

TEST_CASE("prefix: %q ends the prefix for non-session processes", "[ingest]") {
  LogLinePrefix p("%m [%p] %q%u@%d ");
  PrefixFields f;
  LineTag tag;
  REQUIRE(p.match("2025-01-21 18:32:48.288 CET [77898] LOG:  checkpoint starting: time", f, tag));
  CHECK(f.stopped_at_q);
  REQUIRE(p.match("2025-01-21 18:32:48.288 CET [77898] bob@db ERROR:  boom", f, tag));
  CHECK(f.user == "bob");
  CHECK(tag.level == model::LogLevel::error);
  CHECK_FALSE(p.match("pg_ctl: could not start server", f, tag));
}

TEST_CASE("prefix: padding, %n, %l, %Q, %b, %P, %i, %% and numeric zones", "[ingest]") {
  LogLinePrefix p("%n %-8u|%10d|%l %Q %b [%P] %i 100%% ");
  PrefixFields f;
  LineTag tag;
  REQUIRE(p.match("1700000000.123 bob     |      shop|7 -42 client backend [] SELECT waiting 100% "
                  "ERROR:  x",
                  f, tag));
  CHECK(f.time == 1700000000123000);
  CHECK(f.user == "bob");
  CHECK(f.database == "shop");
  CHECK(f.session_line == 7);
  CHECK(f.query_id == "-42");
  CHECK(f.backend_type == "client backend");
  CHECK(f.ps_display == "SELECT waiting");
  LogLinePrefix q("%t [%p] ");
  REQUIRE(q.match("2026-01-01 03:00:00 +03 [5] LOG:  x", f, tag));
  CHECK(f.time == utc(2026, 1, 1, 0, 0, 0));
  REQUIRE(q.match("2026-01-01 03:00:00 -0330 [5] LOG:  x", f, tag));
  CHECK(f.time == utc(2026, 1, 1, 6, 30, 0));
}

TEST_CASE("prefix: localized severities are recognised as such", "[ingest]") {
  LogLinePrefix p("%m [%p] ");
  PrefixFields f;
  LineTag tag;
  REQUIRE(p.match("2026-01-01 00:00:00.000 UTC [5] FEHLER:  Relation existiert nicht", f, tag));
  CHECK(tag.localized);
  CHECK(tag.level == model::LogLevel::unknown);
}

TEST_CASE("prefix: hostile lines cannot make matching slow", "[ingest]") {
  LogLinePrefix p("%u@%d@%a@%h ");
  PrefixFields f;
  LineTag tag;
  std::string line(20000, '@');
  CHECK_FALSE(p.match(line, f, tag));
}

TEST_CASE("timestamps: the per-thread minute cache never changes a result", "[ingest]") {
  using pgsift::cli::input::ParsedTime;
  using pgsift::cli::input::parse_sql_time;
  // Uncached reference values, computed from days_from_civil directly.
  const auto at = [](int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return (pgsift::cli::input::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) *
           pgsift::model::kMicrosPerSecond;
  };
  ParsedTime t;
  REQUIRE(parse_sql_time("2026-12-31 23:59:58.250 UTC", true, t));
  CHECK(t.time == at(2026, 12, 31, 23, 59, 58) + 250000);
  REQUIRE(parse_sql_time("2026-12-31 23:59:59 CET", true, t));  // same minute, other zone
  CHECK(t.time == at(2026, 12, 31, 23, 59, 59) - 3600 * pgsift::model::kMicrosPerSecond);
  REQUIRE(parse_sql_time("2027-01-01 00:00:00.000001 UTC", true, t));  // next minute, next year
  CHECK(t.time == at(2027, 1, 1, 0, 0, 0) + 1);
  REQUIRE(parse_sql_time("2026-12-31 23:59:58.250 UTC", true, t));  // back again
  CHECK(t.time == at(2026, 12, 31, 23, 59, 58) + 250000);
  // A cached minute does not make a bad second or a bad minute readable.
  CHECK_FALSE(parse_sql_time("2026-12-31 23:59:6x UTC", true, t));
  CHECK_FALSE(parse_sql_time("2026-12-31 23:59:61 UTC", true, t));
  CHECK_FALSE(parse_sql_time("2026-12-31 23:60:00 UTC", true, t));
  CHECK_FALSE(parse_sql_time("2026-12-31 23:59", true, t));
}

TEST_CASE("prefix: the cached minute and zone of %m never change a timestamp", "[ingest]") {
  LogLinePrefix p("%m [%p] ");
  PrefixFields f;
  LineTag tag;
  // Same minute, then another zone, an unknown zone, a longer zone word that
  // starts with the cached one, no fraction, and a numeric offset.
  REQUIRE(p.match("2026-03-01 10:20:30.125 UTC [1] LOG:  a", f, tag));
  CHECK(f.time == utc(2026, 3, 1, 10, 20, 30, 125));
  REQUIRE(p.match("2026-03-01 10:20:31.5 UTC [1] LOG:  a", f, tag));
  CHECK(f.time == utc(2026, 3, 1, 10, 20, 31, 500));
  REQUIRE(p.match("2026-03-01 10:20:32.000 CET [1] LOG:  a", f, tag));
  CHECK(f.time == utc(2026, 3, 1, 9, 20, 32));
  CHECK(f.zone_known);
  REQUIRE(p.match("2026-03-01 10:20:33.000 CETX [1] LOG:  a", f, tag));
  CHECK_FALSE(f.zone_known);
  CHECK(f.time == utc(2026, 3, 1, 10, 20, 33));
  REQUIRE(p.match("2026-03-01 10:20:34.000 CET [1] LOG:  a", f, tag));
  CHECK(f.zone_known);
  CHECK(f.time == utc(2026, 3, 1, 9, 20, 34));
  REQUIRE(p.match("2026-03-01 10:20:35 CET [1] LOG:  a", f, tag));
  CHECK(f.time == utc(2026, 3, 1, 9, 20, 35));
  REQUIRE(p.match("2026-03-01 10:20:36.000 +01 [1] LOG:  a", f, tag));
  CHECK(f.time == utc(2026, 3, 1, 9, 20, 36));
  CHECK_FALSE(p.match("2026-03-01 10:20:6x.000 CET [1] LOG:  a", f, tag));
  CHECK_FALSE(p.match("2026-03-01 10:20:61.000 CET [1] LOG:  a", f, tag));
}

TEST_CASE("prefix: when the first occurrence of a literal is not the end of a name",
          "[ingest]") {
  LogLinePrefix p("%m [%p] %q%u@%d/%a %x ");
  PrefixFields f;
  LineTag tag;
  // The application name has spaces and digits: "app 12" looks like the
  // name "app" and xid 12 until the severity is missing.
  REQUIRE(p.match("2026-03-01 10:20:30.125 UTC [7] bob@db/app 12 x 0 LOG:  a", f, tag));
  CHECK(f.application == "app 12 x");
  CHECK(f.xid == 0);
  CHECK(f.user == "bob");
  CHECK_FALSE(f.stopped_at_q);
  REQUIRE(p.match("2026-03-01 10:20:30.125 UTC [7] bob@db/app 12 ERROR:  a", f, tag));
  CHECK(f.application == "app");
  CHECK(f.xid == 12);
  CHECK(tag.level == model::LogLevel::error);
  // A process without a session: the message's '@' and '/' are not fields.
  REQUIRE(p.match("2026-03-01 10:20:30.125 UTC [8] LOG:  mail a@b/c 5 x", f, tag));
  CHECK(f.stopped_at_q);
  CHECK(f.user.empty());
  CHECK(f.application.empty());
  CHECK(f.xid == 0);
  CHECK(f.pid == 8);
}

TEST_CASE("prefix: where the message text starts after a severity word", "[ingest]") {
  using pgsift::cli::input::parse_line_tag;
  LineTag tag;
  const auto start = [&](std::string_view line, std::size_t pos) -> long {
    return parse_line_tag(line, pos, tag) ? static_cast<long>(tag.text_start) : -1;
  };
  CHECK(start("LOG:  x", 0) == 6);
  CHECK(tag.level == model::LogLevel::log);
  CHECK_FALSE(tag.localized);
  CHECK(start("ab LOG: x", 3) == 8);
  CHECK(start("LOG:   x", 0) == 6);  // at most two spaces are separators
  CHECK(start("LOG: ", 0) == 5);
  CHECK(start("LOG:", 0) == 4);
  CHECK(start("LOG:x", 0) == -1);
  CHECK(start("LOGS:  x", 0) == -1);
  CHECK(start("DETAIL:  x", 0) == 9);
  CHECK(tag.level == model::LogLevel::detail);
  CHECK(start("FEHLER:  x", 0) == 9);
  CHECK(tag.localized);
}

TEST_CASE("prefix: the memo of repeated line tails never changes a result", "[ingest]") {
  // One matcher sees every line (its memo warm, tails repeating); a fresh
  // matcher per line has an empty memo and takes the first path or
  // backtracks. Both must say the same about every line.
  const auto same = [](const PrefixFields& a, const PrefixFields& b) {
    return a.time == b.time && a.zone_known == b.zone_known &&
           a.stopped_at_q == b.stopped_at_q && a.pid == b.pid &&
           a.session_line == b.session_line && a.xid == b.xid && a.session_id == b.session_id &&
           a.user == b.user && a.database == b.database && a.application == b.application &&
           a.client == b.client && a.virtual_xid == b.virtual_xid &&
           a.backend_type == b.backend_type && a.sqlstate == b.sqlstate &&
           a.query_id == b.query_id && a.ps_display == b.ps_display;
  };
  const std::vector<std::string> tails = {
      "[7] bob@db/app 0 LOG:  duration: 1 ms",
      "[7] bob@db/app 0 LOG:   three spaces",
      "[7] bob@db/app 0 LOG: one space",
      "[7] bob@db/app 0 LOG:  ",  // ends at the message start
      "[7] bob@db/app 0 LOG:",
      "[7] bob@db/app 0 LOG:x",
      "[7] bob@db/app 0 ERROR:  boom",
      "[7] bob@db/app 0 ERROR: boom",
      "[7] bob@db/app 0 FEHLER:  kaputt",
      "[7] bob@db/app 12 x 0 LOG:  app name with spaces",
      "[7] bob@db/app 12 LOG:  xid 12",
      "[7] bob@db/app 123 LOG:  xid 123",
      "[7] b@b@db/app 0 LOG:  user with @",
      "[77] bob@db/app 0 LOG:  another pid",
      "[7] LOG:  no session part",
      "[7] LOG:  mail a@b/c 5 x",
      "[7]  LOG:  two spaces",
      "[7] bob@db/app 0 STATEMENT:  select 1",
      "[7] bob@db/app 0 DETAIL:  parameters: $1 = '1'",
      "[7] bob@db/app 0 LOGX:  not a severity",
      "[7] bob@db/" + std::string(150, 'a') + " 0 LOG:  long application name",
      "[7] bob@db/app 0",
      "[7] bob@db/app 0 ",
      "[7",
      "",
  };
  const std::vector<std::string> times = {"2026-03-01 10:20:30.125 UTC ",
                                          "2026-03-01 10:20:31 UTC ", "2026-03-01 10:20:32.5 CET ",
                                          "2026-03-01 10:2"};
  for (const std::string prefix : {"%m [%p] %q%u@%d/%a %x ", "%t [%p] %q%u@%d/%a %x "}) {
    LogLinePrefix warm(prefix);
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < tails.size() * times.size(); ++i) {
        // Interleaved orders so that every tail follows every other one.
        const std::string line = times[(i + round) % times.size()] +
                                 tails[(i * (round + 1) + round) % tails.size()];
        PrefixFields a, b;
        LineTag ta, tb;
        const bool ok_warm = warm.match(line, a, ta);
        LogLinePrefix fresh(prefix);
        const bool ok_fresh = fresh.match(line, b, tb);
        INFO(prefix << " | " << line);
        REQUIRE(ok_warm == ok_fresh);
        if (!ok_warm) continue;
        CHECK(same(a, b));
        CHECK(ta.level == tb.level);
        CHECK(ta.localized == tb.localized);
        CHECK(ta.text_start == tb.text_start);
        // The views point into this line, not into an earlier one.
        if (!a.user.empty()) {
          CHECK(a.user.data() >= line.data());
          CHECK(a.user.data() < line.data() + line.size());
        }
      }
    }
  }
  // The prefix README recommends: %l, %v, %x and %Q change from line to
  // line and are parsed again on a memo hit (holes), the rest is compared.
  const std::string full = "%m [%p] %q%c %l %v %x %u@%d/%a %r %Q ";
  const std::vector<std::string> full_tails = {
      "[7] 6751.7 1 3/0 0 bob@db/app [local] 0 LOG:  a",
      "[7] 6751.7 2 3/1 0 bob@db/app [local] 0 LOG:  b",
      "[7] 6751.7 3 3/12 731 bob@db/app [local] -4321 LOG:  c",
      "[7] 6751.7 40 3/12 731 bob@db/app [local] 98765 ERROR:  d",
      "[7] 6751.7 41  0 bob@db/app [local] 0 LOG:  no vxid",
      "[7] 6751.7 42 3/ 0 bob@db/app [local] 0 LOG:  half a vxid",
      "[7] 6751.7 43 3/12 x bob@db/app [local] 0 LOG:  not a number",
      "[7] 6751.7 44 3/12 7 bob@db/app [local]  LOG:  no query id",
      "[7] 6751.7 45 3/12 7 bob@db/app 127.0.0.1(5432) 12 LOG:  tcp",
      "[7] 6751.8 1 3/0 0 bob@db/app [local] 0 LOG:  next session",
      "[8] LOG:  checkpoint starting",
      "[7] 6751.7 46 3/12 12 x 7 bob@db/app [local] 0 LOG:  xid look-alike",
      "[7] 6751.7 47 12345678/1234567890123 7 bob@db/app [local] -1234567890123456789 LOG:  long",
      "[7] 6751.7 48 12345678/12345678 7 bob@db/app [local] 12345678 LOG:  eight digits",
      "[7] 6751.7 49 12345678/ 7 bob@db/app [local] - LOG:  signs without digits",
  };
  LogLinePrefix warm_full(full);
  for (int round = 0; round < 4; ++round) {
    for (std::size_t i = 0; i < full_tails.size() * 3; ++i) {
      const std::string line =
          "2026-03-01 10:20:3" + std::to_string(i % 10) + ".125 UTC " +
          full_tails[(i * (round + 1) + round) % full_tails.size()];
      PrefixFields a, b;
      LineTag ta, tb;
      const bool ok_warm = warm_full.match(line, a, ta);
      LogLinePrefix fresh(full);
      const bool ok_fresh = fresh.match(line, b, tb);
      INFO(line);
      REQUIRE(ok_warm == ok_fresh);
      if (!ok_warm) continue;
      CHECK(same(a, b));
      CHECK(ta.level == tb.level);
      CHECK(ta.text_start == tb.text_start);
    }
  }
  // Every line differs in %l: the holes keep the memo useful.
  LogLinePrefix counted("%m [%p-%l] ");
  for (int n = 1; n <= 20000; ++n) {
    const std::string line =
        "2026-03-01 10:20:30.125 UTC [7-" + std::to_string(n) + "] LOG:  line " + std::to_string(n);
    PrefixFields f;
    LineTag tag;
    REQUIRE(counted.match(line, f, tag));
    REQUIRE(f.session_line == static_cast<std::uint64_t>(n));
    REQUIRE(f.pid == 7);
    REQUIRE(line.substr(tag.text_start) == "line " + std::to_string(n));
  }
  // Every line differs where no hole can be (%c): still right while the
  // memo pauses itself.
  LogLinePrefix sessions("%m [%c] ");
  for (int n = 1; n <= 20000; ++n) {
    const std::string id = "6751." + std::to_string(n);
    const std::string line = "2026-03-01 10:20:30.125 UTC [" + id + "] LOG:  line";
    PrefixFields f;
    LineTag tag;
    REQUIRE(sessions.match(line, f, tag));
    REQUIRE(f.session_id == id);
  }
}

TEST_CASE("prefix: a session's LOG and DETAIL lines share their memo slot", "[ingest]") {
  // The two entries of a slot differ only after the %x hole: a miss on the
  // first compares the second's last segment in place. Interleaved tags,
  // xids of every length and a second session in between must read exactly
  // as a fresh matcher reads them.
  const std::string prefix = "%m [%p] %q%u@%d/%a %x ";
  const std::vector<std::string> tags = {"LOG:  duration: 0.1 ms", "DETAIL:  parameters: $1 = '1'",
                                         "LOG:  duration: 2 ms", "ERROR:  boom",
                                         "STATEMENT:  select 1", "DETAIL:  x"};
  LogLinePrefix warm(prefix);
  int hits_checked = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string pid = i % 7 == 0 ? "[8] " : "[7] ";
    const std::string user = i % 11 == 0 ? "eve@db/app " : "bob@db/app ";
    const std::string xid = std::to_string((i % 5) * 1237 % 100003);
    const std::string line = "2026-03-01 10:20:30." + std::to_string(100 + i % 900) + " UTC " + pid +
                             user + xid + " " + tags[(i * 3 + i / 5) % tags.size()];
    PrefixFields a, b;
    LineTag ta, tb;
    const bool ok_warm = warm.match(line, a, ta);
    LogLinePrefix fresh(prefix);
    const bool ok_fresh = fresh.match(line, b, tb);
    INFO(line);
    REQUIRE(ok_warm == ok_fresh);
    REQUIRE(ok_warm);
    CHECK(a.pid == b.pid);
    CHECK(a.xid == b.xid);
    CHECK(a.user == b.user);
    CHECK(a.application == b.application);
    CHECK(ta.level == tb.level);
    CHECK(ta.text_start == tb.text_start);
    ++hits_checked;
  }
  CHECK(hits_checked == 600);
}

TEST_CASE("prefix: a memo hit compares every byte of its segments", "[ingest]") {
  // The memo compares a segment a word at a time, its last eight bytes as
  // one word overlapping the one before. Segments of every length from 1
  // to past 40 bytes (the user name sets the first one's, the severity
  // word the last one's): the memo is warmed with a line, then each byte
  // of that line's prefix in turn is replaced by one that changes what it
  // means (a digit, a separator, another letter). A hit must then read the
  // changed line exactly as a fresh matcher does.
  const auto same = [](const PrefixFields& a, const PrefixFields& b) {
    return a.time == b.time && a.zone_known == b.zone_known &&
           a.stopped_at_q == b.stopped_at_q && a.pid == b.pid &&
           a.session_line == b.session_line && a.xid == b.xid && a.user == b.user &&
           a.database == b.database && a.application == b.application &&
           a.virtual_xid == b.virtual_xid && a.query_id == b.query_id;
  };
  const std::vector<std::string> tags = {"LOG:  duration: 1 ms", "DETAIL:  parameters: $1 = '1'",
                                         "STATEMENT:  select 1", "ERROR:  boom"};
  const std::string replacements = "0 9@/[]:Xa";
  int compared = 0;
  for (const std::string prefix : {"%m [%p] %q%u@%d/%a %x ", "%m [%p] %q%u@%d/%a %x %Q "}) {
    const bool query_id = prefix.find("%Q") != std::string::npos;
    for (std::size_t n = 1; n <= 44; ++n) {
      const std::string user(n, static_cast<char>('a' + n % 26));
      const std::string tag = tags[n % tags.size()];
      const std::string line = "2026-03-01 10:20:30.125 UTC [4711] " + user + "@db/app " +
                               std::to_string(n * 37) + " " + (query_id ? "-12 " : "") + tag;
      const std::size_t start = line.find('[');
      const std::size_t end = line.find(':', line.find(tag.substr(0, 3))) + 4;
      for (std::size_t i = start; i < end && i < line.size(); ++i) {
        for (char c : replacements) {
          if (line[i] == c) continue;
          LogLinePrefix warm(prefix);
          PrefixFields a, b;
          LineTag ta, tb;
          REQUIRE(warm.match(line, a, ta));  // the memo now holds this line
          std::string changed = line;
          changed[i] = c;
          const bool ok_warm = warm.match(changed, a, ta);
          LogLinePrefix fresh(prefix);
          const bool ok_fresh = fresh.match(changed, b, tb);
          INFO(prefix << " | " << changed);
          REQUIRE(ok_warm == ok_fresh);
          ++compared;
          if (!ok_warm) continue;
          CHECK(same(a, b));
          CHECK(ta.level == tb.level);
          CHECK(ta.text_start == tb.text_start);
        }
      }
    }
  }
  CHECK(compared > 20000);
}

TEST_CASE("prefix: a memo entry's last xid is reused only for the same digits", "[ingest]") {
  // A %x hole whose digits (and the byte after them) repeat those it read
  // last takes that xid without reading them. xids that share a start
  // ("12", "123"), differ in one digit, fill the word (7 digits and the
  // space) or pass it (8 digits), and lines ending right after the xid,
  // in one session's LOG and DETAIL lines: each must read as a fresh
  // matcher reads it.
  const std::string prefix = "%m [%p] %q%u@%d/%a %x ";
  const std::vector<std::string> xids = {"0",       "0",       "12",       "12",      "123",
                                         "12",      "13",      "1234567",  "1234567", "1234568",
                                         "12345678", "12345678", "12345679", "1",       "10",
                                         "0",       "9",       "99",       "999999",  "999998"};
  const std::vector<std::string> tails = {" LOG:  duration: 1 ms", " DETAIL:  parameters: $1 = '1'",
                                          " LOG:  x", " LOG:", "", " ERROR:  boom"};
  LogLinePrefix warm(prefix);
  int matched = 0;
  for (int round = 0; round < 6; ++round) {
    for (std::size_t i = 0; i < xids.size() * tails.size(); ++i) {
      const std::string line = "2026-03-01 10:20:30.125 UTC [7] bob@db/app " +
                               xids[(i + round) % xids.size()] +
                               tails[(i * (round + 1) / 2) % tails.size()];
      PrefixFields a, b;
      LineTag ta, tb;
      const bool ok_warm = warm.match(line, a, ta);
      LogLinePrefix fresh(prefix);
      const bool ok_fresh = fresh.match(line, b, tb);
      INFO(line);
      REQUIRE(ok_warm == ok_fresh);
      if (!ok_warm) continue;
      ++matched;
      CHECK(a.xid == b.xid);
      CHECK(a.pid == b.pid);
      CHECK(a.application == b.application);
      CHECK(ta.level == tb.level);
      CHECK(ta.text_start == tb.text_start);
    }
  }
  CHECK(matched > 300);
}
