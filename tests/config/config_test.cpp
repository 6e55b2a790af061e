#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli/config/config.h"
#include "cli/config/flags.h"
#include "cli/run.h"

namespace {

namespace fs = std::filesystem;
using pgsift::cli::config::Config;
using pgsift::cli::config::RuleSchema;

const std::vector<RuleSchema> kRules = {
    {"deadlock", {}}, {"lock-wait", {"min-wait"}}, {"n-plus-one", {"min-repetitions", "window"}}};

std::string apply(const std::string& text, Config& config) {
  return pgsift::cli::config::apply_file(text, ".pgsift.toml", kRules, config);
}

// A throwaway directory tree, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/pgsift-config-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((path / relative).parent_path());
    std::ofstream(path / relative) << text;
  }
};

}  // namespace

TEST_CASE("config: a full file is read with the line of every value", "[config][gate]") {
  Config config;
  const std::string text =
      "rules = [\"n-plus-one\", \"lock-wait\"]\n"  // 1
      "fail-on = \"error\"\n"                       // 2
      "show-values = true\n"                        // 3
      "max-findings = { n-plus-one = 3, all = 10 }\n"  // 4
      "[input]\n"                                   // 5
      "format = \"csvlog\"\n"                       // 6
      "prefix = \"%m [%p] \"\n"                     // 7
      "[n-plus-one]\n"                              // 8
      "severity = \"error\"\n"                      // 9
      "min-repetitions = 10\n"                      // 10
      "window = \"2s\"\n"                           // 11
      "[lock-wait]\n"                               // 12
      "enabled = false\n"                           // 13
      "[[ignore]]\n"                                // 14
      "rule = \"n-plus-one\"\n"                     // 15
      "table = \"audit_log\"\n"                     // 16
      "reason = \"one write per request\"\n";       // 17
  REQUIRE(apply(text, config) == "");
  CHECK(config.rules.value == std::vector<std::string>{"n-plus-one", "lock-wait"});
  CHECK(config.fail_on.value == "error");
  CHECK(config.fail_on.origin == ".pgsift.toml:2");
  CHECK(config.show_values.value);
  CHECK(config.max_findings.at("n-plus-one").value == 3);
  CHECK(config.max_findings.at("all").origin == ".pgsift.toml:4");
  CHECK(config.format.value == "csvlog");
  CHECK(config.prefix.value == "%m [%p] ");
  CHECK(config.severity_of("n-plus-one") == pgsift::core::Severity::error);
  CHECK(config.rule_options("n-plus-one") ==
        std::map<std::string, std::string>{{"min-repetitions", "10"}, {"window", "2s"}});
  CHECK(config.options.at("n-plus-one").at("window").origin == ".pgsift.toml:11");
  CHECK(config.selected_rules(kRules) == std::vector<std::string>{"n-plus-one"});  // lock-wait disabled
  REQUIRE(config.ignores.size() == 1);
  CHECK(config.ignores[0].table == "audit_log");
  CHECK(config.ignores[0].origin == ".pgsift.toml:14");
}

TEST_CASE("config: unknown keys and bad values name file, line and key", "[config][gate]") {
  Config config;
  CHECK(apply("fail-on = \"warning\"\n\n[n-plus-one]\nmin-repetitions = 5\n\n\nmin-repetiton = 3\n", config) ==
        ".pgsift.toml:7: unknown key 'n-plus-one.min-repetiton'");
  CHECK(apply("fail-on = \"sometimes\"\n", config) ==
        ".pgsift.toml:1: bad value 'sometimes' for 'fail-on' (expected info, warning, error, never)");
  CHECK(apply("\nverbose = true\n", config) == ".pgsift.toml:2: unknown key 'verbose'");
  CHECK(apply("[input]\nformat = \"xml\"\n", config).rfind(".pgsift.toml:2: bad value 'xml' for 'input.format'", 0) ==
        0);
  CHECK(apply("[input]\nencoding = \"x\"\n", config) == ".pgsift.toml:2: unknown key 'input.encoding'");
  CHECK(apply("rules = [\"n-plus-one\", \"n-plus-two\"]\n", config) ==
        ".pgsift.toml:1: unknown rule 'n-plus-two' in 'rules'");
  CHECK(apply("[deadlock]\nseverity = \"fatal\"\n", config).rfind(".pgsift.toml:2: bad value 'fatal'", 0) == 0);
  CHECK(apply("show-values = \"yes\"\n", config) == ".pgsift.toml:1: 'show-values' must be true or false");
  CHECK(apply("max-findings = { deadlock = -1 }\n", config) ==
        ".pgsift.toml:1: 'max-findings.deadlock' must be a non-negative integer");
  CHECK(apply("[[ignore]]\nrule = \"deadlock\"\n", config) == ".pgsift.toml:1: an [[ignore]] entry needs a 'reason'");
  CHECK(apply("[[ignore]]\nreason = \"x\"\n", config).rfind(".pgsift.toml:1: an [[ignore]] entry needs at least", 0) ==
        0);
  CHECK(apply("[[ignore]]\nfingerprint = \"xyz\"\nreason = \"r\"\n", config) ==
        ".pgsift.toml:2: 'ignore.fingerprint' must be 16 hex digits");
  CHECK(apply("[[ignore]]\nrule = \"deadlock\"\nreason = \"r\"\nwho = \"me\"\n", config) ==
        ".pgsift.toml:4: unknown key 'ignore.who'");
  // TOML syntax errors keep toml++'s description and the line.
  CHECK(apply("a = 1\nb = = 2\n", config).rfind(".pgsift.toml:2: ", 0) == 0);
}

TEST_CASE("config: flags > environment > project file > defaults", "[config][gate]") {
  TempDir dir;
  dir.write(".pgsift.toml", "fail-on = \"error\"\nshow-values = true\n[input]\nformat = \"csvlog\"\n");
  pgsift::cli::config::LoadOptions options;
  options.rules = kRules;
  options.start_dir = (dir.path / "sub").string();
  options.environment = std::map<std::string, std::string>{};
  fs::create_directories(dir.path / "sub");

  Config config;
  REQUIRE(pgsift::cli::config::load_config(options, config) == "");
  CHECK(config.file == (dir.path / ".pgsift.toml").string());
  CHECK(config.fail_on.value == "error");
  CHECK(config.fail_on.origin.find(".pgsift.toml:1") != std::string::npos);
  CHECK(config.prefix.origin == "default");

  options.environment = std::map<std::string, std::string>{{"PGSIFT_FAIL_ON", "info"}, {"PGSIFT_FORMAT", "jsonlog"}};
  REQUIRE(pgsift::cli::config::load_config(options, config) == "");
  CHECK(config.fail_on.value == "info");
  CHECK(config.fail_on.origin == "env PGSIFT_FAIL_ON");
  CHECK(config.format.value == "jsonlog");
  CHECK(config.show_values.value);  // still from the file

  pgsift::cli::config::ConfigFlags flags;
  flags.fail_on = "never";
  flags.max_findings = {"n-plus-one=2"};
  flags.options = {"n-plus-one.min-repetitions=7"};
  REQUIRE(pgsift::cli::config::apply_flags(flags, kRules, config) == "");
  CHECK(config.fail_on.value == "never");
  CHECK(config.fail_on.origin == "flag --fail-on");
  CHECK(config.format.origin == "env PGSIFT_FORMAT");
  CHECK(config.max_findings.at("n-plus-one").value == 2);
  CHECK(config.rule_options("n-plus-one").at("min-repetitions") == "7");

  flags.options = {"n-plus-one.min-repetiton=7"};
  CHECK(pgsift::cli::config::apply_flags(flags, kRules, config) == "--option: unknown key 'n-plus-one.min-repetiton'");

  options.environment = std::map<std::string, std::string>{{"PGSIFT_FAIL_ON", "loud"}};
  CHECK(pgsift::cli::config::load_config(options, config).rfind("env PGSIFT_FAIL_ON: bad value 'loud'", 0) == 0);

  // --no-config: defaults and environment only.
  options.no_config = true;
  options.environment = std::map<std::string, std::string>{};
  REQUIRE(pgsift::cli::config::load_config(options, config) == "");
  CHECK(config.file.empty());
  CHECK(config.fail_on.value == "warning");
  CHECK(config.fail_on.origin == "default");
}

TEST_CASE("config: the project file is found by walking up; baseline paths are relative to it", "[config][gate]") {
  TempDir dir;
  dir.write("repo/.pgsift.toml", "baseline = \"ci/pgsift-baseline.json\"\n");
  fs::create_directories(dir.path / "repo/a/b");
  CHECK(pgsift::cli::config::find_project_file((dir.path / "repo/a/b").string()) ==
        (dir.path / "repo/.pgsift.toml").string());
  CHECK(pgsift::cli::config::find_project_file(dir.path.string()).empty());
  pgsift::cli::config::LoadOptions options;
  options.rules = kRules;
  options.start_dir = (dir.path / "repo/a/b").string();
  options.environment = std::map<std::string, std::string>{};
  Config config;
  REQUIRE(pgsift::cli::config::load_config(options, config) == "");
  CHECK(config.baseline.value == (dir.path / "repo/ci/pgsift-baseline.json").string());
  // PGSIFT_CONFIG names a file explicitly; a missing one is an error.
  options.environment = std::map<std::string, std::string>{{"PGSIFT_CONFIG", "/nonexistent/x.toml"}};
  CHECK(pgsift::cli::config::load_config(options, config) == "cannot read config file '/nonexistent/x.toml'");
}

TEST_CASE("config: `pgsift config` prints values with their origins", "[config][gate][cli]") {
  TempDir dir;
  dir.write("p.toml", "fail-on = \"error\"\nshow-values = true\n");
  const std::string file = (dir.path / "p.toml").string();
  std::vector<const char*> args = {"pgsift", "config", "--config", file.c_str(), "--fail-on", "info"};
  std::ostringstream out, err;
  const int status = pgsift::cli::run(static_cast<int>(args.size()), args.data(), out, err);
  CHECK(status == 0);
  CHECK(err.str().empty());
  CHECK(out.str().find("fail-on = \"info\"  # flag --fail-on\n") != std::string::npos);
  CHECK(out.str().find("show-values = true  # " + file + ":2\n") != std::string::npos);
  CHECK(out.str().find("prefix = \"\"  # default\n") != std::string::npos);

  dir.write("bad.toml", "fail-on = \"error\"\nfail_on = \"x\"\n");
  const std::string bad = (dir.path / "bad.toml").string();
  std::vector<const char*> bad_args = {"pgsift", "config", "--config", bad.c_str()};
  std::ostringstream out2, err2;
  CHECK(pgsift::cli::run(static_cast<int>(bad_args.size()), bad_args.data(), out2, err2) == 2);
  CHECK(err2.str() == "pgsift: error: " + bad + ":2: unknown key 'fail_on'\n");
}
