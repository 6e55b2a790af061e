#include "cli/live/live_report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

// The report formats are the analyze pipeline's (cli/report/reporters.h).
// Until that table is part of the build, text and JSON are rendered here in
// the same shape (JSON schema_version 1, see pgsift(1)).
#if __has_include("cli/report/reporters.h")
#include "cli/report/reporters.h"
#define PGSIFT_LIVE_SHARED_REPORTERS 1
#else
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#endif

namespace pgsift::cli::live {

namespace {

// Equal ids are one problem seen several times: keep the latest details,
// count occurrences, widen first/last seen, keep the worst severity.
std::vector<core::Finding> aggregate(std::vector<core::Finding> findings) {
  std::vector<core::Finding> out;
  std::map<std::string, std::size_t> index;
  for (auto& f : findings) {
    auto [it, inserted] = index.try_emplace(f.id, out.size());
    if (inserted) {
      out.push_back(std::move(f));
      continue;
    }
    core::Finding& kept = out[it->second];
    const std::uint64_t occurrences = kept.occurrences + f.occurrences;
    const model::Timestamp first = std::min(kept.first_seen, f.first_seen);
    const model::Timestamp last = std::max(kept.last_seen, f.last_seen);
    const core::Severity severity = std::max(kept.severity, f.severity);
    kept = std::move(f);
    kept.occurrences = occurrences;
    kept.first_seen = first;
    kept.last_seen = last;
    kept.severity = severity;
  }
  std::sort(out.begin(), out.end(), [](const core::Finding& a, const core::Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.rule != b.rule) return a.rule < b.rule;
    return a.id < b.id;
  });
  return out;
}

#ifdef PGSIFT_LIVE_SHARED_REPORTERS

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const report::ReporterEntry& entry : report::reporter_table()) names.emplace_back(entry.name);
  return names;
}

void render(const std::string& format, report::Report& report, std::ostream& out) {
  report::find_reporter(format)->render(report, out);
}

#else

std::vector<std::string> format_names() { return {"text", "json"}; }

std::string iso_time(model::Timestamp time) {
  if (time == model::kNoTime) return "";
  std::int64_t seconds = time / model::kMicrosPerSecond, micros = time % model::kMicrosPerSecond;
  if (micros < 0) micros += model::kMicrosPerSecond, --seconds;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buffer;
}

nlohmann::ordered_json time_or_null(model::Timestamp time) {
  return time == model::kNoTime ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(iso_time(time));
}

void render_json(const report::Report& report, std::ostream& out) {
  using json = nlohmann::ordered_json;
  json inputs = json::array();
  for (const auto& input : report.inputs) {
    inputs.push_back({{"path", input.path}, {"format", input.format}, {"prefix", input.prefix},
                      {"compression", input.compression}, {"bytes", input.bytes},
                      {"lines", input.lines}, {"records", input.records},
                      {"statements", input.statements}, {"noise_lines", input.noise_lines},
                      {"skipped_lines", input.skipped_lines},
                      {"first_skipped_line", input.first_skipped_line},
                      {"truncated", input.truncated}, {"warnings", input.warnings}});
  }
  json findings = json::array();
  for (const auto& f : report.findings) {
    json sessions = json::array();
    for (const auto& s : f.sessions) {
      sessions.push_back({{"pid", s.pid}, {"session_id", s.session_id}, {"user", s.user},
                          {"database", s.database}, {"application_name", s.application}});
    }
    json evidence = json::array();
    for (const auto& e : f.evidence) {
      json item = {{"role", e.role}, {"file", report::input_path(report, e.input)},
                   {"line", e.line}, {"timestamp", time_or_null(e.time)}, {"pid", e.pid},
                   {"sql", e.sql},
                   {"duration_ms", e.duration_ms < 0 ? json(nullptr) : json(e.duration_ms)}};
      if (report.show_values) item["values"] = e.values;
      evidence.push_back(std::move(item));
    }
    findings.push_back({{"rule", f.rule}, {"severity", core::to_string(f.severity)}, {"id", f.id},
                        {"message", f.message}, {"help", f.help}, {"sessions", sessions},
                        {"evidence", evidence}, {"details", json::parse(f.details.dump())},
                        {"occurrences", f.occurrences}, {"first_seen", time_or_null(f.first_seen)},
                        {"last_seen", time_or_null(f.last_seen)}});
  }
  json document = {{"schema_version", 1}, {"inputs", inputs}, {"findings", findings},
                   {"notes", report.notes}};
  out << document.dump(2) << '\n';
}

void render_text(const report::Report& report, std::ostream& out) {
  for (const auto& f : report.findings) {
    const core::Evidence* where = f.evidence.empty() ? nullptr : &f.evidence.front();
    out << report::input_path(report, where != nullptr ? where->input : 0);
    if (where != nullptr && where->line > 0) out << ':' << where->line;
    out << ": " << core::to_string(f.severity) << ": " << f.message << " [" << f.rule << "]\n";
    for (const auto& e : f.evidence) {
      if (!e.sql.empty()) out << "  " << e.role << ": " << e.sql << '\n';
    }
    if (!f.help.empty()) out << "  help: " << f.help << '\n';
  }
  for (const auto& note : report.notes) out << "note: " << note << '\n';
}

void render(const std::string& format, report::Report& report, std::ostream& out) {
  if (format == "json")
    render_json(report, out);
  else
    render_text(report, out);
}

#endif

bool use_color(const std::string& mode, const std::ostream& out) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace

void add_report_options(CLI::App& sub, ReportOptions& options) {
  std::string names;
  for (const auto& name : format_names()) names += (names.empty() ? "" : ", ") + name;
  sub.add_option("--report", options.reports,
                 "Report FORMAT[:PATH] written on exit, repeatable; formats: " + names +
                     " (default: text)")
      ->group("Output");
  sub.add_option("--fail-on", options.fail_on,
                 "Exit 1 when a finding at or above this severity exists: info, warning, error, "
                 "never (default: warning)")
      ->check(CLI::IsMember({"info", "warning", "error", "never"}))
      ->group("Output");
  sub.add_flag("--show-values", options.show_values,
               "Show literal and parameter values (redacted by default)")
      ->group("Output");
  sub.add_option("--color", options.color, "Colour: auto (a TTY without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->group("Output");
}

std::string resolve_reports(const ReportOptions& options, std::vector<ReportTarget>& targets) {
  std::vector<std::string> values = options.reports;
  if (values.empty()) values.push_back("text");
  const std::vector<std::string> names = format_names();
  targets.clear();
  for (const std::string& value : values) {
    const auto colon = value.find(':');
    ReportTarget target{value.substr(0, colon), colon == std::string::npos ? "" : value.substr(colon + 1)};
    if (std::find(names.begin(), names.end(), target.format) == names.end()) {
      std::string known;
      for (const auto& name : names) known += (known.empty() ? "" : ", ") + name;
      return "unknown report format '" + target.format + "' (formats: " + known + ")";
    }
    if (colon != std::string::npos && target.path.empty())
      return "--report " + value + ": missing path after ':'";
    if (target.path == "-") target.path.clear();
    targets.push_back(std::move(target));
  }
  return "";
}

bool report_owns_stdout(const std::vector<ReportTarget>& targets) {
  return std::any_of(targets.begin(), targets.end(),
                     [](const ReportTarget& t) { return t.path.empty() && t.format != "text"; });
}

ExitCode write_live_report(report::Report report, const ReportOptions& options,
                           const std::vector<ReportTarget>& targets, CommandIo io) {
  report.findings = aggregate(std::move(report.findings));
  report.show_values = options.show_values;
  (void)use_color;
  for (const ReportTarget& target : targets) {
#ifdef PGSIFT_LIVE_SHARED_REPORTERS
    report.color = target.path.empty() && target.format == "text" && use_color(options.color, io.out);
#endif
    if (target.path.empty()) {
      render(target.format, report, io.out);
      io.out.flush();
      continue;
    }
    std::ofstream file(target.path, std::ios::binary | std::ios::trunc);
#ifdef PGSIFT_LIVE_SHARED_REPORTERS
    report.color = false;
#endif
    if (file) render(target.format, report, file);
    if (!file || !file.flush()) {
      print_error(io.err, "cannot write '" + target.path + "'");
      return ExitCode::cannot_run;
    }
  }
  if (options.fail_on == "never") return ExitCode::ok;
  const core::Severity threshold =
      core::severity_from_string(options.fail_on).value_or(core::Severity::warning);
  const bool failing = std::any_of(report.findings.begin(), report.findings.end(),
                                   [&](const core::Finding& f) { return f.severity >= threshold; });
  return failing ? ExitCode::findings : ExitCode::ok;
}

}  // namespace pgsift::cli::live
