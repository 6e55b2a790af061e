// The rule table. One explicit row per rule (no self-registering statics);
// rows are keyed by id, so the table comes out alphabetical whatever their order.
#include <map>

#include "analyzers/core/analyzer.h"
#include "analyzers/idle_in_transaction/idle_in_transaction.h"
#include "analyzers/n_plus_one/n_plus_one.h"
#include "analyzers/repeated_query/repeated_query.h"

namespace pgsift::core {

namespace {

std::vector<RuleEntry> build_registry() {
  std::map<std::string_view, RuleEntry> by_id;
  const auto add = [&by_id](RuleEntry entry) { by_id.emplace(entry.info.id, std::move(entry)); };
  // Session rules (n-plus-one, repeated-query, idle-in-transaction):
  add(analyzers::IdleInTransactionRule::entry());
  add(analyzers::NPlusOneRule::entry());
  add(analyzers::RepeatedQueryRule::entry());

  // Concurrency rules (check-then-act, lock-wait, deadlock, lock-timeout):

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
