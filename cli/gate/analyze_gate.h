// How `pgsift analyze` uses the configuration and the gate: flags of its
// own (--config, --no-config, --baseline, --write-baseline, --max-findings),
// the project file and PGSIFT_* environment filling in what flags left
// unset, then after the analysis: severity overrides, [[ignore]] entries,
// writing/applying the baseline, and the exit decision with budgets.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/analysis/pipeline.h"
#include "cli/config/config.h"
#include "cli/gate/budget.h"

namespace pgsift::cli::gate {

struct GateFlags {
  std::string config_file;
  bool no_config = false;
  std::string baseline;
  std::string write_baseline;
  std::vector<std::string> max_findings;
};

void bind_gate_flags(CLI::App& app, GateFlags& flags);

/// What the gate does after the analysis, resolved from flags and config.
struct GatePlan {
  config::Config config;
  std::string baseline;        // "" = none
  std::string write_baseline;  // "" = none
  std::vector<Budget> budgets;
  std::optional<core::Severity> threshold;  // nullopt = --fail-on never
};

/// Loads the configuration and completes `request` and `fail_on` where the
/// command line left them unset (`given` reports whether a flag was given).
/// Returns "" or a one-line error (file:line, env, flag).
std::string prepare_gate(const GateFlags& flags, const std::function<bool(const std::string&)>& given,
                         analysis::AnalysisRequest& request, std::string& fail_on, GatePlan& plan);

/// Applies severities, ignores and the baseline to `report` (writing the
/// baseline first when asked). Returns "" or a one-line error.
std::string filter_report(const GatePlan& plan, report::Report& report, std::ostream& err);

}  // namespace pgsift::cli::gate
