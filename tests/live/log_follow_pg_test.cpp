// Following the server log live, against a real PostgreSQL 15 that logs
// every statement: `pgsift watch --log auto` (the built binary, a child
// process) finds the server's current log from pg_settings and reports an
// N+1 loop run after it started, with the loop's pid, and not one run
// before; `pgsift analyze --follow` analyses lines appended to a file after
// it started, across a rotation, and Ctrl-C (SIGINT) ends it with the
// report and analyze's exit code. Also: how --log auto decides the file
// (every case of locate_server_log) and the one-line errors of --follow.
#include <stdlib.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/live/log_watch.h"
#include "tests/testing/pg_cluster.h"
#include "tests/testing/process.h"

namespace live = pgsift::cli::live;
namespace fs = std::filesystem;
using pgsift::testing::LogKind;
using pgsift::testing::PgCluster;
using pgsift::testing::PgSession;

namespace {

// Generous: the box running the tests may be loaded.
constexpr auto kLong = std::chrono::seconds(60);

void create_shop(PgSession& s) {
  s.exec("CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL)");
  s.exec("CREATE TABLE items (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders, qty int)");
  s.exec("CREATE TABLE notes (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders, body text)");
  s.exec("INSERT INTO orders SELECT g, g % 40 FROM generate_series(1, 800) g");
  s.exec("INSERT INTO items (order_id, qty) SELECT g % 800 + 1, 1 FROM generate_series(1, 2400) g");
  s.exec("INSERT INTO notes (order_id, body) SELECT g % 800 + 1, 'n' FROM generate_series(1, 800) g");
}

// One request of an ORM without eager loading: a customer's orders (20),
// then one query per order for its rows in `child_table`. Returns the
// number of child queries.
int run_n_plus_one(PgSession& s, int customer, const std::string& child_table) {
  const auto orders =
      s.exec_params("SELECT id FROM orders WHERE customer_id = $1 ORDER BY id", {std::to_string(customer)});
  REQUIRE(orders.rows.size() == 20);
  for (const auto& row : orders.rows)
    s.exec_params("SELECT * FROM " + child_table + " WHERE order_id = $1", {*row[0]});
  return static_cast<int>(orders.rows.size());
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// The n-plus-one findings whose loop statement reads `table`.
std::vector<nlohmann::json> loops_on(const nlohmann::json& report, const std::string& table) {
  std::vector<nlohmann::json> out;
  for (const auto& f : report["findings"]) {
    if (f["rule"] != "n-plus-one") continue;
    for (const auto& e : f["evidence"]) {
      if (e["sql"].get<std::string>().find("FROM " + table + " WHERE") != std::string::npos) {
        out.push_back(f);
        break;
      }
    }
  }
  return out;
}

void append(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
  REQUIRE(out.flush());
}

}  // namespace

TEST_CASE("watch --log auto: an N+1 loop run after the start is reported with its pid",
          "[pg][live]") {
  PgCluster pg;
  PgSession app = pg.connect();
  create_shop(app);
  run_n_plus_one(app, 1, "notes");  // before pgsift starts: not its business
  pg.sync_logs();

  const fs::path report_path = pg.directory() / "watch.json";
  pgsift::testing::BackgroundProcess watch(
      {PGSIFT_BINARY, "watch", pg.conninfo(), "--log", "auto", "--duration", "20s", "--plain",
       "--interval", "200ms", "--report", "text", "--report", "json:" + report_path.string()},
      pg.directory() / "watch.out");
  // Sampling runs (its queries reach the log) once the log is being followed.
  REQUIRE(pg.wait_for_log("pg_blocking_pids", kLong, LogKind::csvlog));

  const int children = run_n_plus_one(app, 2, "items");
  // Reported while watch runs, not only in the report at exit.
  const bool live_line = pgsift::testing::wait_until(
      [&] { return watch.output().find("found n-plus-one") != std::string::npos; }, kLong,
      std::chrono::milliseconds(100));
  const auto status = watch.wait_for(kLong);  // ends by --duration
  INFO(watch.output());
  CHECK(live_line);
  REQUIRE(status);
  CHECK(*status == 1);  // a warning reaches the default --fail-on

  const nlohmann::json report = read_json(report_path);
  CHECK(report["schema_version"] == 1);
  REQUIRE(report["inputs"].size() == 2);
  CHECK(report["inputs"][0]["format"] == "pg_stat_activity");
  // csvlog is preferred among the server's destinations.
  CHECK(report["inputs"][1]["path"] == pg.log_paths().csvlog.string());
  CHECK(report["inputs"][1]["format"] == "csvlog");
  CHECK(report["inputs"][1]["statements"].get<int>() >= 21);

  const auto loops = loops_on(report, "items");
  REQUIRE(loops.size() == 1);
  REQUIRE_FALSE(loops[0]["sessions"].empty());
  CHECK(loops[0]["sessions"][0]["pid"] == app.backend_pid());
  CHECK(loops[0]["details"]["count"] == children);
  CHECK(loops[0]["details"]["table"] == "items");
  for (const auto& e : loops[0]["evidence"]) CHECK(e["file"] == pg.log_paths().csvlog.string());
  // The loop over notes ran before watch started.
  CHECK(loops_on(report, "notes").empty());
  // pgsift's own sampling queries are not analysed.
  for (const auto& f : report["findings"]) {
    for (const auto& e : f["evidence"]) CHECK(e["sql"].get<std::string>().find("pg_locks") == std::string::npos);
  }
}

TEST_CASE("analyze --follow: appended lines are analysed across a rotation; Ctrl-C writes the report",
          "[pg][live]") {
  PgCluster pg;
  PgSession app = pg.connect();
  create_shop(app);
  // The followed file starts as the server's log so far: no loop in it.
  const fs::path followed = pg.directory() / "follow.log";
  pg.sync_logs();
  const std::string initial = pg.read_log(LogKind::stderr_log);
  append(followed, initial);
  pgsift::testing::LogPosition start;
  start.stderr_log = initial.size();

  const fs::path report_path = pg.directory() / "follow.json";
  pgsift::testing::BackgroundProcess follow(
      {PGSIFT_BINARY, "analyze", "--follow", followed.string(), "--report", "text", "--report",
       "json:" + report_path.string()},
      pg.directory() / "follow.out");
  // It has read the file (its format is detected and noted) before more comes.
  REQUIRE(pgsift::testing::wait_until(
      [&] { return follow.output().find("stderr format") != std::string::npos; }, kLong));
  CHECK(follow.output().find("found n-plus-one") == std::string::npos);

  run_n_plus_one(app, 3, "items");
  const pgsift::testing::LogPosition after_items = pg.log_position();
  append(followed, pg.read_log(LogKind::stderr_log, start).substr(0, after_items.stderr_log - start.stderr_log));
  const bool first = pgsift::testing::wait_until(
      [&] { return follow.output().find("found n-plus-one") != std::string::npos; }, kLong,
      std::chrono::milliseconds(100));

  // Rotation: the file is renamed away and a new one takes its name.
  run_n_plus_one(app, 4, "notes");
  pg.sync_logs();
  fs::rename(followed, pg.directory() / "follow.log.1");
  append(followed, pg.read_log(LogKind::stderr_log, after_items));
  const bool rotated = pgsift::testing::wait_until(
      [&] {
        const std::string out = follow.output();
        return out.find("was rotated") != std::string::npos &&
               out.find("found n-plus-one", out.find("found n-plus-one") + 1) != std::string::npos;
      },
      kLong, std::chrono::milliseconds(100));

  follow.send_signal(SIGINT);
  const auto status = follow.wait_for(kLong);
  INFO(follow.output());
  CHECK(first);
  CHECK(rotated);
  REQUIRE(status);
  CHECK(*status == 1);
  const nlohmann::json report = read_json(report_path);
  REQUIRE(report["inputs"].size() == 1);
  CHECK(report["inputs"][0]["format"] == "stderr");
  const auto items = loops_on(report, "items");
  const auto notes = loops_on(report, "notes");
  REQUIRE(items.size() == 1);
  REQUIRE(notes.size() == 1);
  CHECK(items[0]["sessions"][0]["pid"] == app.backend_pid());
  CHECK(notes[0]["sessions"][0]["pid"] == app.backend_pid());
  // Line numbers count from the start of the file that held the line: the
  // notes loop is in the new file, which holds only that request.
  const std::string new_file = pgsift::testing::read_file(followed);
  const auto new_lines = static_cast<std::uint64_t>(std::count(new_file.begin(), new_file.end(), '\n'));
  for (const auto& e : notes[0]["evidence"]) CHECK(e["line"].get<std::uint64_t>() <= new_lines);
}

TEST_CASE("analyze --follow: one log file only; --duration needs --follow", "[live]") {
  const auto two = pgsift::testing::run_process(
      {PGSIFT_BINARY, "analyze", "--follow", FIXTURES_DIR "/rules/n-plus-one/loop-extended-protocol.log",
       FIXTURES_DIR "/rules/n-plus-one/loop-extended-protocol.csv"});
  CHECK(two.exit_code == 2);
  CHECK(two.output == "pgsift: error: --follow takes exactly one log file (not a directory or '-')\n");
  const auto duration = pgsift::testing::run_process(
      {PGSIFT_BINARY, "analyze", "--duration", "1s", FIXTURES_DIR "/rules/n-plus-one/loop-extended-protocol.log"});
  CHECK(duration.exit_code == 2);
  CHECK(duration.output.find("--duration requires --follow") != std::string::npos);
}

TEST_CASE("analyze --follow: --duration ends it with the same report as analyze", "[live]") {
  const std::string log = FIXTURES_DIR "/rules/n-plus-one/loop-extended-protocol.log";
  char dir_template[] = "/tmp/pgsift-follow-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const fs::path dir = dir_template;
  const auto plain = pgsift::testing::run_process(
      {PGSIFT_BINARY, "analyze", log, "--report", "json:" + (dir / "plain.json").string()});
  const auto followed = pgsift::testing::run_process({PGSIFT_BINARY, "analyze", "--follow", log,
                                                      "--duration", "1s", "--report",
                                                      "json:" + (dir / "followed.json").string()});
  REQUIRE(plain.exit_code == 1);
  CHECK(followed.exit_code == plain.exit_code);
  const nlohmann::json a = read_json(dir / "plain.json"), b = read_json(dir / "followed.json");
  fs::remove_all(dir);
  REQUIRE(a["findings"].size() == 1);
  CHECK(a["findings"] == b["findings"]);
  CHECK(a["inputs"][0]["statements"] == b["inputs"][0]["statements"]);
  CHECK(a["inputs"][0]["lines"] == b["inputs"][0]["lines"]);
}

TEST_CASE("watch --log auto: where the server's log is, or what is missing", "[live]") {
  live::LogSettings s;
  s.role = "app";
  s.settings = {{"logging_collector", "on"},
                {"log_destination", "stderr,csvlog"},
                {"data_directory", "/var/lib/postgresql/15/main"},
                {"log_directory", "log"},
                {"log_filename", "postgresql-%Y-%m-%d.log"},
                {"log_line_prefix", "%m [%p] "}};
  s.current = {{"stderr", "log/postgresql-2026-12-05.log"}, {"csvlog", "log/postgresql-2026-12-05.csv"}};
  live::ServerLog log;
  REQUIRE(live::locate_server_log(s, log) == "");
  CHECK(log.path == "/var/lib/postgresql/15/main/log/postgresql-2026-12-05.csv");
  CHECK(log.format == "csvlog");

  SECTION("stderr only: the prefix comes with it") {
    s.settings["log_destination"] = "stderr";
    REQUIRE(live::locate_server_log(s, log) == "");
    CHECK(log.path == "/var/lib/postgresql/15/main/log/postgresql-2026-12-05.log");
    CHECK(log.prefix == "%m [%p] ");
  }
  SECTION("logging_collector off") {
    s.settings["logging_collector"] = "off";
    const std::string error = live::locate_server_log(s, log);
    CHECK(error.find("logging_collector is off") != std::string::npos);
    CHECK(error.find("--log FILE") != std::string::npos);
  }
  SECTION("syslog only") {
    s.settings["log_destination"] = "syslog";
    CHECK(live::locate_server_log(s, log).find("log_destination is 'syslog'") != std::string::npos);
  }
  SECTION("pg_current_logfile() denied and a dated file name") {
    s.current.clear();
    s.current_denied = true;
    const std::string error = live::locate_server_log(s, log);
    CHECK(error.find("may not call pg_current_logfile() (GRANT pg_monitor TO app)") != std::string::npos);
  }
  SECTION("pg_current_logfile() denied, a fixed name: csvlog's name derived as the server does") {
    s.current.clear();
    s.current_denied = true;
    s.settings["log_filename"] = "postgresql.log";
    REQUIRE(live::locate_server_log(s, log) == "");
    CHECK(log.path == "/var/lib/postgresql/15/main/log/postgresql.csv");
  }
  SECTION("a relative log directory and no data_directory to see") {
    s.settings.erase("data_directory");
    const std::string error = live::locate_server_log(s, log);
    CHECK(error.find("relative to the data directory, which role app cannot see") != std::string::npos);
  }
}

TEST_CASE("watch --log auto: a pg_monitor role finds the log; a plain role is told what to grant",
          "[pg][live]") {
  PgCluster pg;
  pg.create_role("monitor");
  pg.observer().exec("GRANT pg_monitor TO monitor");
  pg.create_role("nobody");
  const fs::path report_path = pg.directory() / "monitor.json";
  const auto monitor = pgsift::testing::run_process(
      {PGSIFT_BINARY, "watch", pg.conninfo("postgres", "monitor"), "--log", "auto", "--duration",
       "500ms", "--plain", "--report", "json:" + report_path.string()},
      kLong);
  INFO(monitor.output);
  CHECK(monitor.exit_code == 0);
  const nlohmann::json report = read_json(report_path);
  REQUIRE(report["inputs"].size() == 2);
  CHECK(report["inputs"][1]["path"] == pg.log_paths().csvlog.string());

  const auto nobody = pgsift::testing::run_process(
      {PGSIFT_BINARY, "watch", pg.conninfo("postgres", "nobody"), "--log", "auto", "--duration",
       "500ms", "--plain"},
      kLong);
  INFO(nobody.output);
  CHECK(nobody.exit_code == 2);
  CHECK(nobody.output.find("pgsift: error: --log auto: cannot tell the server's current csvlog "
                           "file: role nobody may not call pg_current_logfile() (GRANT pg_monitor "
                           "TO nobody); give the file with --log FILE\n") != std::string::npos);
}
