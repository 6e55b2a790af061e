// Every log of pgBadger's own test fixtures (../shared/corpus/pgbadger-fixtures,
// reference/logs.md §3.3) is read without error with its prefix detected, and
// pgsift's statement and lock counts are compared with pgBadger's report on
// the same file (pgbadger, the Debian package, is run by the test). Where the
// two differ, the table says why.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/input/log_source.h"

namespace {

using namespace pgsift;

struct Fixture {
  const char* file;
  const char* format;         // expected detected format
  const char* prefix;         // expected detected prefix ("" for csv/json)
  const char* pgbadger_args;  // what pgBadger 12.0 needs to read it
  // pgsift's statement count when it differs from pgBadger's, with the reason.
  long statements_if_different;
  const char* why;
};

const Fixture kFixtures[] = {
    {"anonymize.log", "csvlog", "", "-f csv", -1, ""},
    {"begin_end.log", "stderr", "%t [%p]: db=%d,user=%u,app=%a,client=%h ", "", -1, ""},
    {"cloudsql.log.gz", "cloudsql", "[%p]: [%l-1] db=%d,user=%u ", "", -1, ""},
    {"cnpg.log.gz", "cnpg", "", "-f jsonlog", 400,
     "pgBadger 12.0 (Debian 12) predates CloudNativePG support (#760) and finds 0 queries; "
     "the file holds 400 'duration: N ms  statement:' records"},
    {"csv_statement_without_duration.log", "csvlog", "", "-f csv", -1, ""},
    {"light.postgres.log.bz2", "stderr", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", "",
     -1, ""},
    {"logplex.gz", "syslog", " sql_error_code = %e ", "", -1, ""},
    {"multiline_param.log", "stderr", "%m [%p] user=%u,db=%d ", "", -1, ""},
    {"pg-syslog.1.bz2", "syslog", "db=%d,user=%u,app=%a,client=%h ", "", -1, ""},
    {"pg-syslog.2.gz", "syslog", "db=%d,user=%u,app=%a,client=%h ", "", -1, ""},
    {"pg-timezones.log", "stderr", "%t:%r:%u@%d:[%p]:",  // %r and %h print alike without a port
     "-p '%t:%h:%u@%d:[%p]:'", -1, ""},
    {"pg_rawcsv.log", "stderr", "%m [%p] %q%u@%d ", "", -1, ""},
    {"pg_vacuums.json.gz", "jsonlog", "", "-f jsonlog", -1, ""},
    {"pg_vacuums.log.gz", "stderr", "%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ", "", -1, ""},
    {"postgresql_param_range.log", "stderr", "%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ",
     "-p '%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a'", -1, ""},
    {"queryid.log.gz", "stderr", "%m [%p] [queryid=%Q] %q%u@%d ", "", -1, ""},
    {"rds.log.bz2", "stderr", "%t:%r:%u@%d:[%p]:", "", -1, ""},
    {"stmt_type.log", "stderr", "%m [%p] ", "", -1, ""},
    {"tempfile_only.log.gz", "stderr", "%t [%p]: [%l-1] user=%u,db=%d ", "", -1, ""},
    {"weeknumber.log", "csvlog", "", "-f csv", -1, ""},
};

const std::string kCorpus = std::string(SHARED_DIR) + "/corpus/pgbadger-fixtures/";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "Number of queries: 59,871" -> 59871; -1 when absent.
long number_after(const std::string& text, const std::string& label) {
  std::size_t p = text.find(label);
  if (p == std::string::npos) return -1;
  long v = 0;
  bool any = false;
  for (std::size_t i = p + label.size(); i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      any = true;
    } else if (c != ',' && !(c == ' ' && !any)) {
      break;
    }
  }
  return any ? v : -1;
}

struct PgBadgerCounts {
  long queries = -1;
  long locks_acquired = 0;  // "Locks by type ... Total:" (built from "acquired" lines only)
};

PgBadgerCounts run_pgbadger(const Fixture& f) {
  std::string out = (std::filesystem::temp_directory_path() /
                     ("pgsift-pgbadger-" + std::to_string(::getpid()) + ".txt"))
                        .string();
  std::string cmd = std::string("pgbadger -q --pid-file pgsift-") + std::to_string(::getpid()) + ".pid -x text -o " + out + " " + f.pgbadger_args + " '" +
                    kCorpus + f.file + "' >/dev/null 2>&1";
  PgBadgerCounts c;
  if (std::system(cmd.c_str()) != 0) return c;
  std::string report = slurp(out);
  std::filesystem::remove(out);
  c.queries = number_after(report, "Number of queries:");
  std::size_t locks = report.find("- Locks by type");
  if (locks != std::string::npos) {
    std::size_t total = report.find("Total:", locks);
    if (total != std::string::npos) {
      std::string rest = report.substr(total + 6, 40);
      c.locks_acquired = std::strtol(rest.c_str(), nullptr, 10);
    }
  }
  return c;
}

}  // namespace

TEST_CASE("corpus: pgBadger's fixtures read with detected prefixes; counts match pgBadger's",
          "[ingest][corpus]") {
  for (const Fixture& f : kFixtures) {
    SECTION(f.file) {
      std::vector<cli::input::InputSummary> summaries;
      std::ostringstream err;
      long statements = 0, acquired = 0, locks = 0;
      std::string error = cli::input::read_logs(
          {kCorpus + f.file}, {},
          [&](const model::Event& e) {
            if (std::holds_alternative<model::StatementEvent>(e.body)) ++statements;
            if (auto* l = std::get_if<model::LockEvent>(&e.body)) {
              ++locks;
              if (l->phase == model::LockEvent::Phase::acquired) ++acquired;
            }
          },
          summaries, err);
      INFO(err.str());
      REQUIRE(error.empty());
      REQUIRE(summaries.size() == 1);
      const cli::input::InputSummary& s = summaries[0];
      CHECK(s.format == f.format);
      CHECK(s.prefix == f.prefix);
      CHECK(s.skipped_lines == 0);
      CHECK(s.records > 0);
      CHECK(static_cast<long>(s.statements) == statements);

      PgBadgerCounts badger = run_pgbadger(f);
      REQUIRE(badger.queries >= 0);
      if (f.statements_if_different >= 0) {
        INFO(f.why);
        CHECK(statements == f.statements_if_different);
        CHECK(badger.queries != statements);
      } else {
        CHECK(statements == badger.queries);
      }
      // pgBadger's lock report counts only "acquired" lines (logs.md §3.1).
      CHECK(acquired == badger.locks_acquired);
    }
  }
}

TEST_CASE("corpus: Heroku logplex lock waits and the three-process deadlock", "[ingest]") {
  std::vector<cli::input::InputSummary> summaries;
  std::ostringstream err;
  std::vector<model::Event> events;
  std::string error = cli::input::read_logs(
      {kCorpus + "logplex.gz"}, {},
      [&](const model::Event& e) {
        if (!std::holds_alternative<model::OtherEvent>(e.body)) events.push_back(e);
      },
      summaries, err);
  REQUIRE(error.empty());
  const model::DeadlockEvent* deadlock = nullptr;
  const model::LockEvent* waiting = nullptr;
  for (const model::Event& e : events) {
    if (auto* d = std::get_if<model::DeadlockEvent>(&e.body)) deadlock = d;
    if (auto* l = std::get_if<model::LockEvent>(&e.body); l && waiting == nullptr) waiting = l;
  }
  REQUIRE(waiting != nullptr);
  CHECK(waiting->phase == model::LockEvent::Phase::still_waiting);
  CHECK(waiting->holders == std::vector<std::int32_t>{4821});
  CHECK(waiting->wait_queue == std::vector<std::int32_t>{4886, 4882});
  CHECK(waiting->relation_name == "redacted_table_2");
  CHECK(waiting->tuple == "(1508245,182)");
  CHECK(waiting->statement.rfind("WITH redacted_table as", 0) == 0);
  REQUIRE(deadlock != nullptr);
  REQUIRE(deadlock->cycle.size() == 3);
  CHECK(deadlock->cycle[2].pid == 4796);
  CHECK(deadlock->cycle[2].blocked_by_pid == 4849);
  CHECK(deadlock->cycle[2].statement.find("NEST-2193577") != std::string::npos);
  // The multi-chunk statement ([921320-1..6]) is reassembled into one execution.
  bool multi = false;
  for (const model::Event& e : events) {
    if (auto* s = std::get_if<model::StatementEvent>(&e.body))
      multi = multi || (s->sql.find("redundant_missions_count") != std::string::npos &&
                        s->sql.find("perform',job") != std::string::npos);
  }
  CHECK(multi);
}
