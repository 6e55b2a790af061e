// Refreshes fixtures/rules/<rule>/<scenario>.{log,csv,json} from real runs of
// the §6 scenarios (all three log formats come from one server run). Hidden:
// run it on purpose with `pgsift_tests "[.capture]"`. The `#@ expect` lines
// come from each scenario's declared expectations, placed before the record
// of the named session that contains the locator text.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/analyzers/concurrency_scenarios_data.h"

namespace fs = std::filesystem;
using namespace pgsift::testing;
using namespace pgsift::testing::concurrency;

namespace {

std::string pid_marker(LogKind kind, int pid) {
  switch (kind) {
    case LogKind::stderr_log: return "[" + std::to_string(pid) + "]";
    case LogKind::csvlog: return "," + std::to_string(pid) + ",";
    case LogKind::jsonlog: return "\"pid\":" + std::to_string(pid) + ",";
  }
  return "";
}

std::string annotate(const Scenario& scenario, const std::string& log, LogKind kind, const Run& run) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::map<std::size_t, std::vector<std::string>> before;  // line index -> annotations
  for (const Expect& e : scenario.expects) {
    const std::string marker = pid_marker(kind, run.pids.at(e.session));
    bool placed = false;
    for (std::size_t i = 0; i < lines.size() && !placed; ++i) {
      if (lines[i].find(marker) != std::string::npos && lines[i].find(e.locator) != std::string::npos) {
        before[i].push_back("#@ expect " + e.rule + " " + e.severity + ": " + e.substring);
        placed = true;
      }
    }
    if (!placed) FAIL("no record for expectation '" << e.substring << "' in " << scenario.name);
  }
  std::ostringstream out;
  out << "#@ scenario: " << scenario.reference << " " << scenario.name << " (PostgreSQL 15, pgsift harness)\n";
  if (!scenario.schema.empty()) out << "#@ schema: " << scenario.name << ".schema.sql\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    for (const auto& a : before[i]) out << a << '\n';
    out << lines[i] << '\n';
  }
  return out.str();
}

}  // namespace

TEST_CASE("concurrency: capture scenario fixtures from a real server", "[.capture]") {
  for (const Scenario& scenario : scenarios()) {
    DYNAMIC_SECTION(scenario.name) {
      PgClusterOptions options;
      options.settings = scenario.settings;
      PgCluster pg(options);
      {
        PgSession setup = pg.connect();
        setup.exec(kSetup);
        if (!scenario.extra_setup.empty()) setup.exec(scenario.extra_setup);
      }
      const LogPosition start = pg.log_position();
      Run run(pg);
      scenario.steps(run);
      run.close();
      pg.sync_logs();
      const fs::path dir = fs::path(FIXTURES_DIR) / "rules" / scenario.rule;
      fs::create_directories(dir);
      const std::vector<std::pair<LogKind, std::string>> kinds = {
          {LogKind::stderr_log, ".log"}, {LogKind::csvlog, ".csv"}, {LogKind::jsonlog, ".json"}};
      for (const auto& [kind, extension] : kinds) {
        const std::string log = pg.read_log(kind, start);
        std::ofstream(dir / (scenario.name + extension)) << annotate(scenario, log, kind, run);
      }
      if (!scenario.schema.empty()) std::ofstream(dir / (scenario.name + ".schema.sql")) << scenario.schema;
    }
  }
}
