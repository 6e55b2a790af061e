// JUnit XML for GitLab (artifacts:reports:junit), Jenkins and GitHub test
// report actions. One <testsuite> per rule, one failing <testcase> per finding
// and one passing "no findings" case for each rule that found nothing (Jenkins
// fails on an empty report). GitLab keeps only the first case of each
// classname+name, so names carry the finding id's hash and are made unique.
#include <map>
#include <set>
#include <sstream>

#include "cli/report/ci_common.h"
#include "cli/report/ci_reports.h"

namespace pgsift::cli::report {

namespace {

constexpr std::size_t kMaxNameMessage = 120;

std::string case_name(const core::Finding& finding) {
  std::string message = one_line(finding.message);
  if (message.size() > kMaxNameMessage) message = message.substr(0, kMaxNameMessage) + "...";
  return std::string(id_hash(finding)) + " " + message;
}

std::string failure_body(const Report& report, const core::Finding& finding) {
  std::ostringstream body;
  const CiLocation primary = primary_location(report, finding);
  body << primary.path << ':' << primary.line << ": " << core::to_string(finding.severity) << ": "
       << finding.message << " [" << finding.rule << "]\n";
  for (const auto& evidence : finding.evidence) {
    body << ci_path(input_path(report, evidence.input)) << ':' << evidence.line << ": "
         << (evidence.role.empty() ? "evidence" : evidence.role);
    if (evidence.pid != 0) body << " (pid " << evidence.pid << ')';
    if (!evidence.sql.empty()) body << ": " << evidence.sql;
    if (report.show_values && !evidence.values.empty()) {
      body << " -- values:";
      for (const auto& value : evidence.values) body << ' ' << value;
    }
    body << '\n';
  }
  if (finding.occurrences > 1) body << "occurrences: " << finding.occurrences << '\n';
  if (!finding.help.empty()) body << "help: " << finding.help << '\n';
  body << "id: " << finding.id << '\n';
  return body.str();
}

}  // namespace

void write_junit(const Report& report, std::ostream& out) {
  const std::vector<core::RuleInfo> rules = report_rules(report);
  std::map<std::string, std::vector<const core::Finding*>> by_rule;
  for (const auto& finding : report.findings) by_rule[finding.rule].push_back(&finding);

  const std::size_t failures = report.findings.size();
  std::size_t tests = failures;
  for (const auto& info : rules) {
    if (!by_rule.count(std::string(info.id))) ++tests;
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"pgsift\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\" time=\"0\">\n";
  std::set<std::string> used_names;
  for (const auto& info : rules) {
    const std::string rule(info.id);
    const auto found = by_rule.find(rule);
    const std::size_t count = found == by_rule.end() ? 0 : found->second.size();
    const std::string classname = "pgsift." + rule;
    out << "  <testsuite name=\"" << xml_escape(rule) << "\" tests=\"" << (count == 0 ? 1 : count)
        << "\" failures=\"" << count << "\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
    if (count == 0) {
      out << "    <testcase classname=\"" << xml_escape(classname) << "\" name=\"no findings\" time=\"0\"/>\n";
    } else {
      for (const core::Finding* finding : found->second) {
        std::string name = case_name(*finding);
        // Equal ids are aggregated upstream; still never emit a duplicate name.
        for (int n = 2; !used_names.insert(classname + '\n' + name).second; ++n) {
          name = case_name(*finding) + " (" + std::to_string(n) + ")";
        }
        const CiLocation primary = primary_location(report, *finding);
        out << "    <testcase classname=\"" << xml_escape(classname) << "\" name=\"" << xml_escape(name)
            << "\" file=\"" << xml_escape(primary.path) << "\" line=\"" << primary.line << "\" time=\"0\">\n";
        out << "      <failure type=\"" << core::to_string(finding->severity) << "\" message=\""
            << xml_escape(one_line(finding->message)) << "\">" << xml_escape(failure_body(report, *finding))
            << "</failure>\n";
        out << "    </testcase>\n";
      }
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace pgsift::cli::report
