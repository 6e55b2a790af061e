// The real-PostgreSQL harness itself: a cluster starts, sessions in both
// protocols reach the stderr, csvlog and jsonlog files, concurrent sessions
// block each other as on a real server, password roles, pgbench, cleanup.
#include "tests/testing/pg_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

using pgsift::testing::BackgroundStatement;
using pgsift::testing::LogKind;
using pgsift::testing::PgCluster;
using pgsift::testing::PgClusterOptions;
using pgsift::testing::PgSession;

namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The jsonlog records (one JSON object per line) whose "message" contains `needle`.
std::vector<nlohmann::json> json_records_with(const std::string& jsonlog,
                                              const std::string& needle) {
  std::vector<nlohmann::json> found;
  std::istringstream lines(jsonlog);
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json record = nlohmann::json::parse(line);  // throws on a malformed line
    if (record.contains("message") && contains(record["message"].get<std::string>(), needle)) {
      found.push_back(record);
    }
  }
  return found;
}

}  // namespace

TEST_CASE("pg harness: statements in both protocols reach stderr, csvlog and jsonlog", "[pg]") {
  PgCluster pg;
  PgSession session = pg.connect();
  const std::string pid = std::to_string(session.backend_pid());

  CHECK(session.exec("SELECT 'simple-protocol-marker' AS label").value() ==
        "simple-protocol-marker");
  auto r = session.exec_params("SELECT $1::text || '!' AS label", {"extended-value"});
  CHECK(r.value() == "extended-value!");
  session.prepare("by_id", "SELECT $1::int + 1 AS next");
  CHECK(session.exec_prepared("by_id", {"41"}).value() == "42");
  pg.sync_logs();

  const std::string stderr_log = pg.read_log(LogKind::stderr_log);
  CHECK(contains(stderr_log, "statement: SELECT 'simple-protocol-marker' AS label"));
  CHECK(contains(stderr_log, "execute <unnamed>: SELECT $1::text || '!' AS label"));
  CHECK(contains(stderr_log, "parameters: $1 = 'extended-value'"));
  CHECK(contains(stderr_log, "execute by_id: SELECT $1::int + 1 AS next"));
  // The default prefix carries the backend pid, user@database/application
  // and the client address.
  CHECK(contains(stderr_log, "[" + pid + "] "));
  CHECK(contains(stderr_log, " postgres@postgres/[unknown] 127.0.0.1("));

  const std::string csvlog = pg.read_log(LogKind::csvlog);
  CHECK(contains(csvlog, "statement: SELECT 'simple-protocol-marker' AS label"));
  CHECK(contains(csvlog, "execute <unnamed>: SELECT $1::text || '!' AS label"));

  const std::string jsonlog = pg.read_log(LogKind::jsonlog);
  auto simple = json_records_with(jsonlog, "statement: SELECT 'simple-protocol-marker'");
  REQUIRE(simple.size() == 1);
  CHECK(simple[0]["pid"].get<int>() == session.backend_pid());
  CHECK(simple[0]["user"] == "postgres");
  auto extended = json_records_with(jsonlog, "execute <unnamed>: SELECT $1::text || '!' AS label");
  REQUIRE(extended.size() == 1);
  CHECK(contains(extended[0]["detail"].get<std::string>(), "$1 = 'extended-value'"));
}

TEST_CASE("pg harness: a background statement waits on a lock and the wait is logged", "[pg]") {
  PgCluster pg;
  PgSession a = pg.connect();
  PgSession b = pg.connect();
  a.exec("CREATE TABLE account(id int PRIMARY KEY, balance int)");
  a.exec("INSERT INTO account VALUES (1, 100)");
  a.exec("BEGIN");
  a.exec("UPDATE account SET balance = balance - 10 WHERE id = 1");

  BackgroundStatement blocked(b, "UPDATE account SET balance = balance + 5 WHERE id = $1",
                              std::vector<pgsift::testing::Param>{"1"});
  REQUIRE(blocked.wait_until_lock_wait(pg.observer()));
  CHECK(pg.wait_for_log("still waiting for ShareLock on transaction"));
  a.exec("COMMIT");
  auto outcome = blocked.join();
  REQUIRE(outcome.ok());
  CHECK(outcome.result->affected() == 1);
  CHECK(a.exec("SELECT balance FROM account WHERE id = 1").value() == "95");
  CHECK(pg.wait_for_log("acquired ShareLock on transaction"));
  // The observer polls without logging its own statements.
  pg.sync_logs();
  CHECK_FALSE(contains(pg.read_log(), "pg_stat_activity"));
}

TEST_CASE("pg harness: a statement blocked when the test ends is cancelled", "[pg]") {
  PgCluster pg;
  PgSession a = pg.connect();
  PgSession b = pg.connect();
  a.exec("CREATE TABLE t(id int)");
  a.exec("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
  {
    BackgroundStatement blocked(b, "SELECT count(*) FROM t");
    REQUIRE(blocked.wait_until_lock_wait(pg.observer()));
  }  // destructor cancels and joins
  CHECK(pg.wait_for_log("canceling statement due to user request"));
  CHECK(b.exec("SELECT 1").value() == "1");
}

TEST_CASE("pg harness: errors carry their SQLSTATE", "[pg]") {
  PgCluster pg;
  PgSession s = pg.connect();
  CHECK(s.expect_error("SELECT * FROM no_such_table").sqlstate() == "42P01");
  CHECK(s.expect_error_params("SELECT 1 / $1::int", {"0"}).sqlstate() == "22012");
  CHECK_THROWS_AS(s.expect_error("SELECT 1"), std::runtime_error);
}

TEST_CASE("pg harness: a role with a password needs it over TCP, others use trust", "[pg]") {
  PgCluster pg;
  pg.create_role("alice", std::string("s3cret"));
  pg.create_role("bob");
  CHECK_THROWS_WITH(PgSession(pg.conninfo("postgres", "alice") + " password=wrong"),
                    Catch::Contains("password authentication failed"));
  PgSession alice(pg.conninfo("postgres", "alice") + " password=s3cret");
  CHECK(alice.exec("SELECT current_user").value() == "alice");
  PgSession bob = pg.connect("postgres", "bob");
  CHECK(bob.exec("SELECT current_user").value() == "bob");
  CHECK(pg.wait_for_log("password authentication failed for user \"alice\""));
}

TEST_CASE("pg harness: options choose the prefix, statement logging and extra settings", "[pg]") {
  PgClusterOptions options;
  options.log_line_prefix = pgsift::testing::kDebianLogLinePrefix;
  options.log_min_duration_statement_ms = -1;
  options.log_destination = "stderr";
  options.settings = {{"log_statement", "ddl"}, {"application_name", "harness test"}};
  PgCluster pg(options);
  PgSession s(pg.socket_conninfo());  // the unix socket works too
  s.exec("SELECT 'not-logged-marker'");
  s.exec("CREATE TABLE logged_by_log_statement(id int)");
  CHECK(s.exec("SHOW application_name").value() == "harness test");
  pg.sync_logs();
  const std::string log = pg.read_log();
  CHECK_FALSE(contains(log, "not-logged-marker"));
  CHECK(contains(log, "postgres@postgres LOG:  statement: CREATE TABLE logged_by_log_statement"));
  CHECK_FALSE(std::filesystem::exists(pg.log_paths().jsonlog));
}

TEST_CASE("pg harness: pgbench runs in the background in the extended protocol", "[pg]") {
  PgCluster pg;
  pgsift::testing::pgbench_init(pg);
  auto before = pg.log_position();
  pgsift::testing::PgbenchOptions options;
  options.protocol = "extended";
  options.clients = 2;
  options.transactions = 5;
  options.builtin = "select-only";
  pgsift::testing::PgbenchRun run(pg, options);
  auto result = run.wait();
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  CHECK(pgsift::testing::PgbenchRun::processed_transactions(result.output) == 10);
  pg.sync_logs();
  const std::string log = pg.read_log(LogKind::stderr_log, before);
  CHECK(contains(log, "execute <unnamed>: SELECT abalance FROM pgbench_accounts WHERE aid = $1"));
  CHECK(contains(log, " postgres@postgres/pgbench 127.0.0.1("));
}

TEST_CASE("pg harness: the destructor stops the server and deletes the cluster", "[pg]") {
  std::filesystem::path directory;
  int pid = 0;
  {
    PgCluster pg;
    directory = pg.directory();
    pid = std::stoi(pgsift::testing::read_file(pg.data_directory() / "postmaster.pid"));
    REQUIRE(std::filesystem::exists(directory));
    REQUIRE(kill(pid, 0) == 0);
  }
  CHECK_FALSE(std::filesystem::exists(directory));
  CHECK(pgsift::testing::wait_until([&] { return !pgsift::testing::process_is_running(pid); },
                                    std::chrono::seconds(5)));
}

// Run as a child process by the next test: starts a cluster, says where it
// is, and waits to be interrupted.
TEST_CASE("pg harness: child process holding a cluster", "[.harness-child]") {
  PgCluster pg;
  std::cout << "cluster " << pg.directory().string() << ' '
            << pgsift::testing::read_file(pg.data_directory() / "postmaster.pid").substr(0, 12)
            << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

TEST_CASE("pg harness: interrupted test processes leave no cluster behind", "[pg]") {
  namespace fs = std::filesystem;
  const fs::path self = fs::read_symlink("/proc/self/exe");
  const fs::path output =
      fs::temp_directory_path() / ("pgsift-harness-child-" + std::to_string(getpid()));
  struct RemoveOutput {
    fs::path path;
    ~RemoveOutput() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } remove_output{output};
  struct Child {
    fs::path directory;
    int postmaster = 0;
  };
  auto start_child = [&](std::unique_ptr<pgsift::testing::BackgroundProcess>& process) {
    process = std::make_unique<pgsift::testing::BackgroundProcess>(
        std::vector<std::string>{self.string(), "[.harness-child]"}, output);
    // Catch2 prints its filter line first; the child then prints ours.
    REQUIRE(pgsift::testing::wait_until(
        [&] {
          std::string out = process->output();
          auto at = out.find("cluster /");
          return at != std::string::npos && out.find('\n', at) != std::string::npos;
        },
        std::chrono::seconds(60)));
    const std::string out = process->output();
    std::istringstream line(out.substr(out.find("cluster /")));
    std::string word;
    Child child;
    line >> word >> child.directory >> child.postmaster;
    REQUIRE(word == "cluster");
    REQUIRE(fs::exists(child.directory));
    REQUIRE(pgsift::testing::process_is_running(child.postmaster));
    return child;
  };

  for (int signal : {SIGTERM, SIGINT}) {
    INFO("signal " << signal);
    std::unique_ptr<pgsift::testing::BackgroundProcess> process;
    Child child = start_child(process);
    process->send_signal(signal);
    REQUIRE(process->wait_for(std::chrono::seconds(30)).has_value());
    CHECK_FALSE(fs::exists(child.directory));
    CHECK_FALSE(pgsift::testing::process_is_running(child.postmaster));
  }

  // SIGKILL cannot be handled: the next cluster start removes the leftovers.
  std::unique_ptr<pgsift::testing::BackgroundProcess> process;
  Child child = start_child(process);
  process->send_signal(SIGKILL);
  REQUIRE(process->wait_for(std::chrono::seconds(10)).has_value());
  REQUIRE(fs::exists(child.directory));
  PgCluster next;
  CHECK_FALSE(fs::exists(child.directory));
  CHECK(pgsift::testing::wait_until(
      [&] { return !pgsift::testing::process_is_running(child.postmaster); },
      std::chrono::seconds(5)));
}
