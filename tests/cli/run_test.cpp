#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/run.h"

namespace {

struct Result {
  int status;
  std::string out, err;
};

Result run_pgsift(std::vector<const char*> args) {
  args.insert(args.begin(), "pgsift");
  std::ostringstream out, err;
  int status = pgsift::cli::run(static_cast<int>(args.size()), args.data(), out, err);
  return {status, out.str(), err.str()};
}

}  // namespace

TEST_CASE("cli: --version prints the version and exits 0", "[cli]") {
  auto r = run_pgsift({"--version"});
  CHECK(r.status == 0);
  CHECK(r.out == std::string("pgsift ") + PGSIFT_VERSION + "\n");
}

TEST_CASE("cli: --help describes the program and the exit codes", "[cli]") {
  auto r = run_pgsift({"--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("N+1") != std::string::npos);
  CHECK(r.out.find("Exit status") != std::string::npos);
}

TEST_CASE("cli: an unknown option is a one-line error with exit 2", "[cli]") {
  auto r = run_pgsift({"--no-such-option"});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("pgsift: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}
