// Against a real PostgreSQL 15 (tests/testing/pg_cluster.h): one workload,
// logged at once as stderr, csvlog and jsonlog, yields identical statement
// executions and lock events from each file; and for pgbench runs logged
// with log_min_duration_statement = 0, pgsift's statement count equals
// pgBadger's "Number of queries" on the same file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <unistd.h>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/input/log_source.h"
#include "tests/testing/pg_cluster.h"

namespace {

using namespace pgsift;
using testing::BackgroundStatement;
using testing::LogKind;
using testing::PgCluster;

struct Read {
  std::vector<std::string> executions, locks;
  std::size_t sessions_with_id = 0, statements = 0;
  cli::input::InputSummary summary;
  std::string error;
};

Read read(const std::filesystem::path& path) {
  Read r;
  std::vector<cli::input::InputSummary> summaries;
  std::ostringstream err;
  r.error = cli::input::read_logs(
      {path.string()}, {},
      [&](const model::Event& e) {
        if (auto* s = std::get_if<model::StatementEvent>(&e.body)) {
          std::ostringstream o;
          o << e.header.pid << '|' << e.header.session_id << '|' << s->sql << '|'
            << s->duration_ms << '|' << s->prepared_name << '|';
          for (const auto& p : s->parameters) o << (p ? "'" + *p + "'" : "NULL") << ',';
          r.executions.push_back(o.str());
          if (!e.header.session_id.empty()) ++r.sessions_with_id;
          ++r.statements;
        } else if (auto* l = std::get_if<model::LockEvent>(&e.body)) {
          std::ostringstream o;
          o << e.header.pid << '|' << e.header.session_id << '|' << static_cast<int>(l->phase)
            << '|' << l->mode << '|' << l->object << '|' << l->elapsed_ms << '|'
            << l->relation_name << '|' << l->tuple << '|' << l->holders.size() << '|'
            << l->statement;
          r.locks.push_back(o.str());
        }
      },
      summaries, err);
  if (!summaries.empty()) r.summary = summaries[0];
  return r;
}

long pgbadger_queries(const std::filesystem::path& log, const std::string& prefix) {
  std::filesystem::path out = std::filesystem::temp_directory_path() /
                              ("pgsift-pgbadger-" + std::to_string(::getpid()) + ".txt");
  std::string cmd = "pgbadger -q --pid-file pgsift-" + std::to_string(::getpid()) + ".pid -x text -o '" + out.string() + "' -p '" + prefix + "' '" +
                    log.string() + "' >'" + out.string() + ".err' 2>&1";
  int status = std::system(cmd.c_str());
  if (status != 0) {
    std::ifstream err(out.string() + ".err");
    std::ostringstream text;
    text << err.rdbuf();
    FAIL_CHECK("pgbadger failed: " << text.str());
    return -1;
  }
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t p = line.find("Number of queries: ");
    if (p == std::string::npos) continue;
    long v = 0;
    for (char c : line.substr(p + 19)) {
      if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
    }
    std::filesystem::remove(out);
    return v;
  }
  return -1;
}

// Executions ("pid|session|...") grouped by session, each session's in log order.
std::vector<std::string> in_session_order(std::vector<std::string> executions) {
  const auto session = [](const std::string& e) { return e.substr(0, e.find('|', e.find('|') + 1)); };
  std::stable_sort(executions.begin(), executions.end(),
                   [&session](const std::string& a, const std::string& b) { return session(a) < session(b); });
  return executions;
}

}  // namespace

TEST_CASE("pg: stderr, csvlog and jsonlog of one real workload give the same events",
          "[pg][ingest]") {
  PgCluster pg;
  auto a = pg.connect();
  auto b = pg.connect();
  a.exec("CREATE TABLE acct (id int PRIMARY KEY, bal int, note text)");
  a.exec("INSERT INTO acct SELECT g, 100, 'n' || g FROM generate_series(1, 20) g");
  a.exec("SELECT id,\n       bal\n  FROM acct\n WHERE id = 1");
  a.exec_params("SELECT bal, note FROM acct WHERE id = $1 AND note <> $2", {"3", "it's"});
  a.prepare("upd", "UPDATE acct SET bal = bal + $1, note = $2 WHERE id = $3");
  a.exec_prepared("upd", {"1", std::nullopt, "2"});
  a.exec_prepared("upd", {"2", "line1\nline2", "4"});
  // A lock wait: b waits on a's row until a commits (deadlock_timeout 200ms).
  a.exec("BEGIN");
  a.exec("UPDATE acct SET bal = 0 WHERE id = 5");
  {
    BackgroundStatement waiter(b, "UPDATE acct SET bal = 1 WHERE id = 5");
    REQUIRE(waiter.wait_until_lock_wait(pg.observer()));
    REQUIRE(pg.wait_for_log("still waiting for ShareLock"));
    a.exec("COMMIT");
    REQUIRE(waiter.join().ok());
  }
  a.expect_error("SELECT * FROM no_such_table");
  pg.sync_logs();

  Read text = read(pg.log_path(LogKind::stderr_log));
  Read csv = read(pg.log_path(LogKind::csvlog));
  Read json = read(pg.log_path(LogKind::jsonlog));
  REQUIRE(text.error.empty());
  REQUIRE(csv.error.empty());
  REQUIRE(json.error.empty());
  CHECK(text.summary.format == "stderr");
  CHECK(text.summary.prefix == testing::kDefaultLogLinePrefix);
  CHECK(csv.summary.format == "csvlog");
  CHECK(json.summary.format == "jsonlog");
  CHECK(text.summary.skipped_lines == 0);
  CHECK(text.summary.noise_lines == 0);

  CHECK(text.statements >= 10);
  CHECK(text.sessions_with_id == text.statements);  // %c read from the prefix
  // Each backend writes a message to every destination in turn, so two
  // sessions finishing at once (the COMMIT and the waiter it releases) may be
  // interleaved differently in each file; within a session the order holds.
  CHECK(in_session_order(text.executions) == in_session_order(csv.executions));
  CHECK(in_session_order(text.executions) == in_session_order(json.executions));
  REQUIRE(text.locks.size() == 2);  // still waiting, acquired
  CHECK(text.locks == csv.locks);
  CHECK(text.locks == json.locks);
  CHECK(text.locks[0].find("|0|ShareLock|transaction ") != std::string::npos);
  CHECK(text.locks[1].find("|1|ShareLock|transaction ") != std::string::npos);
  CHECK(text.locks[0].find("|acct|(0,5)|1|UPDATE acct SET bal = 1 WHERE id = 5") !=
        std::string::npos);
  // The extended protocol: one execution per execute, with its parameters.
  bool params = false, null_param = false, newline_param = false;
  for (const std::string& e : text.executions) {
    params = params || e.find("|'3','it''s',") != std::string::npos ||
             e.find("|'3','it's',") != std::string::npos;
    null_param = null_param || e.find("|'1',NULL,'2',") != std::string::npos;
    newline_param = newline_param || e.find("'line1\nline2'") != std::string::npos;
  }
  CHECK(params);
  CHECK(null_param);
  CHECK(newline_param);
}

TEST_CASE("pg: pgbench logged with log_min_duration_statement=0: counts equal pgBadger's",
          "[pg][ingest]") {
  PgCluster pg;
  testing::pgbench_init(pg);
  for (const char* protocol : {"simple", "extended", "prepared"}) {
    testing::PgbenchOptions o;
    o.protocol = protocol;
    o.clients = 2;
    o.transactions = 40;
    testing::PgbenchRun run(pg, o);
    REQUIRE(run.wait().exit_code == 0);
  }
  pg.sync_logs();
  pg.stop();
  Read text = read(pg.log_path(LogKind::stderr_log));
  REQUIRE(text.error.empty());
  // 3 runs x 2 clients x 40 transactions x 7 statements, plus pgbench -i.
  CHECK(text.statements >= 3 * 2 * 40 * 7);
  long badger = pgbadger_queries(pg.log_path(LogKind::stderr_log), testing::kDefaultLogLinePrefix);
  CHECK(badger == static_cast<long>(text.statements));
  Read json = read(pg.log_path(LogKind::jsonlog));
  CHECK(json.statements == text.statements);
}
