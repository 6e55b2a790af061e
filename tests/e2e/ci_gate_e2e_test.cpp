// End to end: a CI run on a real PostgreSQL 15. The same workload (two N+1
// loops) runs twice in fresh sessions with different values; the first log
// becomes the baseline, the second log also holds one new loop. Gating the
// second log on the baseline must exit 1 and report exactly the new loop,
// with the two known loops counted as baselined. Also checks every CI format
// the real pipeline produces for that log, and that a loop marked with
// /* pgsift:ignore n-plus-one */ is silenced and counted.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/run.h"
#include "tests/testing/pg_cluster.h"
#include "tests/testing/report_checks.h"

using pgsift::testing::LogKind;
using pgsift::testing::PgCluster;
using pgsift::testing::PgSession;

namespace {

namespace fs = std::filesystem;

struct Run {
  int status;
  std::string out, err;
};

Run pgsift_run(std::vector<std::string> args) {
  args.insert(args.begin(), "pgsift");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = pgsift::cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void create_schema(PgCluster& pg) {
  PgSession s = pg.connect();
  s.exec(
      "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL);"
      "CREATE TABLE items (id serial PRIMARY KEY, order_id int NOT NULL, sku text, qty int);"
      "CREATE INDEX ON items (order_id);"
      "CREATE TABLE payments (id serial PRIMARY KEY, order_id int NOT NULL, amount numeric);"
      "INSERT INTO orders SELECT g, g % 5 + 1 FROM generate_series(1, 60) g;"
      "INSERT INTO items (order_id, sku, qty) SELECT o, 'sku-' || o || '-' || k, k "
      "  FROM generate_series(1, 60) o, generate_series(1, 3) k;"
      "INSERT INTO payments (order_id, amount) SELECT g, g * 10 FROM generate_series(1, 60) g;");
}

// One "test suite run": a request that loops over a customer's orders twice
// (extended protocol, then literal SQL in a transaction), and optionally a
// third, new loop over payments.
void workload(PgCluster& pg, const std::string& customer, bool new_loop) {
  PgSession s = pg.connect();
  const auto orders = s.exec_params("SELECT id FROM orders WHERE customer_id = $1 ORDER BY id", {customer});
  for (std::size_t i = 0; i < orders.rows.size(); ++i) {
    s.exec_params("SELECT id, sku, qty FROM items WHERE order_id = $1", {orders.value(i)});
  }
  PgSession t = pg.connect();
  t.exec("BEGIN");
  const auto again = t.exec("SELECT id FROM orders WHERE customer_id = " + customer + " ORDER BY id");
  for (std::size_t i = 0; i < again.rows.size(); ++i) {
    t.exec("SELECT count(*) FROM items WHERE order_id = " + again.value(i));
  }
  t.exec("COMMIT");
  if (new_loop) {
    PgSession u = pg.connect();
    const auto mine = u.exec_params("SELECT id FROM orders WHERE customer_id = $1 ORDER BY id", {customer});
    for (std::size_t i = 0; i < mine.rows.size(); ++i) {
      u.exec_params("SELECT amount FROM payments WHERE order_id = $1", {mine.value(i)});
    }
    // A loop the application marked as intended: silenced inline, counted.
    PgSession v = pg.connect();
    const auto marked = v.exec_params("SELECT id FROM orders WHERE customer_id = $1 ORDER BY id", {customer});
    for (std::size_t i = 0; i < marked.rows.size(); ++i) {
      v.exec_params("SELECT sku FROM items WHERE order_id = $1 AND qty > 0 /* pgsift:ignore n-plus-one */",
                    {marked.value(i)});
    }
  }
}

}  // namespace

TEST_CASE("e2e: a CI run gates on a baseline and reports only the new N+1 loop", "[pg][e2e][gate]") {
  PgCluster pg;
  create_schema(pg);
  char dir_template[] = "/tmp/pgsift-gate-e2e-XXXXXX";
  const fs::path dir = ::mkdtemp(dir_template);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { fs::remove_all(dir); }
  } cleanup{dir};

  // Two runs of the suite, each log cut out of the server's stderr log.
  const auto start = pg.log_position();
  workload(pg, "2", false);
  const auto middle = pg.log_position();
  workload(pg, "4", true);
  pg.sync_logs();
  const std::string first = pg.read_log(LogKind::stderr_log, start);
  const std::string second = pg.read_log(LogKind::stderr_log, middle);
  std::ofstream(dir / "first.log") << first.substr(0, middle.stderr_log - start.stderr_log);
  std::ofstream(dir / "second.log") << second;
  const std::string baseline = (dir / "baseline.json").string();
  const std::string sarif = (dir / "gate.sarif").string();
  const std::string junit = (dir / "gate.xml").string();
  const std::string quality = (dir / "gate.codequality.json").string();

  const Run written = pgsift_run({"analyze", (dir / "first.log").string(), "--no-config", "--rules", "n-plus-one",
                                  "--write-baseline", baseline, "--report", "json:" + (dir / "first.json").string()});
  INFO(written.err);
  REQUIRE(written.status == 0);
  const auto recorded = nlohmann::json::parse(slurp(baseline));
  CHECK(recorded["version"] == 1);
  REQUIRE(recorded["entries"].size() == 2);
  for (const auto& entry : recorded["entries"]) CHECK(entry["rule"] == "n-plus-one");

  const Run gated = pgsift_run({"analyze", (dir / "second.log").string(), "--no-config", "--rules", "n-plus-one",
                                "--baseline", baseline, "--report", "sarif:" + sarif, "--report", "junit:" + junit,
                                "--report", "codeclimate:" + quality});
  INFO(gated.err);
  CHECK(gated.status == 1);
  const auto report = nlohmann::json::parse(slurp(sarif));
  CHECK(pgsift::testing::sarif_problems(report).empty());
  const auto& results = report["runs"][0]["results"];
  REQUIRE(results.size() == 1);
  CHECK(results[0]["ruleId"] == "n-plus-one");
  CHECK(results[0]["properties"]["sql"].get<std::string>().find("FROM payments WHERE order_id = $1") !=
        std::string::npos);
  CHECK(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].get<std::string>().find(
            "second.log") != std::string::npos);
  CHECK(report["runs"][0]["properties"]["baselined"] == 2);
  CHECK(report["runs"][0]["properties"]["suppressed"] == 1);
  CHECK(report["runs"][0]["properties"]["staleBaselineIds"].empty());

  CHECK(pgsift::testing::xml_problem(slurp(junit)).empty());
  CHECK(pgsift::testing::xmllint_problem(slurp(junit)).empty());
  const auto issues = nlohmann::json::parse(slurp(quality));
  REQUIRE(issues.size() == 1);
  CHECK(issues[0]["check_name"] == "n-plus-one");
  CHECK(issues[0]["location"]["lines"]["begin"].get<int>() >= 1);

  // The same second log without the baseline: the two known loops are there
  // again under the same ids (other pids, times and values).
  const Run plain = pgsift_run({"analyze", (dir / "second.log").string(), "--no-config", "--rules", "n-plus-one",
                                "--report", "sarif:" + sarif});
  CHECK(plain.status == 1);
  const auto all = nlohmann::json::parse(slurp(sarif));
  REQUIRE(all["runs"][0]["results"].size() == 3);
  std::size_t known = 0;
  for (const auto& result : all["runs"][0]["results"]) {
    for (const auto& entry : recorded["entries"]) {
      if (entry["id"] == result["partialFingerprints"]["pgsiftFindingId/v1"]) ++known;
    }
  }
  CHECK(known == 2);

  // A budget of one n-plus-one finding lets the gated run pass.
  const Run budget = pgsift_run({"analyze", (dir / "second.log").string(), "--no-config", "--rules", "n-plus-one",
                                 "--baseline", baseline, "--max-findings", "n-plus-one=1", "--report",
                                 "sarif:" + sarif});
  CHECK(budget.status == 0);
}
