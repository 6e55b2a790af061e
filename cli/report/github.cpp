// GitHub Actions workflow commands: one annotation per finding
// (`::error file=F,line=N,title=T::message`, ::warning, ::notice), escaped as
// actions/toolkit does, capped per level because GitHub shows only 10 per
// step; plus the Markdown summary appended to $GITHUB_STEP_SUMMARY.
#include <cstdlib>
#include <fstream>

#include "cli/report/ci_common.h"
#include "cli/report/ci_reports.h"

namespace pgsift::cli::report {

namespace {

std::string_view command_for(core::Severity severity) {
  switch (severity) {
    case core::Severity::info: return "notice";
    case core::Severity::warning: return "warning";
    case core::Severity::error: return "error";
  }
  return "warning";
}

}  // namespace

std::string github_escape_data(std::string_view text) {
  std::string out;
  for (const char ch : valid_utf8(text)) {
    if (ch == '%') out += "%25";
    else if (ch == '\r') out += "%0D";
    else if (ch == '\n') out += "%0A";
    else out.push_back(ch);
  }
  return out;
}

std::string github_escape_property(std::string_view text) {
  std::string out;
  for (const char ch : github_escape_data(text)) {
    if (ch == ':') out += "%3A";
    else if (ch == ',') out += "%2C";
    else out.push_back(ch);
  }
  return out;
}

void write_github_commands(const Report& report, std::ostream& out, std::size_t per_level) {
  std::size_t shown[3] = {0, 0, 0};
  std::size_t hidden = 0;
  for (const auto& finding : report.findings) {
    auto& count = shown[static_cast<int>(finding.severity)];
    // Keep room for the final "not shown" notice among the notices.
    const std::size_t cap = finding.severity == core::Severity::info && per_level > 0 ? per_level - 1 : per_level;
    if (count >= cap) { ++hidden; continue; }
    ++count;
    const CiLocation location = primary_location(report, finding);
    std::string message = finding.message;
    if (!finding.evidence.empty() && !finding.evidence.front().sql.empty()) {
      message += "\nquery: " + finding.evidence.front().sql;
    }
    if (!finding.help.empty()) message += "\nhelp: " + finding.help;
    message += "\nid: " + finding.id;
    out << "::" << command_for(finding.severity) << " file=" << github_escape_property(location.path)
        << ",line=" << location.line << ",title=" << github_escape_property("pgsift " + finding.rule)
        << "::" << github_escape_data(message) << '\n';
  }
  if (hidden > 0) {
    out << "::notice title=pgsift::" << hidden << " more finding" << (hidden == 1 ? "" : "s")
        << " not annotated (GitHub shows 10 per level); see the step summary or the SARIF/JSON report\n";
  }
}

std::string write_github(const Report& report, std::ostream& out) {
  write_github_commands(report, out);
  const char* summary_path = std::getenv("GITHUB_STEP_SUMMARY");
  if (summary_path == nullptr || *summary_path == '\0') return "";
  std::ofstream summary(summary_path, std::ios::app | std::ios::binary);
  if (!summary) return std::string("cannot append to GITHUB_STEP_SUMMARY file '") + summary_path + "'";
  write_markdown(report, summary);
  summary.flush();
  if (!summary) return std::string("cannot write GITHUB_STEP_SUMMARY file '") + summary_path + "'";
  return "";
}

}  // namespace pgsift::cli::report
