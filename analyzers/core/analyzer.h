// The interface every rule implements, and what it is handed. Rules are
// streaming: they see each unit of work when it closes and each lock/error
// event in log order, keep bounded state, and report through FindingSink.
// Pure: no I/O, no throw, no globals. One instance per run (not shared
// between threads).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/core/finding.h"
#include "analyzers/model/event.h"
#include "analyzers/model/session.h"

namespace pgsift::core {

/// Identity shared by the CLI, the docs, the registry and SARIF.
struct RuleInfo {
  std::string_view id;        // "n-plus-one"
  std::string_view summary;   // first sentence of the rule's doc
  Severity default_severity;
};

/// Rule options as given (config file, --option rule.key=value, fixtures).
using OptionMap = std::map<std::string, std::string>;

/// Lookup of the sessions open at the moment of an event.
class SessionDirectory {
 public:
  virtual ~SessionDirectory() = default;
  /// The open session with this pid, or nullptr.
  virtual const model::SessionState* find(std::int32_t pid) const = 0;
  /// Every open session (lock-timeout names a likely holder when the log
  /// shows none). Default: none known.
  virtual std::vector<const model::SessionState*> open_session_states() const { return {}; }
};

/// Where rules put findings. Aggregates findings with equal ids.
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void add(Finding finding) = 0;
};

/// Schema knowledge (from --schema / --schema-from); may be empty.
struct Schema {
  /// table (lowercase, as "name" and "schema.name") -> sets of columns that are unique
  /// (primary keys, unique constraints and indexes, exclusion constraints).
  std::map<std::string, std::vector<std::vector<std::string>>> unique_keys;
  /// table -> CHECK constraint expressions as text (e.g. "balance >= 0").
  std::map<std::string, std::vector<std::string>> checks;
  /// child table.column -> parent table (foreign keys).
  std::map<std::string, std::string> foreign_keys;
  /// pg_class OID -> "schema.name" (from --schema-from), to name relations
  /// that lock-wait lines give only by OID.
  std::map<std::uint64_t, std::string> relation_names;
  bool known = false;
};

/// What every rule gets at construction.
struct RuleContext {
  OptionMap options;
  const Schema* schema = nullptr;        // never null during a run (may be !known)
  const model::LogCoverage* coverage = nullptr;
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const RuleInfo& info() const = 0;
  /// A unit of work of `session` closed (all its transactions are complete or cut).
  virtual void on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
                       FindingSink& out) {
    (void)session, (void)unit, (void)out;
  }
  /// A non-statement event (lock, deadlock, timeout, error, connection), in log order.
  virtual void on_event(const model::Event& event, const SessionDirectory& sessions,
                        FindingSink& out) {
    (void)event, (void)sessions, (void)out;
  }
  /// End of input: report what is still pending.
  virtual void finish(FindingSink& out) { (void)out; }
};

/// Validates options: returns an error message naming the bad key/value, or "".
using OptionValidator = std::function<std::string(const OptionMap&)>;

struct RuleEntry {
  RuleInfo info;
  /// Option names with defaults and meanings, for `pgsift rules ID` and config.
  std::vector<std::pair<std::string, std::string>> options;  // name -> "default: meaning"
  std::function<std::unique_ptr<Rule>(const RuleContext&)> make;
  /// Checks option values before `make` (may be empty: any value accepted).
  OptionValidator validate;
};

/// All rules, alphabetical by id. Defined in analyzers/core/registry.cpp.
const std::vector<RuleEntry>& rule_registry();
/// The entry for `id`, or nullptr.
const RuleEntry* find_rule(std::string_view id);

}  // namespace pgsift::core
