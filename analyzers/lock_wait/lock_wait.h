/// Reports statements that waited for a lock, with the session that blocked
/// them and what it was doing. See man/rules/lock-wait.md.
//
// Data: log_lock_waits lines ("still waiting" / "acquired" and the timeout,
// deadlock, error or disconnection that ended a wait) from the event stream,
// and the session tracker's state of each holder at that moment
// (SessionDirectory). Waits are paired per waiter pid, aggregated per
// (statement, lock, blocker statement) shape, and emitted at finish().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/locks/lock_words.h"

namespace pgsift::analyzers {

class LockWaitRule : public core::Rule {
 public:
  static const core::RuleInfo kInfo;
  static std::vector<std::pair<std::string, std::string>> option_docs();
  static std::string validate(const core::OptionMap& options);

  explicit LockWaitRule(const core::RuleContext& context);

  const core::RuleInfo& info() const override { return kInfo; }
  void on_event(const model::Event& event, const core::SessionDirectory& sessions,
                core::FindingSink& out) override;
  void finish(core::FindingSink& out) override;

 private:
  struct Wait {
    model::RecordHeader header;       // the "still waiting" record
    model::LockEvent lock;
    model::Timestamp started = model::kNoTime;
    std::string relation;
    std::string object;               // in words
    std::string statement;            // normalized
    std::vector<locks::BlockerView> blockers;
    std::vector<std::int32_t> chain;  // blockers of blockers, upwards (depth = size)
    std::vector<std::int32_t> blocking;  // later waiters queued behind this waiter
    std::optional<core::SessionRef> session;
  };

  void start(const model::Event& event, const model::LockEvent& lock, const core::SessionDirectory& sessions);
  void end(std::int32_t pid, double total_ms, const std::string& how, model::Timestamp at);
  void record(Wait wait, double total_ms, const std::string& how);
  void name_late();

  struct Unnamed {
    model::LockEvent lock;
    std::string object;  // the words used in the finding
  };

  const core::Schema* schema_;
  core::Schema empty_schema_;
  double min_wait_ms_ = 0;
  double warn_after_ms_ = 5000;
  std::map<std::int32_t, Wait> pending_;
  std::vector<core::Finding> findings_;
  std::map<std::string, std::size_t> by_id_;
  std::map<std::string, std::vector<double>> waits_by_id_;
  locks::RelationNames names_;
  std::map<std::size_t, Unnamed> unnamed_;  // finding index -> a wait on an OID not yet named
};

}  // namespace pgsift::analyzers
