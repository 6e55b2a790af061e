// Inline suppression: a comment in the SQL the application sends silences a
// rule for that statement, the way `-- noqa` / `-- squawk-ignore` do for
// source files. Recognized in block and line comments (never inside string
// literals or quoted identifiers), separators ':' '-' '_' all accepted:
//   SELECT ... /* pgsift:ignore n-plus-one */
//   SELECT ... -- pgsift-ignore n-plus-one, lock-wait
//   SELECT ... /*controller='orders',pgsift_ignore='n-plus-one'*/  (sqlcommenter, URL-encoded)
//   SELECT ... /* pgsift:ignore */                                (every rule)
// Rule-normalized SQL drops comments, so the pipeline feeds every event's raw
// text to a SuppressionIndex as it streams by (cheap: a substring test), and
// then asks it about each finding's evidence locations.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzers/core/finding.h"
#include "analyzers/model/event.h"

namespace pgsift::core {

/// Rule ids silenced by comments in `sql`; "*" stands for every rule.
/// Empty when there is no suppression comment.
std::vector<std::string> inline_ignored_rules(std::string_view sql);

/// Whether `ignored` (from inline_ignored_rules) silences `rule`.
bool silences(const std::vector<std::string>& ignored, std::string_view rule);

/// Suppression comments seen in a run, by log location (input, line).
class SuppressionIndex {
 public:
  /// Looks at the SQL of `event` (statement text, or the STATEMENT of a
  /// lock/deadlock/timeout/error event).
  void observe(const model::Event& event);
  /// Records the comments of `sql` found at `where`.
  void observe_sql(const model::SourceLocation& where, std::string_view sql);
  /// True when a comment at one of `finding`'s evidence locations silences
  /// its rule.
  bool suppresses(const Finding& finding) const;
  std::size_t locations() const { return by_location_.size(); }

 private:
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<std::string>> by_location_;
};

}  // namespace pgsift::core
