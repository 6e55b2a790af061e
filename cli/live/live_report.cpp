#include "cli/live/live_report.h"

#include "cli/live/live_common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/analysis/finding_collector.h"
#include "cli/gate/budget.h"

namespace pgsift::cli::live {

namespace {

// As analyze decides it: --color, NO_COLOR, and whether stdout is a TTY.
bool use_color(const std::string& mode, const std::ostream& out) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace

void add_conninfo_argument(CLI::App& sub, std::string& conninfo) {
  sub.add_option("CONNINFO", conninfo,
                 "libpq URI or key=value string (PG* variables, .pgpass and services apply as in "
                 "psql)");
}

CLI::Validator duration_validator() {
  return CLI::Validator([](std::string& text) { return check_duration(text); }, "DURATION");
}

void add_report_options(CLI::App& sub, ReportOptions& options) {
  std::string names;
  for (const report::ReporterEntry& entry : report::reporter_table())
    names += (names.empty() ? "" : ", ") + std::string(entry.name);
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

std::string resolve_reports(const ReportOptions& options,
                            std::vector<report::ReportTarget>& targets) {
  std::vector<std::string> values = options.reports;
  if (values.empty()) values.push_back("text");
  targets.clear();
  for (const std::string& value : values) {
    report::ReportTarget target;
    if (std::string error = report::parse_report_target(value, target); !error.empty()) return error;
    targets.push_back(target);
  }
  return "";
}

bool report_owns_stdout(const std::vector<report::ReportTarget>& targets) {
  return std::any_of(targets.begin(), targets.end(), [](const report::ReportTarget& t) {
    return t.path.empty() && t.reporter->name != "text";
  });
}

ExitCode write_live_report(report::Report report, const ReportOptions& options,
                           const std::vector<report::ReportTarget>& targets, CommandIo io) {
  analysis::FindingCollector collector;
  for (core::Finding& finding : report.findings) collector.add(std::move(finding));
  report.findings = collector.take_sorted();
  report.show_values = options.show_values;
  for (const report::ReportTarget& target : targets) {
    if (target.path.empty()) {
      report.color = target.reporter->name == "text" && use_color(options.color, io.out);
      target.reporter->render(report, io.out);
      io.out.flush();
      continue;
    }
    report.color = false;
    std::ofstream file(target.path, std::ios::binary | std::ios::trunc);
    if (file) target.reporter->render(report, file);
    if (!file || !file.flush()) {
      print_error(io.err, "cannot write '" + target.path + "'");
      return ExitCode::cannot_run;
    }
  }
  std::optional<core::Severity> threshold;
  if (options.fail_on != "never")
    threshold = core::severity_from_string(options.fail_on).value_or(core::Severity::warning);
  return gate::evaluate_gate(report, threshold, {}).fail ? ExitCode::findings : ExitCode::ok;
}

}  // namespace pgsift::cli::live
