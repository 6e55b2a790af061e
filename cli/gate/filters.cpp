#include "cli/gate/filters.h"

#include <algorithm>
#include <cstdio>

#include "analyzers/sql/statement.h"

namespace pgsift::cli::gate {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// "audit_log" matches "audit_log" and "app.audit_log"; "app.audit_log" only itself.
bool table_matches(const std::string& wanted, const std::string& table) {
  const std::string w = lower(wanted), t = lower(table);
  if (w == t) return true;
  return w.find('.') == std::string::npos && t.size() > w.size() && t.compare(t.size() - w.size(), w.size(), w) == 0 &&
         t[t.size() - w.size() - 1] == '.';
}

std::string hex16(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

bool statements_match(const config::IgnoreEntry& entry, const core::Finding& finding) {
  if (entry.table.empty() && entry.fingerprint.empty()) return true;
  for (const auto& evidence : finding.evidence) {
    if (evidence.sql.empty()) continue;
    const sql::Parsed parsed = sql::parse(evidence.sql);
    if (!parsed.shape) continue;
    for (const auto& statement : parsed.shape->statements) {
      const bool table_ok =
          entry.table.empty() || std::any_of(statement.tables.begin(), statement.tables.end(),
                                             [&](const sql::TableAccess& t) { return table_matches(entry.table, t.name); });
      const bool fingerprint_ok = entry.fingerprint.empty() || hex16(statement.fingerprint) == entry.fingerprint;
      if (table_ok && fingerprint_ok) return true;
    }
  }
  return false;
}

bool sessions_match(const config::IgnoreEntry& entry, const core::Finding& finding) {
  if (entry.application.empty() && entry.user.empty() && entry.database.empty()) return true;
  return std::any_of(finding.sessions.begin(), finding.sessions.end(), [&](const core::SessionRef& s) {
    return (entry.application.empty() || entry.application == s.application) &&
           (entry.user.empty() || entry.user == s.user) && (entry.database.empty() || entry.database == s.database);
  });
}

template <typename Drop>
void drop_findings(report::Report& report, Drop drop) {
  const auto before = report.findings.size();
  report.findings.erase(std::remove_if(report.findings.begin(), report.findings.end(), drop), report.findings.end());
  report.suppressed += before - report.findings.size();
}

}  // namespace

bool ignore_matches(const config::IgnoreEntry& entry, const core::Finding& finding) {
  if (!entry.id.empty() && entry.id != finding.id) return false;
  if (!entry.rule.empty() && entry.rule != finding.rule) return false;
  return sessions_match(entry, finding) && statements_match(entry, finding);
}

void apply_ignores(const std::vector<config::IgnoreEntry>& ignores, report::Report& report) {
  if (ignores.empty()) return;
  drop_findings(report, [&](const core::Finding& finding) {
    return std::any_of(ignores.begin(), ignores.end(),
                       [&](const config::IgnoreEntry& entry) { return ignore_matches(entry, finding); });
  });
}

void apply_inline_suppressions(const core::SuppressionIndex& index, report::Report& report) {
  if (index.locations() == 0) return;
  drop_findings(report, [&](const core::Finding& finding) { return index.suppresses(finding); });
}

void apply_severities(const config::Config& config, report::Report& report) {
  for (auto& finding : report.findings) {
    if (const auto severity = config.severity_of(finding.rule)) finding.severity = *severity;
  }
}

}  // namespace pgsift::cli::gate
