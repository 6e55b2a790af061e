// The command-line layer of the configuration: flags that override the
// project file and the environment. `pgsift config` binds them all to show
// the effective result; `pgsift analyze` binds the same names.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/config/config.h"

namespace pgsift::cli::config {

struct ConfigFlags {
  std::string config_file;  // --config FILE
  bool no_config = false;   // --no-config
  std::string rules;        // --rules a,b
  std::string fail_on;      // --fail-on LEVEL
  bool show_values = false; // --show-values
  std::string format;       // --format FORMAT
  std::string prefix;       // --prefix PREFIX
  std::string baseline;     // --baseline FILE
  std::vector<std::string> max_findings;  // --max-findings RULE=N
  std::vector<std::string> options;       // --option RULE.KEY=VALUE
};

/// Adds --config and --no-config.
void bind_file_flags(CLI::App& app, ConfigFlags& flags);
/// Adds every other flag above (for `pgsift config`).
void bind_value_flags(CLI::App& app, ConfigFlags& flags);

/// LoadOptions for the flags' --config/--no-config.
LoadOptions load_options(const ConfigFlags& flags);

/// Applies the flags that were given on top of `config`. Returns "" or a
/// one-line error naming the flag.
std::string apply_flags(const ConfigFlags& flags, const std::vector<RuleSchema>& rules, Config& config);

}  // namespace pgsift::cli::config
