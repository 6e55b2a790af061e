// The same PostgreSQL 15 workload logged as stderr, csvlog and jsonlog
// (reference/samples/, captured from a real server) must yield the same
// statement executions and lock events whatever the format.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli/input/log_source.h"

namespace {

using namespace pgsift;

struct Collected {
  std::vector<std::string> statements;
  std::vector<std::string> locks;
  std::vector<std::string> deadlocks;
  std::vector<std::string> timeouts;
  std::vector<std::string> errors;
  std::size_t connections = 0;
  std::vector<cli::input::InputSummary> summaries;
  std::string error;
  std::string err_text;
};

std::string join_params(const std::vector<std::optional<std::string>>& params) {
  std::string s;
  for (const auto& p : params) s += (p ? "'" + *p + "'" : std::string("NULL")) + ",";
  return s;
}

std::string join_pids(const std::vector<std::int32_t>& v) {
  std::string s;
  for (auto p : v) s += std::to_string(p) + ",";
  return s;
}

Collected collect(const std::vector<std::string>& paths, cli::input::InputOptions options = {}) {
  Collected c;
  std::ostringstream err;
  c.error = cli::input::read_logs(
      paths, options,
      [&](const model::Event& e) {
        const auto pid = std::to_string(e.header.pid);
        if (auto* s = std::get_if<model::StatementEvent>(&e.body)) {
          std::ostringstream o;
          o << pid << '|' << s->sql << '|' << s->duration_ms << '|' << join_params(s->parameters)
            << '|' << s->prepared_name << '|' << (s->start == model::kNoTime ? 0 : s->start / 1000);
          c.statements.push_back(o.str());
        } else if (auto* l = std::get_if<model::LockEvent>(&e.body)) {
          std::ostringstream o;
          o << pid << '|' << static_cast<int>(l->phase) << '|' << l->waiter_pid << '|' << l->mode
            << '|' << l->object << '|' << l->elapsed_ms << '|' << join_pids(l->holders) << '|'
            << join_pids(l->wait_queue) << '|' << l->relation_name << '|' << l->tuple << '|'
            << l->statement;
          c.locks.push_back(o.str());
        } else if (auto* d = std::get_if<model::DeadlockEvent>(&e.body)) {
          std::ostringstream o;
          o << pid;
          for (const auto& p : d->cycle)
            o << '|' << p.pid << ' ' << p.waits_for_mode << ' ' << p.waits_for_object << ' '
              << p.blocked_by_pid << ' ' << p.statement;
          c.deadlocks.push_back(o.str());
        } else if (auto* t = std::get_if<model::TimeoutEvent>(&e.body)) {
          c.timeouts.push_back(pid + "|" + std::to_string(static_cast<int>(t->kind)) + "|" +
                               t->statement);
        } else if (auto* er = std::get_if<model::ErrorEvent>(&e.body)) {
          c.errors.push_back(pid + "|" + er->sqlstate + "|" + er->message + "|" + er->statement);
        } else if (std::holds_alternative<model::ConnectionEvent>(e.body)) {
          ++c.connections;
        }
      },
      c.summaries, err);
  c.err_text = err.str();
  return c;
}

// Copies of reference/samples/scenario.{log,csv,json} (real PG15 output).
const std::string kSamples = std::string(FIXTURES_DIR) + "/logs/";

}  // namespace

TEST_CASE("formats: stderr, csvlog and jsonlog of one workload give the same events", "[ingest]") {
  Collected text = collect({kSamples + "stderr/pg15-scenario.log"});
  Collected csv = collect({kSamples + "csvlog/pg15-scenario.csv"});
  Collected json = collect({kSamples + "jsonlog/pg15-scenario.json"});
  REQUIRE(text.error.empty());
  REQUIRE(csv.error.empty());
  REQUIRE(json.error.empty());
  CHECK(text.summaries.at(0).format == "stderr");
  CHECK(text.summaries.at(0).prefix == "%m [%p] %q%u@%d/%a %x ");
  CHECK(csv.summaries.at(0).format == "csvlog");
  CHECK(json.summaries.at(0).format == "jsonlog");

  // 47 executions: simple protocol, pgbench -M prepared/extended (parse/bind/execute
  // merged), and log_statement + log_duration pairs; counted once each.
  CHECK(text.statements.size() == 47);
  CHECK(text.statements == csv.statements);
  CHECK(text.statements == json.statements);
  // still waiting, acquired, detected deadlock, NOWAIT failure.
  CHECK(text.locks.size() == 4);
  CHECK(text.locks == csv.locks);
  CHECK(text.locks == json.locks);
  CHECK(text.deadlocks.size() == 1);
  CHECK(text.deadlocks == csv.deadlocks);
  CHECK(text.deadlocks == json.deadlocks);
  CHECK(text.timeouts.size() == 3);  // lock, statement, idle-in-transaction
  CHECK(text.timeouts == csv.timeouts);
  CHECK(text.timeouts == json.timeouts);
  CHECK(text.errors == csv.errors);
  CHECK(text.errors == json.errors);
  CHECK(text.connections == csv.connections);
  CHECK(text.connections == json.connections);
  for (const Collected* c : {&text, &csv, &json}) {
    CHECK(c->summaries.at(0).skipped_lines == 0);
    CHECK(c->summaries.at(0).noise_lines == 0);
  }
}

TEST_CASE("formats: extended protocol carries parameters and the execute duration", "[ingest]") {
  Collected text = collect({kSamples + "stderr/pg15-scenario.log"});
  // "duration: 0.032 ms  execute P_0: SELECT bal FROM acct WHERE id = $1;" + "$1 = '32'".
  REQUIRE(!text.statements.empty());
  bool found = false;
  for (const std::string& s : text.statements) {
    if (s.find("|SELECT bal FROM acct WHERE id = $1;|0.032|'32',|P_0|") != std::string::npos)
      found = true;
    // parse and bind durations (0.423, 0.426) are never executions.
    CHECK(s.find("|0.423|") == std::string::npos);
    CHECK(s.find("|0.426|") == std::string::npos);
  }
  CHECK(found);
  // The quote inside the literal stays doubled as in SQL.
  bool quoted = false;
  for (const std::string& s : text.statements)
    quoted = quoted || s.find("SELECT bal, 'it''s' FROM acct") != std::string::npos;
  CHECK(quoted);
}

TEST_CASE("formats: lock waits carry holders, wait queue, relation and tuple", "[ingest]") {
  Collected text = collect({kSamples + "stderr/pg15-scenario.log"});
  REQUIRE(text.locks.size() == 4);
  CHECK(text.locks[0] ==
        "18013|0|18013|ShareLock|transaction 42007|1000.13|17990,|18013,|acct|(0,10)|"
        "UPDATE acct SET bal = bal + 1 WHERE id = 10");
  // "Wait queue: ." is an empty queue.
  CHECK(text.locks[2].find("|3|18039|ShareLock|transaction 42012|1000.2|18041,||acct|(0,21)|") !=
        std::string::npos);
  REQUIRE(text.deadlocks.size() == 1);
  CHECK(text.deadlocks[0] ==
        "18039|18039 ShareLock transaction 42012 18041 UPDATE acct SET bal = bal - 1 WHERE id = "
        "21;|18041 ShareLock transaction 42011 18039 UPDATE acct SET bal = bal - 1 WHERE id = 20;");
}
