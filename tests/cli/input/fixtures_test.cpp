// Golden files: every log under fixtures/logs/<format>/ has its expected
// events beside it (<log>.expected.jsonl: a summary line, then the events as
// `pgsift events --show-values` prints them). Regenerate after a deliberate
// change with PGSIFT_UPDATE_FIXTURES=1 and review the diff.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/input/event_json.h"
#include "cli/input/log_source.h"

namespace {

using namespace pgsift;
namespace fs = std::filesystem;

constexpr std::string_view kExpected = ".expected.jsonl";

// BSD syslog timestamps carry no year (the current one is assumed), so those
// golden files leave the times out.
std::string drop_times(std::string line) {
  for (const char* key : {",\"time\":\"", ",\"start\":\""}) {
    std::size_t p = line.find(key);
    if (p == std::string::npos) continue;
    std::size_t end = line.find('"', p + std::string_view(key).size());
    line.erase(p, end - p + 1);
  }
  return line;
}

std::string render(const fs::path& log) {
  std::vector<cli::input::InputSummary> summaries;
  std::ostringstream err;
  std::string body;
  const bool bsd = log.filename().string().rfind("bsd-", 0) == 0;
  cli::input::EventJsonOptions options{true};
  std::string error = cli::input::read_logs(
      {log.string()}, {},
      [&](const model::Event& e) {
        if (std::holds_alternative<model::OtherEvent>(e.body)) return;
        std::string line;
        cli::input::append_event_json(line, e, log.filename().string(), options);
        body += (bsd ? drop_times(line) : line) + '\n';
      },
      summaries, err);
  const cli::input::InputSummary& s = summaries.at(0);
  std::ostringstream head;
  head << "{\"summary\":{\"format\":\"" << s.format << "\",\"prefix\":";
  std::string prefix;
  cli::input::append_json_string(prefix, s.prefix);
  head << prefix << ",\"records\":" << s.records << ",\"statements\":" << s.statements
       << ",\"noise\":" << s.noise_lines << ",\"skipped\":" << s.skipped_lines
       << ",\"warnings\":" << s.warnings.size() << ",\"error\":" << (error.empty() ? "false" : "true")
       << "}}\n";
  return head.str() + body;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("fixtures: each log under fixtures/logs gives its expected events", "[ingest]") {
  const bool update = std::getenv("PGSIFT_UPDATE_FIXTURES") != nullptr;
  std::size_t checked = 0;
  for (const auto& dir : fs::directory_iterator(fs::path(FIXTURES_DIR) / "logs")) {
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      std::string name = entry.path().filename().string();
      if (name.size() >= kExpected.size() &&
          name.compare(name.size() - kExpected.size(), kExpected.size(), kExpected) == 0)
        continue;
      fs::path expected = entry.path().string() + std::string(kExpected);
      std::string actual = render(entry.path());
      if (update) std::ofstream(expected) << actual;
      INFO(entry.path().string());
      REQUIRE(fs::exists(expected));
      CHECK(actual == slurp(expected));
      ++checked;
    }
  }
  CHECK(checked >= 12);
}
