// `pgsift analyze` and `pgsift rules` driven in-process through cli::run on
// the checked-in real-log fixtures: output formats, exit codes, selection,
// options, redaction, stable ids, rule docs.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analyzers/core/analyzer.h"
#include "cli/run.h"

namespace {

struct Result {
  int status;
  std::string out, err;
};

Result run_pgsift(std::vector<std::string> args) {
  args.insert(args.begin(), "pgsift");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  int status = pgsift::cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

std::string fixture(const std::string& path) { return std::string(FIXTURES_DIR) + "/rules/" + path; }

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("analyze: text output is compiler-style with notes and help, summary on stderr",
          "[cli][analyze]") {
  auto r = run_pgsift({"analyze", fixture("n-plus-one/loop-extended-protocol.log")});
  CHECK(r.status == 1);  // a warning, default --fail-on warning
  CHECK(contains(r.out, "loop-extended-protocol.log:"));
  CHECK(contains(r.out, ": warning: 'SELECT id, sku, qty FROM items WHERE order_id = $1' ran 12 times"));
  CHECK(contains(r.out, "[n-plus-one]\n"));
  CHECK(contains(r.out, ": note: parent"));
  CHECK(contains(r.out, "    help: fetch the rows for all keys in one query"));
  CHECK(contains(r.out, "order_id = ANY($1)"));
  CHECK_FALSE(contains(r.out, "\x1b["));  // not a TTY: no colour
  CHECK(contains(r.err, "pgsift: 1 finding (0 errors, 1 warning, 0 info) in 1 input: "));
}

TEST_CASE("analyze: --fail-on decides the exit status", "[cli][analyze]") {
  const std::string log = fixture("repeated-query/same-values-loop.log");  // one info finding
  CHECK(run_pgsift({"analyze", log}).status == 0);
  CHECK(run_pgsift({"analyze", "--fail-on", "info", log}).status == 1);
  CHECK(run_pgsift({"analyze", "--fail-on", "never", fixture("n-plus-one/loop-extended-protocol.log")})
            .status == 0);
  CHECK(run_pgsift({"analyze", "--fail-on", "error", fixture("n-plus-one/loop-extended-protocol.log")})
            .status == 0);
  CHECK(run_pgsift({"analyze", "--fail-on", "bogus", log}).status == 2);
}

TEST_CASE("analyze: json carries schema_version, inputs and findings; values only with --show-values",
          "[cli][analyze]") {
  const std::string log = fixture("n-plus-one/loop-literal-sql-in-transaction.json");
  auto r = run_pgsift({"analyze", "--report", "json", log});
  REQUIRE(r.status == 1);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["schema_version"] == 1);
  REQUIRE(doc["inputs"].size() == 1);
  CHECK(doc["inputs"][0]["format"] == "jsonlog");
  CHECK(doc["inputs"][0]["skipped_lines"] == 0);
  REQUIRE(doc["findings"].size() == 1);
  const auto& finding = doc["findings"][0];
  CHECK(finding["rule"] == "n-plus-one");
  CHECK(finding["severity"] == "warning");
  CHECK(finding["details"]["count"] == 12);
  CHECK(finding["details"]["distinct_values"] == 12);
  CHECK(finding["details"]["in_transaction"] == true);
  CHECK(finding["sessions"][0]["application_name"] == "shop-web");
  CHECK(finding["sessions"][0]["pid"].get<int>() > 0);
  CHECK(finding["evidence"][0]["pid"] == finding["sessions"][0]["pid"]);
  CHECK(finding["evidence"][0]["sql"] == "SELECT id, sku, qty FROM items WHERE order_id = $1");
  CHECK_FALSE(finding["evidence"][0].contains("values"));
  CHECK_FALSE(contains(r.out, "order_id = 13"));  // literals are redacted

  auto shown = run_pgsift({"analyze", "--report", "json", "--show-values", log});
  const auto with_values = nlohmann::json::parse(shown.out);
  CHECK(with_values["findings"][0]["evidence"][0]["values"].size() >= 1);
  auto text = run_pgsift({"analyze", "--show-values", log});
  CHECK(contains(text.out, "    values: "));
  CHECK_FALSE(contains(run_pgsift({"analyze", log}).out, "values: "));
}

TEST_CASE("analyze: finding ids are the same whatever the log format", "[cli][analyze]") {
  std::vector<std::string> ids;
  for (const char* ext : {".log", ".csv", ".json"}) {
    auto r = run_pgsift({"analyze", "--report", "json", fixture("n-plus-one/loop-extended-protocol") + ext});
    const auto doc = nlohmann::json::parse(r.out);
    REQUIRE(doc["findings"].size() == 1);
    ids.push_back(doc["findings"][0]["id"]);
  }
  CHECK(ids[0].rfind("n-plus-one:", 0) == 0);
  CHECK(ids[0] == ids[1]);
  CHECK(ids[1] == ids[2]);
}

TEST_CASE("analyze: --report FORMAT:PATH writes files, several formats in one run", "[cli][analyze]") {
  const auto path = std::filesystem::temp_directory_path() / "pgsift-analyze-test-report.json";
  auto r = run_pgsift({"analyze", "--report", "text", "--report", "json:" + path.string(),
                       fixture("idle-in-transaction/pause-holding-row-lock.log")});
  CHECK(r.status == 1);
  CHECK(contains(r.out, "[idle-in-transaction]"));
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["findings"][0]["rule"] == "idle-in-transaction");
  std::filesystem::remove(path);
  CHECK(run_pgsift({"analyze", "--report", "yaml", fixture("idle-in-transaction/pause-holding-row-lock.log")})
            .status == 2);
}

TEST_CASE("analyze: --rules selects and excludes, unknown ids get a suggestion", "[cli][analyze]") {
  const std::string log = fixture("n-plus-one/loop-extended-protocol.log");
  CHECK(run_pgsift({"analyze", "--rules", "-n-plus-one", log}).status == 0);
  CHECK(run_pgsift({"analyze", "--rules", "idle-in-transaction", log}).status == 0);
  CHECK(run_pgsift({"analyze", "--rules", "n-plus-one", log}).status == 1);
  auto r = run_pgsift({"analyze", "--rules", "n-plus-1", log});
  CHECK(r.status == 2);
  CHECK(r.err == "pgsift: error: unknown rule 'n-plus-1'; did you mean 'n-plus-one'?\n");
}

TEST_CASE("analyze: --option sets rule thresholds and rejects bad ones", "[cli][analyze]") {
  const std::string log = fixture("n-plus-one/loop-extended-protocol.log");
  CHECK(run_pgsift({"analyze", "--option", "n-plus-one.min-repetitions=13", log}).status == 0);
  CHECK(run_pgsift({"analyze", "-o", "n-plus-one.min-repetitions=12", log}).status == 1);
  auto bad = run_pgsift({"analyze", "--option", "n-plus-one.min-repetitions=x", log});
  CHECK(bad.status == 2);
  CHECK(contains(bad.err, "n-plus-one.min-repetitions: expected a number"));
  auto unknown = run_pgsift({"analyze", "--option", "n-plus-one.bogus=1", log});
  CHECK(unknown.status == 2);
  CHECK(contains(unknown.err, "has no option 'bogus'"));
  CHECK(run_pgsift({"analyze", "--option", "session.unit-gap-ms=x", log}).status == 2);
  CHECK(run_pgsift({"analyze", "-o", "session.max-unit-statements=100", log}).status == 1);
  auto no_units = run_pgsift({"analyze", "-o", "session.max-unit-statements=0", log});
  CHECK(no_units.status == 2);
  CHECK(contains(no_units.err, "session.max-unit-statements': expected a number >= 1"));
}

TEST_CASE("analyze: a missing input is a one-line error with exit 2", "[cli][analyze]") {
  auto r = run_pgsift({"analyze", "/nonexistent/pg.log"});
  CHECK(r.status == 2);
  CHECK(r.err.rfind("pgsift: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("analyze: a log without durations says gap analysis is unavailable", "[cli][analyze]") {
  auto r = run_pgsift({"analyze", fixture("idle-in-transaction/statement-logging-without-durations-ok.log")});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "pgsift: note: idle-in-transaction: gap analysis unavailable"));
}

TEST_CASE("rules: lists every rule with severity and summary", "[cli][rules]") {
  auto r = run_pgsift({"rules"});
  CHECK(r.status == 0);
  for (const auto& entry : pgsift::core::rule_registry()) {
    CHECK(contains(r.out, std::string(entry.info.id)));
    CHECK(contains(r.out, std::string(entry.info.summary)));
  }
}

TEST_CASE("rules: ID prints exactly the rule's man page; the summary is its first sentence",
          "[cli][rules]") {
  for (const char* id : {"n-plus-one", "repeated-query", "idle-in-transaction"}) {
    auto r = run_pgsift({"rules", id});
    CHECK(r.status == 0);
    std::ifstream in(std::string(PGSIFT_MAN_SOURCE_DIR) + "/rules/" + id + ".md");
    std::ostringstream page;
    page << in.rdbuf();
    CHECK(r.out == page.str());
    const auto* entry = pgsift::core::find_rule(id);
    REQUIRE(entry != nullptr);
    CHECK(contains(page.str(), "\n\n" + std::string(entry->info.summary) + "\n"));
    for (const auto& [name, meaning] : entry->options) CHECK(contains(page.str(), "`" + name + "`"));
  }
  auto r = run_pgsift({"rules", "idle-in-transactions"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "did you mean 'idle-in-transaction'?"));
}
