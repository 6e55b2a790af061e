// What every report format renders: the inputs read and the findings of one
// run, already filtered (config, suppressions, baseline) and sorted
// deterministically (severity, rule, id). Reporters write; they decide nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/core/finding.h"
#include "cli/input/log_source.h"

namespace pgsift::cli::report {

struct Report {
  std::vector<input::InputSummary> inputs;
  std::vector<core::Finding> findings;
  /// Notes about the analysis itself ("gap analysis unavailable: ...").
  std::vector<std::string> notes;
  std::uint64_t suppressed = 0;   // silenced by inline comments or config ignores
  std::uint64_t baselined = 0;    // matched a --baseline entry
  std::vector<std::string> stale_baseline_ids;
  bool show_values = false;       // print parameter values / literals
  /// The rules that ran (SARIF tool.driver.rules, JUnit suites, Markdown
  /// table); empty = every registered rule.
  std::vector<core::RuleInfo> rules;
};

/// Renders `report` to `out` in one format.
using Reporter = std::function<void(const Report& report, std::ostream& out)>;

/// Path of the input with this index, or "<unknown>".
inline const std::string& input_path(const Report& report, std::uint32_t input) {
  static const std::string unknown = "<unknown>";
  return input < report.inputs.size() ? report.inputs[input].path : unknown;
}

}  // namespace pgsift::cli::report
