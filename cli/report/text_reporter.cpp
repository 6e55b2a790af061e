// Compiler-style text: `file:line: severity: message [rule]`, then notes
// pointing at the other evidence, occurrences, and an indented `help:`.
#include <cstdio>
#include <ostream>
#include <string>

#include "cli/report/reporters.h"

namespace pgsift::cli::report {

namespace {

struct Style {
  bool on;
  std::string wrap(const char* code, const std::string& text) const {
    return on ? std::string("\x1b[") + code + "m" + text + "\x1b[0m" : text;
  }
};

const char* severity_colour(core::Severity severity) {
  switch (severity) {
    case core::Severity::error: return "1;31";
    case core::Severity::warning: return "1;35";
    case core::Severity::info: return "1;36";
  }
  return "1";
}

std::string location(const Report& report, const core::Evidence& evidence) {
  std::string text = input_path(report, evidence.input);
  if (evidence.line != 0) text += ":" + std::to_string(evidence.line);
  return text;
}

std::string milliseconds(double ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f ms", ms);
  return buffer;
}

std::string session_text(const core::SessionRef& session) {
  std::string text = "pid " + std::to_string(session.pid);
  if (!session.user.empty() || !session.database.empty()) {
    text += " " + session.user + "@" + session.database;
  }
  if (!session.application.empty()) text += " " + session.application;
  return text;
}

void render_evidence(const Report& report, const core::Evidence& evidence, const Style& style,
                     std::ostream& out) {
  out << style.wrap("1", location(report, evidence) + ":") << ' ' << style.wrap("1;36", "note:")
      << ' ' << evidence.role;
  std::string facts;
  if (evidence.pid != 0) facts += "pid " + std::to_string(evidence.pid);
  if (evidence.duration_ms >= 0) facts += (facts.empty() ? "" : ", ") + milliseconds(evidence.duration_ms);
  if (!facts.empty()) out << " (" << facts << ")";
  if (!evidence.sql.empty()) out << ": " << evidence.sql;
  out << '\n';
  if (report.show_values && !evidence.values.empty()) {
    out << "    values: ";
    for (std::size_t i = 0; i < evidence.values.size(); ++i) {
      out << (i ? ", " : "") << evidence.values[i];
    }
    out << '\n';
  }
}

void render_finding(const Report& report, const core::Finding& finding, const Style& style,
                    std::ostream& out) {
  static const core::Evidence nowhere{};
  const core::Evidence& primary = finding.evidence.empty() ? nowhere : finding.evidence.front();
  out << style.wrap("1", location(report, primary) + ":") << ' '
      << style.wrap(severity_colour(finding.severity), std::string(core::to_string(finding.severity)) + ":")
      << ' ' << style.wrap("1", finding.message) << " [" << finding.rule << "]\n";
  for (const core::Evidence& evidence : finding.evidence) render_evidence(report, evidence, style, out);
  if (!finding.sessions.empty()) {
    out << "    sessions: ";
    for (std::size_t i = 0; i < finding.sessions.size(); ++i) {
      out << (i ? "; " : "") << session_text(finding.sessions[i]);
    }
    out << '\n';
  }
  if (finding.occurrences > 1) {
    out << "    seen " << finding.occurrences << " times, " << iso_timestamp(finding.first_seen)
        << " .. " << iso_timestamp(finding.last_seen) << '\n';
  }
  if (!finding.help.empty()) out << "    " << style.wrap("1;32", "help:") << ' ' << finding.help << '\n';
}

}  // namespace

void render_text(const Report& report, std::ostream& out) {
  const Style style{report.color};
  for (const core::Finding& finding : report.findings) render_finding(report, finding, style, out);
  for (const std::string& note : report.notes) out << "pgsift: note: " << note << '\n';
}

}  // namespace pgsift::cli::report
