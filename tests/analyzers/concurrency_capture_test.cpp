// Refreshes fixtures/rules/<rule>/<scenario>.{log,csv,json} from real runs of
// the §6 scenarios (all three log formats come from one server run). Hidden:
// run it on purpose with `pgsift_tests "[.capture]"`. Each log gets a
// <fixture>.expect beside it (format: tests/fixtures_test.cpp) written from
// the scenario's declared expectations, at the line of the record of the
// named session that contains the locator text.
#include <cstdlib>
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

// The `.expect` file of one fixture (fixtures_test.cpp format): the
// expectations at the line of the record they bind to.
std::string expectations(const Scenario& scenario, const std::string& log, LogKind kind, const Run& run) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::ostringstream out;
  out << "# " << scenario.reference << " " << scenario.name << ": real PostgreSQL 15 log (pgsift harness)\n";
  for (const std::string& note : expectation_notes(scenario.name)) out << "# " << note << "\n";
  if (!scenario.schema.empty()) out << "#@ schema: " << scenario.name << ".schema.sql\n";
  for (const Expect& e : scenario.expects) {
    const std::string marker = pid_marker(kind, run.pids.at(e.session));
    std::size_t found = lines.size();
    for (std::size_t i = 0; i < lines.size() && found == lines.size(); ++i) {
      if (lines[i].find(marker) != std::string::npos && lines[i].find(e.locator) != std::string::npos) found = i;
    }
    if (found == lines.size()) FAIL("no record for expectation '" << e.substring << "' in " << scenario.name);
    out << "#@ expect " << e.rule << " " << e.severity << " @" << found + 1 << ": " << with_pids(e.substring, run.pids)
        << "\n";
  }
  return out.str();
}

}  // namespace

TEST_CASE("concurrency: capture scenario fixtures from a real server", "[.capture]") {
  // CAPTURE_ONLY=<name> refreshes one scenario.
  const char* only = std::getenv("CAPTURE_ONLY");
  for (const Scenario& scenario : scenarios()) {
    if (only != nullptr && scenario.name != only) continue;
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
        std::ofstream(dir / (scenario.name + extension)) << log;
        std::ofstream(dir / (scenario.name + extension + ".expect")) << expectations(scenario, log, kind, run);
      }
      if (!scenario.schema.empty()) std::ofstream(dir / (scenario.name + ".schema.sql")) << scenario.schema;
    }
  }
}
