// A finding: one problem a rule found, with the evidence behind it. Reporters
// see only findings plus each rule's RuleInfo. Identical findings (same id)
// are aggregated by FindingSink rather than listed once per occurrence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzers/model/time.h"

namespace pgsift::core {

/// Wire spelling is the SARIF level's: info ("note" in SARIF), warning, error.
enum class Severity : std::uint8_t { info, warning, error };
std::string_view to_string(Severity severity);
std::optional<Severity> severity_from_string(std::string_view text);

/// A session involved in a finding.
struct SessionRef {
  std::int32_t pid = 0;
  std::string session_id;
  std::string user;
  std::string database;
  std::string application;
  bool operator==(const SessionRef&) const = default;
};

/// One piece of evidence: a log location and what ran there.
struct Evidence {
  std::string role;          // "child", "parent", "waiter", "blocker", "before-gap", ...
  std::uint32_t input = 0;   // index into the run's input table
  std::uint64_t line = 0;
  model::Timestamp time = model::kNoTime;
  std::int32_t pid = 0;
  std::string sql;           // normalized SQL ($n placeholders)
  double duration_ms = -1;
  /// Literal / parameter values; reporters print them only with --show-values.
  std::vector<std::string> values;
};

struct Finding {
  std::string rule;       // public rule id, e.g. "n-plus-one"
  Severity severity = Severity::warning;
  /// Stable id: a hash of rule + normalized shapes + tables; independent of
  /// pids, times, line numbers and literal values (the baseline key).
  std::string id;
  std::string message;    // one line, lowercase start, no final period
  std::string help;
  std::vector<SessionRef> sessions;
  std::vector<Evidence> evidence;  // evidence[0] is the primary location
  nlohmann::json details = nlohmann::json::object();  // rule-specific, JSON-ready
  std::uint64_t occurrences = 1;
  model::Timestamp first_seen = model::kNoTime;
  model::Timestamp last_seen = model::kNoTime;
  /// Application source location from sqlcommenter/Marginalia tags, if known.
  std::string source_file;
  std::uint64_t source_line = 0;
};

/// Builds a stable finding id from the rule id and identifying parts
/// (fingerprints, table names...): "<rule>:<16 hex digits>".
std::string make_finding_id(std::string_view rule, const std::vector<std::string>& parts);

}  // namespace pgsift::core
