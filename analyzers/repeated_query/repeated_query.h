/// Reports the same query with the same values run again and again in a tight
/// run within one unit of work: redundant round trips whose result could be
/// reused. See man/rules/repeated-query.md.
///
/// Input: runs of one shape from session::find_runs; the largest group of
/// executions with identical literal and parameter values decides.
#pragma once

#include <string>

#include "analyzers/core/analyzer.h"

namespace pgsift::analyzers {

struct RepeatedQueryOptions {
  double min_repetitions = 5;  // identical executions in one run
  double max_gap_ms = 250;
  double max_interleaved = 5;
  double warning_repetitions = 50;  // severity warning from this many

  static std::string from(const core::OptionMap& options, RepeatedQueryOptions& out);
};

class RepeatedQueryRule final : public core::Rule {
 public:
  static const core::RuleInfo kInfo;
  static core::RuleEntry entry();

  explicit RepeatedQueryRule(const core::RuleContext& context);
  const core::RuleInfo& info() const override { return kInfo; }
  void on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
               core::FindingSink& out) override;

 private:
  RepeatedQueryOptions options_;
};

}  // namespace pgsift::analyzers
