// SARIF 2.1.0 for GitHub code scanning. GitHub requires per rule id, short and
// full description and help text, and per result a message, a physical
// location and partialFingerprints (ecosystem.md §1.1). Our locations are the
// application source (sqlcommenter/Marginalia) or the log line.
#include <map>

#include <nlohmann/json.hpp>

#include "cli/report/ci_common.h"
#include "cli/report/ci_reports.h"

namespace pgsift::cli::report {

namespace {

using ordered = nlohmann::ordered_json;

constexpr std::string_view kSchema = "https://json.schemastore.org/sarif-2.1.0.json";

std::string_view sarif_level(core::Severity severity) {
  switch (severity) {
    case core::Severity::info: return "note";
    case core::Severity::warning: return "warning";
    case core::Severity::error: return "error";
  }
  return "warning";
}

std::string_view problem_severity(core::Severity severity) {
  return severity == core::Severity::info ? "recommendation" : sarif_level(severity);
}

// "n-plus-one" -> "NPlusOne": SARIF's reportingDescriptor.name is an identifier.
std::string camel_name(std::string_view id) {
  std::string out;
  bool upper = true;
  for (const char ch : id) {
    if (ch == '-' || ch == '_') { upper = true; continue; }
    out.push_back(upper && ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch);
    upper = false;
  }
  return out;
}

std::string rule_tag(std::string_view id) {
  static const std::map<std::string_view, std::string_view> kinds = {
      {"n-plus-one", "performance"},      {"repeated-query", "performance"},
      {"idle-in-transaction", "concurrency"}, {"check-then-act", "concurrency"},
      {"lock-wait", "concurrency"},       {"deadlock", "concurrency"},
      {"lock-timeout", "concurrency"}};
  const auto it = kinds.find(id);
  return std::string(it == kinds.end() ? "postgresql" : it->second);
}

ordered rule_descriptor(const core::RuleInfo& info) {
  const std::string id(info.id);
  const std::string summary = valid_utf8(info.summary);
  std::string help = summary + "\nRun `pgsift rules " + id + "` for the full documentation.";
  const std::string markdown = "**" + id + "**: " + summary + "\n\nRun `pgsift rules " + id +
                               "` or read [the rule's page](" + rule_doc_url(id) + ").";
  ordered rule;
  rule["id"] = id;
  rule["name"] = camel_name(id);
  rule["shortDescription"] = {{"text", summary.substr(0, 1024)}};
  rule["fullDescription"] = {{"text", summary.substr(0, 1024)}};
  rule["help"] = {{"text", valid_utf8(help)}, {"markdown", valid_utf8(markdown)}};
  rule["helpUri"] = rule_doc_url(id);
  rule["defaultConfiguration"] = {{"level", sarif_level(info.default_severity)}};
  rule["properties"] = {{"tags", {"postgresql", rule_tag(id)}},
                        {"problem.severity", problem_severity(info.default_severity)}};
  return rule;
}

// Relative paths resolve against the checkout (%SRCROOT%); absolute ones
// become file: URIs. Characters outside RFC 3986's path set are %-encoded.
ordered artifact_location(const std::string& path) {
  std::string uri;
  const bool absolute = !path.empty() && path.front() == '/';
  if (absolute) uri = "file://";
  static constexpr std::string_view kSafe = "-._~/!$&'()*+,;=:@";
  for (const char ch : valid_utf8(path)) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        kSafe.find(ch) != std::string_view::npos) {
      uri.push_back(ch);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  ordered location = {{"uri", uri}};
  if (!absolute) location["uriBaseId"] = "%SRCROOT%";
  return location;
}

ordered physical_location(const CiLocation& location) {
  return {{"artifactLocation", artifact_location(location.path)},
          {"region", {{"startLine", location.line}}}};
}

// Values in rule details are dropped unless --show-values (privacy).
nlohmann::json redact_details(const nlohmann::json& details, bool show_values) {
  if (show_values || !details.is_object()) return details;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = details.begin(); it != details.end(); ++it) {
    if (it.key() == "values" || it.key() == "literals" || it.key() == "parameters") continue;
    out[it.key()] = redact_details(it.value(), show_values);
  }
  return out;
}

std::string message_text(const core::Finding& finding) {
  std::string text = finding.message;
  if (!finding.evidence.empty() && !finding.evidence.front().sql.empty()) {
    text += "\nquery: " + finding.evidence.front().sql;
  }
  if (!finding.help.empty()) text += "\nhelp: " + finding.help;
  text += " [" + finding.rule + "]";
  return valid_utf8(text);
}

ordered result_for(const Report& report, const core::Finding& finding, std::size_t rule_index) {
  ordered result;
  result["ruleId"] = finding.rule;
  result["ruleIndex"] = rule_index;
  result["level"] = sarif_level(finding.severity);
  result["message"] = {{"text", message_text(finding)}};
  result["locations"] = ordered::array({{{"physicalLocation", physical_location(primary_location(report, finding))}}});
  ordered related = ordered::array();
  int related_id = 1;
  for (const CiLocation& location : related_locations(report, finding)) {
    if (related.size() >= 1000) break;  // GitHub's limit per result
    related.push_back({{"id", related_id++},
                       {"physicalLocation", physical_location(location)},
                       {"message", {{"text", valid_utf8(location.label)}}}});
  }
  if (!related.empty()) result["relatedLocations"] = related;
  // GitHub keys alerts on primaryLocationLineHash: derive it from the stable
  // finding id, not from the line, so alerts survive log line shifts.
  result["partialFingerprints"] = {{"primaryLocationLineHash", std::string(id_hash(finding)) + ":1"},
                                   {"pgsiftFindingId/v1", finding.id}};
  ordered properties;
  properties["findingId"] = finding.id;
  properties["occurrences"] = finding.occurrences;
  if (!finding.evidence.empty() && !finding.evidence.front().sql.empty()) {
    properties["sql"] = valid_utf8(finding.evidence.front().sql);
  }
  if (const auto first = format_utc(finding.first_seen); !first.empty()) properties["firstSeen"] = first;
  if (const auto last = format_utc(finding.last_seen); !last.empty()) properties["lastSeen"] = last;
  ordered sessions = ordered::array();
  for (const auto& session : finding.sessions) {
    sessions.push_back({{"pid", session.pid}, {"sessionId", session.session_id}, {"user", session.user},
                        {"database", session.database}, {"application", session.application}});
  }
  properties["sessions"] = sessions;
  if (report.show_values) {
    ordered values = ordered::array();
    for (const auto& evidence : finding.evidence) values.push_back(evidence.values);
    properties["values"] = values;
  }
  if (!finding.details.empty()) properties["details"] = redact_details(finding.details, report.show_values);
  result["properties"] = properties;
  return result;
}

}  // namespace

void write_sarif(const Report& report, std::ostream& out) {
  const std::vector<core::RuleInfo> rules = report_rules(report);
  std::map<std::string_view, std::size_t> rule_index;
  ordered descriptors = ordered::array();
  for (const auto& info : rules) {
    rule_index.emplace(info.id, descriptors.size());
    descriptors.push_back(rule_descriptor(info));
  }
  ordered results = ordered::array();
  for (const auto& finding : report.findings) results.push_back(result_for(report, finding, rule_index.at(finding.rule)));

  ordered driver;
  driver["name"] = "pgsift";
  driver["semanticVersion"] = PGSIFT_VERSION;
  driver["informationUri"] = "https://github.com/pgsift/pgsift";
  driver["rules"] = descriptors;
  ordered run;
  run["tool"] = {{"driver", driver}};
  run["automationDetails"] = {{"id", "pgsift/"}};
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = results;
  ordered run_properties;
  run_properties["suppressed"] = report.suppressed;
  run_properties["baselined"] = report.baselined;
  run_properties["staleBaselineIds"] = report.stale_baseline_ids;
  run["properties"] = run_properties;

  ordered sarif;
  sarif["$schema"] = kSchema;
  sarif["version"] = "2.1.0";
  sarif["runs"] = ordered::array({run});
  out << sarif.dump(2, ' ', false, ordered::error_handler_t::replace) << '\n';
}

}  // namespace pgsift::cli::report
