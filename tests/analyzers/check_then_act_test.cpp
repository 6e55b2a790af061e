// check-then-act on units of work built from real parsed SQL: the unsafe
// shapes and the safe ones of reference/races_locks.md §2 and §6.
#include <catch2/catch.hpp>

#include "analyzers/check_then_act/check_then_act.h"
#include "tests/analyzers/concurrency_builders.h"

using pgsift::analyzers::CheckThenActRule;
using pgsift::core::Severity;
using pgsift::sql::IsolationLevel;
using pgsift::testing::CollectingSink;
using pgsift::testing::UnitBuilder;
namespace model = pgsift::model;
namespace core = pgsift::core;

namespace {

std::vector<core::Finding> findings_of(const model::UnitOfWork& unit, const core::Schema& schema = {},
                                       core::OptionMap options = {}) {
  core::RuleContext context;
  context.options = std::move(options);
  context.schema = &schema;
  CheckThenActRule rule(context);
  CollectingSink sink;
  model::SessionInfo session;
  session.pid = 101;
  rule.on_unit(session, unit, sink);
  rule.finish(sink);
  return sink.findings;
}

std::string kind_of(const core::Finding& f) { return f.details.value("kind", ""); }

core::Schema schema_with_unique(const std::string& table, std::vector<std::string> columns) {
  core::Schema schema;
  schema.known = true;
  schema.unique_keys[table].push_back(std::move(columns));
  return schema;
}

}  // namespace

TEST_CASE("check-then-act: read then absolute write of the same row at read committed is a lost update",
          "[check-then-act]") {
  auto unit = UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1")
                  .run("UPDATE acct SET balance = 90 WHERE id = 1").commit().build();
  auto f = findings_of(unit);
  REQUIRE(f.size() == 1);
  CHECK(f[0].rule == "check-then-act");
  CHECK(f[0].severity == Severity::error);
  CHECK(kind_of(f[0]) == "lost update");
  CHECK(f[0].details.value("anomaly", "") == "G2-item (lost update)");
  CHECK(f[0].message.find("lost update on acct (id)") != std::string::npos);
  CHECK(f[0].details.value("isolation_source", "").find("assumed") != std::string::npos);
  REQUIRE(f[0].evidence.size() == 2);
  CHECK(f[0].evidence[0].role == "act");
  CHECK(f[0].evidence[0].line == 2);
  CHECK(f[0].evidence[1].role == "check");
  CHECK(f[0].help.find("FOR NO KEY UPDATE") != std::string::npos);
}

TEST_CASE("check-then-act: repeatable read and serializable make a same-row race loud", "[check-then-act]") {
  for (auto level : {IsolationLevel::repeatable_read, IsolationLevel::serializable}) {
    auto unit = UnitBuilder{}.begin(level).run("SELECT balance FROM acct WHERE id = 1")
                    .run("UPDATE acct SET balance = 90 WHERE id = 1").commit().build();
    CHECK(findings_of(unit).empty());
  }
}

TEST_CASE("check-then-act: unguarded decrement after a check is an overdraft", "[check-then-act]") {
  auto unit = UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1")
                  .run("UPDATE acct SET balance = balance - 100 WHERE id = 1").commit().build();
  auto f = findings_of(unit);
  REQUIRE(f.size() == 1);
  CHECK(kind_of(f[0]) == "unguarded relative write");
  CHECK(f[0].help.find("balance >= $2") != std::string::npos);
}

TEST_CASE("check-then-act: a guarded or versioned write is self-validating", "[check-then-act]") {
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT qty FROM stock WHERE id = 1")
                        .run("UPDATE stock SET qty = qty - 1 WHERE id = 1 AND qty >= 1").commit().build())
            .empty());
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT balance, version FROM acct WHERE id = 1")
                        .run("UPDATE acct SET balance = 80, version = 2 WHERE id = 1 AND version = 1")
                        .commit().build())
            .empty());
}

TEST_CASE("check-then-act: SELECT FOR UPDATE covering the written row is safe", "[check-then-act]") {
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1 FOR UPDATE")
                        .run("UPDATE acct SET balance = 0 WHERE id = 1").commit().build())
            .empty());
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1 FOR NO KEY UPDATE")
                        .run("UPDATE acct SET balance = 0 WHERE id = 1").commit().build())
            .empty());
}

TEST_CASE("check-then-act: parameters match by value, never by placeholder number", "[check-then-act]") {
  auto same = UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = $1", {"7"})
                  .run("UPDATE acct SET balance = $1 WHERE id = $2", {"90", "7"}).commit().build();
  auto f = findings_of(same);
  REQUIRE(f.size() == 1);
  CHECK(f[0].details.value("match", "") == "key values");
  auto other = UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = $1", {"7"})
                   .run("UPDATE acct SET balance = $1 WHERE id = $2", {"7", "8"}).commit().build();
  CHECK(findings_of(other).empty());
}

TEST_CASE("check-then-act: different keys or reads alone are quiet", "[check-then-act]") {
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1")
                        .run("UPDATE acct SET balance = 90 WHERE id = 2").commit().build())
            .empty());
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1")
                        .run("SELECT balance FROM acct WHERE id = 1").commit().build())
            .empty());
}

TEST_CASE("check-then-act: without logged parameters the match is pattern-level and milder", "[check-then-act]") {
  auto unit = UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = $1")
                  .run("UPDATE acct SET balance = $1 WHERE id = $2").commit().build();
  auto f = findings_of(unit);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::warning);
  CHECK(f[0].details.value("match", "").find("pattern-level") != std::string::npos);
}

TEST_CASE("check-then-act: count then insert is flagged at read committed and repeatable read",
          "[check-then-act]") {
  for (auto level : {IsolationLevel::read_committed, IsolationLevel::repeatable_read}) {
    auto unit = UnitBuilder{}.begin(level).run("SELECT count(*) FROM booking WHERE slot_id = 1")
                    .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
    auto f = findings_of(unit);
    REQUIRE(f.size() == 1);
    CHECK(kind_of(f[0]) == "insert after check");
    CHECK(f[0].details.value("constraint", "").find("schema unknown") != std::string::npos);
    CHECK(f[0].details.value("isolation_source", "").find("shown in the log") != std::string::npos);
  }
  auto serializable = UnitBuilder{}.begin(IsolationLevel::serializable)
                          .run("SELECT count(*) FROM booking WHERE slot_id = 1")
                          .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
  CHECK(findings_of(serializable).empty());
}

TEST_CASE("check-then-act: a unique constraint or ON CONFLICT makes an insert after a check safe",
          "[check-then-act]") {
  auto unit = UnitBuilder{}.begin().run("SELECT 1 FROM coupon WHERE code = 'X1' LIMIT 1")
                  .run("INSERT INTO coupon (code, used) VALUES ('X1', false)").commit().build();
  CHECK(findings_of(unit).size() == 1);
  CHECK(findings_of(unit, schema_with_unique("coupon", {"code"})).empty());
  CHECK(findings_of(unit, schema_with_unique("public.coupon", {"code"})).empty());
  // A unique key wider than the checked columns does not cover the check.
  CHECK(findings_of(unit, schema_with_unique("coupon", {"code", "used"})).size() == 1);
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT 1 FROM coupon WHERE code = 'X1' LIMIT 1")
                        .run("INSERT INTO coupon (code, used) VALUES ('X1', false) ON CONFLICT DO NOTHING")
                        .commit().build())
            .empty());
}

TEST_CASE("check-then-act: write skew at read committed and repeatable read, not serializable",
          "[check-then-act]") {
  const auto build = [](IsolationLevel level) {
    return UnitBuilder{}.begin(level).run("SELECT count(*) FROM oncall WHERE shift = 1 AND on_call = true")
        .run("UPDATE oncall SET on_call = false WHERE doctor = 'alice'").commit().build();
  };
  for (auto level : {IsolationLevel::read_committed, IsolationLevel::repeatable_read}) {
    auto f = findings_of(build(level));
    REQUIRE(f.size() == 1);
    CHECK(kind_of(f[0]) == "write skew");
    CHECK(f[0].severity == Severity::warning);
  }
  CHECK(findings_of(build(IsolationLevel::serializable)).empty());
  // Locking the whole set at read committed serializes the checks (scenario 14).
  CHECK(findings_of(UnitBuilder{}.begin().run("SELECT doctor FROM oncall WHERE shift = 1 AND on_call = true FOR UPDATE")
                        .run("UPDATE oncall SET on_call = false WHERE doctor = 'alice'").commit().build())
            .empty());
}

TEST_CASE("check-then-act: checking a coupon then deleting it is consume after check", "[check-then-act]") {
  auto unit = UnitBuilder{}.begin().run("SELECT code FROM coupon WHERE code = 'X1' AND used = false")
                  .run("DELETE FROM coupon WHERE code = 'X1'")
                  .run("UPDATE acct SET balance = balance + 10 WHERE id = 1").commit().build();
  auto f = findings_of(unit);
  REQUIRE(f.size() == 1);
  CHECK(kind_of(f[0]) == "consume after check");
  auto flip = UnitBuilder{}.begin().run("SELECT code FROM coupon WHERE code = 'X1' AND used = false")
                  .run("UPDATE coupon SET used = true WHERE code = 'X1'").commit().build();
  REQUIRE(findings_of(flip).size() == 1);
  CHECK(kind_of(findings_of(flip)[0]) == "consume after check");
  auto guarded = UnitBuilder{}.begin().run("SELECT code FROM coupon WHERE code = 'X1' AND used = false")
                     .run("UPDATE coupon SET used = true WHERE code = 'X1' AND used = false").commit().build();
  CHECK(findings_of(guarded).empty());
}

TEST_CASE("check-then-act: FOR UPDATE cannot lock an absent row", "[check-then-act]") {
  auto unit = UnitBuilder{}.begin().run("SELECT id FROM booking WHERE slot_id = 1 FOR UPDATE")
                  .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
  auto f = findings_of(unit);
  REQUIRE(f.size() == 1);
  CHECK(kind_of(f[0]) == "insert after check");
  CHECK(f[0].details["notes"].dump().find("absence") != std::string::npos);
}

TEST_CASE("check-then-act: INSERT WHERE NOT EXISTS without a constraint", "[check-then-act]") {
  const std::string sql =
      "INSERT INTO booking (slot_id) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM booking WHERE slot_id = 1)";
  auto f = findings_of(UnitBuilder{}.run(sql).build());
  REQUIRE(f.size() == 1);
  CHECK(kind_of(f[0]) == "insert where not exists");
  CHECK(findings_of(UnitBuilder{}.run(sql).build(), schema_with_unique("booking", {"slot_id"})).empty());
}

TEST_CASE("check-then-act: a mutex before the check is safe at read committed only", "[check-then-act]") {
  const auto parent = [](IsolationLevel level) {
    return UnitBuilder{}.begin(level).run("SELECT id FROM slot WHERE id = 1 FOR UPDATE")
        .run("SELECT count(*) FROM booking WHERE slot_id = 1")
        .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
  };
  CHECK(findings_of(parent(IsolationLevel::read_committed)).empty());
  auto rr = findings_of(parent(IsolationLevel::repeatable_read));
  REQUIRE(rr.size() == 1);
  CHECK(kind_of(rr[0]) == "lock after snapshot");
  const auto advisory = [](IsolationLevel level) {
    return UnitBuilder{}.begin(level).run("SELECT pg_advisory_xact_lock(1)")
        .run("SELECT count(*) FROM booking WHERE slot_id = 1")
        .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
  };
  CHECK(findings_of(advisory(IsolationLevel::read_committed)).empty());
  REQUIRE(findings_of(advisory(IsolationLevel::repeatable_read)).size() == 1);
  // LOCK TABLE as the first statement takes no snapshot: safe even at RR.
  CHECK(findings_of(UnitBuilder{}.begin(IsolationLevel::repeatable_read)
                        .run("LOCK TABLE booking IN SHARE ROW EXCLUSIVE MODE")
                        .run("SELECT count(*) FROM booking WHERE slot_id = 1")
                        .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build())
            .empty());
}

TEST_CASE("check-then-act: check and act in separate autocommit statements is split", "[check-then-act]") {
  auto unit = UnitBuilder{}.run("SELECT balance FROM acct WHERE id = 1")
                  .run("UPDATE acct SET balance = 80 WHERE id = 1").build();
  for (const char* level : {"read-committed", "serializable"}) {
    auto f = findings_of(unit, {}, {{"default-isolation", level}});
    REQUIRE(f.size() == 1);
    CHECK(kind_of(f[0]) == "lost update");
    CHECK(f[0].details.value("scope", "") == "split across transactions");
    CHECK(f[0].message.find("split across transactions") != std::string::npos);
    CHECK(f[0].help.rfind("put the check and the write in one transaction", 0) == 0);
  }
  CHECK(findings_of(unit, {}, {{"across-transactions", "false"}}).empty());
}

TEST_CASE("check-then-act: FOR SHARE then a write of the same row is a lock upgrade", "[check-then-act]") {
  auto f = findings_of(UnitBuilder{}.begin().run("SELECT balance FROM acct WHERE id = 1 FOR SHARE")
                           .run("UPDATE acct SET balance = 70 WHERE id = 1").commit().build());
  REQUIRE(f.size() == 1);
  CHECK(kind_of(f[0]) == "share lock upgrade");
  CHECK(f[0].severity == Severity::info);
}

TEST_CASE("check-then-act: pgbench's read after its own write is not a check", "[check-then-act]") {
  UnitBuilder b;
  for (int i = 0; i < 2; ++i) {
    b.begin()
        .run("UPDATE pgbench_accounts SET abalance = abalance + -5 WHERE aid = 7")
        .run("SELECT abalance FROM pgbench_accounts WHERE aid = 7")
        .run("UPDATE pgbench_tellers SET tbalance = tbalance + -5 WHERE tid = 1")
        .run("UPDATE pgbench_branches SET bbalance = bbalance + -5 WHERE bid = 1")
        .run("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 7, -5, CURRENT_TIMESTAMP)")
        .commit();
  }
  CHECK(findings_of(b.build()).empty());
}

TEST_CASE("check-then-act: two sessions on the same key at overlapping times raise the finding",
          "[check-then-act]") {
  core::Schema schema;
  core::RuleContext context;
  context.schema = &schema;
  CheckThenActRule rule(context);
  CollectingSink sink;
  const auto unit = [](model::Timestamp start) {
    return UnitBuilder{start}.begin().run("SELECT count(*) FROM booking WHERE slot_id = 1")
        .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
  };
  model::SessionInfo a, b;
  a.pid = 201;
  b.pid = 202;
  const auto ua = unit(pgsift::testing::kT0);
  const auto ub = unit(pgsift::testing::kT0 + 5 * model::kMicrosPerMilli);
  rule.on_unit(a, ua, sink);
  rule.on_unit(b, ub, sink);
  rule.finish(sink);
  REQUIRE(sink.findings.size() == 1);
  const auto& f = sink.findings[0];
  CHECK(f.occurrences == 2);
  CHECK(f.sessions.size() == 2);
  CHECK(f.details["race"].value("overlapping_sessions_seen", false));
  CHECK(f.details.value("confidence", "") == "race seen in the log");
}

TEST_CASE("check-then-act: a unique violation on the act is runtime evidence", "[check-then-act]") {
  core::Schema schema;
  core::RuleContext context;
  context.schema = &schema;
  CheckThenActRule rule(context);
  CollectingSink sink;
  pgsift::testing::TestDirectory directory;
  auto unit = UnitBuilder{}.begin().run("SELECT 1 FROM coupon WHERE code = 'X1'")
                  .run("INSERT INTO coupon (code) VALUES ('X1')").commit().build();
  model::ErrorEvent error;
  error.sqlstate = "23505";
  error.message = "duplicate key value violates unique constraint \"coupon_pkey\"";
  error.statement = "INSERT INTO coupon (code) VALUES ('X1')";
  rule.on_event(pgsift::testing::event_at(101, unit.transactions[0].executions[1].end + 1000, 9, error,
                                          model::LogLevel::error),
                directory, sink);
  model::SessionInfo session;
  session.pid = 101;
  rule.on_unit(session, unit, sink);
  rule.finish(sink);
  REQUIRE(sink.findings.size() == 1);
  CHECK(sink.findings[0].details["race"].value("unique violations", 0) == 1);
  CHECK(sink.findings[0].details.value("confidence", "") == "race seen in the log");
}

TEST_CASE("check-then-act: bad option values are rejected with the option named", "[check-then-act]") {
  CHECK(CheckThenActRule::validate({{"default-isolation", "snapshot"}}).find("default-isolation") !=
        std::string::npos);
  CHECK(CheckThenActRule::validate({{"across-transactions", "maybe"}}).find("across-transactions") !=
        std::string::npos);
  CHECK(CheckThenActRule::validate({{"default-isolation", "serializable"}}).empty());
}

TEST_CASE("check-then-act: a race is two sessions' windows overlapping, from the snapshot at repeatable read",
          "[check-then-act]") {
  // A: BEGIN RR; advisory lock; count; insert; COMMIT at kT0 + 50 ms.
  // B: the same, its lock statement started at `b_lock_start` and waited for A.
  const auto run = [](IsolationLevel level, model::Timestamp b_lock_start) {
    const auto unit = [level](model::Timestamp start) {
      return UnitBuilder{start}.begin(level).run("SELECT pg_advisory_xact_lock(42)")
          .run("SELECT count(*) FROM booking WHERE slot_id = 1")
          .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
    };
    core::Schema schema;
    core::RuleContext context;
    context.schema = &schema;
    CheckThenActRule rule(context);
    CollectingSink sink;
    model::SessionInfo a, b;
    a.pid = 301;
    b.pid = 302;
    const auto ua = unit(pgsift::testing::kT0);
    auto ub = unit(pgsift::testing::kT0 + 50 * model::kMicrosPerMilli);  // B's lock logged after A's commit
    ub.transactions[0].executions[0].start = b_lock_start;
    rule.on_unit(a, ua, sink);
    rule.on_unit(b, ub, sink);
    rule.finish(sink);
    return sink.findings;
  };
  // B's snapshot (its lock statement's start) predates A's commit: B could
  // not see A's row, both inserted. The race happened: error.
  auto raced = run(IsolationLevel::repeatable_read, pgsift::testing::kT0 + 25 * model::kMicrosPerMilli);
  REQUIRE(raced.size() == 1);
  CHECK(kind_of(raced[0]) == "lock after snapshot");
  CHECK(raced[0].severity == Severity::error);
  CHECK(raced[0].details["race"].value("overlapping_sessions_seen", false));
  // B started after A committed: it saw A's row; the pattern stays a warning.
  auto apart = run(IsolationLevel::repeatable_read, pgsift::testing::kT0 + 55 * model::kMicrosPerMilli);
  REQUIRE(apart.size() == 1);
  CHECK(apart[0].severity == Severity::warning);
  CHECK_FALSE(apart[0].details["race"].value("overlapping_sessions_seen", false));
  // At read committed the advisory lock serializes the pair: no finding.
  CHECK(run(IsolationLevel::read_committed, pgsift::testing::kT0 + 25 * model::kMicrosPerMilli).empty());
}

TEST_CASE("check-then-act: a read after the other session committed is no race", "[check-then-act]") {
  core::Schema schema;
  core::RuleContext context;
  context.schema = &schema;
  CheckThenActRule rule(context);
  CollectingSink sink;
  const auto unit = [](model::Timestamp start) {
    return UnitBuilder{start}.begin().run("SELECT count(*) FROM booking WHERE slot_id = 1")
        .run("INSERT INTO booking (slot_id) VALUES (1)").commit().build();
  };
  model::SessionInfo a, b;
  a.pid = 401;
  b.pid = 402;
  // A commits at kT0 + 40 ms; B reads at kT0 + 50 ms.
  rule.on_unit(a, unit(pgsift::testing::kT0), sink);
  rule.on_unit(b, unit(pgsift::testing::kT0 + 30 * model::kMicrosPerMilli), sink);
  rule.finish(sink);
  REQUIRE(sink.findings.size() == 1);
  CHECK(sink.findings[0].occurrences == 2);
  CHECK_FALSE(sink.findings[0].details["race"].value("overlapping_sessions_seen", false));
  CHECK(sink.findings[0].details.value("confidence", "") == "key match");
}

TEST_CASE("check-then-act: a lost update needs the read to have returned the written column",
          "[check-then-act]") {
  const auto pair = [](const std::string& read) {
    return findings_of(UnitBuilder{}.begin().run(read).run("UPDATE acct SET balance = 90 WHERE id = 1").commit().build());
  };
  for (const char* read : {"SELECT balance FROM acct WHERE id = 1", "SELECT * FROM acct WHERE id = 1",
                           "SELECT a.* FROM acct a WHERE a.id = 1",
                           "SELECT coalesce(balance, 0) AS b FROM acct WHERE id = 1"}) {
    INFO(read);
    auto f = pair(read);
    REQUIRE(f.size() == 1);
    CHECK(kind_of(f[0]) == "lost update");
  }
  for (const char* read : {"SELECT version FROM acct WHERE id = 1", "SELECT count(*) FROM acct WHERE id = 1"}) {
    INFO(read);
    CHECK(pair(read).empty());
  }
}

TEST_CASE("check-then-act: a serialization failure the session never retried is retry missing",
          "[check-then-act]") {
  core::Schema schema;
  core::RuleContext context;
  context.schema = &schema;
  CheckThenActRule rule(context);
  CollectingSink sink;
  model::SessionInfo b;
  b.pid = 502;
  const model::Timestamp failed_at = pgsift::testing::kT0 + 25 * model::kMicrosPerMilli;
  const auto failure = [&](const std::string& statement) {
    model::ErrorEvent e;
    e.sqlstate = "40001";
    e.message = "could not serialize access due to concurrent update";
    e.statement = statement;
    return pgsift::testing::event_at(502, failed_at, 9, e, model::LogLevel::error);
  };
  pgsift::testing::TestDirectory directory;
  UnitBuilder builder;
  builder.begin(IsolationLevel::repeatable_read).run("SELECT balance FROM acct WHERE id = 1").commit();

  SECTION("not retried") {
    rule.on_event(failure("UPDATE acct SET balance = 80 WHERE id = 1"), directory, sink);
    auto unit = builder.build();
    unit.transactions[0].error_times.push_back(failed_at);
    rule.on_unit(b, unit, sink);
    rule.finish(sink);
    REQUIRE(sink.findings.size() == 1);
    const auto& f = sink.findings[0];
    CHECK(kind_of(f) == "retry missing");
    CHECK(f.severity == Severity::warning);
    CHECK(f.evidence[0].line == 9);
    CHECK(f.message.rfind("retry missing on acct: 'UPDATE acct SET balance = $1 WHERE id = $2'", 0) == 0);
    CHECK(f.details.value("isolation", "") == "repeatable read");
  }
  SECTION("retried in a later transaction") {
    rule.on_event(failure("UPDATE acct SET balance = 80 WHERE id = 1"), directory, sink);
    builder.begin(IsolationLevel::repeatable_read).run("SELECT balance FROM acct WHERE id = 1")
        .run("UPDATE acct SET balance = 80 WHERE id = 1").commit();
    auto unit = builder.build();
    unit.transactions[0].error_times.push_back(failed_at);
    rule.on_unit(b, unit, sink);
    rule.finish(sink);
    CHECK(sink.findings.empty());
  }
  SECTION("a failure at COMMIT, of an INSERT, from read/write dependencies or without an earlier read is not") {
    rule.on_event(failure("COMMIT"), directory, sink);
    rule.on_event(failure("INSERT INTO acct (id, balance) VALUES (1, 0)"), directory, sink);
    rule.on_event(failure("UPDATE stock SET qty = 0 WHERE id = 1"), directory, sink);
    auto ssi = failure("UPDATE acct SET balance = 80 WHERE id = 1");
    std::get<model::ErrorEvent>(ssi.body).message =
        "could not serialize access due to read/write dependencies among transactions";
    rule.on_event(ssi, directory, sink);
    auto unit = builder.build();
    unit.transactions[0].error_times.push_back(failed_at);
    rule.on_unit(b, unit, sink);
    rule.finish(sink);
    CHECK(sink.findings.empty());
  }
}
