// The scenario table (reference/races_locks.md §6) for concurrency_scenarios.h.
// Each entry's steps drive real sessions; `expects` are the findings of the
// fixture's rule, bound to the record named by session + locator.
#pragma once

#include "tests/analyzers/concurrency_scenarios.h"

namespace pgsift::testing::concurrency {

namespace detail {

// Two sessions run the same read-then-write transaction, interleaved as in
// §2.1: both read, A writes, B's write blocks on A's row, A commits.
inline void interleaved_read_write(Run& r, const std::string& begin, const std::string& read,
                                   const std::string& write_a, const std::string& write_b,
                                   bool b_may_fail = false) {
  r.step('A', begin);
  r.step('A', read);
  r.step('B', begin);
  r.step('B', read);
  r.step('A', write_a);
  auto b = r.blocked('B', write_b);
  r.step('A', "COMMIT");
  auto outcome = b->join();
  if (!outcome.ok() && !b_may_fail) throw std::runtime_error("B failed: " + outcome.error->sqlstate());
  r.step('B', outcome.ok() ? "COMMIT" : "ROLLBACK");
}

// Both read, then both write without blocking each other, then both commit.
inline void interleaved_no_block(Run& r, const std::string& begin, const std::string& read,
                                 const std::string& write_a, const std::string& write_b,
                                 bool b_commit_may_fail = false) {
  r.step('A', begin);
  r.step('A', read);
  r.step('B', begin);
  r.step('B', read);
  r.step('A', write_a);
  r.step('B', write_b);
  r.step('A', "COMMIT");
  try {
    r.step('B', "COMMIT");
  } catch (const PgError& e) {
    if (!b_commit_may_fail) throw;
  }
}

// A takes a lock-like first step; B's same step blocks until A commits; then
// B runs the rest (and rolls back, as an application that saw the slot taken).
inline void serialized_by_first_step(Run& r, const std::string& begin, const std::string& first,
                                     const std::vector<std::string>& rest) {
  r.step('A', begin);
  r.step('A', first);
  for (const auto& sql : rest) r.step('A', sql);
  r.step('B', begin);
  auto b = r.blocked('B', first);
  r.step('A', "COMMIT");
  auto outcome = b->join();
  if (!outcome.ok()) {
    r.step('B', "ROLLBACK");
    return;
  }
  for (const auto& sql : rest) r.step('B', sql);
  r.step('B', "COMMIT");
}

}  // namespace detail

inline std::vector<Scenario> scenarios() {
  using detail::interleaved_no_block;
  using detail::interleaved_read_write;
  using detail::serialized_by_first_step;
  std::vector<Scenario> all;
  const std::string read_balance = "SELECT balance FROM acct WHERE id = 1";

  all.push_back({"lost-update-read-committed", "check-then-act", "§6 #1", {}, "",
                 [=](Run& r) {
                   interleaved_read_write(r, "BEGIN", read_balance, "UPDATE acct SET balance = 90 WHERE id = 1",
                                          "UPDATE acct SET balance = 80 WHERE id = 1");
                 },
                 {{"check-then-act", "error", "lost update on acct (id)", 'A', "UPDATE acct SET balance = 90"}}, ""});
  all.push_back({"lost-update-repeatable-read", "check-then-act", "§6 #2", {}, "",
                 [=](Run& r) {
                   interleaved_read_write(r, "BEGIN ISOLATION LEVEL REPEATABLE READ", read_balance,
                                          "UPDATE acct SET balance = 90 WHERE id = 1",
                                          "UPDATE acct SET balance = 80 WHERE id = 1", true);
                 },
                 {{"check-then-act", "warning", "retry missing on acct", 'B', "could not serialize access"}}, ""});
  all.push_back({"lost-update-repeatable-read-retried-ok", "check-then-act", "§6 #2 (retried)", {}, "",
                 [=](Run& r) {
                   interleaved_read_write(r, "BEGIN ISOLATION LEVEL REPEATABLE READ", read_balance,
                                          "UPDATE acct SET balance = 90 WHERE id = 1",
                                          "UPDATE acct SET balance = 80 WHERE id = 1", true);
                   // B's application retries the whole transaction after 40001.
                   r.step('B', "BEGIN ISOLATION LEVEL REPEATABLE READ");
                   r.step('B', read_balance);
                   r.step('B', "UPDATE acct SET balance = 80 WHERE id = 1");
                   r.step('B', "COMMIT");
                 },
                 {}, ""});
  all.push_back({"lost-update-select-star", "check-then-act", "§6 #1 (SELECT *)", {}, "",
                 [=](Run& r) {
                   interleaved_read_write(r, "BEGIN", "SELECT * FROM acct WHERE id = 1",
                                          "UPDATE acct SET balance = 90 WHERE id = 1",
                                          "UPDATE acct SET balance = 80 WHERE id = 1");
                 },
                 {{"check-then-act", "error", "lost update on acct (id)", 'A', "UPDATE acct SET balance = 90"}}, ""});
  // The read returned another column: the write stores no value it read.
  all.push_back({"read-other-column-ok", "check-then-act", "§6 #1 (other column)", {}, "",
                 [=](Run& r) {
                   interleaved_read_write(r, "BEGIN", "SELECT version FROM acct WHERE id = 1",
                                          "UPDATE acct SET balance = 90 WHERE id = 1",
                                          "UPDATE acct SET balance = 80 WHERE id = 1");
                 },
                 {}, ""});
  all.push_back({"overdraft-read-committed", "check-then-act", "§6 #3", {}, "",
                 [=](Run& r) {
                   interleaved_read_write(r, "BEGIN", read_balance, "UPDATE acct SET balance = balance - 100 WHERE id = 1",
                                          "UPDATE acct SET balance = balance - 100 WHERE id = 1");
                 },
                 {{"check-then-act", "error", "unguarded relative write on acct (id)", 'A',
                   "UPDATE acct SET balance = balance - 100"}},
                 ""});
  all.push_back({"guarded-decrement-ok", "check-then-act", "§6 #4", {}, "",
                 [](Run& r) {
                   interleaved_read_write(r, "BEGIN", "SELECT qty FROM stock WHERE id = 1",
                                          "UPDATE stock SET qty = qty - 1 WHERE id = 1 AND qty >= 1",
                                          "UPDATE stock SET qty = qty - 1 WHERE id = 1 AND qty >= 1");
                 },
                 {}, ""});
  all.push_back({"for-update-ok", "check-then-act", "§6 #5", {}, "",
                 [](Run& r) {
                   serialized_by_first_step(r, "BEGIN", "SELECT balance FROM acct WHERE id = 1 FOR UPDATE",
                                            {"UPDATE acct SET balance = 0 WHERE id = 1"});
                 },
                 {}, ""});
  all.push_back({"version-guard-ok", "check-then-act", "§6 #6", {}, "",
                 [](Run& r) {
                   interleaved_read_write(
                       r, "BEGIN", "SELECT balance, version FROM acct WHERE id = 1",
                       "UPDATE acct SET balance = 80, version = version + 1 WHERE id = 1 AND version = 1",
                       "UPDATE acct SET balance = 70, version = version + 1 WHERE id = 1 AND version = 1");
                 },
                 {}, ""});
  for (const auto& [suffix, level] : std::vector<std::pair<std::string, std::string>>{
           {"read-committed", "BEGIN"}, {"repeatable-read", "BEGIN ISOLATION LEVEL REPEATABLE READ"}}) {
    const std::string begin = level;
    all.push_back({"count-then-insert-" + suffix, "check-then-act", "§6 #7", {}, "",
                   [begin](Run& r) {
                     interleaved_no_block(r, begin, "SELECT count(*) FROM booking WHERE slot_id = 1",
                                          "INSERT INTO booking (slot_id) VALUES (1)",
                                          "INSERT INTO booking (slot_id) VALUES (1)");
                   },
                   {{"check-then-act", "error", "insert after check on booking (slot_id)", 'A',
                     "INSERT INTO booking (slot_id) VALUES (1)"}},
                   ""});
  }
  all.push_back({"count-then-insert-serializable-ok", "check-then-act", "§6 #8", {}, "",
                 [](Run& r) {
                   interleaved_no_block(r, "BEGIN ISOLATION LEVEL SERIALIZABLE",
                                        "SELECT count(*) FROM booking WHERE slot_id = 1",
                                        "INSERT INTO booking (slot_id) VALUES (1)",
                                        "INSERT INTO booking (slot_id) VALUES (1)", true);
                 },
                 {}, ""});
  all.push_back({"existence-check-then-insert", "check-then-act", "§6 #7 (signup)", {}, "",
                 [](Run& r) {
                   interleaved_no_block(r, "BEGIN", "SELECT 1 FROM signup WHERE email = 'ann@example.com' LIMIT 1",
                                        "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann')",
                                        "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann B')");
                 },
                 {{"check-then-act", "error", "insert after check on signup (email)", 'A',
                   "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann')"}},
                 ""});
  all.push_back({"existence-check-unique-index-ok", "check-then-act", "§6 #9", {},
                 "CREATE UNIQUE INDEX signup_email ON signup (email);",
                 [](Run& r) {
                   interleaved_read_write(r, "BEGIN", "SELECT 1 FROM signup WHERE email = 'ann@example.com' LIMIT 1",
                                          "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann')",
                                          "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann B')", true);
                 },
                 {}, std::string(kSchemaDdl) + "CREATE UNIQUE INDEX signup_email ON public.signup USING btree (email);\n"});
  // At SERIALIZABLE B's INSERT fails with 40001 instead of 23505 (§2.1):
  // loud, and no retry is owed (the check's answer changed).
  all.push_back({"existence-check-unique-index-serializable-ok", "check-then-act", "§6 #10", {},
                 "CREATE UNIQUE INDEX signup_email ON signup (email);",
                 [](Run& r) {
                   interleaved_read_write(r, "BEGIN ISOLATION LEVEL SERIALIZABLE",
                                          "SELECT 1 FROM signup WHERE email = 'ann@example.com' LIMIT 1",
                                          "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann')",
                                          "INSERT INTO signup (email, name) VALUES ('ann@example.com', 'Ann B')", true);
                 },
                 {}, std::string(kSchemaDdl) + "CREATE UNIQUE INDEX signup_email ON public.signup USING btree (email);\n"});
  all.push_back({"on-conflict-ok", "check-then-act", "§6 #11", {}, "",
                 [](Run& r) {
                   interleaved_read_write(r, "BEGIN", "SELECT 1 FROM coupon WHERE code = 'X2'",
                                          "INSERT INTO coupon (code) VALUES ('X2') ON CONFLICT DO NOTHING",
                                          "INSERT INTO coupon (code) VALUES ('X2') ON CONFLICT DO NOTHING");
                 },
                 {}, ""});
  all.push_back({"write-skew-read-committed", "check-then-act", "§6 #12", {}, "",
                 [](Run& r) {
                   interleaved_no_block(r, "BEGIN", "SELECT count(*) FROM oncall WHERE shift = 1 AND on_call = true",
                                        "UPDATE oncall SET on_call = false WHERE doctor = 'alice'",
                                        "UPDATE oncall SET on_call = false WHERE doctor = 'bob'");
                 },
                 {{"check-then-act", "error", "write skew on oncall", 'A', "UPDATE oncall SET on_call = false WHERE doctor = 'alice'"}},
                 ""});
  all.push_back({"write-skew-repeatable-read", "check-then-act", "§6 #12 (RR)", {}, "",
                 [](Run& r) {
                   interleaved_no_block(r, "BEGIN ISOLATION LEVEL REPEATABLE READ",
                                        "SELECT count(*) FROM oncall WHERE shift = 1 AND on_call = true",
                                        "UPDATE oncall SET on_call = false WHERE doctor = 'alice'",
                                        "UPDATE oncall SET on_call = false WHERE doctor = 'bob'");
                 },
                 {{"check-then-act", "error", "write skew on oncall", 'A', "UPDATE oncall SET on_call = false WHERE doctor = 'alice'"}},
                 ""});
  all.push_back({"write-skew-serializable-ok", "check-then-act", "§6 #13", {}, "",
                 [](Run& r) {
                   interleaved_no_block(r, "BEGIN ISOLATION LEVEL SERIALIZABLE",
                                        "SELECT count(*) FROM oncall WHERE shift = 1 AND on_call = true",
                                        "UPDATE oncall SET on_call = false WHERE doctor = 'alice'",
                                        "UPDATE oncall SET on_call = false WHERE doctor = 'bob'", true);
                 },
                 {}, ""});
  all.push_back({"for-update-set-ok", "check-then-act", "§6 #14", {}, "",
                 [](Run& r) {
                   serialized_by_first_step(r, "BEGIN",
                                            "SELECT doctor FROM oncall WHERE shift = 1 AND on_call = true FOR UPDATE",
                                            {"UPDATE oncall SET on_call = false WHERE doctor = 'alice'"});
                 },
                 {}, ""});
  all.push_back({"coupon-consume", "check-then-act", "§6 #15", {}, "",
                 [](Run& r) {
                   const std::string check = "SELECT code FROM coupon WHERE code = 'X1' AND used = false";
                   r.step('A', "BEGIN");
                   r.step('A', check);
                   r.step('B', "BEGIN");
                   r.step('B', check);
                   r.step('A', "DELETE FROM coupon WHERE code = 'X1'");
                   auto b = r.blocked('B', "DELETE FROM coupon WHERE code = 'X1'");
                   r.step('A', "UPDATE acct SET balance = balance + 10 WHERE id = 1");
                   r.step('A', "COMMIT");
                   b->join();
                   r.step('B', "UPDATE acct SET balance = balance + 10 WHERE id = 1");
                   r.step('B', "COMMIT");
                 },
                 {{"check-then-act", "error", "consume after check on coupon (code)", 'A',
                   "DELETE FROM coupon WHERE code = 'X1'"}},
                 ""});
  all.push_back({"empty-for-update-then-insert", "check-then-act", "§6 #16", {}, "",
                 [](Run& r) {
                   interleaved_no_block(r, "BEGIN", "SELECT id FROM booking WHERE slot_id = 2 FOR UPDATE",
                                        "INSERT INTO booking (slot_id) VALUES (2)",
                                        "INSERT INTO booking (slot_id) VALUES (2)");
                 },
                 {{"check-then-act", "error", "insert after check on booking (slot_id)", 'A',
                   "INSERT INTO booking (slot_id) VALUES (2)"}},
                 ""});
  all.push_back({"insert-where-not-exists", "check-then-act", "§6 #17", {}, "",
                 [](Run& r) {
                   const std::string sql =
                       "INSERT INTO booking (slot_id) SELECT 3 WHERE NOT EXISTS (SELECT 1 FROM booking WHERE slot_id = 3)";
                   r.step('A', "BEGIN");
                   r.step('B', "BEGIN");
                   r.step('A', sql);
                   r.step('B', sql);
                   r.step('A', "COMMIT");
                   r.step('B', "COMMIT");
                 },
                 {{"check-then-act", "error", "insert where not exists on booking (slot_id)", 'A',
                   "WHERE NOT EXISTS"}},
                 ""});
  const std::vector<std::string> count_insert = {"SELECT count(*) FROM booking WHERE slot_id = 1",
                                                 "INSERT INTO booking (slot_id) VALUES (1)"};
  all.push_back({"parent-lock-read-committed-ok", "check-then-act", "§6 #18", {}, "",
                 [=](Run& r) {
                   serialized_by_first_step(r, "BEGIN", "SELECT capacity FROM slot WHERE id = 1 FOR UPDATE", count_insert);
                 },
                 {}, ""});
  all.push_back({"parent-lock-repeatable-read", "check-then-act", "§6 #19", {}, "",
                 [=](Run& r) {
                   serialized_by_first_step(r, "BEGIN ISOLATION LEVEL REPEATABLE READ",
                                            "SELECT capacity FROM slot WHERE id = 1 FOR UPDATE", count_insert);
                 },
                 {{"check-then-act", "error", "lock after snapshot on booking (slot_id)", 'A',
                   "INSERT INTO booking (slot_id) VALUES (1)"}},
                 ""});
  all.push_back({"advisory-lock-read-committed-ok", "check-then-act", "§6 #20", {}, "",
                 [=](Run& r) {
                   serialized_by_first_step(r, "BEGIN", "SELECT pg_advisory_xact_lock(42)", count_insert);
                 },
                 {}, ""});
  all.push_back({"advisory-lock-repeatable-read", "check-then-act", "§6 #20", {}, "",
                 [=](Run& r) {
                   serialized_by_first_step(r, "BEGIN ISOLATION LEVEL REPEATABLE READ", "SELECT pg_advisory_xact_lock(42)",
                                            count_insert);
                 },
                 {{"check-then-act", "error", "lock after snapshot on booking (slot_id)", 'A',
                   "INSERT INTO booking (slot_id) VALUES (1)"}},
                 ""});
  all.push_back({"lock-table-repeatable-read-ok", "check-then-act", "§6 #21", {}, "",
                 [=](Run& r) {
                   serialized_by_first_step(r, "BEGIN ISOLATION LEVEL REPEATABLE READ",
                                            "LOCK TABLE booking IN SHARE ROW EXCLUSIVE MODE", count_insert);
                 },
                 {}, ""});
  all.push_back({"autocommit-split-serializable", "check-then-act", "§6 #22",
                 {{"default_transaction_isolation", "serializable"}}, "",
                 [=](Run& r) {
                   r.s('A'), r.s('B');  // connect first: keep each session's two statements close
                   r.step('A', read_balance);
                   r.step('B', read_balance);
                   r.step('A', "UPDATE acct SET balance = 90 WHERE id = 1");
                   r.step('B', "UPDATE acct SET balance = 80 WHERE id = 1");
                 },
                 {{"check-then-act", "error", "lost update, split across transactions, on acct (id)", 'A',
                   "UPDATE acct SET balance = 90"}},
                 ""});
  all.push_back({"overdraft-autocommit", "check-then-act", "§6 #3 + #22 (autocommit, literal SQL)", {}, "",
                 [=](Run& r) {
                   r.s('A'), r.s('B');
                   r.step('A', read_balance);
                   r.step('B', read_balance);
                   r.step('A', "UPDATE acct SET balance = balance - 100 WHERE id = 1");
                   r.step('B', "UPDATE acct SET balance = balance - 100 WHERE id = 1");
                 },
                 {{"check-then-act", "error", "unguarded relative write, split across transactions, on acct (id)", 'A',
                   "UPDATE acct SET balance = balance - 100"}},
                 ""});
  all.push_back({"share-lock-upgrade-deadlock", "deadlock", "§6 #23", {}, "",
                 [](Run& r) {
                   const std::string share = "SELECT balance FROM acct WHERE id = 1 FOR SHARE";
                   r.step('A', "BEGIN");
                   r.step('A', share);
                   r.step('B', "BEGIN");
                   r.step('B', share);
                   auto a = r.blocked('A', "UPDATE acct SET balance = 70 WHERE id = 1");
                   try {
                     r.step('B', "UPDATE acct SET balance = 70 WHERE id = 1");
                   } catch (const PgError&) {
                   }
                   r.step('B', "ROLLBACK");
                   a->join();
                   r.step('A', "COMMIT");
                 },
                 {{"deadlock", "error", "deadlock of 2 processes on acct", 'B', "deadlock detected"}}, ""});
  all.push_back({"deadlock-two-rows", "deadlock", "§6 #24", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', "UPDATE acct SET balance = balance + 1 WHERE id = 1");
                   r.step('B', "BEGIN");
                   r.step('B', "UPDATE acct SET balance = balance + 1 WHERE id = 2");
                   auto a = r.blocked('A', "UPDATE acct SET balance = balance + 1 WHERE id = 2");
                   try {
                     r.step('B', "UPDATE acct SET balance = balance + 1 WHERE id = 1");
                   } catch (const PgError&) {
                   }
                   r.step('B', "ROLLBACK");
                   a->join();
                   r.step('A', "COMMIT");
                 },
                 {{"deadlock", "error", "deadlock of 2 processes on acct", 'B', "deadlock detected"}}, ""});
  all.push_back({"chain-behind-idle-transaction", "lock-wait", "§6 #25", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', "UPDATE acct SET balance = 1 WHERE id = 1");
                   auto b = r.blocked('B', "UPDATE acct SET balance = 2 WHERE id = 1");
                   auto c = r.blocked('C', "SELECT balance FROM acct WHERE id = 1 FOR UPDATE");
                   r.pause(300);
                   r.step('A', "COMMIT");
                   b->join();
                   c->join();
                 },
                 {{"lock-wait", "warning", "idle in transaction", 'B', "still waiting"},
                  {"lock-wait", "warning", "waited", 'C', "still waiting"}},
                 ""});
  all.push_back({"ddl-queued-behind-reader", "lock-wait", "§6 #26", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', "SELECT balance FROM acct WHERE id = 1");
                   auto b = r.blocked('B', "ALTER TABLE acct ADD COLUMN note text");
                   auto c = r.blocked('C', "SELECT count(*) FROM acct");
                   r.pause(300);
                   r.step('A', "COMMIT");
                   b->join();
                   c->join();
                 },
                 {{"lock-wait", "warning", "for AccessExclusiveLock on table acct", 'B', "still waiting"},
                  {"lock-wait", "warning", "queued ahead", 'C', "still waiting"}},
                 ""});
  all.push_back({"lock-timeout-behind-lock-table", "lock-timeout", "§6 #27", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', "LOCK TABLE acct IN ACCESS EXCLUSIVE MODE");
                   r.step('B', "SET lock_timeout = '600ms'");
                   try {
                     r.step('B', "UPDATE acct SET balance = 5 WHERE id = 1");
                   } catch (const PgError&) {
                   }
                   r.step('A', "COMMIT");
                 },
                 {{"lock-timeout", "warning", "lock timeout: pid", 'B', "canceling statement due to lock timeout"}}, ""});
  // No "still waiting" line: lock_timeout (100 ms) fires before
  // deadlock_timeout (200 ms), so the holder is found among the sessions
  // whose open transaction locked the table.
  all.push_back({"lock-timeout-likely-holder", "lock-timeout", "§6 #27 (no wait line)", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', "LOCK TABLE acct IN ACCESS EXCLUSIVE MODE");
                   r.step('B', "SET lock_timeout = '100ms'");
                   try {
                     r.step('B', "UPDATE acct SET balance = 5 WHERE id = 1");
                   } catch (const PgError&) {
                   }
                   r.step('A', "COMMIT");
                 },
                 {{"lock-timeout", "warning", "likely holder pid {A} (idle in transaction", 'B',
                   "canceling statement due to lock timeout"}},
                 ""});
  // DDL behind a plain reader: only the reader's AccessShareLock conflicts.
  // C's transaction touched another table and is not named.
  all.push_back({"lock-timeout-ddl-behind-reader", "lock-timeout", "§6 #26 + #27 (no wait line)", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', "SELECT balance FROM acct WHERE id = 1");
                   r.step('C', "BEGIN");
                   r.step('C', "UPDATE stock SET qty = 1 WHERE id = 1");
                   r.step('B', "SET lock_timeout = '100ms'");
                   try {
                     r.step('B', "ALTER TABLE acct ADD COLUMN note text");
                   } catch (const PgError&) {
                   }
                   r.step('A', "COMMIT");
                   r.step('C', "COMMIT");
                 },
                 {{"lock-timeout", "warning", "wanted a lock on acct, likely holder pid {A} (idle in transaction", 'B',
                   "canceling statement due to lock timeout"}},
                 ""});
  all.push_back({"reads-and-disjoint-writes-ok", "check-then-act", "§6 #28", {}, "",
                 [=](Run& r) {
                   r.step('A', read_balance);
                   r.step('B', read_balance);
                   r.step('A', "UPDATE stock SET qty = 5 WHERE id = 1");
                   r.step('B', "UPDATE slot SET capacity = 3 WHERE id = 1");
                 },
                 {}, ""});
  all.push_back({"different-keys-ok", "check-then-act", "§6 #29", {}, "",
                 [=](Run& r) {
                   r.step('A', "BEGIN");
                   r.step('A', read_balance);
                   r.step('A', "UPDATE acct SET balance = 5 WHERE id = 2");
                   r.step('A', "COMMIT");
                 },
                 {}, ""});
  all.push_back({"lost-update-extended-protocol", "check-then-act", "§6 #1 (extended)", {}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step_params('A', "SELECT balance FROM acct WHERE id = $1", {"1"});
                   r.step('B', "BEGIN");
                   r.step_params('B', "SELECT balance FROM acct WHERE id = $1", {"1"});
                   r.step_params('A', "UPDATE acct SET balance = $1 WHERE id = $2", {"90", "1"});
                   auto b = r.blocked('B', "UPDATE acct SET balance = $1 WHERE id = $2",
                                      std::vector<Param>{"80", "1"});
                   r.step('A', "COMMIT");
                   b->join();
                   r.step('B', "COMMIT");
                 },
                 {{"check-then-act", "error", "lost update on acct (id)", 'A',
                   "execute <unnamed>: UPDATE acct SET balance = $1"}},
                 ""});
  all.push_back({"lost-update-no-parameters", "check-then-act", "§6 #30", {{"log_parameter_max_length", "0"}}, "",
                 [](Run& r) {
                   r.step('A', "BEGIN");
                   r.step_params('A', "SELECT balance FROM acct WHERE id = $1", {"1"});
                   r.step_params('A', "UPDATE acct SET balance = $1 WHERE id = $2", {"90", "1"});
                   r.step('A', "COMMIT");
                 },
                 {{"check-then-act", "warning", "lost update on acct (id)", 'A',
                   "execute <unnamed>: UPDATE acct SET balance = $1"}},
                 ""});
  return all;
}

/// Why a scenario's expectation reads as it does, where that is not obvious:
/// written as comment lines into its `.expect` files by the capture.
inline std::vector<std::string> expectation_notes(const std::string& name) {
  if (name == "parent-lock-repeatable-read" || name == "advisory-lock-repeatable-read") {
    return {"Error, not warning: B's snapshot (its first query, the lock statement, which then waited for A)",
            "predates A's commit, so B counted 0 and both inserted (2 rows, races_locks.md §2.1): the windows of",
            "the two sessions overlap on slot_id = 1 and the log shows the race happened."};
  }
  if (name == "lost-update-repeatable-read") {
    return {"B's UPDATE failed with 40001 (the race PostgreSQL caught at REPEATABLE READ) and B never ran",
            "it again: races_locks.md §6 #2, CTA-RETRY-MISSING. No lost update is reported: none happened."};
  }
  if (name == "insert-where-not-exists") {
    return {"Error: both sessions inserted slot_id = 3 while the other's transaction was open (2 rows);",
            "overlapping windows on the same key are a race seen in the log, which raises the warning."};
  }
  if (name == "lost-update-extended-protocol" || name == "lost-update-no-parameters") {
    return {"Reported at the execute line: the parse and bind lines before it did not run the UPDATE."};
  }
  return {};
}

}  // namespace pgsift::testing::concurrency
