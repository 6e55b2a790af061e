// Markdown: a table of counts per rule, then each finding with its location,
// query and help. Used as the `markdown` format and as the GitHub step
// summary, which GitHub caps at 1 MiB per step: findings beyond kMaxListed
// are counted, not listed.
#include <map>

#include "cli/report/ci_common.h"
#include "cli/report/ci_reports.h"

namespace pgsift::cli::report {

namespace {

constexpr std::size_t kMaxListed = 200;
constexpr std::size_t kMaxSqlChars = 2000;

// Text inside a table cell or heading: no line breaks, no column separators,
// no accidental markup.
std::string inline_text(std::string_view text) {
  std::string out;
  for (const char ch : one_line(valid_utf8(text))) {
    if (ch == '|' || ch == '\\' || ch == '`' || ch == '*' || ch == '_' || ch == '<' || ch == '>' ||
        ch == '[' || ch == ']') {
      out.push_back('\\');
    }
    out.push_back(ch);
  }
  return out;
}

// A fence longer than any backtick run inside the code.
std::string fence_for(std::string_view code) {
  std::size_t longest = 0, run = 0;
  for (const char ch : code) {
    run = ch == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

void write_finding(const Report& report, const core::Finding& finding, std::ostream& out) {
  const CiLocation location = primary_location(report, finding);
  out << "### " << core::to_string(finding.severity) << ": " << inline_text(finding.message) << "\n\n";
  out << "- rule: [`" << finding.rule << "`](" << rule_doc_url(finding.rule) << ")\n";
  out << "- location: `" << valid_utf8(one_line(location.path)) << ':' << location.line << "`\n";
  out << "- id: `" << finding.id << "`\n";
  if (finding.occurrences > 1) out << "- occurrences: " << finding.occurrences << '\n';
  for (const CiLocation& other : related_locations(report, finding)) {
    out << "- " << inline_text(other.label) << ": `" << valid_utf8(one_line(other.path)) << ':' << other.line
        << "`\n";
  }
  if (!finding.evidence.empty() && !finding.evidence.front().sql.empty()) {
    std::string sql = valid_utf8(finding.evidence.front().sql);
    if (sql.size() > kMaxSqlChars) sql = valid_utf8(sql.substr(0, kMaxSqlChars)) + " ...";
    const std::string fence = fence_for(sql);
    out << '\n' << fence << "sql\n" << sql << '\n' << fence << '\n';
    if (report.show_values && !finding.evidence.front().values.empty()) {
      out << "\nvalues:";
      for (const auto& value : finding.evidence.front().values) out << " `" << valid_utf8(one_line(value)) << '`';
      out << '\n';
    }
  }
  if (!finding.help.empty()) out << "\n**help:** " << inline_text(finding.help) << '\n';
  out << '\n';
}

}  // namespace

void write_markdown(const Report& report, std::ostream& out) {
  const SeverityCounts total = count_by_severity(report.findings);
  out << "## pgsift\n\n";
  out << report.findings.size() << " finding" << (report.findings.size() == 1 ? "" : "s") << " (" << total.error
      << " error, " << total.warning << " warning, " << total.info << " info)";
  out << "; " << report.suppressed << " suppressed, " << report.baselined << " baselined";
  if (!report.stale_baseline_ids.empty()) out << ", " << report.stale_baseline_ids.size() << " stale baseline entries";
  out << ".\n\n";

  std::map<std::string, SeverityCounts> per_rule;
  for (const auto& info : report_rules(report)) per_rule[std::string(info.id)];
  for (const auto& finding : report.findings) {
    auto& counts = per_rule[finding.rule];
    switch (finding.severity) {
      case core::Severity::info: ++counts.info; break;
      case core::Severity::warning: ++counts.warning; break;
      case core::Severity::error: ++counts.error; break;
    }
  }
  out << "| rule | error | warning | info |\n|---|---:|---:|---:|\n";
  for (const auto& [rule, counts] : per_rule) {
    out << "| [`" << rule << "`](" << rule_doc_url(rule) << ") | " << counts.error << " | " << counts.warning << " | "
        << counts.info << " |\n";
  }
  out << '\n';

  if (!report.inputs.empty()) {
    out << "Inputs:";
    for (const auto& input : report.inputs) {
      out << " `" << valid_utf8(one_line(input.path)) << "` (" << input.lines << " lines)";
    }
    out << "\n\n";
  }
  for (const auto& note : report.notes) out << "> " << inline_text(note) << "\n\n";

  std::size_t listed = 0;
  for (const auto& finding : report.findings) {
    if (listed == kMaxListed) break;
    write_finding(report, finding, out);
    ++listed;
  }
  if (listed < report.findings.size()) {
    out << "...and " << report.findings.size() - listed << " more, see the JSON or SARIF report.\n\n";
  }
  if (!report.stale_baseline_ids.empty()) {
    out << "Stale baseline entries (no longer found; remove them with `--write-baseline`):\n\n";
    for (const auto& id : report.stale_baseline_ids) out << "- `" << valid_utf8(one_line(id)) << "`\n";
    out << '\n';
  }
}

}  // namespace pgsift::cli::report
