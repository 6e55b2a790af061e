#include "cli/report/reporters.h"

#include "cli/report/ci_reports.h"

#include <cstdio>
#include <ctime>

namespace pgsift::cli::report {

namespace {

// The step summary is a side file; a failure to append to it is reported in
// the annotation stream itself, where the workflow log shows it.
void render_github(const Report& report, std::ostream& out) {
  const std::string error = write_github(report, out);
  if (!error.empty()) out << "::warning title=pgsift::" << github_escape_data(error) << '\n';
}

}  // namespace

const std::vector<ReporterEntry>& reporter_table() {
  static const std::vector<ReporterEntry> table = {
      {"text", "compiler-style lines: file:line: severity: message [rule] (default)", &render_text},
      {"json", "one JSON document (schema_version 1, see pgsift(1))", &render_json},
      // Gate formats (sarif, junit, codeclimate, github, markdown):
      {"sarif", "SARIF 2.1.0 for GitHub code scanning", &write_sarif},
      {"junit", "JUnit XML: one test case per finding (GitLab, Jenkins)", &write_junit},
      {"codeclimate", "GitLab Code Quality JSON", &write_codeclimate},
      {"github", "GitHub Actions annotations, plus a summary appended to $GITHUB_STEP_SUMMARY", &render_github},
      {"markdown", "Markdown summary: counts per rule, then each finding", &write_markdown},
  };
  return table;
}

const ReporterEntry* find_reporter(std::string_view name) {
  for (const ReporterEntry& entry : reporter_table()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string parse_report_target(const std::string& value, ReportTarget& out) {
  const auto colon = value.find(':');
  const std::string name = value.substr(0, colon);
  out.reporter = find_reporter(name);
  if (out.reporter == nullptr) {
    std::string known;
    for (const ReporterEntry& entry : reporter_table()) {
      known += (known.empty() ? "" : ", ") + std::string(entry.name);
    }
    return "unknown report format '" + name + "' (formats: " + known + ")";
  }
  out.path = colon == std::string::npos ? "" : value.substr(colon + 1);
  if (out.path == "-") out.path.clear();
  if (colon != std::string::npos && value.size() == colon + 1) {
    return "--report " + value + ": missing path after ':'";
  }
  return "";
}

std::string iso_timestamp(model::Timestamp time) {
  if (time == model::kNoTime) return "";
  std::int64_t seconds = time / model::kMicrosPerSecond;
  std::int64_t micros = time % model::kMicrosPerSecond;
  if (micros < 0) {
    micros += model::kMicrosPerSecond;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buffer;
}

}  // namespace pgsift::cli::report
