// Every rule fixture through the real pipeline (read_logs -> session tracker
// -> rules), checked exhaustively both ways against the expectations written
// beside it in <fixture>.expect:
//
//   # one-line description
//   #@ rules: n-plus-one,repeated-query      (default: the directory's rule)
//   #@ options: n-plus-one.min-repetitions=3 (space-separated --option values)
//   #@ expect <rule> <severity> @<line>: <substring of the message>
//   #@ note: <substring of a report note>
//
// An extra finding fails, and so does an unmet expectation; a fixture with no
// `expect` line is a negative case. <line> is the finding's primary location.
// The fixtures under fixtures/rules/ are slices of real PostgreSQL 15 logs made
// by the hidden test "[.generate-fixtures]" below (also tagged [pg], so that
// "~[pg]" filters leave it out) from the scenarios in
// tests/testing/rule_scenarios.cpp.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "analyzers/core/analyzer.h"
#include "cli/analysis/pipeline.h"
#include "tests/testing/rule_scenarios.h"

namespace fs = std::filesystem;

namespace {

struct Expectation {
  std::string rule, severity;
  std::uint64_t line = 0;
  std::string message;
  bool met = false;
};

struct FixtureSpec {
  std::vector<std::string> rules;
  std::vector<std::string> options;
  std::vector<Expectation> expect;
  std::vector<std::string> notes;
  std::vector<std::string> schema_files;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) {
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

FixtureSpec read_spec(const fs::path& path, const std::string& rule_dir) {
  FixtureSpec spec;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#@ rules:", 0) == 0) {
      spec.rules = split(line.substr(9), ',');
    } else if (line.rfind("#@ options:", 0) == 0) {
      spec.options = split(line.substr(11), ' ');
    } else if (line.rfind("#@ schema:", 0) == 0) {
      // DDL beside the fixture, passed as --schema.
      std::string file = line.substr(10);
      file.erase(0, file.find_first_not_of(' '));
      spec.schema_files.push_back((path.parent_path() / file).string());
    } else if (line.rfind("#@ note:", 0) == 0) {
      spec.notes.push_back(line.substr(9));
    } else if (line.rfind("#@ expect ", 0) == 0) {
      // "#@ expect <rule> <severity> @<line>: <message>"
      std::istringstream words(line.substr(10));
      Expectation e;
      std::string at;
      words >> e.rule >> e.severity >> at;
      REQUIRE(at.size() > 2);
      REQUIRE(at[0] == '@');
      e.line = std::stoull(at.substr(1, at.size() - 2));
      std::getline(words, e.message);
      e.message.erase(0, e.message.find_first_not_of(' '));
      spec.expect.push_back(e);
    } else if (line.rfind("#@", 0) == 0) {
      FAIL("unknown directive in " << path << ": " << line);
    }
  }
  if (spec.rules.empty()) spec.rules.push_back(rule_dir);
  return spec;
}

bool is_fixture(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".log" || ext == ".csv" || ext == ".json";
}

std::vector<fs::path> fixtures() {
  std::vector<fs::path> found;
  const fs::path root = fs::path(FIXTURES_DIR) / "rules";
  if (!fs::exists(root)) return found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && is_fixture(entry.path())) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void check_fixture(const fs::path& path) {
  const std::string rule_dir = path.parent_path().filename().string();
  fs::path expect_path = path;
  expect_path += ".expect";
  INFO("fixture " << path.string());
  REQUIRE(fs::exists(expect_path));
  FixtureSpec spec = read_spec(expect_path, rule_dir);

  pgsift::cli::analysis::AnalysisRequest request;
  request.paths = {path.string()};
  request.rules = spec.rules;
  request.options = spec.options;
  request.schema_files = spec.schema_files;
  std::ostringstream err;
  auto result = pgsift::cli::analysis::analyze_logs(request, err);
  REQUIRE(result.error == "");
  REQUIRE(result.report.inputs.size() == 1);
  CHECK(result.report.inputs[0].skipped_lines == 0);

  for (const auto& finding : result.report.findings) {
    const std::uint64_t line = finding.evidence.empty() ? 0 : finding.evidence[0].line;
    auto match = std::find_if(spec.expect.begin(), spec.expect.end(), [&](const Expectation& e) {
      return !e.met && e.rule == finding.rule && e.severity == pgsift::core::to_string(finding.severity) &&
             e.line == line && finding.message.find(e.message) != std::string::npos;
    });
    INFO("unexpected finding @" << line << ": " << pgsift::core::to_string(finding.severity) << " "
                                << finding.message << " [" << finding.rule << "]");
    CHECK(match != spec.expect.end());
    if (match != spec.expect.end()) match->met = true;
  }
  for (const Expectation& e : spec.expect) {
    INFO("expected finding not reported: " << e.rule << " " << e.severity << " @" << e.line << ": "
                                            << e.message);
    CHECK(e.met);
  }
  std::vector<bool> note_met(result.report.notes.size(), false);
  for (const std::string& wanted : spec.notes) {
    bool found = false;
    for (std::size_t i = 0; i < result.report.notes.size(); ++i) {
      if (!note_met[i] && result.report.notes[i].find(wanted) != std::string::npos) {
        note_met[i] = found = true;
        break;
      }
    }
    INFO("expected note missing: " << wanted);
    CHECK(found);
  }
  for (std::size_t i = 0; i < note_met.size(); ++i) {
    INFO("unexpected note: " << result.report.notes[i]);
    CHECK(note_met[i]);
  }
}

}  // namespace

TEST_CASE("fixtures: every rule fixture gives exactly the findings written beside it", "[fixtures]") {
  const auto all = fixtures();
  REQUIRE_FALSE(all.empty());
  for (const fs::path& path : all) {
    DYNAMIC_SECTION(path.filename().string()) { check_fixture(path); }
  }
}

TEST_CASE("fixtures: each session and concurrency rule has positive and negative fixtures in three formats",
          "[fixtures]") {
  for (const char* rule : {"n-plus-one", "repeated-query", "idle-in-transaction", "check-then-act", "lock-wait",
                           "deadlock", "lock-timeout"}) {
    for (const char* ext : {".log", ".csv", ".json"}) {
      int positive = 0, negative = 0;
      for (const fs::path& path : fixtures()) {
        if (path.parent_path().filename() != rule || path.extension() != ext) continue;
        fs::path expect = path;
        expect += ".expect";
        const bool has_expect = read_file(expect).find("#@ expect ") != std::string::npos;
        (has_expect ? positive : negative) += 1;
      }
      INFO(rule << " " << ext);
      CHECK(positive >= 1);
      CHECK(negative >= 1);
    }
  }
}

// ---- generation (hidden: run `pgsift_tests "[.generate-fixtures]"`) ----

namespace {

using pgsift::testing::LogKind;
using pgsift::testing::PgCluster;

std::string without_observer(const std::string& text) {
  std::istringstream in(text);
  std::ostringstream out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("pgsift-observer") != std::string::npos) continue;
    out << line << '\n';
  }
  return out.str();
}

std::uint64_t anchor_line(const std::string& text, const std::string& anchor, int occurrence) {
  std::istringstream in(text);
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find(anchor) != std::string::npos && --occurrence == 0) return number;
  }
  return 0;
}

void write_fixture(PgCluster& pg, const pgsift::testing::RuleScenario& scenario) {
  const auto before = pg.log_position();
  scenario.run(pg);
  const auto after = pg.log_position();
  const fs::path dir = fs::path(FIXTURES_DIR) / "rules" / scenario.rule_dir;
  fs::create_directories(dir);
  const std::pair<LogKind, const char*> kinds[] = {
      {LogKind::stderr_log, ".log"}, {LogKind::csvlog, ".csv"}, {LogKind::jsonlog, ".json"}};
  for (const auto& [kind, ext] : kinds) {
    const std::uintmax_t from = kind == LogKind::stderr_log ? before.stderr_log
                                : kind == LogKind::csvlog   ? before.csvlog
                                                            : before.jsonlog;
    const std::uintmax_t to = kind == LogKind::stderr_log ? after.stderr_log
                              : kind == LogKind::csvlog   ? after.csvlog
                                                          : after.jsonlog;
    std::string text = pg.read_log(kind, before).substr(0, to - from);
    text = without_observer(text);
    const fs::path file = dir / (scenario.name + ext);
    std::ofstream(file, std::ios::binary) << text;
    std::ofstream expect(fs::path(file.string() + ".expect"), std::ios::binary);
    expect << "# " << scenario.description << "\n";
    expect << "# Captured from PostgreSQL 15 by tests/fixtures_test.cpp [.generate-fixtures].\n";
    if (!scenario.rules.empty()) {
      expect << "#@ rules: ";
      for (std::size_t i = 0; i < scenario.rules.size(); ++i) expect << (i ? "," : "") << scenario.rules[i];
      expect << "\n";
    }
    for (const auto& e : scenario.expect) {
      const std::uint64_t line = anchor_line(text, e.anchor, e.occurrence);
      REQUIRE(line != 0);
      expect << "#@ expect " << e.rule << " " << e.severity << " @" << line << ": " << e.message << "\n";
    }
    for (const auto& note : scenario.notes) expect << "#@ note: " << note << "\n";
  }
}

}  // namespace

TEST_CASE("fixtures: regenerate fixtures/rules from the scenarios on a real server",
          "[.generate-fixtures][pg]") {
  PgCluster pg;
  pgsift::testing::create_shop_schema(pg);
  pgsift::testing::PgClusterOptions statement_only;
  statement_only.log_min_duration_statement_ms = -1;
  statement_only.settings = {{"log_statement", "all"}};
  PgCluster pg_statements(statement_only);
  pgsift::testing::create_shop_schema(pg_statements);
  for (const auto& scenario : pgsift::testing::rule_scenarios()) {
    write_fixture(scenario.statement_logging_only ? pg_statements : pg, scenario);
  }
}
