/// Reports one statement shape executed many times in one unit of work with
/// different key values, where one set-based query would do. See
/// man/rules/n-plus-one.md.
///
/// Input: units of work from analyzers/session (runs of one shape found by
/// session::find_runs). Emits at most one finding per (parent, child) shape
/// pair per unit; small runs wait for finish() so a fixed fan-out (the same
/// small count every time) can be told from a loop.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>

#include "analyzers/core/analyzer.h"
#include "analyzers/session/statement_runs.h"

namespace pgsift::analyzers {

struct NPlusOneOptions {
  double min_repetitions = 5;      // Sentry's count threshold
  double min_distinct_ratio = 0.5; // distinct key values / repetitions
  double max_gap_ms = 250;         // between consecutive repetitions
  double max_interleaved = 5;      // other statements allowed between repetitions
  double min_wall_ms = 0;          // wall time of the run
  bool require_parent = true;      // a different statement must precede the run
  double fixed_fanout_max = 6;     // runs this short and always equal are a fan-out
  double error_repetitions = 50;   // severity error from this many repetitions

  /// Reads the options; returns "" or "key: expected ..., got '...'".
  static std::string from(const core::OptionMap& options, NPlusOneOptions& out);
};

class NPlusOneRule final : public core::Rule {
 public:
  static const core::RuleInfo kInfo;
  static core::RuleEntry entry();

  explicit NPlusOneRule(const core::RuleContext& context);
  const core::RuleInfo& info() const override { return kInfo; }
  void on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
               core::FindingSink& out) override;
  void finish(core::FindingSink& out) override;

 private:
  struct Pending {
    core::Finding finding;
    std::set<std::size_t> counts;
  };
  void consider(const model::SessionInfo& session, const model::UnitOfWork& unit,
                const session::StatementRun& run, core::FindingSink& out);

  NPlusOneOptions options_;
  std::map<std::string, Pending> small_runs_;  // by finding id
  /// Ids already reported from long runs, with the highest severity given.
  std::map<std::string, core::Severity> reported_;
};

}  // namespace pgsift::analyzers
