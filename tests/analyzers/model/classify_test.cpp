// Classifier: statement pairing under every combination of log_statement,
// log_duration and log_min_duration_statement (reference/logs.md §2.1),
// extended protocol merging, locks, deadlocks, timeouts, errors, sessions.
#include <catch2/catch.hpp>

#include <vector>

#include "analyzers/model/classify.h"
#include "analyzers/sql/statement.h"

using namespace pgsift::model;

namespace {

LogRecord rec(std::int32_t pid, std::string message, std::string detail = {},
              LogLevel level = LogLevel::log, std::int64_t time_ms = 1000) {
  LogRecord r;
  r.header.pid = pid;
  r.header.time = time_ms * 1000;
  r.level = level;
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

struct Run {
  Classifier classifier;
  std::vector<Event> events;
  void add(const LogRecord& r) {
    classifier.add(r, [&](const Event& e) { events.push_back(e); });
  }
  void finish() {
    classifier.finish([&](const Event& e) { events.push_back(e); });
  }
  std::vector<StatementEvent> statements() const {
    std::vector<StatementEvent> out;
    for (const Event& e : events)
      if (auto* s = std::get_if<StatementEvent>(&e.body)) out.push_back(*s);
    return out;
  }
};

}  // namespace

TEST_CASE("classify: log_min_duration_statement=0, simple protocol", "[ingest]") {
  Run run;
  run.add(rec(1, "duration: 2.500 ms  statement: SELECT 1", {}, LogLevel::log, 5000));
  auto s = run.statements();
  REQUIRE(s.size() == 1);
  CHECK(s[0].sql == "SELECT 1");
  CHECK(s[0].duration_ms == Approx(2.5));
  CHECK(s[0].start == 5000 * 1000 - 2500);  // log time minus duration
  CHECK(s[0].protocol == StatementEvent::Protocol::simple);
}

TEST_CASE("classify: parse, bind and execute are one execution with parameters", "[ingest]") {
  Run run;
  run.add(rec(1, "duration: 0.423 ms  parse P_0: SELECT $1"));
  run.add(rec(1, "duration: 0.426 ms  bind P_0: SELECT $1", "parameters: $1 = '32'"));
  run.add(rec(1, "duration: 0.032 ms  execute P_0: SELECT $1", "parameters: $1 = '32'"));
  // Bind parameters are used when the execute line has none; PG17 "Parameters:".
  run.add(rec(1, "duration: 0.1 ms  bind S_1/C_1: SELECT $1, $2",
              "Parameters: $1 = 'it''s', $2 = NULL"));
  run.add(rec(1, "duration: 0.2 ms  execute S_1/C_1: SELECT $1, $2"));
  run.add(rec(1, "duration: 0.3 ms  execute fetch from S_1/C_1: SELECT $1, $2"));
  auto s = run.statements();
  REQUIRE(s.size() == 3);
  CHECK(s[0].duration_ms == Approx(0.032));
  CHECK(s[0].prepared_name == "P_0");
  REQUIRE(s[0].parameters.size() == 1);
  CHECK(*s[0].parameters[0] == "32");
  REQUIRE(s[1].parameters.size() == 2);
  CHECK(*s[1].parameters[0] == "it's");
  CHECK_FALSE(s[1].parameters[1].has_value());
  CHECK_FALSE(s[1].continues_portal);
  CHECK(s[2].continues_portal);
}

TEST_CASE("classify: log_statement=all with log_duration pairs text and duration", "[ingest]") {
  Run run;
  run.add(rec(1, "statement: SELECT count(*) FROM t", {}, LogLevel::log, 1000));
  run.add(rec(2, "duration: 9.000 ms  statement: SELECT 2", {}, LogLevel::log, 1001));
  run.add(rec(1, "duration: 0.683 ms", {}, LogLevel::log, 1002));
  // Extended protocol: bare parse/bind durations come before the execute line.
  run.add(rec(3, "duration: 0.1 ms"));
  run.add(rec(3, "duration: 0.1 ms"));
  run.add(rec(3, "execute <unnamed>: SELECT $1", "parameters: $1 = '5'"));
  run.add(rec(3, "duration: 0.4 ms"));
  run.finish();
  auto s = run.statements();
  REQUIRE(s.size() == 3);
  CHECK(s[0].sql == "SELECT 2");
  CHECK(s[1].sql == "SELECT count(*) FROM t");
  CHECK(s[1].duration_ms == Approx(0.683));
  CHECK(s[1].start == 1002 * 1000 - 683);
  CHECK(s[2].sql == "SELECT $1");
  CHECK(s[2].duration_ms == Approx(0.4));
  CHECK(*s[2].parameters[0] == "5");
  CHECK(run.classifier.counters().unpaired_durations == 2);
}

TEST_CASE("classify: log_statement=all + log_min_duration_statement=0, extended", "[ingest]") {
  // parse and bind are logged with their text (not already logged), execute by
  // log_statement, then its duration alone: one execution.
  Run run;
  run.add(rec(1, "duration: 0.1 ms  parse S_1: UPDATE t SET a = $1"));
  run.add(rec(1, "duration: 0.1 ms  bind S_1: UPDATE t SET a = $1", "parameters: $1 = '7'"));
  run.add(rec(1, "execute S_1: UPDATE t SET a = $1", "parameters: $1 = '7'"));
  run.add(rec(1, "duration: 0.9 ms"));
  run.finish();
  auto s = run.statements();
  REQUIRE(s.size() == 1);
  CHECK(s[0].duration_ms == Approx(0.9));
  CHECK(*s[0].parameters[0] == "7");
}

TEST_CASE("classify: log_statement alone; errors and disconnection flush held text", "[ingest]") {
  Run run;
  run.add(rec(1, "statement: SELECT 1"));
  run.add(rec(1, "statement: SELECT 2"));
  run.add(rec(1, "statement: SELECT * FROM nope"));
  LogRecord error = rec(1, "relation \"nope\" does not exist", {}, LogLevel::error);
  error.statement = "SELECT * FROM nope";
  run.add(error);
  run.add(rec(1, "statement: SELECT 3"));
  run.add(rec(1, "disconnection: session time: 0:00:01.250 user=a database=b host=[local]"));
  auto s = run.statements();
  REQUIRE(s.size() == 4);
  CHECK(s[0].duration_ms < 0);
  CHECK(s[3].sql == "SELECT 3");
  // The error comes after its statement.
  REQUIRE(run.events.size() == 6);
  auto* err = std::get_if<ErrorEvent>(&run.events[3].body);
  REQUIRE(err != nullptr);
  CHECK(err->sqlstate == "42P01");
  auto* bye = std::get_if<ConnectionEvent>(&run.events[5].body);
  REQUIRE(bye != nullptr);
  CHECK(bye->session_seconds == Approx(1.25));
}

TEST_CASE("classify: lock waits, deadlock cycle and timeouts", "[ingest]") {
  Run run;
  LogRecord wait = rec(7, "process 7 still waiting for ExclusiveLock on tuple (3,4) of relation "
                          "16384 of database 5 after 1000.5 ms",
                       "Processes holding the lock: 8, 9. Wait queue: 7, 10.");
  wait.context = "while locking tuple (3,4) in relation \"accounts\"";
  run.add(wait);
  run.add(rec(7, "process 7 avoided deadlock for ShareLock on relation 16384 of database 5 by "
                 "rearranging queue order after 1000.000 ms",
              "Process holding the lock: 8. Wait queue: ."));
  LogRecord dl = rec(7, "deadlock detected",
                     "Process 7 waits for ShareLock on transaction 5; blocked by process 8.\n"
                     "Process 8 waits for ShareLock on transaction 6; blocked by process 7.\n"
                     "Process 7: UPDATE a\nSET x = 1;\nProcess 8: UPDATE b;",
                     LogLevel::error);
  run.add(dl);
  run.add(rec(7, "terminating connection due to idle-session timeout", {}, LogLevel::fatal));
  run.add(rec(7, "terminating connection due to transaction timeout", {}, LogLevel::fatal));
  run.add(rec(7, "could not serialize access due to concurrent update", {}, LogLevel::error));
  run.add(rec(7, "temporary file: path \"base/pgsql_tmp/pgsql_tmp1.0\", size 2457600"));
  REQUIRE(run.events.size() == 7);
  auto& l = std::get<LockEvent>(run.events[0].body);
  CHECK(l.mode == "ExclusiveLock");
  CHECK(l.object_kind == "tuple");
  CHECK(l.tuple == "(3,4)");
  CHECK(l.relation_oid == 16384);
  CHECK(l.database_oid == 5);
  CHECK(l.elapsed_ms == Approx(1000.5));
  CHECK(l.holders == std::vector<std::int32_t>{8, 9});
  CHECK(l.wait_queue == std::vector<std::int32_t>{7, 10});
  CHECK(l.relation_name == "accounts");
  auto& avoided = std::get<LockEvent>(run.events[1].body);
  CHECK(avoided.phase == LockEvent::Phase::avoided_deadlock);
  CHECK(avoided.wait_queue.empty());
  auto& d = std::get<DeadlockEvent>(run.events[2].body);
  REQUIRE(d.cycle.size() == 2);
  CHECK(d.cycle[0].blocked_by_pid == 8);
  CHECK(d.cycle[0].waits_for_transaction == 5);
  CHECK(d.cycle[0].statement == "UPDATE a\nSET x = 1;");
  CHECK(d.cycle[1].statement == "UPDATE b;");
  CHECK(std::get<TimeoutEvent>(run.events[3].body).kind == TimeoutEvent::Kind::idle_session_timeout);
  CHECK(std::get<TimeoutEvent>(run.events[4].body).kind == TimeoutEvent::Kind::transaction_timeout);
  CHECK(std::get<ErrorEvent>(run.events[5].body).sqlstate == "40001");
  CHECK(std::get<TempFileEvent>(run.events[6].body).bytes == 2457600);
}

TEST_CASE("classify: held state is bounded by the number of processes", "[ingest]") {
  Run run;
  const int n = static_cast<int>(Classifier::kMaxProcesses) + 100;
  for (int pid = 1; pid <= n; ++pid) run.add(rec(pid, "statement: SELECT 1"));
  // The oldest held statements were flushed to keep the state bounded.
  CHECK(run.statements().size() >= 100);
  run.finish();
  CHECK(run.statements().size() == static_cast<std::size_t>(n));
}

TEST_CASE("parse_parameters: quoting, NULL, order, truncation and malformed lists", "[ingest]") {
  using Params = std::vector<std::optional<std::string>>;
  Params p;
  REQUIRE(parse_parameters("parameters: $1 = '42', $2 = NULL, $3 = 'it''s', $4 = ''", p));
  REQUIRE(p == Params{"42", std::nullopt, "it's", ""});
  // PG17+ spelling, and a DETAIL with the list on a later line.
  REQUIRE(parse_parameters("Parameters: $1 = 'a'", p));
  REQUIRE(p == Params{"a"});
  REQUIRE(parse_parameters("some context\nparameters: $2 = 'b', $1 = 'a'", p));
  REQUIRE(p == Params{"a", "b"});
  // Gaps stay unset; repeated indexes keep the last value.
  REQUIRE(parse_parameters("parameters: $3 = 'c', $3 = 'd'", p));
  REQUIRE(p == Params{std::nullopt, std::nullopt, "d"});
  // A value cut short (log_parameter_max_length_on_error, truncated line).
  REQUIRE(parse_parameters("parameters: $1 = 'x', $2 = 'abc", p));
  REQUIRE(p == Params{"x", "abc"});
  REQUIRE(parse_parameters("parameters: $1 = 'a''", p));
  REQUIRE(p == Params{"a'"});
  // Leading zeros are a number like any other; 0 and beyond 65535 are not indexes.
  REQUIRE(parse_parameters("parameters: $007 = 'z'", p));
  REQUIRE(p.size() == 7);
  REQUIRE(p[6] == "z");
  REQUIRE_FALSE(parse_parameters("parameters: $0 = 'z'", p));
  REQUIRE_FALSE(parse_parameters("parameters: $65536 = 'z'", p));
  REQUIRE_FALSE(parse_parameters("parameters: $99999999999999999999999 = 'z'", p));
  // Malformed items end the list; what came before stays.
  REQUIRE_FALSE(parse_parameters("parameters: $1 = 'a', $2 = 5", p));
  REQUIRE(p == Params{"a", std::nullopt});
  REQUIRE_FALSE(parse_parameters("parameters: $1 = 'a', $2 'b'", p));
  REQUIRE(p == Params{"a"});
  REQUIRE_FALSE(parse_parameters("parameters: $ = 'a'", p));
  REQUIRE(parse_parameters("parameters: $1 = 'a' trailing", p));
  REQUIRE(p == Params{"a"});
  REQUIRE(parse_parameters("parameters: $1 = 'a', then text", p));
  REQUIRE(p == Params{"a"});
  REQUIRE_FALSE(parse_parameters("parameters: nothing", p));
  REQUIRE_FALSE(parse_parameters("no list here", p));
  REQUIRE_FALSE(parse_parameters("xparameters: $1 = 'a'", p));
}

TEST_CASE("classify: held state stays per process when pids share a lookup slot and after disconnection", "[ingest]") {
  // 100, 164 and 228 fall in one slot of the classifier's recent-pid table
  // (64 slots): each must still find its own held statement and bind.
  Run run;
  run.add(rec(100, "statement: SELECT 100", {}, LogLevel::log, 1000));
  run.add(rec(164, "statement: SELECT 164", {}, LogLevel::log, 1001));
  run.add(rec(228, "duration: 0.1 ms  bind S_1: SELECT $1", "parameters: $1 = '228'"));
  run.add(rec(100, "duration: 1.000 ms", {}, LogLevel::log, 1002));
  run.add(rec(228, "duration: 0.2 ms  execute S_1: SELECT $1"));
  run.add(rec(164, "duration: 2.000 ms", {}, LogLevel::log, 1003));
  // A disconnection forgets 100; a later bare duration of 100 pairs with nothing.
  run.add(rec(100, "statement: SELECT 'dropped at disconnection'", {}, LogLevel::log, 1004));
  run.add(rec(100, "disconnection: session time: 0:00:01.000 user=u database=d host=[local]"));
  run.add(rec(100, "duration: 3.000 ms", {}, LogLevel::log, 1005));
  run.add(rec(100, "statement: SELECT 'new session'", {}, LogLevel::log, 1006));
  run.add(rec(100, "duration: 4.000 ms", {}, LogLevel::log, 1007));
  auto s = run.statements();
  REQUIRE(s.size() == 5);
  CHECK(s[0].sql == "SELECT 100");
  CHECK(s[0].duration_ms == Approx(1.0));
  CHECK(s[1].sql == "SELECT $1");
  REQUIRE(s[1].parameters.size() == 1);
  CHECK(*s[1].parameters[0] == "228");
  CHECK(s[2].sql == "SELECT 164");
  CHECK(s[2].duration_ms == Approx(2.0));
  CHECK(s[3].sql == "SELECT 'dropped at disconnection'");
  CHECK(s[3].duration_ms < 0);
  CHECK(s[4].sql == "SELECT 'new session'");
  CHECK(s[4].duration_ms == Approx(4.0));
  CHECK(run.classifier.counters().unpaired_durations == 1);
}

TEST_CASE("statement_text finds the SQL add() builds a statement from, and ParsedAhead is used only for it",
          "[ingest]") {
  // Every kind of statement-bearing message, and the ones that bear none.
  const std::vector<std::pair<LogRecord, std::string>> cases{
      {rec(1, "duration: 2.500 ms  statement: SELECT 1"), "SELECT 1"},
      {rec(1, "statement: UPDATE t SET a = 1"), "UPDATE t SET a = 1"},
      {rec(1, "execute S_1: SELECT $1"), "SELECT $1"},
      {rec(1, "duration: 0.010 ms  execute <unnamed>: SELECT 2"), "SELECT 2"},
      {rec(1, "duration: 0.010 ms  execute fetch from S_2/C_3: SELECT 3"), "SELECT 3"},
      {rec(1, "duration: 0.010 ms  parse <unnamed>: SELECT 4"), ""},
      {rec(1, "duration: 0.010 ms  bind S_1: SELECT 5"), ""},
      {rec(1, "duration: 0.010 ms"), ""},
      {rec(1, "duration: ms  statement: SELECT 6"), ""},
      {rec(1, "connection authorized: user=a database=b"), ""},
      {rec(1, "statement: SELECT 7", {}, LogLevel::error), ""},
  };
  for (const auto& [record, sql] : cases) {
    INFO(record.message);
    const std::string_view text = statement_text(record);
    CHECK(std::string(text) == sql);
    if (text.empty()) continue;
    CHECK(text.data() >= record.message.data());
    // add() takes the parse made ahead and builds the same statement text.
    ParsedAhead ahead;
    ahead.offset = static_cast<std::size_t>(text.data() - record.message.data());
    ahead.length = text.size();
    ahead.parsed = pgsift::sql::parse(text);
    const auto shape = ahead.parsed.shape;
    Run run;
    run.classifier.add(record, [&](const Event& e) { run.events.push_back(e); }, &ahead);
    run.finish();
    const auto statements = run.statements();
    REQUIRE(statements.size() == 1);
    CHECK(statements[0].sql == sql);
    CHECK(statements[0].parsed.shape == shape);
    CHECK_FALSE(ahead.parsed.shape);
  }
  // A parse of some other span of the message is ignored, not misapplied.
  const LogRecord record = rec(1, "duration: 1.000 ms  statement: SELECT 8");
  ParsedAhead ahead;
  ahead.offset = 0;
  ahead.length = record.message.size();
  ahead.parsed = pgsift::sql::parse("SELECT 9");
  Run run;
  run.classifier.add(record, [&](const Event& e) { run.events.push_back(e); }, &ahead);
  const auto statements = run.statements();
  REQUIRE(statements.size() == 1);
  CHECK(statements[0].sql == "SELECT 8");
  CHECK_FALSE(statements[0].parsed.shape);
  CHECK(ahead.parsed.shape);
}
