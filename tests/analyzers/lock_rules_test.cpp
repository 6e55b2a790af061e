// lock-wait, deadlock and lock-timeout on event sequences shaped like PG 15's
// log_lock_waits output (reference/races_locks.md §3.1), with blockers looked
// up in a directory of session states.
#include <catch2/catch.hpp>

#include "analyzers/deadlock/deadlock.h"
#include "analyzers/lock_timeout/lock_timeout.h"
#include "analyzers/lock_wait/lock_wait.h"
#include "tests/analyzers/concurrency_builders.h"

namespace model = pgsift::model;
namespace core = pgsift::core;
using pgsift::core::Severity;
using pgsift::testing::CollectingSink;
using pgsift::testing::event_at;
using pgsift::testing::kT0;
using pgsift::testing::still_waiting;
using pgsift::testing::TestDirectory;

namespace {

constexpr model::Timestamp kSecond = model::kMicrosPerSecond;

template <typename RuleT>
struct Harness {
  core::Schema schema;
  core::RuleContext context;
  std::unique_ptr<RuleT> rule;
  TestDirectory directory;
  CollectingSink sink;
  explicit Harness(core::OptionMap options = {}) {
    context.options = std::move(options);
    context.schema = &schema;
    rule = std::make_unique<RuleT>(context);
  }
  void feed(const model::Event& e) { rule->on_event(e, directory, sink); }
  std::vector<core::Finding>& finish() {
    rule->finish(sink);
    return sink.findings;
  }
};

model::LockEvent acquired(std::int32_t pid, std::string mode, double elapsed) {
  model::LockEvent l;
  l.phase = model::LockEvent::Phase::acquired;
  l.waiter_pid = pid;
  l.mode = std::move(mode);
  l.elapsed_ms = elapsed;
  return l;
}

}  // namespace

TEST_CASE("lock-wait: a wait behind a session idle in transaction names the blocker and its idle time",
          "[lock-wait]") {
  Harness<pgsift::analyzers::LockWaitRule> h;
  h.directory.add(6072, {"BEGIN", "UPDATE acct SET balance = 90 WHERE id = 1"}, kT0);
  h.feed(event_at(6073, kT0 + 2 * kSecond, 10,
                  still_waiting(6073, "ShareLock", "transaction", 726, {6072}, {6073},
                                "UPDATE acct SET balance = 80 WHERE id = 1", "acct")));
  h.feed(event_at(6073, kT0 + 4 * kSecond, 14, acquired(6073, "ShareLock", 2089.8)));
  auto& f = h.finish();
  REQUIRE(f.size() == 1);
  CHECK(f[0].rule == "lock-wait");
  CHECK(f[0].severity == Severity::warning);
  CHECK(f[0].evidence[0].line == 10);
  CHECK(f[0].evidence[0].pid == 6073);
  CHECK(f[0].message.find("pid 6073 waited 2.1 s for ShareLock on a row of acct") != std::string::npos);
  CHECK(f[0].message.find("blocked by pid 6072 (idle in transaction for 2.0 s") != std::string::npos);
  CHECK(f[0].details.value("ended_by", "") == "acquired");
  REQUIRE(f[0].details["blockers"].size() == 1);
  CHECK(f[0].details["blockers"][0].value("idle_in_transaction_ms", 0.0) == Approx(2000));
  CHECK(f[0].details["blockers"][0].value("lock_statement", "").rfind("UPDATE acct SET balance", 0) == 0);
  CHECK(f[0].sessions.size() == 2);
}

TEST_CASE("lock-wait: a wait ended by a lock timeout or a disconnection says so", "[lock-wait]") {
  Harness<pgsift::analyzers::LockWaitRule> h;
  h.feed(event_at(7001, kT0 + kSecond, 3,
                  still_waiting(7001, "RowExclusiveLock", "relation", 0, {7000}, {7001},
                                "UPDATE acct SET balance = 1 WHERE id = 1")));
  model::TimeoutEvent timeout;
  timeout.kind = model::TimeoutEvent::Kind::lock_timeout;
  h.feed(event_at(7001, kT0 + 3 * kSecond, 6, timeout, model::LogLevel::error));
  h.feed(event_at(7002, kT0 + kSecond, 7,
                  still_waiting(7002, "ShareLock", "transaction", 9, {7000}, {7002}, "DELETE FROM acct WHERE id = 2")));
  model::ConnectionEvent gone;
  gone.kind = model::ConnectionEvent::Kind::disconnected;
  h.feed(event_at(7002, kT0 + 2 * kSecond, 9, gone));
  auto& f = h.finish();
  REQUIRE(f.size() == 2);
  CHECK(f[0].details.value("ended_by", "") == "lock timeout");
  CHECK(f[0].details.value("wait_ms", 0.0) == Approx(2200));
  CHECK(f[0].message.find("RowExclusiveLock on table acct") != std::string::npos);  // named from the statement
  CHECK(f[1].details.value("ended_by", "") == "disconnection");
  CHECK(f[1].severity == Severity::info);  // blocker unknown, short wait
}

TEST_CASE("lock-wait: a weak request queued behind DDL is blocked by the DDL, not the holder", "[lock-wait]") {
  Harness<pgsift::analyzers::LockWaitRule> h;
  h.directory.add(6820, {"BEGIN", "SELECT * FROM t"}, kT0);
  h.directory.add(6821, {"ALTER TABLE t ADD COLUMN c int"}, kT0 + kSecond, false);
  auto ddl = still_waiting(6821, "AccessExclusiveLock", "relation", 0, {6820}, {6821, 6822},
                           "ALTER TABLE t ADD COLUMN c int", "t");
  auto reader = still_waiting(6822, "AccessShareLock", "relation", 0, {6820}, {6821, 6822},
                              "SELECT count(*) FROM t", "t");
  h.feed(event_at(6821, kT0 + 2 * kSecond, 20, ddl));
  h.feed(event_at(6822, kT0 + 3 * kSecond, 25, reader));
  auto& f = h.finish();
  REQUIRE(f.size() == 2);
  const core::Finding& waiter = f[0].details["waiter"].value("pid", 0) == 6822 ? f[0] : f[1];
  const core::Finding& ddl_wait = f[0].details["waiter"].value("pid", 0) == 6822 ? f[1] : f[0];
  REQUIRE(waiter.details["blockers"].size() == 1);
  CHECK(waiter.details["blockers"][0].value("pid", 0) == 6821);
  CHECK(waiter.details["blockers"][0].value("queued_ahead", false));
  CHECK(waiter.message.find("queued ahead") != std::string::npos);
  CHECK(ddl_wait.details["blockers"][0].value("pid", 0) == 6820);
  CHECK(ddl_wait.details["blocking"].size() == 1);
  CHECK(ddl_wait.severity == Severity::warning);
}

TEST_CASE("lock-wait: chains and repeated waits of one shape are summarized", "[lock-wait]") {
  Harness<pgsift::analyzers::LockWaitRule> h;
  h.directory.add(100, {"BEGIN", "UPDATE acct SET balance = 1 WHERE id = 1"}, kT0);
  h.feed(event_at(101, kT0 + kSecond, 1,
                  still_waiting(101, "ShareLock", "transaction", 50, {100}, {101}, "UPDATE acct SET balance = 2 WHERE id = 1", "acct")));
  h.feed(event_at(102, kT0 + 2 * kSecond, 2,
                  still_waiting(102, "ShareLock", "transaction", 51, {101}, {102}, "SELECT * FROM acct WHERE id = 1 FOR UPDATE", "acct")));
  auto& f = h.finish();
  REQUIRE(f.size() == 2);
  const core::Finding& deep = f[0].details["waiter"].value("pid", 0) == 102 ? f[0] : f[1];
  CHECK(deep.details["chain"] == nlohmann::json::array({101, 100}));
  CHECK(deep.details.value("chain_text", "") == "102 <- 101, 100");

  Harness<pgsift::analyzers::LockWaitRule> hot;
  for (int i = 0; i < 3; ++i) {
    hot.feed(event_at(300 + i, kT0 + i * kSecond, 10 + i,
                      still_waiting(300 + i, "ShareLock", "transaction", 80 + i, {299}, {300 + i},
                                    "UPDATE counter SET n = n + 1 WHERE id = 1", "counter")));
    hot.feed(event_at(300 + i, kT0 + i * kSecond + 500000, 20 + i, acquired(300 + i, "ShareLock", 700 + 100 * i)));
  }
  auto& spots = hot.finish();
  REQUIRE(spots.size() == 1);
  CHECK(spots[0].occurrences == 3);
  CHECK(spots[0].details["hot_spot"].value("waits", 0) == 3);
  CHECK(spots[0].details["hot_spot"].value("max_ms", 0.0) == Approx(900));
  CHECK(spots[0].message.find("3 waits of this shape") != std::string::npos);
}

TEST_CASE("lock-wait: min-wait-ms drops short waits and bad values are rejected", "[lock-wait]") {
  Harness<pgsift::analyzers::LockWaitRule> h(core::OptionMap{{"min-wait-ms", "1000"}});
  h.feed(event_at(1, kT0, 1, still_waiting(1, "ShareLock", "transaction", 5, {2}, {1}, "UPDATE t SET a = 1 WHERE id = 1")));
  h.feed(event_at(1, kT0 + 100000, 2, acquired(1, "ShareLock", 300)));
  CHECK(h.finish().empty());
  CHECK(pgsift::analyzers::LockWaitRule::validate({{"min-wait-ms", "soon"}}).find("min-wait-ms") != std::string::npos);
}

TEST_CASE("deadlock: the full cycle with statements, transactions and the cancelled pid", "[deadlock]") {
  Harness<pgsift::analyzers::DeadlockRule> h;
  h.directory.add(6315, {"BEGIN", "UPDATE acct SET balance = 1 WHERE id = 2", "UPDATE acct SET balance = 1 WHERE id = 1"}, kT0);
  h.directory.add(6316, {"BEGIN", "UPDATE acct SET balance = 2 WHERE id = 1", "UPDATE acct SET balance = 2 WHERE id = 2"}, kT0);
  model::DeadlockEvent d;
  d.cycle = {{6315, "ShareLock", "transaction 730", 730, 6316, "UPDATE acct SET balance = 1 WHERE id = 1"},
             {6316, "ShareLock", "transaction 729", 729, 6315, "UPDATE acct SET balance = 2 WHERE id = 2"}};
  d.statement = "UPDATE acct SET balance = 1 WHERE id = 1";
  d.context = "while updating tuple (0,1) in relation \"acct\"";
  h.feed(event_at(6315, kT0 + kSecond, 40, d, model::LogLevel::error));
  auto& f = h.finish();
  REQUIRE(f.size() == 1);
  CHECK(f[0].rule == "deadlock");
  CHECK(f[0].severity == Severity::error);
  CHECK(f[0].evidence[0].line == 40);
  CHECK(f[0].evidence[0].role == "cancelled");
  CHECK(f[0].message.find("deadlock of 2 processes on acct") != std::string::npos);
  CHECK(f[0].message.find("PostgreSQL cancelled pid 6315") != std::string::npos);
  CHECK(f[0].details["cycle"].size() == 2);
  CHECK(f[0].details["cycle"][1]["transaction_locks_in_order"].size() == 2);
  CHECK(f[0].help.find("consistent order") != std::string::npos);
  CHECK_FALSE(f[0].details.value("share_lock_upgrade", true));
}

TEST_CASE("deadlock: FOR SHARE upgrades are named in the advice", "[deadlock]") {
  Harness<pgsift::analyzers::DeadlockRule> h;
  for (int pid : {11, 12}) {
    h.directory.add(pid, {"BEGIN", "SELECT * FROM acct WHERE id = 1 FOR SHARE", "UPDATE acct SET balance = 5 WHERE id = 1"}, kT0);
  }
  model::DeadlockEvent d;
  d.cycle = {{11, "ExclusiveLock", "tuple (0,1) of relation 16384 of database 5", 0, 12, "UPDATE acct SET balance = 5 WHERE id = 1"},
             {12, "ShareLock", "transaction 77", 77, 11, "UPDATE acct SET balance = 5 WHERE id = 1"}};
  h.feed(event_at(11, kT0, 5, d, model::LogLevel::error));
  auto& f = h.finish();
  REQUIRE(f.size() == 1);
  CHECK(f[0].details.value("share_lock_upgrade", false));
  CHECK(f[0].help.find("FOR SHARE") != std::string::npos);
}

TEST_CASE("lock-timeout: the cancelled statement, the wanted lock and the holder from the wait line",
          "[lock-timeout]") {
  Harness<pgsift::analyzers::LockTimeoutRule> h;
  h.directory.add(500, {"BEGIN", "LOCK TABLE acct IN ACCESS EXCLUSIVE MODE"}, kT0);
  h.feed(event_at(501, kT0 + kSecond, 7,
                  still_waiting(501, "RowExclusiveLock", "relation", 0, {500}, {501}, "UPDATE acct SET balance = 1 WHERE id = 1")));
  model::TimeoutEvent t;
  t.kind = model::TimeoutEvent::Kind::lock_timeout;
  t.statement = "UPDATE acct SET balance = 1 WHERE id = 1";
  h.feed(event_at(501, kT0 + 2 * kSecond, 9, t, model::LogLevel::error));
  auto& f = h.finish();
  REQUIRE(f.size() == 1);
  CHECK(f[0].rule == "lock-timeout");
  CHECK(f[0].severity == Severity::warning);
  CHECK(f[0].evidence[0].line == 9);
  CHECK(f[0].message.find("lock timeout: pid 501 'UPDATE acct SET balance = $1 WHERE id = $2' wanted RowExclusiveLock") !=
        std::string::npos);
  CHECK(f[0].message.find("likely holder pid 500 (idle in transaction") != std::string::npos);
  CHECK(f[0].details.value("holders_named_by", "").rfind("the log", 0) == 0);
}

TEST_CASE("lock-timeout: without a wait line the holder is an open transaction on the same table",
          "[lock-timeout]") {
  Harness<pgsift::analyzers::LockTimeoutRule> h;
  h.directory.add(600, {"BEGIN", "LOCK TABLE acct IN ACCESS EXCLUSIVE MODE"}, kT0);
  h.directory.add(602, {"BEGIN", "UPDATE other SET a = 1 WHERE id = 1"}, kT0);
  model::TimeoutEvent t;
  t.kind = model::TimeoutEvent::Kind::lock_timeout;
  t.statement = "SELECT * FROM acct WHERE id = 1";
  h.feed(event_at(601, kT0 + kSecond, 3, t, model::LogLevel::error));
  auto& f = h.finish();
  REQUIRE(f.size() == 1);
  REQUIRE(f[0].details["holders"].size() == 1);
  CHECK(f[0].details["holders"][0].value("pid", 0) == 600);
  CHECK(f[0].details.value("holders_named_by", "").find("(likely)") != std::string::npos);
  CHECK(f[0].details.value("wanted", "") == "a lock on acct");
}

TEST_CASE("lock-timeout: a NOWAIT failure is reported as info", "[lock-timeout]") {
  Harness<pgsift::analyzers::LockTimeoutRule> h;
  model::ErrorEvent e;
  e.sqlstate = "55P03";
  e.message = "could not obtain lock on row in relation \"jobs\"";
  e.statement = "SELECT * FROM jobs WHERE id = 3 FOR UPDATE NOWAIT";
  h.feed(event_at(700, kT0, 2, e, model::LogLevel::error));
  auto& f = h.finish();
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::info);
  CHECK(f[0].details.value("relation", "") == "jobs");
  CHECK(f[0].help.find("SKIP LOCKED") != std::string::npos);
}

TEST_CASE("lock words: relations named by OID get their name from DDL, other lines or nothing", "[lock-wait]") {
  namespace locks = pgsift::analyzers::locks;
  CHECK(locks::single_table("ALTER TABLE acct ADD COLUMN note text") == "acct");
  CHECK(locks::single_table("TRUNCATE public.booking") == "public.booking");
  CHECK(locks::single_table("LOCK TABLE acct IN ACCESS EXCLUSIVE MODE") == "acct");
  CHECK(locks::single_table("SELECT count(*) FROM acct JOIN stock ON true") == "");
  CHECK(locks::single_table("DROP TABLE acct, stock") == "");

  core::Schema schema;
  // A relation wait whose statement names two tables: nothing knows the name.
  auto join = still_waiting(11, "AccessShareLock", "relation", 0, {10}, {11},
                            "SELECT count(*) FROM acct JOIN stock ON true");
  CHECK(locks::relation_of(join, schema) == "relation with OID 16384");
  CHECK(locks::object_words(join, schema) == "relation with OID 16384");
  // A tuple wait on the same OID names it in its CONTEXT; once learned, the
  // OID is named everywhere.
  model::LockEvent tuple = still_waiting(12, "AccessExclusiveLock", "tuple", 0, {10}, {12},
                                         "UPDATE acct SET balance = 1 WHERE id = 1", "acct");
  tuple.relation_oid = 16384;
  locks::RelationNames names;
  names.learn(join);
  CHECK(names.find(16384) == "");
  names.learn(tuple);
  CHECK(names.find(16384) == "acct");
  CHECK(locks::object_words(join, schema, &names) == "table acct");
  // The schema's OID map (from --schema-from) wins over the log.
  schema.relation_names[16384] = "public.acct";
  CHECK(locks::relation_of(join, schema, &names) == "public.acct");
}

TEST_CASE("lock-wait: a wait on an unnamed OID is named by a later line about the same OID", "[lock-wait]") {
  Harness<pgsift::analyzers::LockWaitRule> h;
  h.directory.add(10, {"BEGIN", "LOCK TABLE acct IN ACCESS EXCLUSIVE MODE"}, kT0);
  h.feed(event_at(11, kT0 + kSecond, 5,
                  still_waiting(11, "AccessShareLock", "relation", 0, {10}, {11},
                                "SELECT count(*) FROM acct JOIN stock ON true")));
  h.feed(event_at(11, kT0 + 2 * kSecond, 6, acquired(11, "AccessShareLock", 1200)));
  SECTION("named later") {
    h.feed(event_at(12, kT0 + 3 * kSecond, 8,
                    still_waiting(12, "RowExclusiveLock", "relation", 0, {10}, {12},
                                  "UPDATE acct SET balance = 1 WHERE id = 1")));
    auto& f = h.finish();
    REQUIRE(f.size() == 2);
    const core::Finding& first = f[0].evidence[0].line == 5 ? f[0] : f[1];
    CHECK(first.message.find("for AccessShareLock on table acct") != std::string::npos);
    CHECK(first.details.value("object", "") == "table acct");
    CHECK(first.details.value("relation_named_by", "") == "another lock line about the same OID");
  }
  SECTION("never named") {
    auto& f = h.finish();
    REQUIRE(f.size() == 1);
    CHECK(f[0].message.find("for AccessShareLock on relation with OID 16384") != std::string::npos);
  }
}

TEST_CASE("lock-timeout: DDL names plain readers as likely holders, a row write does not", "[lock-timeout]") {
  Harness<pgsift::analyzers::LockTimeoutRule> h;
  h.directory.add(800, {"BEGIN", "SELECT balance FROM acct WHERE id = 1"}, kT0);
  h.directory.add(802, {"BEGIN", "UPDATE stock SET qty = 1 WHERE id = 1"}, kT0);
  model::TimeoutEvent ddl;
  ddl.kind = model::TimeoutEvent::Kind::lock_timeout;
  ddl.statement = "ALTER TABLE acct ADD COLUMN note text";
  h.feed(event_at(801, kT0 + kSecond, 4, ddl, model::LogLevel::error));
  model::TimeoutEvent update;
  update.kind = model::TimeoutEvent::Kind::lock_timeout;
  update.statement = "UPDATE acct SET balance = 2 WHERE id = 1";
  h.feed(event_at(803, kT0 + kSecond, 6, update, model::LogLevel::error));
  auto& f = h.finish();
  REQUIRE(f.size() == 2);
  const core::Finding& on_ddl = f[0].evidence[0].line == 4 ? f[0] : f[1];
  const core::Finding& on_update = f[0].evidence[0].line == 4 ? f[1] : f[0];
  CHECK(on_ddl.details.value("relation", "") == "acct");
  REQUIRE(on_ddl.details["holders"].size() == 1);
  CHECK(on_ddl.details["holders"][0].value("pid", 0) == 800);
  CHECK(on_ddl.message.find("likely holder pid 800 (idle in transaction") != std::string::npos);
  // A reader's AccessShareLock does not block an UPDATE; nobody else touched acct.
  CHECK(on_update.details["holders"].empty());
  CHECK(on_update.message.find("likely holder") == std::string::npos);
}
