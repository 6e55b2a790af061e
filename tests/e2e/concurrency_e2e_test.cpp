// End to end on a real PostgreSQL 15: the §6 scenarios with truly concurrent
// sessions, alongside a pgbench load, then `pgsift analyze` (the real
// pipeline: reader -> session tracker -> rule) on each of the three log
// formats the server wrote at once. Each must give exactly the scenario's
// findings, reported at the right session's pid.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli/analysis/pipeline.h"
#include "tests/analyzers/concurrency_scenarios_data.h"
#include "tests/testing/pgbench.h"

namespace fs = std::filesystem;
using namespace pgsift::testing;
using namespace pgsift::testing::concurrency;

namespace {

struct Outcome {
  std::vector<pgsift::core::Finding> findings;
  std::string error;
};

Outcome analyze(const fs::path& log, const Scenario& scenario, const fs::path& schema) {
  pgsift::cli::analysis::AnalysisRequest request;
  request.paths = {log.string()};
  request.rules = {scenario.rule};
  if (!schema.empty()) request.schema_files = {schema.string()};
  std::ostringstream err;
  auto result = pgsift::cli::analysis::analyze_logs(request, err);
  return {result.report.findings, result.error};
}

void run_scenario(const Scenario& scenario) {
  PgClusterOptions options;
  options.settings = scenario.settings;
  PgCluster pg(options);
  {
    PgSession setup = pg.connect();
    setup.exec(kSetup);
    if (!scenario.extra_setup.empty()) setup.exec(scenario.extra_setup);
  }
  pgbench_init(pg, 1);
  const LogPosition start = pg.log_position();
  PgbenchOptions load_options;
  load_options.builtin = "simple-update";
  load_options.protocol = "extended";
  load_options.clients = 2;
  load_options.transactions = 40;
  PgbenchRun load(pg, load_options);
  Run run(pg);
  scenario.steps(run);
  run.close();
  REQUIRE(load.wait().exit_code == 0);
  pg.sync_logs();

  const fs::path dir = fs::temp_directory_path() / ("pgsift-e2e-" + std::to_string(pg.port()));
  fs::create_directories(dir);
  fs::path schema;
  if (!scenario.schema.empty()) {
    schema = dir / "schema.sql";
    std::ofstream(schema) << scenario.schema;
  }
  const std::vector<std::pair<LogKind, std::string>> kinds = {
      {LogKind::stderr_log, "pg.log"}, {LogKind::csvlog, "pg.csv"}, {LogKind::jsonlog, "pg.json"}};
  for (const auto& [kind, name] : kinds) {
    const fs::path path = dir / name;
    std::ofstream(path) << pg.read_log(kind, start);
    INFO(scenario.name << " " << name);
    Outcome outcome = analyze(path, scenario, schema);
    REQUIRE(outcome.error == "");
    std::vector<bool> met(scenario.expects.size(), false);
    for (const auto& f : outcome.findings) {
      bool matched = false;
      for (std::size_t i = 0; i < scenario.expects.size() && !matched; ++i) {
        const Expect& e = scenario.expects[i];
        if (met[i] || f.rule != e.rule || pgsift::core::to_string(f.severity) != e.severity ||
            f.message.find(with_pids(e.substring, run.pids)) == std::string::npos || f.evidence.empty() ||
            f.evidence[0].pid != run.pids.at(e.session)) {
          continue;
        }
        met[i] = matched = true;
      }
      INFO("unexpected finding: " << pgsift::core::to_string(f.severity) << " " << f.message << " [" << f.rule
                                  << "] pid " << (f.evidence.empty() ? 0 : f.evidence[0].pid));
      CHECK(matched);
    }
    for (std::size_t i = 0; i < met.size(); ++i) {
      INFO("missing: " << scenario.expects[i].rule << " " << scenario.expects[i].severity << ": "
                       << scenario.expects[i].substring << " at pid " << run.pids.at(scenario.expects[i].session));
      CHECK(met[i]);
    }
  }
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("concurrency e2e: races, waits, deadlocks and timeouts from live sessions beside pgbench",
          "[check-then-act][lock-wait][deadlock][lock-timeout][pg]") {
  // The list: a real lost update, an overdraft in autocommit with
  // literal SQL, an existence check then insert with and without a unique
  // index (given as --schema), a coupon redemption, a lock wait behind an
  // idle transaction, a deadlock, a lock timeout behind LOCK TABLE, and every
  // safe pattern.
  const std::set<std::string> wanted = {
      "lost-update-read-committed", "overdraft-autocommit", "existence-check-then-insert",
      "existence-check-unique-index-ok", "coupon-consume", "chain-behind-idle-transaction",
      "deadlock-two-rows", "lock-timeout-behind-lock-table", "lost-update-extended-protocol",
      "lock-timeout-likely-holder", "lock-timeout-ddl-behind-reader", "ddl-queued-behind-reader"};
  for (const Scenario& scenario : scenarios()) {
    const bool safe = scenario.name.size() > 3 && scenario.name.compare(scenario.name.size() - 3, 3, "-ok") == 0;
    if (!safe && wanted.count(scenario.name) == 0) continue;
    DYNAMIC_SECTION(scenario.name) { run_scenario(scenario); }
  }
}
