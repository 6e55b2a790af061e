// `pgsift statements` against a real PostgreSQL 15 with pg_stat_statements:
// deltas between snapshots while a pgbench load runs, a real N+1 loop
// flagged from the counters (confirmed by the catalog's foreign key), and
// the exact remedies when the extension is missing or not preloaded.
#include <algorithm>
#include <csignal>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "cli/live/pg_connection.h"
#include "cli/live/statements.h"
#include "tests/testing/pg_cluster.h"
#include "tests/testing/process.h"

namespace live = pgsift::cli::live;
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

void create_blog(PgSession& s) {
  s.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  s.exec("CREATE TABLE posts (id int PRIMARY KEY, user_id int NOT NULL)");
  s.exec("CREATE TABLE comments (id serial PRIMARY KEY, post_id int NOT NULL REFERENCES posts, body text)");
  s.exec("INSERT INTO posts SELECT g, g % 50 FROM generate_series(1, 1000) g");
  s.exec("INSERT INTO comments (post_id, body) SELECT g % 1000 + 1, 'c' FROM generate_series(1, 3000) g");
  s.exec("ANALYZE posts, comments");
}

// The loop an ORM without eager loading runs: the posts of a user, then the
// comments of each post, one query per post (extended protocol, as drivers do).
void run_n_plus_one(PgSession& s, int users) {
  for (int user = 1; user <= users; ++user) {
    auto posts = s.exec_params("SELECT id FROM posts WHERE user_id = $1", {std::to_string(user)});
    for (const auto& row : posts.rows)
      s.exec_params("SELECT id, body FROM comments WHERE post_id = $1", {*row[0]});
  }
}

const live::StatementDelta* find_delta(const live::IntervalDeltas& d, std::string_view text) {
  for (const auto& x : d.deltas) {
    if (x.now->query.find(text) != std::string::npos) return &x;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("statements: deltas and an N+1 loop between two snapshots under pgbench load",
          "[pg][live]") {
  PgCluster pg;
  PgSession app = pg.connect();
  create_blog(app);
  pgsift::testing::pgbench_init(pg, 1);
  pgsift::testing::PgbenchOptions load;
  load.builtin = "select-only";
  load.clients = 2;
  load.seconds = 20;
  pgsift::testing::PgbenchRun bench(pg, load);

  auto conn = connect(pg.conninfo());
  live::StatementsReader reader(*conn);
  CHECK(reader.version() == "1.10");
  live::StatementsNPlusOne detector({}, live::read_foreign_keys(*conn),
                                    live::current_database_oid(*conn));
  const auto before = reader.snapshot(*conn);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  run_n_plus_one(app, 30);  // 30 users x 20 posts: 600 comment lookups
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto after = reader.snapshot(*conn);
  const auto deltas = live::diff(before, after);

  CHECK_FALSE(deltas.reset);
  CHECK(deltas.seconds() > 0.5);
  const auto* child = find_delta(deltas, "FROM comments WHERE post_id");
  const auto* parent = find_delta(deltas, "FROM posts WHERE user_id");
  const auto* bench_select = find_delta(deltas, "pgbench_accounts");
  REQUIRE(child != nullptr);
  REQUIRE(parent != nullptr);
  REQUIRE(bench_select != nullptr);
  CHECK(child->calls == 600);
  CHECK(child->rows == 1800);
  CHECK(parent->calls == 30);
  CHECK(parent->rows == 600);
  CHECK(bench_select->calls > 100);  // the load ran alongside
  CHECK(child->total_ms > 0);

  const auto findings = detector.observe(deltas);
  REQUIRE(findings.size() == 1);
  const auto& f = findings[0];
  CHECK(f.rule == "n-plus-one");
  CHECK(f.details["confidence"] == "possible");  // one interval: no correlation yet
  CHECK(f.details["foreign_key"] == "comments.post_id -> posts.id");
  CHECK(f.details["child_calls"] == 600);
  CHECK(f.details["parent_rows"] == 600);
  CHECK(f.evidence[0].role == "child");
  CHECK(f.evidence[0].sql.find("comments") != std::string::npos);
  CHECK(f.evidence[1].sql.find("posts") != std::string::npos);
  CHECK(f.sessions[0].database == "postgres");
  bench.stop();
}

TEST_CASE("statements: the command flags a loop run while it watches; Ctrl-C ends it",
          "[pg][live]") {
  PgCluster pg;
  PgSession app = pg.connect();
  create_blog(app);
  // --min-calls 100: on a loaded test machine the loop may straddle two
  // snapshots, so each interval need not hold all of it.
  pgsift::testing::BackgroundProcess cmd({PGSIFT_BINARY, "statements", pg.conninfo(), "--interval",
                                          "2s", "--top", "3", "--min-calls", "100"},
                                         pg.directory() / "statements.out");
  // Wait for the first snapshot (its query lands in pg_stat_statements).
  REQUIRE(pgsift::testing::wait_until(
      [&] {
        auto r = pg.observer().exec(
            "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '/* pgsift */%clock_timestamp%'");
        return r.value() != "0";
      },
      std::chrono::seconds(10)));
  run_n_plus_one(app, 40);
  const bool flagged = pgsift::testing::wait_until(
      [&] { return cmd.output().find("possible N+1") != std::string::npos; },
      std::chrono::seconds(15), std::chrono::milliseconds(100));
  cmd.send_signal(SIGINT);
  const auto status = cmd.wait_for(std::chrono::seconds(30));
  const std::string output = cmd.output();
  INFO(output);
  CHECK(flagged);
  REQUIRE(status);
  CHECK(*status == 0);  // "possible" is info, below the default --fail-on warning
  CHECK(output.find("top by calls") != std::string::npos);
  CHECK(output.find("SELECT id, body FROM comments WHERE post_id = $1") != std::string::npos);
  // The final report (text) lists the finding again.
  CHECK(output.find("[n-plus-one]") != std::string::npos);
}

TEST_CASE("statements: says what to run when pg_stat_statements is missing", "[pg][live]") {
  pgsift::testing::PgClusterOptions options;
  options.settings = {{"shared_preload_libraries", ""}};
  PgCluster pg(options);
  auto run = [&] {
    return pgsift::testing::run_process(
        {PGSIFT_BINARY, "statements", pg.conninfo(), "--count", "1"}, std::chrono::seconds(30));
  };
  auto missing = run();
  INFO(missing.output);
  CHECK(missing.exit_code == 2);
  CHECK(std::count(missing.output.begin(), missing.output.end(), '\n') == 1);
  CHECK(missing.output.find("CREATE EXTENSION pg_stat_statements") != std::string::npos);
  CHECK(missing.output.find("shared_preload_libraries") != std::string::npos);

  pg.observer().exec("CREATE EXTENSION pg_stat_statements");
  auto not_loaded = run();
  INFO(not_loaded.output);
  CHECK(not_loaded.exit_code == 2);
  CHECK(not_loaded.output.find("installed but not loaded") != std::string::npos);
  CHECK(not_loaded.output.find("shared_preload_libraries") != std::string::npos);
  CHECK(not_loaded.output.find("restart") != std::string::npos);
}

TEST_CASE("statements: a pg_monitor role without superuser reads every entry", "[pg][live]") {
  PgCluster pg;
  pg.observer().exec("CREATE EXTENSION pg_stat_statements");
  pg.create_role("monitor");
  pg.observer().exec("GRANT pg_monitor TO monitor");
  pg.create_role("nobody");
  PgSession app = pg.connect();
  app.exec_params("SELECT $1::int + 1", {"41"});
  {
    auto conn = connect(pg.conninfo("postgres", "monitor"));
    live::StatementsReader reader(*conn);
    const auto snap = reader.snapshot(*conn);
    CHECK(snap.hidden == 0);
    bool seen = false;
    for (const auto& [key, c] : snap.entries) seen |= c.query.find("$1::int + $2") != std::string::npos ||
                                                     c.query.find("$1::int + 1") != std::string::npos;
    CHECK(seen);
  }
  {
    // Without pg_read_all_stats other roles' entries are hidden, and counted.
    auto conn = connect(pg.conninfo("postgres", "nobody"));
    live::StatementsReader reader(*conn);
    CHECK(reader.snapshot(*conn).hidden > 0);
  }
}
