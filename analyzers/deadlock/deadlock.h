/// Reports deadlocks with their full cycle: each process, its transaction,
/// what it waited for and which one PostgreSQL cancelled. See man/rules/deadlock.md.
//
// Data: `ERROR:  deadlock detected` events (DETAIL lists every edge of the
// cycle and each process's statement) plus the "detected deadlock while
// waiting" LOG line before them, and the session tracker's open transaction
// of each participant (SessionDirectory) for the order in which it took its
// locks. Aggregated per cycle shape; emitted at finish().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"

namespace pgsift::analyzers {

class DeadlockRule : public core::Rule {
 public:
  static const core::RuleInfo kInfo;

  explicit DeadlockRule(const core::RuleContext& context);

  const core::RuleInfo& info() const override { return kInfo; }
  void on_event(const model::Event& event, const core::SessionDirectory& sessions,
                core::FindingSink& out) override;
  void finish(core::FindingSink& out) override;

 private:
  void report(const model::Event& event, const model::DeadlockEvent& deadlock,
              const core::SessionDirectory& sessions);

  const core::Schema* schema_;
  core::Schema empty_schema_;
  /// Relation and tuple of the latest "detected deadlock while waiting" per pid.
  std::map<std::int32_t, model::LockEvent> detected_;
  std::vector<core::Finding> findings_;
  std::map<std::string, std::size_t> by_id_;
};

}  // namespace pgsift::analyzers
