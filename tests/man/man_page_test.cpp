// man/pgsift.1 (hand-written roff): groff formats it without a single warning,
// and what it documents matches the program: the exit codes of
// cli/exit_code.h, one COMMANDS entry per subcommand of cli/commands.cpp, and
// the public rule ids. Tagged [cli] so that everyone adding a command runs it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <sstream>
#include <string>

#include "cli/command.h"
#include "cli/exit_code.h"
#include "tests/testing/process.h"

namespace {

const std::string kManPage = std::string(PGSIFT_MAN_SOURCE_DIR) + "/pgsift.1";

// The source lines of one `.SH NAME` section, up to the next `.SH`.
std::vector<std::string> section(const std::string& source, const std::string& name) {
  std::istringstream lines(source);
  std::vector<std::string> out;
  std::string line;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (line.rfind(".SH ", 0) == 0) {
      std::string title = line.substr(4);
      title.erase(std::remove(title.begin(), title.end(), '"'), title.end());
      inside = title == name;
      continue;
    }
    if (inside) out.push_back(line);
  }
  return out;
}

// The words following `macro ` on lines starting with it, e.g. ".B 0" -> "0".
std::vector<std::string> macro_arguments(const std::vector<std::string>& lines,
                                         const std::string& macro) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (line.rfind(macro + " ", 0) == 0) out.push_back(line.substr(macro.size() + 1));
  }
  return out;
}

// Roff source to plain text for the comparisons below: "\-" is "-".
std::string unescape(std::string text) {
  for (std::size_t at = text.find("\\-"); at != std::string::npos; at = text.find("\\-", at)) {
    text.erase(at, 1);
  }
  return text;
}

}  // namespace

TEST_CASE("man page: groff formats it without warnings", "[cli][man]") {
  auto r = pgsift::testing::run_process({"groff", "-man", "-ww", "-z", kManPage});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.empty());

  auto rendered =
      pgsift::testing::run_process({"groff", "-man", "-Tutf8", "-P", "-cbou", kManPage});
  REQUIRE(rendered.exit_code == 0);
  for (const char* heading :
       {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "RULES", "EXIT STATUS",
        "ENVIRONMENT", "FILES", "FINGERPRINTS", "JSON OUTPUT", "SEE ALSO"}) {
    CHECK(rendered.output.find(std::string("\n") + heading + "\n") != std::string::npos);
  }
}

TEST_CASE("man page: EXIT STATUS lists exactly the codes of cli/exit_code.h", "[cli][man]") {
  using pgsift::cli::ExitCode;
  const auto lines = section(pgsift::testing::read_file(kManPage), "EXIT STATUS");
  const auto codes = macro_arguments(lines, ".B");
  std::set<std::string> documented(codes.begin(), codes.end());
  std::set<std::string> expected;
  for (ExitCode code : {ExitCode::ok, ExitCode::findings, ExitCode::cannot_run}) {
    expected.insert(std::to_string(pgsift::cli::to_int(code)));
  }
  CHECK(documented == expected);
  CHECK(codes.size() == expected.size());
}

TEST_CASE("man page: COMMANDS has one entry per subcommand", "[cli][man]") {
  const auto lines = section(pgsift::testing::read_file(kManPage), "COMMANDS");
  std::set<std::string> documented;
  for (std::string entry : macro_arguments(lines, ".SS")) {
    entry = unescape(entry);
    entry.erase(std::remove(entry.begin(), entry.end(), '"'), entry.end());
    std::istringstream words(entry);
    std::string program, command;
    words >> program >> command;
    CHECK(program == "pgsift");
    documented.insert(command);
  }
  std::set<std::string> commands;
  for (const auto& spec : pgsift::cli::command_table()) commands.insert(std::string(spec.name));
  CHECK(documented == commands);
}

TEST_CASE("man page: RULES lists the public rule ids", "[cli][man]") {
  const auto lines = section(pgsift::testing::read_file(kManPage), "RULES");
  std::set<std::string> documented;
  for (const std::string& id : macro_arguments(lines, ".B")) documented.insert(unescape(id));
  const std::set<std::string> public_ids = {
      "n-plus-one", "repeated-query", "idle-in-transaction", "check-then-act",
      "lock-wait",  "deadlock",       "lock-timeout"};
  for (const std::string& id : public_ids) CHECK(documented.count(id) == 1);
}
