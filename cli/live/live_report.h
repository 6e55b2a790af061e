// The end of a live run (watch, statements): the findings gathered,
// rendered by the report table of `pgsift analyze` (cli/report/reporters.h,
// --report FORMAT[:PATH]), with its --fail-on rule and exit codes, so a
// watch report has the same shape as an analyze report.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/report/report.h"
#include "cli/report/reporters.h"

namespace pgsift::cli::live {

/// Report options the live commands share with analyze.
struct ReportOptions {
  std::vector<std::string> reports;  // FORMAT[:PATH]; none = text to stdout
  std::string fail_on = "warning";   // info, warning, error, never
  std::string color = "auto";
  bool show_values = false;
};

/// Binds --report, --fail-on, --show-values and --color as analyze does.
void add_report_options(CLI::App& sub, ReportOptions& options);

/// Binds the CONNINFO argument of the live commands.
void add_conninfo_argument(CLI::App& sub, std::string& conninfo);

/// Accepts what live::parse_duration reads ("250ms", "2s", "1m").
CLI::Validator duration_validator();

/// Parses the --report values (report::parse_report_target); "" or a
/// one-line error. Call before connecting, so a typo fails fast.
std::string resolve_reports(const ReportOptions& options,
                            std::vector<report::ReportTarget>& targets);

/// True when a machine format goes to stdout, so live progress lines must go
/// to stderr instead.
bool report_owns_stdout(const std::vector<report::ReportTarget>& targets);

/// Aggregates equal ids (analysis::FindingCollector, as analyze does), sorts,
/// renders every target and returns the exit code: 1 when a finding reaches
/// --fail-on, 2 when a file cannot be written.
ExitCode write_live_report(report::Report report, const ReportOptions& options,
                           const std::vector<report::ReportTarget>& targets, CommandIo io);

}  // namespace pgsift::cli::live
