// Golden and structure tests of the CI formats over the same sample Report
// (tests/report/sample_report.h). Goldens live in fixtures/reports/; rerun
// with PGSIFT_UPDATE_GOLDENS=1 to rewrite them after an intended change.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/report/ci_common.h"
#include "cli/report/ci_reports.h"
#include "tests/testing/report_checks.h"
#include "tests/report/sample_report.h"

namespace {

using pgsift::cli::report::Report;

std::string render(void (*writer)(const Report&, std::ostream&), const Report& report) {
  std::ostringstream out;
  writer(report, out);
  return out.str();
}

std::string github_render(const Report& report) {
  std::ostringstream out;
  pgsift::cli::report::write_github_commands(report, out);
  return out.str();
}

void check_golden(const std::string& name, const std::string& actual) {
  const std::filesystem::path path = std::filesystem::path(FIXTURES_DIR) / "reports" / name;
  if (const char* update = std::getenv("PGSIFT_UPDATE_GOLDENS"); update != nullptr && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream expected;
  expected << in.rdbuf();
  CHECK(actual == expected.str());
}

}  // namespace

TEST_CASE("ci reports: every format matches its golden file", "[report][gate]") {
  const Report report = pgsift::testing::sample_report();
  check_golden("sample.sarif", render(pgsift::cli::report::write_sarif, report));
  check_golden("sample.junit.xml", render(pgsift::cli::report::write_junit, report));
  check_golden("sample.codeclimate.json", render(pgsift::cli::report::write_codeclimate, report));
  check_golden("sample.github.txt", github_render(report));
  check_golden("sample.md", render(pgsift::cli::report::write_markdown, report));
}

TEST_CASE("ci reports: output is deterministic", "[report][gate]") {
  const Report report = pgsift::testing::sample_report();
  CHECK(render(pgsift::cli::report::write_sarif, report) == render(pgsift::cli::report::write_sarif, report));
  CHECK(render(pgsift::cli::report::write_junit, report) == render(pgsift::cli::report::write_junit, report));
  CHECK(render(pgsift::cli::report::write_markdown, report) == render(pgsift::cli::report::write_markdown, report));
}

TEST_CASE("ci reports: SARIF has the structure GitHub code scanning requires", "[report][gate]") {
  const Report report = pgsift::testing::sample_report();
  const auto sarif = nlohmann::json::parse(render(pgsift::cli::report::write_sarif, report));
  CHECK(pgsift::testing::sarif_problems(sarif).empty());
  const auto& results = sarif["runs"][0]["results"];
  REQUIRE(results.size() == 3);
  // Application source from sqlcommenter tags wins over the log line.
  CHECK(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "app/controllers/orders_controller.rb");
  CHECK(results[1]["locations"][0]["physicalLocation"]["region"]["startLine"] == 42);
  // ...and both evidence log lines become related locations.
  CHECK(results[1]["relatedLocations"].size() == 2);
  CHECK(results[1]["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ci/postgresql-2.csv");
  // Without tags: the log file and line.
  CHECK(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ci/postgresql.log");
  CHECK(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1042);
  CHECK(results[0]["partialFingerprints"]["pgsiftFindingId/v1"] == report.findings[0].id);
  CHECK(results[2]["level"] == "note");
}

TEST_CASE("ci reports: the SARIF check rejects what GitHub rejects", "[report][gate]") {
  const Report report = pgsift::testing::sample_report();
  auto sarif = nlohmann::json::parse(render(pgsift::cli::report::write_sarif, report));
  auto no_location = sarif;
  no_location["runs"][0]["results"][0]["locations"] = nlohmann::json::array();
  CHECK_FALSE(pgsift::testing::sarif_problems(no_location).empty());
  auto logical_only = sarif;
  logical_only["runs"][0]["results"][0]["locations"] =
      nlohmann::json::array({{{"logicalLocations", {{{"name", "x"}}}}}});
  CHECK_FALSE(pgsift::testing::sarif_problems(logical_only).empty());
  auto empty_help = sarif;
  empty_help["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"] = "";
  CHECK_FALSE(pgsift::testing::sarif_problems(empty_help).empty());
}

TEST_CASE("ci reports: a finding without evidence still gets a physical location", "[report][gate]") {
  Report report = pgsift::testing::sample_report();
  report.findings[2].evidence.clear();
  const auto sarif = nlohmann::json::parse(render(pgsift::cli::report::write_sarif, report));
  CHECK(pgsift::testing::sarif_problems(sarif).empty());
  CHECK(sarif["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "ci/postgresql.log");
  report.inputs.clear();
  const auto bare = nlohmann::json::parse(render(pgsift::cli::report::write_sarif, report));
  CHECK(pgsift::testing::sarif_problems(bare).empty());
}

TEST_CASE("ci reports: JUnit is well-formed XML with unique case names", "[report][gate]") {
  Report report = pgsift::testing::sample_report();
  report.findings.push_back(report.findings[1]);  // a duplicate id must still get its own name
  const std::string xml = render(pgsift::cli::report::write_junit, report);
  CHECK(pgsift::testing::xml_problem(xml).empty());
  CHECK(pgsift::testing::xmllint_problem(xml).empty());
  std::set<std::string> names;
  std::size_t cases = 0;
  for (std::size_t at = xml.find("<testcase "); at != std::string::npos; at = xml.find("<testcase ", at + 1)) {
    const auto cls = xml.find("classname=\"", at);
    const auto name = xml.find(" name=\"", at);
    names.insert(xml.substr(cls, xml.find('"', cls + 11) - cls) + "|" +
                 xml.substr(name, xml.find('"', name + 7) - name));
    ++cases;
  }
  CHECK(cases == 5);  // 4 findings + "no findings" for deadlock
  CHECK(names.size() == cases);
  CHECK(xml.find("failures=\"4\"") != std::string::npos);
  CHECK(xml.find("secret-order-17") == std::string::npos);  // values hidden
}

TEST_CASE("ci reports: the well-formedness check catches broken XML", "[report][gate]") {
  CHECK_FALSE(pgsift::testing::xml_problem("<a><b></a>").empty());
  CHECK_FALSE(pgsift::testing::xml_problem("<a x=\"1\">&bogus;</a>").empty());
  CHECK_FALSE(pgsift::testing::xml_problem("<a>1 < 2</a>").empty());
  CHECK_FALSE(pgsift::testing::xml_problem("<a/><b/>").empty());
  CHECK(pgsift::testing::xml_problem("<?xml version=\"1.0\"?>\n<a k='v'><b/>&amp;&#10;</a>\n").empty());
}

TEST_CASE("ci reports: Code Quality has the fields GitLab reads", "[report][gate]") {
  Report report = pgsift::testing::sample_report();
  report.findings.push_back(report.findings[0]);
  const auto issues = nlohmann::json::parse(render(pgsift::cli::report::write_codeclimate, report));
  REQUIRE(issues.is_array());
  REQUIRE(issues.size() == 4);
  std::set<std::string> fingerprints;
  for (const auto& issue : issues) {
    CHECK(issue["description"].get<std::string>().size() > 0);
    CHECK(issue["check_name"].get<std::string>().size() > 0);
    fingerprints.insert(issue["fingerprint"].get<std::string>());
    const std::set<std::string> severities = {"info", "minor", "major", "critical", "blocker"};
    CHECK(severities.count(issue["severity"].get<std::string>()) == 1);
    const auto path = issue["location"]["path"].get<std::string>();
    CHECK(!path.empty());
    CHECK(path.rfind("./", 0) == std::string::npos);
    CHECK(issue["location"]["lines"]["begin"].get<int>() >= 1);
  }
  CHECK(fingerprints.size() == 4);  // unique, or GitLab hides repeats
  CHECK(issues[0]["severity"] == "critical");
  CHECK(issues[1]["location"]["path"] == "app/controllers/orders_controller.rb");
}

TEST_CASE("ci reports: GitHub workflow commands escape data and properties", "[report][gate]") {
  using pgsift::cli::report::github_escape_data;
  using pgsift::cli::report::github_escape_property;
  CHECK(github_escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d");
  CHECK(github_escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A");
  const std::string text = github_render(pgsift::testing::sample_report());
  std::istringstream lines(text);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    CHECK(line.rfind("::", 0) == 0);
  }
  CHECK(count == 3);
  CHECK(text.find("::error file=ci/postgresql.log,line=1042,title=pgsift idle-in-transaction::") == 0);
  CHECK(text.find("::warning file=app/controllers/orders_controller.rb,line=42,") != std::string::npos);
}

TEST_CASE("ci reports: GitHub annotations are capped per level with a count", "[report][gate]") {
  Report report = pgsift::testing::sample_report();
  auto warning = report.findings[1];
  report.findings.clear();
  for (int i = 0; i < 15; ++i) report.findings.push_back(warning);
  std::ostringstream out;
  pgsift::cli::report::write_github_commands(report, out);
  const std::string text = out.str();
  std::size_t warnings = 0;
  for (auto at = text.find("::warning "); at != std::string::npos; at = text.find("::warning ", at + 1)) ++warnings;
  CHECK(warnings == 10);
  CHECK(text.find("::notice title=pgsift::5 more findings not annotated") != std::string::npos);
}

TEST_CASE("ci reports: the github format appends the summary to GITHUB_STEP_SUMMARY", "[report][gate]") {
  const auto path = std::filesystem::temp_directory_path() / "pgsift-gate-step-summary.md";
  std::ofstream(path) << "earlier step\n";
  ::setenv("GITHUB_STEP_SUMMARY", path.c_str(), 1);
  std::ostringstream out;
  const std::string error = pgsift::cli::report::write_github(pgsift::testing::sample_report(), out);
  ::unsetenv("GITHUB_STEP_SUMMARY");
  CHECK(error.empty());
  std::ifstream in(path);
  std::stringstream summary;
  summary << in.rdbuf();
  std::filesystem::remove(path);
  CHECK(summary.str().rfind("earlier step\n## pgsift\n", 0) == 0);
  CHECK(summary.str().find("| [`n-plus-one`]") != std::string::npos);
  CHECK(out.str().rfind("::error ", 0) == 0);
}

TEST_CASE("ci reports: values appear only with show_values", "[report][gate]") {
  Report report = pgsift::testing::sample_report();
  for (auto writer : {pgsift::cli::report::write_sarif, pgsift::cli::report::write_junit,
                      pgsift::cli::report::write_codeclimate, pgsift::cli::report::write_markdown}) {
    CHECK(render(writer, report).find("secret-order-17") == std::string::npos);
  }
  report.show_values = true;
  CHECK(render(pgsift::cli::report::write_sarif, report).find("secret-order-17") != std::string::npos);
  CHECK(render(pgsift::cli::report::write_junit, report).find("secret-order-17") != std::string::npos);
}

TEST_CASE("ci reports: invalid UTF-8 from logs is repaired, never passed on", "[report][gate]") {
  using pgsift::cli::report::valid_utf8;
  CHECK(valid_utf8("ok \xc3\xa9") == "ok \xc3\xa9");
  CHECK(valid_utf8("bad \xff") == "bad \xEF\xBF\xBD");
  CHECK(valid_utf8("\xc0\xaf") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(valid_utf8("\xed\xa0\x80").find("\xed") == std::string::npos);  // surrogate
  CHECK(pgsift::cli::report::xml_escape("a\x01<b>") == "a\xEF\xBF\xBD&lt;b&gt;");
}
