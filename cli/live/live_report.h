// The end of a live run: the findings gathered, rendered with the same
// reporters and exit-code rule as `pgsift analyze`.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/report/report.h"

namespace pgsift::cli::live {

/// Report options the live commands share with analyze.
struct ReportOptions {
  std::string format = "text";   // a reporter name: text, json, ...
  std::string output;            // file; "" or "-" = stdout
  std::string fail_on = "warning";
  bool exit_zero = false;
  bool show_values = false;
};

/// Binds --format, -o/--output, --fail-on, --exit-zero, --show-values.
void add_report_options(CLI::App& sub, ReportOptions& options);

/// Sorts, aggregates equal ids, renders and returns the exit code:
/// findings at or above --fail-on -> 1 (unless --exit-zero), else 0;
/// an unwritable output file -> 2.
ExitCode write_live_report(report::Report report, const ReportOptions& options, CommandIo io);

/// True when findings go to stdout in a machine format, so live progress
/// lines must go to stderr instead.
bool report_owns_stdout(const ReportOptions& options);

}  // namespace pgsift::cli::live
