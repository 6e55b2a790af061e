#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "analyzers/session/session_tracker.h"
#include "tests/testing/event_builder.h"

namespace {

using pgsift::model::Transaction;
using pgsift::testing::EventScript;

struct SeenUnit {
  pgsift::model::SessionInfo session;
  pgsift::model::UnitOfWork unit;
};

/// Records what the tracker hands to rules.
class RecordingRule final : public pgsift::core::Rule {
 public:
  const pgsift::core::RuleInfo& info() const override { return info_; }
  void on_unit(const pgsift::model::SessionInfo& session, const pgsift::model::UnitOfWork& unit,
               pgsift::core::FindingSink&) override {
    units.push_back({session, unit});
  }
  void on_event(const pgsift::model::Event& event, const pgsift::core::SessionDirectory& sessions,
                pgsift::core::FindingSink&) override {
    if (const auto* lock = std::get_if<pgsift::model::LockEvent>(&event.body)) {
      for (auto holder : lock->holders) {
        const auto* state = sessions.find(holder);
        holder_states.push_back(state == nullptr ? std::string("<none>")
                                : state->open_transaction == nullptr
                                    ? std::string("<idle>")
                                    : state->last_execution->sql);
      }
    }
    ++events;
  }
  void finish(pgsift::core::FindingSink&) override { finished = true; }

  std::vector<SeenUnit> units;
  std::vector<std::string> holder_states;
  int events = 0;
  bool finished = false;

 private:
  pgsift::core::RuleInfo info_{"recording", "records", pgsift::core::Severity::info};
};

class NullSink final : public pgsift::core::FindingSink {
 public:
  void add(pgsift::core::Finding) override {}
};

struct Run {
  RecordingRule rule;
  NullSink sink;
  pgsift::session::SessionTracker tracker;

  explicit Run(pgsift::session::TrackerOptions options = {}) : tracker(options, sink) {
    tracker.add_rule(&rule);
  }
  Run& feed(const EventScript& script) {
    for (const auto& event : script.events) tracker.on_event(event);
    tracker.finish();
    return *this;
  }
  std::vector<const Transaction*> transactions() const {
    std::vector<const Transaction*> all;
    for (const auto& seen : rule.units)
      for (const auto& transaction : seen.unit.transactions) all.push_back(&transaction);
    return all;
  }
};

}  // namespace

TEST_CASE("session: BEGIN..COMMIT is one explicit transaction, autocommit statements are implicit",
          "[session]") {
  EventScript s;
  s.as(101).connect().sql("SELECT 1").sql("BEGIN").sql("UPDATE t SET x = 1 WHERE id = 1")
      .sql("COMMIT").sql("SELECT 2").disconnect();
  Run run;
  run.feed(s);
  auto all = run.transactions();
  REQUIRE(all.size() == 3);
  CHECK_FALSE(all[0]->is_explicit);
  CHECK(all[1]->is_explicit);
  CHECK(all[1]->executions.size() == 3);
  CHECK(all[1]->end == Transaction::End::commit);
  CHECK_FALSE(all[1]->started_before_log);
  CHECK_FALSE(all[2]->is_explicit);
  CHECK(run.rule.finished);
  CHECK(run.tracker.open_sessions() == 0);
}

TEST_CASE("session: an idle gap outside transactions splits units, one inside does not",
          "[session]") {
  EventScript s;
  s.as(101).connect().sql("SELECT 1").wait_ms(50).sql("SELECT 2")
      .wait_ms(1000).sql("BEGIN").wait_ms(800).sql("SELECT 3").sql("COMMIT");
  Run run;
  run.feed(s);
  REQUIRE(run.rule.units.size() == 2);
  CHECK(run.rule.units[0].unit.transactions.size() == 2);
  CHECK(run.rule.units[1].unit.transactions.size() == 1);
  CHECK(run.rule.units[1].unit.transactions[0].executions.size() == 3);
}

TEST_CASE("session: sqlcommenter trace ids delimit units even without idle gaps", "[session]") {
  EventScript s;
  s.as(101).connect()
      .sql("SELECT 1 /*traceparent='00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01'*/")
      .sql("SELECT 2 /*traceparent='00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-cccccccccccccccc-01'*/")
      .sql("SELECT 3 /*traceparent='00-dddddddddddddddddddddddddddddddd-bbbbbbbbbbbbbbbb-01'*/");
  Run run;
  run.feed(s);
  REQUIRE(run.rule.units.size() == 2);
  CHECK(run.rule.units[0].unit.transactions.size() == 2);
  CHECK(run.rule.units[0].unit.key.rfind("trace:aaaa", 0) == 0);
}

TEST_CASE("session: without %c a reused pid after a new connection is a new session", "[session]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").sql("SELECT 1")  // connection lost, no disconnection line
      .connect().sql("SELECT 2");
  Run run;
  run.feed(s);
  REQUIRE(run.rule.units.size() == 2);
  const auto& first = run.rule.units[0].unit.transactions.at(0);
  CHECK(first.is_explicit);
  CHECK(first.end == Transaction::End::cut);
  CHECK(run.rule.units[0].session.session_id != run.rule.units[1].session.session_id);
  CHECK(run.tracker.stats().sessions == 2);
}

TEST_CASE("session: %c keys sessions even when two share a pid over time", "[session]") {
  EventScript s;
  s.as(101, "665a.65").sql("SELECT 1").as(101, "665b.65").sql("SELECT 2");
  Run run;
  run.feed(s);
  REQUIRE(run.rule.units.size() == 2);
  CHECK(run.rule.units[0].session.session_id == "665a.65");
  CHECK(run.rule.units[1].session.session_id == "665b.65");
}

TEST_CASE("session: a log starting mid-transaction yields a started_before_log transaction",
          "[session]") {
  EventScript s;
  s.as(101).sql("UPDATE t SET x = 1 WHERE id = 1").wait_ms(300).sql("COMMIT")
      .sql("SELECT 1");
  Run run;
  run.feed(s);
  auto all = run.transactions();
  REQUIRE(all.size() == 2);
  CHECK(all[0]->is_explicit);
  CHECK(all[0]->started_before_log);
  CHECK(all[0]->executions.size() == 2);
  CHECK_FALSE(all[1]->is_explicit);
}

TEST_CASE("session: a session seen mid-way that never shows BEGIN/COMMIT is autocommit",
          "[session]") {
  EventScript s;
  s.as(101).sql("SELECT 1").wait_ms(2000).sql("SELECT 2").sql("SELECT 3");
  Run run;
  run.feed(s);
  auto all = run.transactions();
  REQUIRE(all.size() == 3);
  for (const auto* t : all) CHECK_FALSE(t->is_explicit);
  // The replay still splits units at the idle gap.
  CHECK(run.rule.units.size() == 2);
}

TEST_CASE("session: vxid 0 on a simple-protocol duration line decides autocommit early",
          "[session]") {
  EventScript s;
  s.as(101).vxid("3/0").sql("SELECT 1").sql("SELECT 2");
  Run run;
  for (const auto& event : s.events) run.tracker.on_event(event);
  // Decided before the end of input: nothing is pending as a possible transaction.
  CHECK(run.tracker.find(101)->open_transaction == nullptr);
  run.tracker.finish();
  CHECK(run.transactions().size() == 2);
}

TEST_CASE("session: isolation levels come from BEGIN, SET TRANSACTION and session defaults",
          "[session]") {
  EventScript s;
  s.as(101).connect()
      .sql("BEGIN ISOLATION LEVEL SERIALIZABLE").sql("COMMIT")
      .sql("BEGIN").sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").sql("COMMIT")
      .sql("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ")
      .sql("BEGIN").sql("COMMIT")
      .sql("SELECT 1");
  Run run;
  run.feed(s);
  auto all = run.transactions();
  REQUIRE(all.size() == 5);
  using pgsift::sql::IsolationLevel;
  CHECK(all[0]->isolation == IsolationLevel::serializable);
  CHECK(all[0]->isolation_known);
  CHECK(all[1]->isolation == IsolationLevel::repeatable_read);
  CHECK(all[3]->isolation == IsolationLevel::repeatable_read);
  CHECK(all[3]->isolation_known);
  CHECK(all[4]->isolation == IsolationLevel::repeatable_read);
}

TEST_CASE("session: an error makes COMMIT a rollback; savepoint rollback recovers", "[session]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").error("23505", "duplicate key").sql("COMMIT")
      .sql("BEGIN").sql("SAVEPOINT a").error("23505", "duplicate key")
      .sql("ROLLBACK TO SAVEPOINT a").sql("COMMIT");
  Run run;
  run.feed(s);
  auto all = run.transactions();
  REQUIRE(all.size() == 2);
  CHECK(all[0]->end == Transaction::End::rollback);
  CHECK(all[1]->end == Transaction::End::commit);
  CHECK(all[1]->executions.size() == 4);
}

TEST_CASE("session: the directory shows what a lock holder is doing", "[session]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").sql("UPDATE accounts SET balance = 0 WHERE id = 1")
      .as(102).connect().sql("SELECT 1")
      .lock_wait(102, {101}, 1000.0).lock_wait(102, {102}, 1000.0).lock_wait(102, {999}, 1.0);
  Run run;
  run.feed(s);
  REQUIRE(run.rule.holder_states.size() == 3);
  CHECK(run.rule.holder_states[0] == "UPDATE accounts SET balance = 0 WHERE id = 1");
  CHECK(run.rule.holder_states[1] == "<idle>");
  CHECK(run.rule.holder_states[2] == "<none>");
}

TEST_CASE("session: FATAL idle-in-transaction timeout ends the session and aborts its transaction",
          "[session]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").sql("SELECT 1").wait_ms(5000)
      .timeout(pgsift::model::TimeoutEvent::Kind::idle_in_transaction_timeout).disconnect();
  Run run;
  run.feed(s);
  auto all = run.transactions();
  REQUIRE(all.size() == 1);
  CHECK(all[0]->end == Transaction::End::aborted);
  CHECK(run.tracker.stats().sessions == 1);  // the disconnection line did not resurrect it
}

TEST_CASE("session: memory stays bounded by open sessions", "[session]") {
  EventScript s;
  for (int pid = 1000; pid < 1400; ++pid) {
    s.as(pid).connect().sql("SELECT 1").disconnect();
  }
  s.as(5).sql("SELECT 1");
  for (int i = 0; i < 50; ++i) s.as(2000 + i).sql("SELECT 1");
  s.wait_ms(2 * 3600 * 1000.0).as(6).sql("SELECT 1");
  Run run;
  for (const auto& event : s.events) run.tracker.on_event(event);
  // Sessions quiet for longer than the timeout were closed by log time.
  CHECK(run.tracker.open_sessions() == 1);
  CHECK(run.tracker.stats().max_open_sessions <= 52);
  run.tracker.finish();
  CHECK(run.tracker.open_sessions() == 0);
}

TEST_CASE("session: long units are handed over in bounded pieces", "[session]") {
  pgsift::session::TrackerOptions options;
  options.max_unit_executions = 100;
  EventScript s;
  s.as(101).connect();
  for (int i = 0; i < 1000; ++i) s.sql("SELECT " + std::to_string(i));
  Run run(options);
  run.feed(s);
  CHECK(run.rule.units.size() == 10);
}

TEST_CASE("session: by default a unit closes after 2000 statements (pgsift(1), -o)", "[session]") {
  EventScript s;
  s.as(101).connect();
  for (int i = 0; i < 4500; ++i) s.sql("SELECT " + std::to_string(i));
  Run run;
  run.feed(s);
  REQUIRE(run.rule.units.size() == 3);
  CHECK(run.rule.units[0].unit.transactions.size() == 2000);
  CHECK(run.rule.units[2].unit.transactions.size() == 500);
}

TEST_CASE("session: session.* options set the tracker's bounds and reject bad values", "[session]") {
  pgsift::session::TrackerOptions options;
  CHECK(pgsift::session::TrackerOptions::from_options(
            {{"session.max-unit-statements", "250"}, {"session.unit-gap-ms", "40"}}, options) == "");
  CHECK(options.max_unit_executions == 250);
  CHECK(options.unit_gap_us == 40 * pgsift::model::kMicrosPerMilli);
  CHECK(pgsift::session::TrackerOptions::from_options({{"session.max-unit-statements", "0"}}, options) ==
        "option 'session.max-unit-statements': expected a number >= 1, got '0'");
  CHECK(options.max_unit_executions == 250);
  CHECK(pgsift::session::TrackerOptions::from_options({{"session.max-units", "9"}}, options) ==
        "unknown option 'session.max-units' (session options: unit-gap-ms, timeout-s, max-unit-statements)");
}

TEST_CASE("session: coverage is complete for a log of every statement with durations",
          "[session]") {
  EventScript s;
  s.as(101, "a.1").line(1).connect();
  for (int i = 0; i < 20; ++i) s.sql("SELECT " + std::to_string(i), 0.02);
  Run run;
  run.feed(s);
  CHECK(run.tracker.coverage().every_statement);
}

TEST_CASE("session: coverage detects log_min_duration_statement > 0", "[session]") {
  EventScript s;
  s.as(101).connect();
  for (int i = 0; i < 20; ++i) s.sql("SELECT pg_sleep(0.01)", 10.2);
  Run run;
  run.feed(s);
  CHECK_FALSE(run.tracker.coverage().every_statement);
  CHECK(run.tracker.coverage().reason.find("log_min_duration_statement") != std::string::npos);
}

TEST_CASE("session: coverage detects statements logged without durations", "[session]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN", -1).sql("SELECT 1", -1).sql("COMMIT", -1);
  Run run;
  run.feed(s);
  CHECK_FALSE(run.tracker.coverage().every_statement);
  CHECK(run.tracker.coverage().reason.find("without a duration") != std::string::npos);
}

TEST_CASE("session: coverage detects gaps in %l session line numbers", "[session]") {
  EventScript s;
  s.as(101, "a.1").line(1).connect().sql("BEGIN").line(40).sql("COMMIT");
  Run run;
  run.feed(s);
  CHECK_FALSE(run.tracker.coverage().every_statement);
  CHECK(run.tracker.coverage().reason.find("%l") != std::string::npos);
}

TEST_CASE("session: coverage detects COMMITs without BEGIN (statement sampling)", "[session]") {
  EventScript s;
  s.as(101).connect().sql("SELECT 1").sql("COMMIT").sql("UPDATE t SET x = 1").sql("COMMIT");
  Run run;
  run.feed(s);
  CHECK_FALSE(run.tracker.coverage().every_statement);
  CHECK(run.tracker.coverage().reason.find("without a BEGIN") != std::string::npos);
}

TEST_CASE("session: the directory lists every open session, by pid", "[session]") {
  // A rule that snapshots open_session_states() at each lock event.
  class Lister final : public pgsift::core::Rule {
   public:
    const pgsift::core::RuleInfo& info() const override { return info_; }
    void on_event(const pgsift::model::Event& event, const pgsift::core::SessionDirectory& sessions,
                  pgsift::core::FindingSink&) override {
      if (!std::holds_alternative<pgsift::model::LockEvent>(event.body)) return;
      std::vector<std::string> seen;
      for (const auto* state : sessions.open_session_states()) {
        seen.push_back(std::to_string(state->info.pid) + (state->open_transaction ? " in transaction" : ""));
      }
      snapshots.push_back(seen);
    }
    std::vector<std::vector<std::string>> snapshots;

   private:
    pgsift::core::RuleInfo info_{"lister", "lists", pgsift::core::Severity::info};
  };
  EventScript s;
  s.as(303).connect().sql("BEGIN").sql("LOCK TABLE acct IN ACCESS EXCLUSIVE MODE")
      .as(301).connect().sql("SELECT 1")
      .as(302).connect().sql("SELECT 2")
      .lock_wait(301, {303}, 100.0)
      .as(302).disconnect()
      .lock_wait(301, {303}, 200.0);
  Lister lister;
  NullSink sink;
  pgsift::session::SessionTracker tracker({}, sink);
  tracker.add_rule(&lister);
  for (const auto& event : s.events) tracker.on_event(event);
  tracker.finish();
  REQUIRE(lister.snapshots.size() == 2);
  CHECK(lister.snapshots[0] == std::vector<std::string>{"301", "302", "303 in transaction"});
  CHECK(lister.snapshots[1] == std::vector<std::string>{"301", "303 in transaction"});
}
