// The rule table. One explicit row per rule (no self-registering statics);
// rows are keyed by id, so the table comes out alphabetical whatever their order.
#include <map>

#include "analyzers/core/analyzer.h"
// Concurrency rules:
#include "analyzers/check_then_act/check_then_act.h"
#include "analyzers/deadlock/deadlock.h"
#include "analyzers/lock_timeout/lock_timeout.h"
#include "analyzers/lock_wait/lock_wait.h"

namespace pgsift::core {

namespace {

std::vector<RuleEntry> build_registry() {
  std::map<std::string_view, RuleEntry> by_id;
  const auto add = [&by_id](RuleEntry entry) { by_id.emplace(entry.info.id, std::move(entry)); };
  // Session rules (n-plus-one, repeated-query, idle-in-transaction):

  // Concurrency rules (check-then-act, lock-wait, deadlock, lock-timeout):
  add({analyzers::CheckThenActRule::kInfo, analyzers::CheckThenActRule::option_docs(),
       [](const RuleContext& c) { return std::make_unique<analyzers::CheckThenActRule>(c); },
       &analyzers::CheckThenActRule::validate});
  add({analyzers::DeadlockRule::kInfo, {},
       [](const RuleContext& c) { return std::make_unique<analyzers::DeadlockRule>(c); }, {}});
  add({analyzers::LockTimeoutRule::kInfo, {},
       [](const RuleContext& c) { return std::make_unique<analyzers::LockTimeoutRule>(c); }, {}});
  add({analyzers::LockWaitRule::kInfo, analyzers::LockWaitRule::option_docs(),
       [](const RuleContext& c) { return std::make_unique<analyzers::LockWaitRule>(c); },
       &analyzers::LockWaitRule::validate});

  (void)add;
  std::vector<RuleEntry> entries;
  for (auto& [id, entry] : by_id) entries.push_back(std::move(entry));
  return entries;
}

}  // namespace

const std::vector<RuleEntry>& rule_registry() {
  static const std::vector<RuleEntry> registry = build_registry();
  return registry;
}

const RuleEntry* find_rule(std::string_view id) {
  for (const auto& entry : rule_registry()) {
    if (entry.info.id == id) return &entry;
  }
  return nullptr;
}

}  // namespace pgsift::core
