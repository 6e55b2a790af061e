#include "cli/gate/budget.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace pgsift::cli::gate {

std::string parse_budget(std::string_view text, Budget& out) {
  const auto eq = text.find('=');
  const std::string quoted = "'" + std::string(text) + "'";
  if (eq == std::string_view::npos || eq == 0) {
    return "--max-findings expects RULE=N, got " + quoted;
  }
  const std::string_view number = text.substr(eq + 1);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
    return "--max-findings expects a non-negative integer after '=', got " + quoted;
  }
  out.rule = std::string(text.substr(0, eq));
  out.max = value;
  return "";
}

std::string check_budgets(const std::vector<Budget>& budgets, const std::vector<std::string>& known_rules) {
  std::set<std::string> seen;
  for (const auto& budget : budgets) {
    if (budget.rule != kAllRules &&
        std::find(known_rules.begin(), known_rules.end(), budget.rule) == known_rules.end()) {
      return "--max-findings: unknown rule '" + budget.rule + "' (see 'pgsift rules')";
    }
    if (!seen.insert(budget.rule).second) return "--max-findings: rule '" + budget.rule + "' given twice";
  }
  return "";
}

GateResult evaluate_gate(const report::Report& report, std::optional<core::Severity> threshold,
                         const std::vector<Budget>& budgets) {
  GateResult result;
  if (!threshold) return result;
  std::map<std::string, std::uint64_t> counted;  // by rule, at or above the threshold
  for (const auto& finding : report.findings) {
    if (finding.severity >= *threshold) ++counted[finding.rule];
  }
  std::map<std::string, std::uint64_t> budget_of;
  for (const auto& budget : budgets) budget_of[budget.rule] = budget.max;
  const auto all = budget_of.find(std::string(kAllRules));
  const std::string level(core::to_string(*threshold));
  std::uint64_t shared = 0;  // counted findings of rules without their own budget
  for (const auto& [rule, count] : counted) {
    const auto own = budget_of.find(rule);
    if (own != budget_of.end()) {
      if (count > own->second) {
        result.reasons.push_back(rule + ": " + std::to_string(count) + " findings at or above " + level +
                                 " (budget " + std::to_string(own->second) + ")");
      }
      continue;
    }
    if (all == budget_of.end()) {
      result.reasons.push_back(rule + ": " + std::to_string(count) + " finding" + (count == 1 ? "" : "s") +
                               " at or above " + level);
    }
    shared += count;
  }
  if (all != budget_of.end() && shared > all->second) {
    result.reasons.push_back("all rules: " + std::to_string(shared) + " findings at or above " + level +
                             " (budget " + std::to_string(all->second) + ")");
  }
  result.fail = !result.reasons.empty();
  return result;
}

}  // namespace pgsift::cli::gate
