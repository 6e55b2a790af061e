#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli/gate/baseline.h"
#include "cli/gate/budget.h"
#include "cli/gate/filters.h"
#include "analyzers/sql/statement.h"
#include "tests/report/sample_report.h"

using pgsift::cli::gate::apply_baseline;
using pgsift::cli::gate::Baseline;
using pgsift::cli::gate::make_baseline;
using pgsift::cli::gate::parse_baseline;

namespace {

std::string serialize(const Baseline& baseline) {
  std::ostringstream out;
  pgsift::cli::gate::write_baseline(baseline, out);
  return out.str();
}

}  // namespace

TEST_CASE("baseline: round trip is sorted, versioned and stable", "[gate]") {
  const auto report = pgsift::testing::sample_report();
  const Baseline baseline = make_baseline(report.findings);
  const std::string text = serialize(baseline);
  CHECK(text.rfind("{\n  \"version\": 1,", 0) == 0);
  CHECK(text.find("\"id\": \"idle-in-transaction:") < text.find("\"id\": \"lock-wait:"));
  CHECK(text.find("\"id\": \"lock-wait:") < text.find("\"id\": \"n-plus-one:"));
  Baseline parsed;
  REQUIRE(parse_baseline(text, "b.json", parsed).empty());
  CHECK(serialize(parsed) == text);
  CHECK(parsed.entries.at(report.findings[1].id).occurrences == 3);
}

TEST_CASE("baseline: only findings not in it remain; stale entries are listed", "[gate]") {
  auto old_run = pgsift::testing::sample_report();
  Baseline baseline = make_baseline(old_run.findings);
  baseline.entries["deadlock:1111111111111111"] = {"deadlock:1111111111111111", "deadlock", 1, 1, "gone"};

  auto new_run = pgsift::testing::sample_report();
  new_run.baselined = 0;
  new_run.stale_baseline_ids.clear();
  auto fresh = new_run.findings[1];
  fresh.id = pgsift::core::make_finding_id("n-plus-one", {"SELECT * FROM payments WHERE order_id = $1"});
  new_run.findings.push_back(fresh);
  new_run.findings[0].evidence[0].line = 99999;  // line shifts do not matter: ids do
  apply_baseline(baseline, new_run);
  REQUIRE(new_run.findings.size() == 1);
  CHECK(new_run.findings[0].id == fresh.id);
  CHECK(new_run.baselined == 3);
  CHECK(new_run.stale_baseline_ids == std::vector<std::string>{"deadlock:1111111111111111"});
}

TEST_CASE("baseline: counts are used up like PHPStan's", "[gate]") {
  auto report = pgsift::testing::sample_report();
  const Baseline baseline = make_baseline({report.findings[1]});
  report.findings = {report.findings[1], report.findings[1]};
  apply_baseline(baseline, report);
  CHECK(report.findings.size() == 1);
  CHECK(report.baselined == 4);  // 3 from the sample plus this one
  CHECK(report.stale_baseline_ids.empty());
}

TEST_CASE("baseline: bad files are one-line errors naming file and line", "[gate]") {
  Baseline baseline;
  CHECK(parse_baseline("{\n  \"version\": 1,\n  \"entries\": [\n  }\n", "ci/b.json", baseline) ==
        "ci/b.json:4: not a pgsift baseline (invalid JSON)");
  CHECK(parse_baseline("{\"version\": 7, \"entries\": []}", "b.json", baseline).find("unsupported baseline version 7") !=
        std::string::npos);
  CHECK(parse_baseline("[]", "b.json", baseline) == "b.json: not a pgsift baseline (no \"version\")");
  CHECK(parse_baseline("{\"version\": 1, \"entries\": [{\"id\": \"x:1\", \"count\": 0}]}", "b.json", baseline) ==
        "b.json: entry 0 (x:1): \"count\" must be a positive integer");
  CHECK(pgsift::cli::gate::load_baseline("/nonexistent/b.json", baseline) ==
        "cannot read baseline '/nonexistent/b.json'");
}

TEST_CASE("baseline: save writes the file atomically", "[gate]") {
  const auto path = (std::filesystem::temp_directory_path() / "pgsift-gate-baseline.json").string();
  const Baseline baseline = make_baseline(pgsift::testing::sample_report().findings);
  REQUIRE(pgsift::cli::gate::save_baseline(baseline, path).empty());
  Baseline loaded;
  REQUIRE(pgsift::cli::gate::load_baseline(path, loaded).empty());
  CHECK(loaded.entries.size() == 3);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove(path);
  CHECK_FALSE(pgsift::cli::gate::save_baseline(baseline, "/nonexistent/dir/b.json").empty());
}

TEST_CASE("budgets: parse RULE=N and reject the rest", "[gate]") {
  pgsift::cli::gate::Budget budget;
  CHECK(pgsift::cli::gate::parse_budget("n-plus-one=3", budget).empty());
  CHECK(budget.rule == "n-plus-one");
  CHECK(budget.max == 3);
  CHECK_FALSE(pgsift::cli::gate::parse_budget("n-plus-one", budget).empty());
  CHECK_FALSE(pgsift::cli::gate::parse_budget("=3", budget).empty());
  CHECK_FALSE(pgsift::cli::gate::parse_budget("n-plus-one=-1", budget).empty());
  CHECK_FALSE(pgsift::cli::gate::parse_budget("n-plus-one=3x", budget).empty());
  const std::vector<std::string> known = {"n-plus-one", "deadlock"};
  CHECK(pgsift::cli::gate::check_budgets({{"n-plus-one", 1}, {"all", 2}}, known).empty());
  CHECK(pgsift::cli::gate::check_budgets({{"n-plus-on", 1}}, known) ==
        "--max-findings: unknown rule 'n-plus-on' (see 'pgsift rules')");
  CHECK_FALSE(pgsift::cli::gate::check_budgets({{"deadlock", 1}, {"deadlock", 2}}, known).empty());
}

TEST_CASE("budgets: fail-on picks what counts, budgets how many are tolerated", "[gate]") {
  using pgsift::core::Severity;
  using pgsift::cli::gate::evaluate_gate;
  const auto report = pgsift::testing::sample_report();  // 1 error, 1 warning, 1 info
  CHECK(evaluate_gate(report, Severity::warning, {}).fail);
  CHECK(evaluate_gate(report, Severity::warning, {}).reasons.size() == 2);
  CHECK_FALSE(evaluate_gate(report, std::nullopt, {}).fail);
  CHECK_FALSE(evaluate_gate(report, Severity::warning, {{"idle-in-transaction", 1}, {"n-plus-one", 1}}).fail);
  CHECK(evaluate_gate(report, Severity::info, {{"idle-in-transaction", 1}, {"n-plus-one", 1}}).fail);  // lock-wait
  CHECK_FALSE(evaluate_gate(report, Severity::info, {{"all", 3}}).fail);
  const auto over = evaluate_gate(report, Severity::info, {{"all", 2}});
  CHECK(over.fail);
  CHECK(over.reasons == std::vector<std::string>{"all rules: 3 findings at or above info (budget 2)"});
  const auto rule_over = evaluate_gate(report, Severity::error, {{"idle-in-transaction", 0}});
  CHECK(rule_over.reasons == std::vector<std::string>{"idle-in-transaction: 1 findings at or above error (budget 0)"});
}



TEST_CASE("ignores: every given field must match; matches count as suppressed", "[gate]") {
  using pgsift::cli::config::IgnoreEntry;
  auto report = pgsift::testing::sample_report();
  const auto& nplus1 = report.findings[1];
  IgnoreEntry by_table;
  by_table.rule = "n-plus-one";
  by_table.table = "items";
  CHECK(pgsift::cli::gate::ignore_matches(by_table, nplus1));
  by_table.table = "public.items";
  CHECK_FALSE(pgsift::cli::gate::ignore_matches(by_table, nplus1));
  by_table.table = "ITEMS";
  CHECK(pgsift::cli::gate::ignore_matches(by_table, nplus1));
  by_table.rule = "lock-wait";
  CHECK_FALSE(pgsift::cli::gate::ignore_matches(by_table, nplus1));

  IgnoreEntry by_app;
  by_app.application = "web";
  by_app.user = "app";
  CHECK(pgsift::cli::gate::ignore_matches(by_app, nplus1));
  by_app.database = "other";
  CHECK_FALSE(pgsift::cli::gate::ignore_matches(by_app, nplus1));

  IgnoreEntry by_fingerprint;
  const auto parsed = pgsift::sql::parse(nplus1.evidence[0].sql);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(parsed.shape->statements[0].fingerprint));
  by_fingerprint.fingerprint = hex;
  CHECK(pgsift::cli::gate::ignore_matches(by_fingerprint, nplus1));
  CHECK_FALSE(pgsift::cli::gate::ignore_matches(by_fingerprint, report.findings[0]));

  IgnoreEntry by_id;
  by_id.id = report.findings[0].id;
  report.suppressed = 0;
  pgsift::cli::gate::apply_ignores({by_id, by_app}, report);
  REQUIRE(report.findings.size() == 2);
  CHECK(report.suppressed == 1);
  CHECK(report.findings[0].rule == "n-plus-one");
}

TEST_CASE("severity overrides from the configuration apply per rule", "[gate]") {
  auto report = pgsift::testing::sample_report();
  pgsift::cli::config::Config config;
  config.severities["n-plus-one"].set("error", ".pgsift.toml:3");
  pgsift::cli::gate::apply_severities(config, report);
  CHECK(report.findings[1].severity == pgsift::core::Severity::error);
  CHECK(report.findings[2].severity == pgsift::core::Severity::info);
}
