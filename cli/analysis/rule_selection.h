// Which rules run and with which options: `--rules` lists (`-id` excludes,
// "all"), `--option rule.key=value` settings, with "did you mean" for ids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyzers/core/analyzer.h"

namespace pgsift::cli::analysis {

/// The rules selected by comma-separated `specs` ("" or "all" = every rule;
/// "-id" removes one; a list of ids keeps only those). Returns "" or a
/// one-line error for an unknown id.
std::string select_rules(const std::vector<std::string>& specs,
                         std::vector<const core::RuleEntry*>& out);

/// Splits `--option` values ("n-plus-one.min-repetitions=5") into per-rule
/// maps; "session.*" keys stay whole in `session`. Checks rule ids and option
/// names against the registry, and values with each rule's validator.
struct RuleOptions {
  std::vector<std::pair<std::string, core::OptionMap>> by_rule;  // rule id -> key -> value
  core::OptionMap session;
  const core::OptionMap& of(std::string_view rule) const;
};
std::string parse_rule_options(const std::vector<std::string>& settings, RuleOptions& out);

/// The closest known id to `word` within a small edit distance, or "".
std::string suggest_rule(std::string_view word);

}  // namespace pgsift::cli::analysis
