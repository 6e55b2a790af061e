// pgsift's effective configuration and where each value came from. Layers,
// lowest first: built-in defaults < project file `.pgsift.toml` (found by
// walking up from the working directory, or named by --config /
// PGSIFT_CONFIG) < environment variables PGSIFT_* < command-line flags.
// The file (toml++) holds rule selection, per-rule severity and options,
// ignore lists, input defaults and gate settings:
//
//   rules = ["n-plus-one", "lock-wait"]     # default: every rule
//   fail-on = "warning"                     # info|warning|error|never
//   show-values = false
//   baseline = ".pgsift-baseline.json"      # relative to this file
//   max-findings = { n-plus-one = 3, all = 10 }
//   [input]
//   format = "stderr"
//   prefix = "%m [%p] %q%u@%d "
//   [n-plus-one]                            # one table per rule id
//   enabled = true
//   severity = "error"
//   min-repetitions = 10                    # the rule's own options
//   [[ignore]]                              # every given field must match
//   rule = "n-plus-one"
//   table = "audit_log"                     # also: id, application, user,
//   reason = "written once per request"     #   database, fingerprint
//
// Unknown keys and bad values are errors naming file, line and key:
//   .pgsift.toml:7: unknown key 'n-plus-one.min-repetiton'
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/core/finding.h"

namespace pgsift::cli::config {

inline constexpr std::string_view kFileName = ".pgsift.toml";

/// A value and where it came from: "default", "env PGSIFT_FAIL_ON",
/// ".pgsift.toml:7" (path as found), "flag --fail-on".
template <typename T>
struct Setting {
  T value{};
  std::string origin = "default";
  void set(T v, std::string from) {
    value = std::move(v);
    origin = std::move(from);
  }
};

/// One `[[ignore]]` entry: findings matching every non-empty field are dropped.
struct IgnoreEntry {
  std::string id;           // finding id
  std::string rule;         // rule id
  std::string table;        // a table one of the finding's statements touches
  std::string application;  // application_name of one of its sessions
  std::string user;
  std::string database;
  std::string fingerprint;  // statement fingerprint, 16 hex digits
  std::string reason;       // required: why this is acceptable
  std::string origin;       // "FILE:LINE"
};

/// What a rule accepts, for validation: its id and option names.
struct RuleSchema {
  std::string id;
  std::vector<std::string> options;
};
/// The schema of every registered rule.
std::vector<RuleSchema> registered_rules();

struct Config {
  std::string file;  // the project file read, "" when none
  Setting<std::vector<std::string>> rules;   // empty = every rule
  Setting<std::string> fail_on{"warning"};   // info|warning|error|never
  Setting<bool> show_values{false};
  Setting<std::string> baseline;             // path, "" = none
  Setting<std::string> format;               // input format, "" = detect
  Setting<std::string> prefix;               // log_line_prefix, "" = detect
  std::map<std::string, Setting<bool>> enabled;               // rule -> enabled
  std::map<std::string, Setting<std::string>> severities;     // rule -> info|warning|error
  std::map<std::string, std::map<std::string, Setting<std::string>>> options;  // rule -> key -> value
  std::map<std::string, Setting<std::uint64_t>> max_findings; // rule or "all" -> N
  std::vector<IgnoreEntry> ignores;

  /// Rules that run: `rules` (or all of `known`) minus those disabled.
  std::vector<std::string> selected_rules(const std::vector<RuleSchema>& known) const;
  /// Severity override of `rule`, if any.
  std::optional<core::Severity> severity_of(const std::string& rule) const;
  /// `options[rule]` as plain key -> value.
  std::map<std::string, std::string> rule_options(const std::string& rule) const;
};

struct LoadOptions {
  std::string explicit_file;  // --config FILE ("" = PGSIFT_CONFIG, else search)
  bool no_config = false;     // --no-config: defaults and environment only
  std::string start_dir;      // where the search starts ("" = current directory)
  std::vector<RuleSchema> rules = registered_rules();
  /// Environment lookup (tests substitute a map); default std::getenv.
  std::optional<std::map<std::string, std::string>> environment;
};

/// The nearest `.pgsift.toml` in `start` or its parents, or "".
std::string find_project_file(const std::string& start);

/// Builds `out` from defaults, the project file and the environment. Returns
/// "" or a one-line error "FILE:LINE: ..." (or "env NAME: ...").
std::string load_config(const LoadOptions& options, Config& out);

/// Parses TOML text as the project file `path`, on top of `out`.
std::string apply_file(const std::string& text, const std::string& path,
                       const std::vector<RuleSchema>& rules, Config& out);

/// Checks a value given on the command line or in the environment
/// ("" = fine). `key` is the config key: fail-on, format, severity.
std::string check_value(std::string_view key, std::string_view value);

/// Prints the effective configuration as TOML, each value followed by a
/// comment naming its origin.
void print_config(const Config& config, const std::vector<RuleSchema>& rules, std::ostream& out);

}  // namespace pgsift::cli::config
