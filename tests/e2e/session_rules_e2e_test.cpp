// End to end on a real PostgreSQL 15: the rule scenarios (N+1 loops in both
// protocols, pauses in transactions, every must-not-fire case) run while
// pgbench's TPC-B-like load runs beside them; pgsift then analyzes the
// server's stderr, csvlog and jsonlog files and must report exactly the
// expected findings for each scenario's backend pids, and no loop findings
// for pgbench's sessions (whose transactions are BEGIN ... END loops).
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/analysis/pipeline.h"
#include "tests/testing/pg_cluster.h"
#include "tests/testing/rule_scenarios.h"

using pgsift::testing::LogKind;
using pgsift::testing::PgCluster;

namespace {

struct ScenarioRun {
  const pgsift::testing::RuleScenario* scenario;
  std::set<int> pids;
};

pgsift::cli::analysis::AnalysisResult analyze(const std::string& path) {
  pgsift::cli::analysis::AnalysisRequest request;
  request.paths = {path};
  request.rules = {"n-plus-one,repeated-query,idle-in-transaction"};
  // On a loaded 2-core machine a client can stall for tens of milliseconds
  // between two statements; the scenarios' pauses are 400 ms and more.
  request.options = {"idle-in-transaction.min-gap-ms=250"};
  std::ostringstream err;
  return pgsift::cli::analysis::analyze_logs(request, err);
}

std::string describe(const pgsift::core::Finding& f) {
  std::string pids;
  for (const auto& s : f.sessions) pids += " " + std::to_string(s.pid);
  return std::string(pgsift::core::to_string(f.severity)) + " [" + f.rule + "] " + f.message + " pids" + pids;
}

void check_exact(const pgsift::cli::analysis::AnalysisResult& result,
                 const std::vector<ScenarioRun>& runs, const std::string& format) {
  REQUIRE(result.error == "");
  CHECK(result.report.inputs.at(0).skipped_lines == 0);
  std::vector<bool> used(result.report.findings.size(), false);
  for (const ScenarioRun& run : runs) {
    for (const auto& expected : run.scenario->expect) {
      bool found = false;
      for (std::size_t i = 0; i < result.report.findings.size() && !found; ++i) {
        const auto& f = result.report.findings[i];
        const bool ours = std::any_of(f.sessions.begin(), f.sessions.end(),
                                      [&](const auto& s) { return run.pids.count(s.pid) > 0; });
        if (ours && f.rule == expected.rule && pgsift::core::to_string(f.severity) == expected.severity &&
            f.message.find(expected.message) != std::string::npos) {
          found = used[i] = true;
          // The primary location is in one of the finding's sessions (identical
          // findings of two scenarios aggregate into one).
          CHECK(std::any_of(f.sessions.begin(), f.sessions.end(),
                            [&](const auto& s) { return s.pid == f.evidence.at(0).pid; }));
        }
      }
      INFO(format << ": scenario " << run.scenario->name << " expected " << expected.rule << " "
                  << expected.severity << ": " << expected.message);
      CHECK(found);
    }
  }
  for (std::size_t i = 0; i < result.report.findings.size(); ++i) {
    if (used[i]) continue;
    const auto& f = result.report.findings[i];
    const bool pgbench = std::all_of(f.sessions.begin(), f.sessions.end(),
                                     [](const auto& s) { return s.application == "pgbench"; });
    INFO(format << ": unexpected finding " << describe(f));
    // pgbench's clients may stall inside their transactions on a loaded box;
    // any other finding is wrong.
    CHECK((pgbench && f.rule == "idle-in-transaction"));
  }
}

}  // namespace

TEST_CASE("e2e: session rules report exactly the scenarios' findings beside a pgbench load, in three formats",
          "[pg][e2e]") {
  PgCluster pg;
  pgsift::testing::create_shop_schema(pg);
  pgsift::testing::pgbench_init(pg, 1);
  pgsift::testing::PgbenchOptions load;
  load.clients = 2;
  load.seconds = 60;
  load.extra_args = {"-R", "40"};  // a steady load, not a saturating one
  pgsift::testing::PgbenchRun bench(pg, load);

  std::vector<ScenarioRun> runs;
  for (const auto& scenario : pgsift::testing::rule_scenarios()) {
    if (scenario.statement_logging_only) continue;
    std::vector<int> pids = scenario.run(pg);
    runs.push_back({&scenario, std::set<int>(pids.begin(), pids.end())});
  }
  bench.stop();
  pg.sync_logs();
  REQUIRE(pg.read_log().find("UPDATE pgbench_accounts SET abalance") != std::string::npos);

  for (LogKind kind : {LogKind::stderr_log, LogKind::csvlog, LogKind::jsonlog}) {
    const std::string path = pg.log_path(kind).string();
    auto result = analyze(path);
    check_exact(result, runs, path);
    // pgbench ran hundreds of identical-shape lookups with distinct keys, in
    // separate transactions: never a loop.
    CHECK(result.stats.sessions > runs.size());
  }
}

TEST_CASE("e2e: without durations in the log, gaps are not invented and the report says why",
          "[pg][e2e]") {
  pgsift::testing::PgClusterOptions options;
  options.log_min_duration_statement_ms = -1;
  options.settings = {{"log_statement", "all"}};
  PgCluster pg(options);
  pgsift::testing::create_shop_schema(pg);
  for (const auto& scenario : pgsift::testing::rule_scenarios()) {
    if (scenario.name == "pause-holding-row-lock") scenario.run(pg);
  }
  pg.sync_logs();
  for (LogKind kind : {LogKind::stderr_log, LogKind::csvlog, LogKind::jsonlog}) {
    auto result = analyze(pg.log_path(kind).string());
    REQUIRE(result.error == "");
    CHECK(result.report.findings.empty());
    // Every statement is there (only durations are missing): loop counts stand.
    REQUIRE(result.report.notes.size() == 1);
    CHECK(result.report.notes[0].rfind("idle-in-transaction: gap analysis unavailable: ", 0) == 0);
    CHECK(result.report.notes[0].find("without a duration") != std::string::npos);
  }
}
