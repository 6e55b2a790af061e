// `analyze --jobs`: reading on a second thread must not change anything a
// user sees. Every fixture log, the demo log in all three formats and a
// demo log repeated until thousands of events are in flight (so batches,
// back-pressure and the reader's optional SQL parsing all happen) are
// analysed with one and with two threads; the JSON reports, the statistics
// and the input summaries must be identical.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "analyzers/model/event.h"
#include "analyzers/sql/statement.h"
#include "cli/analysis/pipeline.h"
#include "cli/analysis/threaded_reader.h"
#include "cli/input/log_source.h"
#include "cli/report/reporters.h"

namespace fs = std::filesystem;
using pgsift::cli::analysis::AnalysisRequest;
using pgsift::cli::analysis::AnalysisResult;

namespace {

struct Outcome {
  std::uint64_t executions = 0;
  std::string error;
  std::string json;
  std::string stats;
  std::string warnings;
};

Outcome run(const std::vector<std::string>& paths, unsigned jobs) {
  AnalysisRequest request;
  request.paths = paths;
  request.jobs = jobs;
  std::ostringstream err;
  AnalysisResult result = pgsift::cli::analysis::analyze_logs(request, err);
  Outcome outcome;
  outcome.error = result.error;
  outcome.warnings = err.str();
  std::ostringstream json;
  pgsift::cli::report::render_json(result.report, json);
  outcome.json = json.str();
  const auto& s = result.stats;
  outcome.executions = s.executions;
  outcome.stats = std::to_string(s.sessions) + " sessions, " + std::to_string(s.units) + " units, " +
                  std::to_string(s.transactions) + " transactions, " +
                  std::to_string(s.executions) + " executions";
  return outcome;
}

void check_same(const std::vector<std::string>& paths) {
  const Outcome one = run(paths, 1);
  const Outcome two = run(paths, 2);
  INFO(paths.front());
  CHECK(one.error == two.error);
  CHECK(one.stats == two.stats);
  CHECK(one.warnings == two.warnings);
  CHECK(one.json == two.json);
}

// The demo log `times` over, in a temporary file named after `name`.
fs::path repeated_demo_log(int times, const std::string& name) {
  std::ifstream in(std::string(FIXTURES_DIR) + "/demo/shop.log", std::ios::binary);
  std::stringstream demo;
  demo << in.rdbuf();
  const fs::path path = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".log");
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < times; ++i) out << demo.str();
  return path;
}

}  // namespace

TEST_CASE("analyze --jobs 2 reports exactly what one thread reports, on every fixture log",
          "[cli][jobs]") {
  std::size_t logs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(FIXTURES_DIR) / "rules")) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".log" && ext != ".csv" && ext != ".json")) continue;
    check_same({entry.path().string()});
    ++logs;
  }
  CHECK(logs > 50);
}

TEST_CASE("analyze --jobs 2 equals one thread on the demo log in all three formats", "[cli][jobs]") {
  for (const char* name : {"shop.log", "shop.csv", "shop.json"}) {
    const Outcome one = run({std::string(FIXTURES_DIR) + "/demo/" + name}, 1);
    const Outcome two = run({std::string(FIXTURES_DIR) + "/demo/" + name}, 2);
    INFO(name);
    REQUIRE(one.error.empty());
    CHECK(one.json.find("\"rule\": \"n-plus-one\"") != std::string::npos);
    CHECK(one.json == two.json);
    CHECK(one.stats == two.stats);
  }
}

TEST_CASE("analyze --jobs 2 equals one thread when thousands of events are in flight",
          "[cli][jobs]") {
  // The demo log 200 times over (19 MB, 64,000 events, 125 batches): far
  // more than the queue holds (32 batches), so the reader blocks on a full
  // queue and takes on SQL parsing when the analysis falls behind.
  const fs::path big = repeated_demo_log(200, "pgsift-jobs");
  const Outcome one = run({big.string()}, 1);
  const Outcome two = run({big.string()}, 2);
  const Outcome automatic = run({big.string()}, 0);
  fs::remove(big);
  REQUIRE(one.error.empty());
  CHECK(one.executions == 200 * 133);
  CHECK(one.stats == two.stats);
  CHECK(one.json == two.json);
  CHECK(one.json == automatic.json);
}

TEST_CASE("analyze --jobs 2 equals one thread on compressed input, whole and cut short",
          "[cli][jobs]") {
  // 19 MB of log, decompressed on the reader's thread (input::ReadAhead
  // leaves compressed input to it). Cut short, the input must end where it
  // ends with one thread, with the same warning.
  const fs::path big = repeated_demo_log(200, "pgsift-jobs-gz");
  const std::string gz = big.string() + ".gz", cut = big.string() + ".cut.gz";
  REQUIRE(std::system(("gzip -1 -c " + big.string() + " > " + gz).c_str()) == 0);
  REQUIRE(std::system(("head -c " + std::to_string(fs::file_size(gz) / 2) + " " + gz + " > " + cut).c_str()) == 0);
  fs::remove(big);
  const Outcome whole_one = run({gz}, 1), whole_two = run({gz}, 2);
  const Outcome cut_one = run({cut}, 1), cut_two = run({cut}, 2);
  fs::remove(gz);
  fs::remove(cut);
  REQUIRE(whole_one.error.empty());
  CHECK(whole_one.executions == 200 * 133);
  CHECK(whole_one.json == whole_two.json);
  CHECK(whole_one.stats == whole_two.stats);
  REQUIRE(cut_one.error.empty());
  CHECK(cut_one.executions < 150 * 133);
  CHECK(cut_one.executions > 50 * 133);
  CHECK(cut_one.warnings.find("ends early") != std::string::npos);
  CHECK(cut_one.warnings == cut_two.warnings);
  CHECK(cut_one.json == cut_two.json);
  CHECK(cut_one.stats == cut_two.stats);
}

TEST_CASE("analyze --jobs 2 reports an unreadable input like one thread", "[cli][jobs]") {
  const fs::path bad = fs::temp_directory_path() / ("pgsift-jobs-" + std::to_string(::getpid()) + ".bad");
  { std::ofstream(bad) << "not a log line\n"; }
  // Alone, it is an error; after a readable log (whose events are already
  // queued), a warning, and the first log is still analysed.
  const Outcome alone_one = run({bad.string()}, 1);
  const Outcome alone_two = run({bad.string()}, 2);
  const std::vector<std::string> paths{std::string(FIXTURES_DIR) + "/demo/shop.log", bad.string()};
  const Outcome one = run(paths, 1);
  const Outcome two = run(paths, 2);
  fs::remove(bad);
  CHECK(alone_one.error.find(bad.string() + ":1: no known log_line_prefix") == 0);
  CHECK(alone_one.error == alone_two.error);
  CHECK(one.error.empty());
  CHECK(one.warnings.find(bad.string() + ":1: no known log_line_prefix") != std::string::npos);
  CHECK(one.warnings == two.warnings);
  CHECK(one.executions == 133);
  CHECK(one.json == two.json);
}

namespace {

// Everything the consumer can see of one event, with the parse of a
// statement (the reader's when it prepared one, else a fresh one).
std::string digest(const pgsift::model::Event& e) {
  const auto& h = e.header;
  std::ostringstream out;
  out << h.where.input << ':' << h.where.line << ' ' << e.body.index() << ' ' << static_cast<int>(e.level)
      << ' ' << h.time << ' ' << h.pid << ' ' << h.session_id << '|' << h.session_line << '|' << h.user << '|'
      << h.database << '|' << h.application << '|' << h.client << '|' << h.virtual_xid << '|' << h.xid << '|'
      << h.backend_type << '|' << h.sqlstate;
  if (const auto* s = std::get_if<pgsift::model::StatementEvent>(&e.body)) {
    out << " sql=" << s->sql << " d=" << s->duration_ms << " st=" << s->start << " p="
        << static_cast<int>(s->protocol) << s->continues_portal << " n=" << s->prepared_name;
    for (const auto& parameter : s->parameters) out << " $" << parameter.value_or("<NULL>");
    const pgsift::sql::Parsed parsed = s->parsed.shape ? s->parsed : pgsift::sql::parse(s->sql);
    for (const auto& statement : parsed.shape->statements) out << " fp=" << statement.fingerprint;
    for (const auto& literal : parsed.literals) out << " lit=" << literal;
  } else if (const auto* lock = std::get_if<pgsift::model::LockEvent>(&e.body)) {
    out << " lock=" << lock->mode << ' ' << lock->object << ' ' << lock->statement;
  } else if (const auto* error = std::get_if<pgsift::model::ErrorEvent>(&e.body)) {
    out << " error=" << error->sqlstate << ' ' << error->message << ' ' << error->statement;
  }
  return out.str();
}

// Statements that arrived with their SQL already parsed, in `parsed_ahead`.
std::vector<std::string> digests(const std::vector<std::string>& paths, bool threaded,
                                 std::size_t* parsed_ahead = nullptr) {
  std::vector<std::string> out;
  std::vector<pgsift::cli::input::InputSummary> summaries;
  std::ostringstream err;
  const pgsift::cli::input::EventHandler collect = [&out, parsed_ahead](pgsift::model::Event& e) {
    const auto* s = std::get_if<pgsift::model::StatementEvent>(&e.body);
    if (parsed_ahead != nullptr && s != nullptr && s->parsed.shape) ++*parsed_ahead;
    out.push_back(digest(e));
  };
  if (threaded) {
    pgsift::cli::analysis::read_logs_threaded(paths, {}, collect, summaries, err, true);
  } else {
    pgsift::cli::input::read_logs(paths, {}, collect, summaries, err);
  }
  return out;
}

}  // namespace

TEST_CASE("the reader thread hands over every record field and its SQL parse intact", "[cli][jobs]") {
  // Packed batches carry each record's header, message, detail and the
  // rest, and (the reader parses every statement here) the shape and
  // literals of its statement text; the events classified from them on the
  // other side must equal one thread's, parse included.
  for (const char* log : {"/demo/shop.log", "/demo/shop.csv", "/demo/shop.json"}) {
    const std::vector<std::string> paths{std::string(FIXTURES_DIR) + log};
    INFO(log);
    std::size_t none = 0, parsed_ahead = 0;
    const auto one = digests(paths, false, &none);
    const auto two = digests(paths, true, &parsed_ahead);
    REQUIRE(one.size() > 100);
    CHECK(one == two);
    CHECK(none == 0);
    // Every statement of the demo log carries the reader's parse.
    CHECK(parsed_ahead == 133);
  }
}

TEST_CASE("an analysis that fails while the reader is ahead stops both threads", "[cli][jobs]") {
  // The demo log 100 times over is more than the batch ring holds, so the
  // reader is blocked on a full ring (or filling the next slot) when the
  // handler throws: the exception must come out of read_logs_threaded, the
  // reader must stop instead of waiting for a consumer that is gone, and a
  // second run on the same thread must work.
  const fs::path big = repeated_demo_log(100, "pgsift-jobs-fail");
  const std::vector<std::string> paths{big.string()};
  for (const std::size_t fail_at : {std::size_t{1}, std::size_t{700}, std::size_t{20000}}) {
    INFO(fail_at);
    std::size_t seen = 0;
    const pgsift::cli::input::EventHandler failing = [&seen, fail_at](pgsift::model::Event&) {
      if (++seen == fail_at) throw std::runtime_error("analysis failed");
    };
    std::vector<pgsift::cli::input::InputSummary> summaries;
    std::ostringstream err;
    CHECK_THROWS_WITH(pgsift::cli::analysis::read_logs_threaded(paths, {}, failing, summaries, err),
                      "analysis failed");
    CHECK(seen == fail_at);
  }
  std::size_t events = 0;
  const pgsift::cli::input::EventHandler count = [&events](pgsift::model::Event&) { ++events; };
  std::vector<pgsift::cli::input::InputSummary> summaries;
  std::ostringstream err;
  CHECK(pgsift::cli::analysis::read_logs_threaded(paths, {}, count, summaries, err).empty());
  fs::remove(big);
  REQUIRE(summaries.size() == 1);
  CHECK(events == summaries[0].records);
  CHECK(events > 30000);
}

TEST_CASE("an analysis in a process that exits keeps its working state until the exit",
          "[cli][jobs]") {
  // The CLI's analyze (CommandIo::process_exits) leaves sessions, shapes and
  // rule tables to the operating system; tests and other callers free them.
  AnalysisRequest request;
  request.paths = {std::string(FIXTURES_DIR) + "/demo/shop.log"};
  std::ostringstream err;
  const std::size_t before = pgsift::cli::analysis::retired_analyses();
  const AnalysisResult freed = pgsift::cli::analysis::analyze_logs(request, err);
  CHECK(pgsift::cli::analysis::retired_analyses() == before);
  request.process_exits = true;
  const AnalysisResult kept = pgsift::cli::analysis::analyze_logs(request, err);
  CHECK(pgsift::cli::analysis::retired_analyses() == before + 1);
  std::ostringstream a, b;
  pgsift::cli::report::render_json(freed.report, a);
  pgsift::cli::report::render_json(kept.report, b);
  CHECK(a.str() == b.str());
  CHECK(!kept.report.findings.empty());
}
