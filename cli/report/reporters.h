// The table of report formats for `--report FORMAT[:PATH]`. One row per
// format; text and json are defined in this folder, the gate formats (sarif,
// junit, codeclimate, github, markdown) add their rows in reporters.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/report/report.h"

namespace pgsift::cli::report {

struct ReporterEntry {
  std::string_view name;     // "text", "json", ...
  std::string_view summary;  // one line for --help
  Reporter render;
};

/// All formats, in --help order.
const std::vector<ReporterEntry>& reporter_table();
/// The format called `name`, or nullptr.
const ReporterEntry* find_reporter(std::string_view name);

void render_text(const Report& report, std::ostream& out);
void render_json(const Report& report, std::ostream& out);

/// "2024-05-01T10:00:00.123456Z"; "" for kNoTime.
std::string iso_timestamp(model::Timestamp time);

/// One `--report` value: "json" or "json:out/report.json" (PATH "-" = stdout).
struct ReportTarget {
  const ReporterEntry* reporter = nullptr;
  std::string path;  // "" = stdout
};
/// Parses a `--report` value; returns "" or a one-line error.
std::string parse_report_target(const std::string& value, ReportTarget& out);

}  // namespace pgsift::cli::report
