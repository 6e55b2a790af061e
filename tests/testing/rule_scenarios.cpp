#include "tests/testing/rule_scenarios.h"

#include <chrono>
#include <thread>

namespace pgsift::testing {

namespace {

using std::chrono::milliseconds;

PgSession open(PgCluster& pg) {
  return PgSession(pg.conninfo() + " application_name=" + kScenarioApplication);
}

void pause(int ms) { std::this_thread::sleep_for(milliseconds(ms)); }

std::vector<std::string> order_ids(PgSession& s, const std::string& customer) {
  std::vector<std::string> ids;
  auto rows = s.exec_params("SELECT id FROM orders WHERE customer_id = $1 ORDER BY id", {customer});
  for (std::size_t i = 0; i < rows.rows.size(); ++i) ids.push_back(rows.value(i));
  return ids;
}

// ---- n-plus-one ----

std::vector<int> loop_extended(PgCluster& pg) {
  PgSession s = open(pg);
  for (const std::string& id : order_ids(s, "2")) {
    s.exec_params("SELECT id, sku, qty FROM items WHERE order_id = $1", {id});
  }
  return {s.backend_pid()};
}

std::vector<int> loop_literal_in_transaction(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec("BEGIN");
  auto rows = s.exec("SELECT id FROM orders WHERE customer_id = 3 ORDER BY id");
  for (std::size_t i = 0; i < rows.rows.size(); ++i) {
    s.exec("SELECT id, sku, qty FROM items WHERE order_id = " + rows.value(i));
  }
  s.exec("COMMIT");
  return {s.backend_pid()};
}

std::vector<int> loop_with_limit(PgCluster& pg) {
  PgSession s = open(pg);
  for (const std::string& id : order_ids(s, "4")) {
    s.exec_params("SELECT id, sku FROM items WHERE order_id = $1 ORDER BY id DESC LIMIT 1", {id});
  }
  return {s.backend_pid()};
}

std::vector<int> batched_any(PgCluster& pg) {
  PgSession s = open(pg);
  std::vector<std::string> ids = order_ids(s, "2");
  std::string all = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) all += (i ? "," : "") + ids[i];
  s.exec_params("SELECT id, sku, qty FROM items WHERE order_id = ANY($1::int[])", {all + "}"});
  // The same in chunks of two keys: still one batched statement per chunk.
  for (std::size_t i = 0; i + 1 < ids.size(); i += 2) {
    s.exec_params("SELECT id, sku, qty FROM items WHERE order_id = ANY($1::int[])",
                  {"{" + ids[i] + "," + ids[i + 1] + "}"});
  }
  return {s.backend_pid()};
}

std::vector<int> polling_job(PgCluster& pg) {
  PgSession s = open(pg);
  for (int i = 0; i < 6; ++i) {
    s.exec_params("SELECT id FROM jobs WHERE state = $1 ORDER BY id LIMIT 1", {"queued"});
    pause(350);
  }
  return {s.backend_pid()};
}

std::vector<int> separate_transactions(PgCluster& pg) {
  PgSession s = open(pg);
  for (int id = 1; id <= 10; ++id) {
    s.exec("BEGIN");
    s.exec_params("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {std::to_string(id)});
    s.exec_params("SELECT balance FROM accounts WHERE id = $1", {std::to_string(id)});
    s.exec("COMMIT");
  }
  return {s.backend_pid()};
}

std::vector<int> fixed_fanout(PgCluster& pg) {
  PgSession s = open(pg);
  for (int request = 1; request <= 3; ++request) {
    s.exec_params("SELECT name FROM customers WHERE id = $1", {std::to_string(request)});
    for (const char* name : {"currency", "locale", "tax", "theme", "timezone"}) {
      s.exec_params("SELECT value FROM settings WHERE name = $1", {name});
    }
    pause(400);
  }
  return {s.backend_pid()};
}

std::vector<int> keyset_pagination(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec("SELECT count(*) FROM items");
  std::string last = "0";
  for (int page = 0; page < 6; ++page) {
    auto rows = s.exec_params("SELECT id, sku FROM items WHERE id > $1 ORDER BY id LIMIT 20", {last});
    last = rows.value(rows.rows.size() - 1);
  }
  return {s.backend_pid()};
}

std::vector<int> cursor_fetches(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec("BEGIN");
  s.exec("DECLARE item_cursor CURSOR FOR SELECT id, sku FROM items ORDER BY id");
  for (int i = 0; i < 8; ++i) s.exec("FETCH 10 FROM item_cursor");
  s.exec("CLOSE item_cursor");
  s.exec("COMMIT");
  return {s.backend_pid()};
}

std::vector<int> prepared_four_times(PgCluster& pg) {
  PgSession s = open(pg);
  std::vector<std::string> ids = order_ids(s, "5");
  s.prepare("item_lookup", "SELECT id, sku FROM items WHERE order_id = $1");
  for (int i = 0; i < 4; ++i) s.exec_prepared("item_lookup", {ids.at(static_cast<std::size_t>(i))});
  return {s.backend_pid()};
}

// ---- repeated-query ----

std::vector<int> same_values_loop(PgCluster& pg) {
  PgSession s = open(pg);
  std::vector<std::string> ids = order_ids(s, "1");
  for (std::size_t i = 0; i < 8; ++i) {
    s.exec_params("SELECT value FROM settings WHERE name = $1", {"currency"});
  }
  return {s.backend_pid()};
}

// ---- idle-in-transaction ----

std::vector<int> pause_holding_row_lock(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec("BEGIN");
  s.exec_params("UPDATE accounts SET balance = balance - 5 WHERE id = $1", {"1"});
  pause(600);  // the payment provider call
  s.exec("COMMIT");
  return {s.backend_pid()};
}

std::vector<int> pause_blocking_another_session(PgCluster& pg) {
  PgSession holder = open(pg);
  PgSession waiter = open(pg);
  holder.exec("BEGIN");
  holder.exec_params("UPDATE accounts SET balance = 0 WHERE id = $1", {"2"});
  {
    BackgroundStatement blocked(waiter, "UPDATE accounts SET balance = balance + 1 WHERE id = 2");
    blocked.wait_until_lock_wait(pg.observer());
    pause(700);  // past deadlock_timeout: the wait is logged
    holder.exec("COMMIT");
    blocked.join();
  }
  return {holder.backend_pid(), waiter.backend_pid()};
}

std::vector<int> idle_timeout(PgCluster& pg) {
  PgSession s = open(pg);
  const int pid = s.backend_pid();
  s.exec("SET idle_in_transaction_session_timeout = '300ms'");
  s.exec("BEGIN");
  s.exec_params("SELECT balance FROM accounts WHERE id = $1 FOR UPDATE", {"3"});
  pause(900);  // the server ends the session after 300 ms
  pg.wait_for_log("idle-in-transaction timeout");
  return {pid};
}

std::vector<int> read_only_pause(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec("BEGIN");
  s.exec_params("SELECT balance FROM accounts WHERE id = $1", {"4"});
  pause(400);
  s.exec_params("SELECT name FROM customers WHERE id = $1", {"4"});
  s.exec("COMMIT");
  return {s.backend_pid()};
}

std::vector<int> pause_outside_transaction(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec_params("UPDATE accounts SET balance = balance - 1 WHERE id = $1", {"5"});
  pause(600);
  s.exec_params("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {"5"});
  return {s.backend_pid()};
}

std::vector<int> slow_statement_in_transaction(PgCluster& pg) {
  PgSession s = open(pg);
  s.exec("BEGIN");
  s.exec_params("UPDATE accounts SET balance = balance - 1 WHERE id = $1", {"6"});
  s.exec("SELECT pg_sleep(0.6)");
  s.exec("COMMIT");
  return {s.backend_pid()};
}

std::vector<RuleScenario> build() {
  const std::vector<std::string> loop_rules = {"n-plus-one", "repeated-query"};
  std::vector<RuleScenario> all;
  all.push_back({"n-plus-one", "loop-extended-protocol",
                 "a loop over a parent query's rows, extended protocol, autocommit",
                 loop_rules,
                 {{"n-plus-one", "warning", "execute <unnamed>: SELECT id, sku, qty FROM items WHERE order_id = $1", 1,
                   "ran 12 times with 12 distinct order_id values after 'SELECT id FROM orders"}},
                 {}, false, &loop_extended});
  all.push_back({"n-plus-one", "loop-literal-sql-in-transaction",
                 "the same loop with literal SQL inside BEGIN ... COMMIT", loop_rules,
                 {{"n-plus-one", "warning", "statement: SELECT id, sku, qty FROM items WHERE order_id = ", 1,
                   "ran 12 times with 12 distinct order_id values after 'SELECT id FROM orders"}},
                 {}, false, &loop_literal_in_transaction});
  all.push_back({"n-plus-one", "loop-latest-per-parent",
                 "a loop whose child keeps a LIMIT per parent (rewrite: LATERAL / DISTINCT ON)",
                 loop_rules,
                 {{"n-plus-one", "warning", "execute <unnamed>: SELECT id, sku FROM items WHERE order_id = $1 ORDER BY id DESC LIMIT 1", 1, "ran 12 times"}},
                 {}, false, &loop_with_limit});
  all.push_back({"n-plus-one", "batched-any-ok", "the batched fix: = ANY($1), also in chunks",
                 loop_rules, {}, {}, false, &batched_any});
  all.push_back({"n-plus-one", "polling-job-ok", "a job polling the same query every 350 ms",
                 loop_rules, {}, {}, false, &polling_job});
  all.push_back({"n-plus-one", "separate-transactions-ok",
                 "the same lookups in ten separate transactions (a busy service, like pgbench)",
                 loop_rules, {}, {}, false, &separate_transactions});
  all.push_back({"n-plus-one", "fixed-fanout-ok",
                 "three requests, each with the same five settings lookups", loop_rules, {}, {},
                 false, &fixed_fanout});
  all.push_back({"n-plus-one", "keyset-pagination-ok", "keyset pagination: id > $1 ORDER BY id LIMIT 20",
                 loop_rules, {}, {}, false, &keyset_pagination});
  all.push_back({"n-plus-one", "cursor-fetch-ok", "DECLARE CURSOR and eight FETCHes", loop_rules, {},
                 {}, false, &cursor_fetches});
  all.push_back({"n-plus-one", "prepared-four-executions-ok",
                 "four executions of a named prepared statement (parse/bind/execute count once)",
                 loop_rules, {}, {}, false, &prepared_four_times});
  all.push_back({"repeated-query", "same-values-loop",
                 "the same settings lookup with the same value eight times", loop_rules,
                 {{"repeated-query", "info", "execute <unnamed>: SELECT value FROM settings WHERE name = $1", 1,
                   "ran 8 times with the same values"}},
                 {}, false, &same_values_loop});
  all.push_back({"repeated-query", "polling-job-ok", "a job polling the same query every 350 ms",
                 loop_rules, {}, {}, false, &polling_job});
  all.push_back({"idle-in-transaction", "pause-holding-row-lock",
                 "a 600 ms pause between an UPDATE and COMMIT", {},
                 {{"idle-in-transaction", "warning", "execute <unnamed>: UPDATE accounts SET balance = balance - 5", 1,
                   "while holding locks on accounts"}},
                 {}, false, &pause_holding_row_lock});
  all.push_back({"idle-in-transaction", "pause-blocking-another-session",
                 "the pause while another session waits for the row", {},
                 {{"idle-in-transaction", "error", "execute <unnamed>: UPDATE accounts SET balance = 0 WHERE id = $1", 1,
                   "1 session waited for it"}},
                 {}, false, &pause_blocking_another_session});
  all.push_back({"idle-in-transaction", "idle-timeout",
                 "the server terminates a session idle in transaction (300 ms timeout)", {},
                 {{"idle-in-transaction", "error", "terminating connection due to idle-in-transaction timeout",
                   1, "past idle_in_transaction_session_timeout"}},
                 {}, false, &idle_timeout});
  all.push_back({"idle-in-transaction", "read-only-pause",
                 "a 400 ms pause in a read-only transaction (snapshot only)", {},
                 {{"idle-in-transaction", "info", "execute <unnamed>: SELECT balance FROM accounts WHERE id = $1", 1,
                   "while holding its snapshot"}},
                 {}, false, &read_only_pause});
  all.push_back({"idle-in-transaction", "pause-outside-transaction-ok",
                 "the same 600 ms pause between autocommit statements", {}, {}, {}, false,
                 &pause_outside_transaction});
  all.push_back({"idle-in-transaction", "slow-statement-in-transaction-ok",
                 "600 ms spent inside a statement, not between statements", {}, {}, {}, false,
                 &slow_statement_in_transaction});
  all.push_back({"idle-in-transaction", "statement-logging-without-durations-ok",
                 "log_statement = all without durations: gaps cannot be measured", {}, {},
                 {"idle-in-transaction: gap analysis unavailable"}, true, &pause_holding_row_lock});
  return all;
}

}  // namespace

void create_shop_schema(PgCluster& cluster) {
  PgSession s = cluster.connect();
  s.exec(
      "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);"
      "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric);"
      "CREATE TABLE items (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders, sku text, qty int);"
      "CREATE INDEX ON items (order_id);"
      "CREATE TABLE settings (name text PRIMARY KEY, value text);"
      "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL);"
      "CREATE TABLE jobs (id serial PRIMARY KEY, state text NOT NULL);"
      "INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 5) g;"
      "INSERT INTO orders SELECT g, g % 5 + 1, g * 10 FROM generate_series(1, 60) g;"
      "INSERT INTO items (order_id, sku, qty) SELECT o, 'sku-' || o || '-' || k, k FROM generate_series(1, 60) o, generate_series(1, 3) k;"
      "INSERT INTO settings VALUES ('currency', 'EUR'), ('locale', 'de'), ('tax', '19'), ('theme', 'dark'), ('timezone', 'UTC'), ('region', 'eu');"
      "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g;"
      "INSERT INTO jobs (state) SELECT 'done' FROM generate_series(1, 5);");
}

const std::vector<RuleScenario>& rule_scenarios() {
  static const std::vector<RuleScenario> scenarios = build();
  return scenarios;
}

}  // namespace pgsift::testing
