// GitLab Code Quality (artifacts:reports:codequality): a JSON array of
// CodeClimate issues. GitLab reads description, check_name, fingerprint
// (unique per issue, or it hides repeats), severity, location.path
// (repository-relative) and location.lines.begin (ecosystem.md §1.3).
#include <set>

#include <nlohmann/json.hpp>

#include "cli/report/ci_common.h"
#include "cli/report/ci_reports.h"

namespace pgsift::cli::report {

namespace {

using ordered = nlohmann::ordered_json;

std::string_view codeclimate_severity(core::Severity severity) {
  switch (severity) {
    case core::Severity::info: return "info";
    case core::Severity::warning: return "major";
    case core::Severity::error: return "critical";
  }
  return "major";
}

std::string_view category(std::string_view rule) {
  return rule == "n-plus-one" || rule == "repeated-query" ? "Performance" : "Bug Risk";
}

}  // namespace

void write_codeclimate(const Report& report, std::ostream& out) {
  ordered issues = ordered::array();
  std::set<std::string> fingerprints;
  for (const auto& finding : report.findings) {
    std::string fingerprint(id_hash(finding));
    for (int n = 2; !fingerprints.insert(fingerprint).second; ++n) {
      fingerprint = std::string(id_hash(finding)) + "-" + std::to_string(n);
    }
    const CiLocation location = primary_location(report, finding);
    ordered issue;
    issue["type"] = "issue";
    issue["check_name"] = finding.rule;
    issue["description"] = valid_utf8(one_line(finding.message) + " [" + finding.rule + "]");
    std::string body;
    if (!finding.evidence.empty() && !finding.evidence.front().sql.empty()) {
      body += "```sql\n" + finding.evidence.front().sql + "\n```\n\n";
    }
    body += finding.help;
    if (!body.empty()) issue["content"] = {{"body", valid_utf8(body)}};
    issue["categories"] = {category(finding.rule)};
    issue["fingerprint"] = fingerprint;
    issue["severity"] = codeclimate_severity(finding.severity);
    issue["location"] = {{"path", valid_utf8(location.path)}, {"lines", {{"begin", location.line}}}};
    issue["other_locations"] = ordered::array();
    for (const CiLocation& other : related_locations(report, finding)) {
      issue["other_locations"].push_back(
          {{"path", valid_utf8(other.path)}, {"lines", {{"begin", other.line}}}});
    }
    if (issue["other_locations"].empty()) issue.erase("other_locations");
    issues.push_back(issue);
  }
  out << issues.dump(2, ' ', false, ordered::error_handler_t::replace) << '\n';
}

}  // namespace pgsift::cli::report
