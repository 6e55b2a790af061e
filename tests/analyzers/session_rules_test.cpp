// n-plus-one, repeated-query and idle-in-transaction on event scripts: the
// heuristics one by one (real-log behaviour is in tests/fixtures_test.cpp and
// the [pg] end-to-end tests).
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "analyzers/core/analyzer.h"
#include "analyzers/session/session_tracker.h"
#include "cli/analysis/finding_collector.h"
#include "tests/testing/event_builder.h"

namespace {

using pgsift::core::Finding;
using pgsift::core::Severity;
using pgsift::testing::EventScript;

std::vector<Finding> findings_of(const EventScript& script, std::vector<std::string> rules,
                                 pgsift::core::OptionMap options = {}) {
  pgsift::cli::analysis::FindingCollector collector;
  pgsift::session::SessionTracker tracker({}, collector);
  std::vector<std::unique_ptr<pgsift::core::Rule>> made;
  pgsift::core::Schema schema;
  for (const auto& id : rules) {
    pgsift::core::RuleContext context;
    context.schema = &schema;
    context.coverage = &tracker.coverage();
    for (const auto& [key, value] : options) {
      if (key.rfind(id + ".", 0) == 0) context.options[key.substr(id.size() + 1)] = value;
    }
    made.push_back(pgsift::core::find_rule(id)->make(context));
    tracker.add_rule(made.back().get());
  }
  for (const auto& event : script.events) tracker.on_event(event);
  tracker.finish();
  return collector.take_sorted();
}

const std::vector<std::string> kLoopRules = {"n-plus-one", "repeated-query"};

EventScript loop(int children, bool same_values = false, bool parent = true) {
  EventScript s;
  s.as(101).connect();
  if (parent) s.exec("SELECT id FROM orders WHERE customer_id = $1", {"7"}, 0.2);
  for (int i = 0; i < children; ++i) {
    s.wait_ms(0.3).exec("SELECT * FROM items WHERE order_id = $1",
                        {same_values ? std::string("5") : std::to_string(100 + i)});
  }
  return s;
}

}  // namespace

TEST_CASE("n-plus-one: a loop over a parent's rows is reported with count, parent and rewrite",
          "[n-plus-one]") {
  auto found = findings_of(loop(12), kLoopRules);
  REQUIRE(found.size() == 1);
  const Finding& f = found[0];
  CHECK(f.rule == "n-plus-one");
  CHECK(f.severity == Severity::warning);
  CHECK(f.details["count"] == 12);
  CHECK(f.details["distinct_values"] == 12);
  CHECK(f.details["parent"] == "SELECT id FROM orders WHERE customer_id = $1");
  CHECK(f.details["rewrite"] == "SELECT * FROM items WHERE order_id = ANY($1)");
  CHECK(f.evidence.at(0).role == "first of the loop");
  CHECK(f.evidence.at(1).role == "parent");
  CHECK(f.sessions.at(0).pid == 101);
}

TEST_CASE("n-plus-one: same values are repeated-query, never n-plus-one", "[n-plus-one][repeated-query]") {
  auto found = findings_of(loop(8, true), kLoopRules);
  REQUIRE(found.size() == 1);
  CHECK(found[0].rule == "repeated-query");
  CHECK(found[0].severity == Severity::info);
}

TEST_CASE("n-plus-one: below min-repetitions, and without a parent, nothing", "[n-plus-one]") {
  CHECK(findings_of(loop(4), kLoopRules).empty());
  CHECK(findings_of(loop(12, false, false), kLoopRules).empty());
  CHECK(findings_of(loop(4), kLoopRules, {{"n-plus-one.min-repetitions", "3"}}).size() == 1);
}

TEST_CASE("n-plus-one: repetitions in separate transactions are not one loop", "[n-plus-one]") {
  EventScript s;
  s.as(101).connect().sql("SELECT 1");
  for (int i = 0; i < 20; ++i) {
    s.sql("BEGIN").exec("UPDATE accounts SET balance = balance + $1 WHERE id = $2", {"1", std::to_string(i)})
        .exec("SELECT balance FROM accounts WHERE id = $1", {std::to_string(i)}).sql("COMMIT");
  }
  CHECK(findings_of(s, kLoopRules).empty());
}

TEST_CASE("n-plus-one: loops split by idle gaps or different sessions are not combined", "[n-plus-one]") {
  EventScript s;
  s.as(101).connect().exec("SELECT id FROM orders WHERE customer_id = $1", {"1"});
  for (int i = 0; i < 3; ++i) s.exec("SELECT * FROM items WHERE order_id = $1", {std::to_string(i)});
  s.as(102).connect().exec("SELECT id FROM orders WHERE customer_id = $1", {"1"});
  for (int i = 3; i < 6; ++i) s.exec("SELECT * FROM items WHERE order_id = $1", {std::to_string(i)});
  s.as(101).wait_ms(400);
  for (int i = 6; i < 9; ++i) s.exec("SELECT * FROM items WHERE order_id = $1", {std::to_string(i)});
  CHECK(findings_of(s, kLoopRules).empty());
}

TEST_CASE("n-plus-one: batched = ANY, keyset pagination and cursor fetches are not loops", "[n-plus-one]") {
  EventScript s;
  s.as(101).connect().sql("SELECT count(*) FROM items");
  for (int i = 0; i < 8; ++i) s.exec("SELECT * FROM items WHERE order_id = ANY($1)", {"{" + std::to_string(i) + ",9}"});
  for (int i = 0; i < 8; ++i) s.exec("SELECT * FROM items WHERE id > $1 ORDER BY id LIMIT 100", {std::to_string(i * 100)});
  s.sql("BEGIN").sql("DECLARE c CURSOR FOR SELECT * FROM items");
  for (int i = 0; i < 8; ++i) s.sql("FETCH 10 FROM c");
  for (int i = 0; i < 8; ++i) s.fetch("SELECT * FROM items WHERE order_id = $1");
  s.sql("COMMIT");
  CHECK(findings_of(s, kLoopRules).empty());
}

TEST_CASE("n-plus-one: a per-parent LIMIT gets a LATERAL rewrite; 50 repetitions are an error",
          "[n-plus-one]") {
  EventScript s;
  s.as(101).connect().exec("SELECT id FROM posts WHERE author_id = $1", {"1"});
  for (int i = 0; i < 50; ++i) {
    s.exec("SELECT * FROM comments WHERE post_id = $1 ORDER BY created_at DESC LIMIT 3", {std::to_string(i)});
  }
  auto found = findings_of(s, kLoopRules);
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::error);
  CHECK(found[0].help.find("CROSS JOIN LATERAL") != std::string::npos);
  CHECK(found[0].help.find("post_id = p.key") != std::string::npos);
  CHECK(found[0].help.find("DISTINCT ON (post_id)") != std::string::npos);
}

TEST_CASE("n-plus-one: a small fan-out of the same size every time is not a loop", "[n-plus-one]") {
  EventScript s;
  s.as(101).connect();
  for (int request = 0; request < 3; ++request) {
    s.exec("SELECT name FROM customers WHERE id = $1", {std::to_string(request)});
    for (const char* name : {"a", "b", "c", "d", "e"}) s.exec("SELECT value FROM settings WHERE name = $1", {name});
    s.wait_ms(500);
  }
  CHECK(findings_of(s, kLoopRules).empty());
  // The same once: nothing tells it from a loop over five rows.
  CHECK(findings_of(loop(5), kLoopRules).size() == 1);
}

TEST_CASE("n-plus-one: requests tagged by sqlcommenter are units even on one busy connection",
          "[n-plus-one]") {
  EventScript s;
  s.as(101).connect();
  for (int request = 0; request < 2; ++request) {
    const std::string tag = " /*traceparent='00-" + std::string(32, char('a' + request)) + "-" +
                            std::string(16, 'b') + "-01'*/";
    s.exec("SELECT id FROM orders WHERE customer_id = $1" + tag, {"1"});
    for (int i = 0; i < 3; ++i) s.exec("SELECT * FROM items WHERE order_id = $1" + tag, {std::to_string(i + request * 3)});
  }
  // 6 lookups back to back, but 3 per request: below the threshold in each.
  CHECK(findings_of(s, kLoopRules).empty());
}

TEST_CASE("idle-in-transaction: a pause after a write is a warning with both statements", "[idle-in-transaction]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").sql("UPDATE accounts SET balance = 0 WHERE id = 1", 0.3)
      .wait_ms(600).sql("COMMIT");
  auto found = findings_of(s, {"idle-in-transaction"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::warning);
  CHECK(found[0].message.find("transaction idle for 600 ms") == 0);
  CHECK(found[0].message.find("while holding locks on accounts") != std::string::npos);
  CHECK(found[0].details["position"] == "before COMMIT");
  CHECK(found[0].evidence.at(1).sql == "COMMIT");
}

TEST_CASE("idle-in-transaction: read-only pauses are info; blocking others is an error", "[idle-in-transaction]") {
  EventScript read_only;
  read_only.as(101).connect().sql("BEGIN").sql("SELECT 1").wait_ms(300).sql("COMMIT");
  auto found = findings_of(read_only, {"idle-in-transaction"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::info);

  EventScript blocking;
  blocking.as(101).connect().sql("BEGIN").sql("UPDATE accounts SET balance = 0 WHERE id = 1")
      .as(102).connect().wait_ms(400).lock_wait(102, {101}, 200).wait_ms(200)
      .as(101).sql("COMMIT");
  found = findings_of(blocking, {"idle-in-transaction"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::error);
  CHECK(found[0].details["blocked"].size() == 1);
  CHECK(found[0].details["blocked"][0]["pid"] == 102);
}

TEST_CASE("idle-in-transaction: not outside transactions, not inside slow statements, not below the threshold",
          "[idle-in-transaction]") {
  EventScript s;
  s.as(101).connect().sql("UPDATE t SET x = 1 WHERE id = 1").wait_ms(800).sql("UPDATE t SET x = 2 WHERE id = 1")
      .sql("BEGIN").sql("SELECT pg_sleep(0.8)", 800).sql("COMMIT")
      .sql("BEGIN").sql("UPDATE t SET x = 3 WHERE id = 1").wait_ms(50).sql("COMMIT");
  CHECK(findings_of(s, {"idle-in-transaction"}).empty());
}

TEST_CASE("idle-in-transaction: a server timeout is an error naming the last statement", "[idle-in-transaction]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").sql("SELECT * FROM accounts WHERE id = 3 FOR UPDATE").wait_ms(300)
      .timeout(pgsift::model::TimeoutEvent::Kind::idle_in_transaction_timeout).disconnect();
  auto found = findings_of(s, {"idle-in-transaction"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::error);
  CHECK(found[0].message.find("idle_in_transaction_session_timeout (idle 300 ms)") != std::string::npos);
  CHECK(found[0].details["held_locks"][0] == "accounts");
}

TEST_CASE("idle-in-transaction: no gap findings when the log misses statements", "[idle-in-transaction]") {
  EventScript s;
  s.as(101).connect();
  for (int i = 0; i < 10; ++i) s.sql("SELECT pg_sleep(0.005)", 5.2);  // nothing under 1 ms is logged
  s.sql("BEGIN", 1.5).sql("UPDATE t SET x = 1 WHERE id = 1", 1.5).wait_ms(600).sql("COMMIT", 1.5);
  CHECK(findings_of(s, {"idle-in-transaction"}).empty());
}

TEST_CASE("idle-in-transaction: interactive tools are left out", "[idle-in-transaction]") {
  EventScript s;
  s.as(101, "", "psql").connect().sql("BEGIN").sql("UPDATE t SET x = 1 WHERE id = 1").wait_ms(5000).sql("COMMIT");
  CHECK(findings_of(s, {"idle-in-transaction"}).empty());
}

TEST_CASE("findings: identical findings aggregate into occurrences with first and last seen", "[analyze]") {
  EventScript s;
  for (int pid = 101; pid < 104; ++pid) {
    s.as(pid).connect().sql("BEGIN").sql("UPDATE accounts SET balance = 0 WHERE id = " + std::to_string(pid))
        .wait_ms(300).sql("COMMIT").disconnect();
  }
  auto found = findings_of(s, {"idle-in-transaction"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].occurrences == 3);
  CHECK(found[0].sessions.size() == 3);
  CHECK(found[0].first_seen < found[0].last_seen);
}

TEST_CASE("idle-in-transaction: time of a statement that failed is not a gap", "[idle-in-transaction]") {
  EventScript s;
  s.as(101).connect().sql("BEGIN").sql("UPDATE accounts SET balance = 0 WHERE id = 1")
      .wait_ms(900).error("40P01", "deadlock detected").sql("ROLLBACK");
  CHECK(findings_of(s, {"idle-in-transaction"}).empty());
}

TEST_CASE("n-plus-one: the parent running again starts a new loop", "[n-plus-one]") {
  EventScript s;
  s.as(101).connect();
  for (int page = 0; page < 2; ++page) {
    s.exec("SELECT id FROM orders WHERE customer_id = $1", {std::to_string(page)});
    for (int i = 0; i < 7; ++i) s.exec("SELECT * FROM items WHERE order_id = $1", {std::to_string(page * 10 + i)});
  }
  auto found = findings_of(s, kLoopRules);
  REQUIRE(found.size() == 1);
  CHECK(found[0].occurrences == 2);
  CHECK(found[0].details["count"] == 7);
}

TEST_CASE("n-plus-one: later loops of a reported finding add counts, sessions and times; a more severe one becomes the example",
          "[n-plus-one]") {
  // Loops of 8, 9, 50 (an error), 10 items in session 101, then 11 in session 102.
  EventScript s;
  s.as(101).connect();
  int key = 0;
  const auto one_loop = [&](int items) {
    s.exec("SELECT id FROM orders WHERE customer_id = $1", {std::to_string(items)});
    for (int i = 0; i < items; ++i) s.exec("SELECT * FROM items WHERE order_id = $1", {std::to_string(++key)});
  };
  for (int items : {8, 9, 50, 10}) one_loop(items);
  s.as(102).connect();
  one_loop(11);
  auto found = findings_of(s, kLoopRules);
  REQUIRE(found.size() == 1);
  const Finding& f = found[0];
  CHECK(f.occurrences == 5);
  CHECK(f.severity == Severity::error);
  CHECK(f.details["count"] == 50);  // the first error, not a later warning
  CHECK(f.message.find("ran 50 times") != std::string::npos);
  CHECK(f.help.find("ANY($1)") != std::string::npos);
  REQUIRE(f.evidence.size() == 3);
  CHECK(f.evidence.at(0).sql == "SELECT * FROM items WHERE order_id = $1");
  CHECK(f.evidence.at(0).values.at(0) == std::to_string(8 + 9 + 1));
  CHECK(f.sessions.size() == 2);
  CHECK(f.first_seen < f.last_seen);

  // Warnings after the first finding keep the first as the example.
  key = 0;
  s = EventScript{};
  s.as(101).connect();
  for (int items : {8, 9, 10}) one_loop(items);
  auto warned = findings_of(s, kLoopRules);
  REQUIRE(warned.size() == 1);
  CHECK(warned[0].occurrences == 3);
  CHECK(warned[0].severity == Severity::warning);
  CHECK(warned[0].details["count"] == 8);
  CHECK(warned[0].details["rewrite"] == "SELECT * FROM items WHERE order_id = ANY($1)");
  CHECK(warned[0].evidence.at(1).sql == "SELECT id FROM orders WHERE customer_id = $1");
}
