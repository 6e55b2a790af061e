// Shared helpers of the CI report formats (SARIF, JUnit, Code Quality, GitHub
// workflow commands, Markdown): where a finding is located, rule metadata for
// rules the registry may not know, and escaping that keeps every output valid
// (UTF-8 repair, XML text). Inputs come from the Report built by `analyze`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/core/finding.h"
#include "cli/report/report.h"

namespace pgsift::cli::report {

/// A place a CI system can point at: a repository file and a 1-based line.
struct CiLocation {
  std::string path;
  std::uint64_t line = 1;
  std::string label;  // what is there: "application source", evidence role, ...
};

/// Where a finding is anchored: the application's source file and line when
/// sqlcommenter/Marginalia tags named one, else the primary evidence's log
/// file and line, else the first input (line 1). Never empty: GitHub rejects
/// a whole SARIF file when one result lacks a physical location.
CiLocation primary_location(const Report& report, const core::Finding& finding);

/// The other places: every evidence log line not used as the primary location.
std::vector<CiLocation> related_locations(const Report& report, const core::Finding& finding);

/// `path` as CI systems want it: no leading "./", and relative to the current
/// directory when it lies below it (GitLab wants repository-relative paths).
std::string ci_path(std::string_view path);

/// The hash part of a finding id ("n-plus-one:0123abcd..." -> "0123abcd...").
std::string_view id_hash(const core::Finding& finding);

/// Rule metadata for `rule_id`: the registry entry, or a stand-in whose texts
/// are non-empty (SARIF consumers reject empty descriptions).
core::RuleInfo rule_info(std::string_view rule_id);
/// The rules a report lists: Report::rules (or, when empty, every registered
/// rule) plus any rule id a finding uses, sorted by id.
std::vector<core::RuleInfo> report_rules(const Report& report);
/// Link to a rule's documentation page (man/rules/<id>.md in the repository).
std::string rule_doc_url(std::string_view rule_id);

/// Counts of findings by severity.
struct SeverityCounts {
  std::uint64_t info = 0, warning = 0, error = 0;
};
SeverityCounts count_by_severity(const std::vector<core::Finding>& findings);

/// ISO 8601 UTC with milliseconds ("2024-05-01T10:00:00.102Z"), "" for kNoTime.
std::string format_utc(model::Timestamp time);

/// `text` with invalid UTF-8 sequences replaced by U+FFFD (logs are bytes).
std::string valid_utf8(std::string_view text);
/// XML 1.0 character data / attribute value: escapes markup characters and
/// replaces characters XML cannot carry (C0 controls other than tab/LF/CR).
std::string xml_escape(std::string_view text);

/// A one-line description used by several formats: "message [rule]".
std::string one_line(std::string_view text);

}  // namespace pgsift::cli::report
