/// Reports statements cancelled because they could not get a lock in time
/// (lock_timeout, NOWAIT), with the lock they wanted and the likely holder.
/// See man/rules/lock-timeout.md.
//
// Data: 55P03 cancellations and NOWAIT failures, statement timeouts that hit
// a statement while it waited for a lock, the "still waiting" line that
// preceded them (holders), and the session tracker's open sessions for a
// likely holder when the log names none. Aggregated per statement shape;
// emitted at finish().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/locks/lock_words.h"

namespace pgsift::analyzers {

class LockTimeoutRule : public core::Rule {
 public:
  static const core::RuleInfo kInfo;

  explicit LockTimeoutRule(const core::RuleContext& context);

  const core::RuleInfo& info() const override { return kInfo; }
  void on_event(const model::Event& event, const core::SessionDirectory& sessions,
                core::FindingSink& out) override;
  void finish(core::FindingSink& out) override;

 private:
  enum class Cause { lock_timeout, statement_timeout, nowait };
  void report(const model::Event& event, Cause cause, const std::string& statement, const std::string& context,
              const core::SessionDirectory& sessions);

  const core::Schema* schema_;
  core::Schema empty_schema_;
  locks::RelationNames names_;
  std::map<std::int32_t, model::LockEvent> waiting_;  // latest "still waiting" per pid
  std::vector<core::Finding> findings_;
  std::map<std::string, std::size_t> by_id_;
};

}  // namespace pgsift::analyzers
