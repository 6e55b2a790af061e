// The analysis pipeline behind `pgsift analyze`: read_logs -> session tracker
// -> rules -> FindingCollector -> Report. No rendering and no exit codes here,
// so other commands (and later filters: config, suppressions, baselines) can
// reuse it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/session/session_tracker.h"
#include "cli/input/log_source.h"
#include "cli/report/report.h"

namespace pgsift::cli::analysis {

struct AnalysisRequest {
  std::vector<std::string> paths;
  input::InputOptions input;
  std::vector<std::string> rules;    // --rules values (comma lists)
  std::vector<std::string> options;  // --option RULE.KEY=VALUE values
  bool show_values = false;
  std::vector<std::string> schema_files;  // --schema FILE (DDL), repeatable
  std::string schema_conninfo;            // --schema-from CONNINFO (catalog, read-only)
  /// --jobs: 1 reads and analyses on one thread; 2 or more read (and parse
  /// the SQL) on a second thread; 0 picks 2 when the machine has 2 cores.
  unsigned jobs = 0;
};

struct AnalysisResult {
  /// "" on success; else a one-line error (bad option, unreadable input).
  std::string error;
  report::Report report;
  session::TrackerStats stats;
  std::vector<std::string> rules_run;
};

/// Runs the whole analysis. Input warnings go to `err` as they happen.
AnalysisResult analyze_logs(const AnalysisRequest& request, std::ostream& err);

}  // namespace pgsift::cli::analysis
