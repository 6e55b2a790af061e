// The gate: whether a run's remaining findings (after config ignores, inline
// suppressions and the baseline) fail the build. `--fail-on` picks which
// findings count (at or above a severity, or never); `--max-findings RULE=N`
// tolerates up to N counted findings of RULE, and `--max-findings all=N` up
// to N counted findings of the rules without a budget of their own. A rule
// without any budget tolerates none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/core/finding.h"
#include "cli/report/report.h"

namespace pgsift::cli::gate {

/// The budget key that covers every rule without its own budget.
inline constexpr std::string_view kAllRules = "all";

struct Budget {
  std::string rule;  // a rule id or kAllRules
  std::uint64_t max = 0;
};

/// Parses "RULE=N". Returns "" or a one-line error quoting `text`.
std::string parse_budget(std::string_view text, Budget& out);
/// Checks budgets name known rules (or "all") at most once each.
std::string check_budgets(const std::vector<Budget>& budgets, const std::vector<std::string>& known_rules);

struct GateResult {
  bool fail = false;
  /// One line per exceeded budget / failing rule, for the summary on stderr:
  /// "n-plus-one: 4 findings at or above warning (budget 3)".
  std::vector<std::string> reasons;
};

/// Decides the exit status. `threshold` nullopt means --fail-on never.
GateResult evaluate_gate(const report::Report& report, std::optional<core::Severity> threshold,
                         const std::vector<Budget>& budgets);

}  // namespace pgsift::cli::gate
