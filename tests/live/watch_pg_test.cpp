// `pgsift watch` against a real PostgreSQL 15: blocking trees from real lock
// queues, idle-in-transaction findings, a pg_monitor role without
// superuser, and the one-line exit-2 errors for a wrong password and an
// unreachable server.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "cli/live/activity.h"
#include "cli/live/live_common.h"
#include "cli/live/pg_connection.h"
#include "cli/live/watch_tracker.h"
#include "tests/testing/pg_cluster.h"
#include "tests/testing/process.h"

namespace live = pgsift::cli::live;
using pgsift::testing::BackgroundStatement;
using pgsift::testing::PgCluster;
using pgsift::testing::PgSession;

namespace {

std::unique_ptr<live::Connection> connect(const std::string& conninfo) {
  std::string error;
  auto c = live::Connection::open(conninfo, {}, error);
  INFO(error);
  REQUIRE(c);
  return c;
}

// A holds a row lock and idles in its transaction; B updates the row (waits
// on A's transaction id); C locks it FOR UPDATE (queues on the tuple lock B
// holds). Expected tree: A -> B -> C.
struct RowLockQueue {
  PgSession a, b, c;
  std::unique_ptr<BackgroundStatement> b_update, c_lock;
  explicit RowLockQueue(PgCluster& pg) : a(pg.connect()), b(pg.connect()), c(pg.connect()) {
    a.exec("CREATE TABLE IF NOT EXISTS acct (id int PRIMARY KEY, balance int)");
    a.exec("INSERT INTO acct VALUES (1, 100) ON CONFLICT DO NOTHING");
    a.exec("BEGIN");
    a.exec("UPDATE acct SET balance = 90 WHERE id = 1");
    b_update = std::make_unique<BackgroundStatement>(b, "UPDATE acct SET balance = 80 WHERE id = 1");
    REQUIRE(b_update->wait_until_lock_wait(pg.observer()));
    c_lock = std::make_unique<BackgroundStatement>(c, "SELECT * FROM acct WHERE id = 1 FOR UPDATE");
    REQUIRE(c_lock->wait_until_lock_wait(pg.observer()));
  }
  void release() {
    a.exec("ROLLBACK");
    CHECK(b_update->join().ok());
    CHECK(c_lock->join().ok());
  }
};

std::string binary() { return PGSIFT_BINARY; }

}  // namespace

TEST_CASE("watch: blocking tree of an idle transaction holding a row lock", "[pg][live]") {
  PgCluster pg;
  RowLockQueue queue(pg);
  auto conn = connect(pg.conninfo());
  const auto sample = live::take_activity_sample(*conn, 0);
  const auto trees = live::blocking_trees(sample);
  REQUIRE(trees.size() == 1);
  const auto& tree = trees[0];
  CHECK(tree.root == queue.a.backend_pid());
  CHECK(tree.depth == 2);
  REQUIRE(tree.nodes.size() == 3);
  CHECK(tree.nodes[1].pid == queue.b.backend_pid());
  CHECK(tree.nodes[1].depth == 1);
  CHECK(tree.nodes[2].pid == queue.c.backend_pid());
  CHECK(tree.nodes[2].depth == 2);
  CHECK(tree.nodes[2].parent == queue.b.backend_pid());
  const live::Backend* root = sample.backend(tree.root);
  REQUIRE(root != nullptr);
  CHECK(root->state == "idle in transaction");
  CHECK_FALSE(root->backend_xid.empty());
  // B waits for A's transaction id; C for the tuple lock B holds.
  const live::LockRow* b_lock = sample.awaited_lock(queue.b.backend_pid());
  REQUIRE(b_lock != nullptr);
  CHECK(b_lock->locktype == "transactionid");
  CHECK(b_lock->mode == "ShareLock");
  const live::LockRow* c_lock = sample.awaited_lock(queue.c.backend_pid());
  REQUIRE(c_lock != nullptr);
  CHECK(c_lock->locktype == "tuple");
  CHECK(c_lock->relation == "acct");
  // Our own backend is never part of the picture.
  for (const auto& b : sample.backends) CHECK(b.application != "pgsift");
  queue.release();
}

TEST_CASE("watch: idle-in-transaction and lock-wait findings start and end", "[pg][live]") {
  PgCluster pg;
  RowLockQueue queue(pg);
  auto conn = connect(pg.conninfo());
  live::WatchThresholds thresholds;
  thresholds.idle_in_transaction = 300 * 1000;
  thresholds.lock_wait = 300 * 1000;
  live::WatchTracker tracker(thresholds);
  const auto interval = std::chrono::milliseconds(250);

  // The idle transaction began before the first sample, so its finding
  // must come within two intervals of crossing the threshold.
  std::vector<live::LiveUpdate> started;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40 && started.size() < 3; ++i) {
    for (auto& u : tracker.update(live::take_activity_sample(*conn, thresholds.idle_in_transaction)))
      started.push_back(std::move(u));
    std::this_thread::sleep_for(interval);
  }
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited < std::chrono::milliseconds(300) + 3 * interval + std::chrono::milliseconds(500));
  std::set<std::string> rules;
  for (const auto& u : started) {
    CHECK(u.kind == live::LiveUpdate::Kind::started);
    rules.insert(u.finding.rule);
  }
  CHECK(rules == std::set<std::string>{"idle-in-transaction", "lock-wait"});
  for (const auto& u : started) {
    if (u.finding.rule != "idle-in-transaction") continue;
    CHECK(u.finding.sessions[0].pid == queue.a.backend_pid());
    CHECK(u.finding.details["blocks_sessions"] == 2);
    CHECK(u.finding.details["writes"] == true);
    CHECK(u.finding.severity == pgsift::core::Severity::error);
    // Normalized: the statement that took the lock, without its values.
    const std::string& sql = u.finding.evidence[0].sql;
    CHECK(sql.rfind("UPDATE acct SET balance = $", 0) == 0);
    CHECK(sql.find("90") == std::string::npos);
  }
  for (const auto& u : started) {
    if (u.finding.rule != "lock-wait") continue;
    CHECK(u.finding.details["root_pid"] == queue.a.backend_pid());
    CHECK(u.finding.details["root_state"] == "idle in transaction");
  }

  queue.release();
  std::vector<live::LiveUpdate> ended;
  for (int i = 0; i < 20 && ended.size() < started.size(); ++i) {
    std::this_thread::sleep_for(interval);
    for (auto& u : tracker.update(live::take_activity_sample(*conn, thresholds.idle_in_transaction)))
      ended.push_back(std::move(u));
  }
  REQUIRE(ended.size() == started.size());
  for (const auto& u : ended) {
    CHECK(u.kind == live::LiveUpdate::Kind::ended);
    CHECK(u.finding.details["status"] == "ended");
    CHECK(u.finding.details["duration_is_lower_bound"] == true);
  }
  CHECK(tracker.open_episodes() == 0);
}

TEST_CASE("watch: the command reports the tree and exits 1 on findings", "[pg][live]") {
  PgCluster pg;
  RowLockQueue queue(pg);
  auto result = pgsift::testing::run_process(
      {binary(), "watch", pg.conninfo(), "--duration", "1500ms", "--plain", "--idle-threshold",
       "300ms", "--lock-wait-threshold", "300ms"},
      std::chrono::seconds(30));
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("started idle-in-transaction") != std::string::npos);
  CHECK(result.output.find("started lock-wait") != std::string::npos);
  CHECK(result.output.find("pid " + std::to_string(queue.a.backend_pid()) + " [root] idle in transaction") !=
        std::string::npos);
  CHECK(result.output.find("ended idle-in-transaction") != std::string::npos);  // at exit
  queue.release();
}

TEST_CASE("watch: a pg_monitor role without superuser sees the whole picture", "[pg][live]") {
  PgCluster pg;
  pg.create_role("monitor");
  pg.observer().exec("GRANT pg_monitor TO monitor");
  pg.create_role("nobody");
  RowLockQueue queue(pg);
  {
    auto conn = connect(pg.conninfo("postgres", "monitor"));
    CHECK(live::privilege_notes(*conn).empty());
    const auto sample = live::take_activity_sample(*conn, 0);
    CHECK_FALSE(sample.query_texts_hidden);
    const auto trees = live::blocking_trees(sample);
    REQUIRE(trees.size() == 1);
    CHECK(trees[0].root == queue.a.backend_pid());
    CHECK(trees[0].waiters() == 2);
    // Read-only session: a write is refused by default_transaction_read_only.
    CHECK_THROWS_AS(conn->query("CREATE TABLE not_allowed (x int)"), live::QueryError);
  }
  {
    auto conn = connect(pg.conninfo("postgres", "nobody"));
    const auto notes = live::privilege_notes(*conn);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("GRANT pg_monitor TO nobody") != std::string::npos);
  }
  queue.release();
}

TEST_CASE("watch: every session is read-only, bounded and named pgsift", "[pg][live]") {
  PgCluster pg;
  auto conn = connect(pg.conninfo() + " application_name=someone-else options='-c work_mem=8MB'");
  auto r = conn->query(
      "SELECT current_setting('application_name') AS app, "
      "current_setting('default_transaction_read_only') AS ro, "
      "current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt, "
      "current_setting('work_mem') AS wm");
  CHECK(r.text(0, "app") == "pgsift");
  CHECK(r.text(0, "ro") == "on");
  CHECK(r.text(0, "st") == "2s");
  CHECK(r.text(0, "lt") == "100ms");
  CHECK(r.text(0, "wm") == "8MB");  // the caller's own options are kept
}

TEST_CASE("watch: wrong password and unreachable server exit 2 with one line", "[pg][live]") {
  PgCluster pg;
  pg.create_role("app", std::string("right-Passw0rd"));
  const std::string wrong = "wr0ng-Passw0rd-xyz";
  for (const std::string& conninfo :
       {pg.conninfo("postgres", "app") + " password=" + wrong,
        "postgresql://app:" + wrong + "@127.0.0.1:" + std::to_string(pg.port()) + "/postgres"}) {
    for (const char* command : {"watch", "statements"}) {
      const std::string limit = std::string(command) == "watch" ? "--duration" : "--count";
      auto result = pgsift::testing::run_process({binary(), command, conninfo, limit, "1"},
                                                 std::chrono::seconds(30));
      INFO(result.output);
      CHECK(result.exit_code == 2);
      CHECK(result.output.rfind("pgsift: error: cannot connect: ", 0) == 0);
      CHECK(result.output.find("password authentication failed") != std::string::npos);
      CHECK(std::count(result.output.begin(), result.output.end(), '\n') == 1);
      CHECK(result.output.find(wrong) == std::string::npos);
    }
  }
  // The right password works.
  auto ok = pgsift::testing::run_process(
      {binary(), "watch", pg.conninfo("postgres", "app") + " password=right-Passw0rd", "--duration",
       "300ms", "--plain"},
      std::chrono::seconds(30));
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("right-Passw0rd") == std::string::npos);

  // Nothing listens on port 1.
  auto unreachable = pgsift::testing::run_process(
      {binary(), "watch", "host=127.0.0.1 port=1 user=app password=" + wrong, "--duration", "1s"},
      std::chrono::seconds(30));
  INFO(unreachable.output);
  CHECK(unreachable.exit_code == 2);
  CHECK(unreachable.output.rfind("pgsift: error: cannot connect: ", 0) == 0);
  CHECK(unreachable.output.find("Connection refused") != std::string::npos);
  CHECK(std::count(unreachable.output.begin(), unreachable.output.end(), '\n') == 1);
  CHECK(unreachable.output.find(wrong) == std::string::npos);
}
