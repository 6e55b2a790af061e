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
