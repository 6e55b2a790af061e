// The end of a live run: the findings gathered, rendered with the same
// reporters (--report FORMAT[:PATH]), --fail-on rule and exit codes as
// `pgsift analyze`.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/report/report.h"

namespace pgsift::cli::live {

/// One --report target: a format and a path ("" = stdout).
struct ReportTarget {
  std::string format;
  std::string path;
};

/// Report options the live commands share with analyze.
struct ReportOptions {
  std::vector<std::string> reports;  // FORMAT[:PATH]; none = text to stdout
  std::string fail_on = "warning";   // info, warning, error, never
  std::string color = "auto";
  bool show_values = false;
};

/// Binds --report, --fail-on, --show-values and --color as analyze does.
void add_report_options(CLI::App& sub, ReportOptions& options);

/// Parses the --report values; "" or a one-line error. Call before
/// connecting, so a typo fails fast.
std::string resolve_reports(const ReportOptions& options,
                            std::vector<ReportTarget>& targets);

/// True when a machine format goes to stdout, so live progress lines must go
/// to stderr instead.
bool report_owns_stdout(const std::vector<ReportTarget>& targets);

/// Aggregates equal ids, sorts, renders every target and returns the exit
/// code: 1 when a finding reaches --fail-on, 2 when a file cannot be written.
ExitCode write_live_report(report::Report report, const ReportOptions& options,
                           const std::vector<ReportTarget>& targets, CommandIo io);

}  // namespace pgsift::cli::live
