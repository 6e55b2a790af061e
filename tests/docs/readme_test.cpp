// README.md and the entry points it promises: exactly two commands at the top
// (demo and test), both scripts executable, .ci/run running the test command,
// and the exit-code and rule tables matching the program.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "tests/testing/process.h"

namespace {

const std::filesystem::path kRepo = std::filesystem::path(PGSIFT_MAN_SOURCE_DIR).parent_path();

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The lines of the first fenced code block, and whether a "## " heading came
// before it.
std::vector<std::string> first_code_block(const std::vector<std::string>& lines,
                                          bool& heading_before) {
  heading_before = false;
  std::vector<std::string> block;
  bool inside = false;
  for (const std::string& line : lines) {
    if (line.rfind("```", 0) == 0) {
      if (inside) return block;
      inside = true;
      continue;
    }
    if (inside)
      block.push_back(line);
    else if (line.rfind("## ", 0) == 0)
      heading_before = true;
  }
  return {};
}

// First cells of the rows of the markdown table that follows `heading`.
std::vector<std::string> table_keys(const std::vector<std::string>& lines,
                                    const std::string& heading) {
  std::vector<std::string> keys;
  bool in_section = false;
  for (const std::string& line : lines) {
    if (line.rfind("## ", 0) == 0) {
      if (in_section) break;
      in_section = line == heading;
      continue;
    }
    if (!in_section || line.rfind("|", 0) != 0 || line.rfind("|-", 0) == 0) continue;
    std::string cell = line.substr(1, line.find('|', 1) - 1);
    cell.erase(0, cell.find_first_not_of(" `"));
    cell.erase(cell.find_last_not_of(" `") + 1);
    keys.push_back(cell);
  }
  if (!keys.empty()) keys.erase(keys.begin());  // the header row
  return keys;
}

bool is_executable(const std::filesystem::path& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && (info.st_mode & S_IXUSR) != 0;
}

}  // namespace

TEST_CASE("readme: exactly the two commands at the top, both executable scripts", "[cli][docs]") {
  const auto lines = lines_of(pgsift::testing::read_file(kRepo / "README.md"));
  bool heading_before = true;
  const auto block = first_code_block(lines, heading_before);
  CHECK_FALSE(heading_before);
  CHECK(block == std::vector<std::string>{"bash scripts/demo", "bash scripts/test"});
  CHECK(is_executable(kRepo / "scripts/demo"));
  CHECK(is_executable(kRepo / "scripts/test"));
  CHECK(is_executable(kRepo / "scripts/install-deps"));
}

TEST_CASE("readme: .ci/run runs the README's test command", "[cli][docs]") {
  CHECK(is_executable(kRepo / ".ci/run"));
  bool runs_test = false;
  for (const std::string& line : lines_of(pgsift::testing::read_file(kRepo / ".ci/run"))) {
    if (line.rfind('#', 0) == 0) continue;
    if (line.find("scripts/test") != std::string::npos) runs_test = true;
  }
  CHECK(runs_test);
}

TEST_CASE("readme: the exit code table matches cli/exit_code.h", "[cli][docs]") {
  using pgsift::cli::ExitCode;
  const auto lines = lines_of(pgsift::testing::read_file(kRepo / "README.md"));
  std::vector<std::string> expected;
  for (ExitCode code : {ExitCode::ok, ExitCode::findings, ExitCode::cannot_run}) {
    expected.push_back(std::to_string(pgsift::cli::to_int(code)));
  }
  CHECK(table_keys(lines, "## Exit codes") == expected);
}

TEST_CASE("readme: the rule table lists the seven public rule ids", "[cli][docs]") {
  const auto lines = lines_of(pgsift::testing::read_file(kRepo / "README.md"));
  const auto keys = table_keys(lines, "## Rules");
  const std::set<std::string> documented(keys.begin(), keys.end());
  CHECK(keys.size() == 7);
  CHECK(documented == std::set<std::string>{"n-plus-one", "repeated-query", "idle-in-transaction",
                                            "check-then-act", "lock-wait", "deadlock",
                                            "lock-timeout"});
}
