// The analysis pipeline behind `pgsift analyze`: read_logs -> session tracker
// -> rules -> FindingCollector -> Report. No rendering and no exit codes here,
// so other commands (and later filters: config, suppressions, baselines) can
// reuse it.
#pragma once

#include <memory>
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
  /// the SQL when the analysis falls behind) on a second thread; 0 picks 2
  /// when the machine has 2 cores.
  /// One by default: two threads are about 1.6x faster on the benchmark
  /// machine (1.0-2.1x from one minute of its VM to the next) but keep
  /// both cores busy (README, Performance).
  unsigned jobs = 1;
  /// The process exits once the report is out (the CLI's analyze): the
  /// working state (sessions, statement shapes, rule tables) is then left for
  /// the operating system to reclaim at exit instead of freed object by object
  /// (~2 ms on the benchmark log), as compilers do with their ASTs. It stays
  /// reachable, so leak checkers do not report it.
  bool process_exits = false;
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

/// Analyses whose working state was kept for the exit (process_exits).
std::size_t retired_analyses();

/// The rules of a request (selection, options, schema) driven by a session
/// tracker that reports to a sink: what analyze_logs sets up before reading,
/// for drivers that feed events themselves (follow mode, cli/live/). Rules
/// keep the schema's address, so a RuleRun never moves.
struct RuleRun {
  RuleRun() = default;
  RuleRun(const RuleRun&) = delete;
  RuleRun& operator=(const RuleRun&) = delete;
  std::vector<const core::RuleEntry*> selected;
  core::Schema schema;
  std::unique_ptr<session::SessionTracker> tracker;
  std::vector<std::unique_ptr<core::Rule>> rules;
};

/// Fills `run` from `request`; "" or a one-line error (bad rule, option, schema).
std::string prepare_rules(const AnalysisRequest& request, core::FindingSink& sink, RuleRun& run,
                          std::ostream& err);

/// Notes on what the log's settings hide from the rules (after tracker finish()).
void add_coverage_notes(const model::LogCoverage& coverage,
                        const std::vector<const core::RuleEntry*>& rules,
                        std::vector<std::string>& notes);

}  // namespace pgsift::cli::analysis
