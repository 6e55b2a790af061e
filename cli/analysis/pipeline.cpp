#include "cli/analysis/pipeline.h"
#include "cli/schema/schema_loader.h"

#include <algorithm>
#include <memory>
#include <thread>

#include "cli/analysis/finding_collector.h"
#include "cli/analysis/rule_selection.h"
#include "cli/analysis/threaded_reader.h"
#include "cli/gate/filters.h"

namespace pgsift::cli::analysis {

// Rules that need every statement logged, and what they lose otherwise.
void add_coverage_notes(const model::LogCoverage& coverage,
                        const std::vector<const core::RuleEntry*>& rules,
                        std::vector<std::string>& notes) {
  if (coverage.every_statement) return;
  for (const core::RuleEntry* entry : rules) {
    if (entry->info.id == "idle-in-transaction") {
      notes.push_back("idle-in-transaction: gap analysis unavailable: " + coverage.reason);
    } else if (entry->info.id == "n-plus-one" && coverage.missing_statements) {
      notes.push_back("n-plus-one: repetition counts are lower bounds: " + coverage.reason);
    }
  }
}

namespace {

// Threads for reading: the pipeline has two stages, so more than two
// cannot help.
unsigned reader_threads(unsigned jobs) {
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  return std::min(jobs, 2u);
}

}  // namespace

std::string prepare_rules(const AnalysisRequest& request, core::FindingSink& sink, RuleRun& run,
                          std::ostream& err) {
  std::string error = select_rules(request.rules, run.selected);
  if (!error.empty()) return error;
  RuleOptions options;
  error = parse_rule_options(request.options, options);
  if (!error.empty()) return error;
  session::TrackerOptions tracker_options;
  error = session::TrackerOptions::from_options(options.session, tracker_options);
  if (!error.empty()) return error;
  run.tracker = std::make_unique<session::SessionTracker>(tracker_options, sink);
  if (!request.schema_files.empty()) {
    error = schema::load_schema_files(request.schema_files, run.schema, err);
    if (!error.empty()) return error;
  }
  if (!request.schema_conninfo.empty()) {
    error = schema::load_schema_from_database(request.schema_conninfo, run.schema);
    if (!error.empty()) return error;
  }
  for (const core::RuleEntry* entry : run.selected) {
    core::RuleContext context;
    context.options = options.of(entry->info.id);
    context.schema = &run.schema;
    context.coverage = &run.tracker->coverage();
    run.rules.push_back(entry->make(context));
    run.tracker->add_rule(run.rules.back().get());
  }
  return "";
}

namespace {

// What analyze_logs works with: freed on return, or kept until the process
// exits (AnalysisRequest::process_exits).
struct WorkingState {
  FindingCollector collector;
  RuleRun run;
  core::SuppressionIndex suppressions;
};

// Reachable from a global, so leak checkers see retired state as in use.
std::vector<std::unique_ptr<WorkingState>>* g_retired = nullptr;

struct RetireOnReturn {
  std::unique_ptr<WorkingState>& state;
  bool retire;
  ~RetireOnReturn() {
    if (!retire) return;
    if (g_retired == nullptr) g_retired = new std::vector<std::unique_ptr<WorkingState>>();
    g_retired->push_back(std::move(state));
  }
};

}  // namespace

std::size_t retired_analyses() { return g_retired == nullptr ? 0 : g_retired->size(); }

AnalysisResult analyze_logs(const AnalysisRequest& request, std::ostream& err) {
  AnalysisResult result;
  auto state = std::make_unique<WorkingState>();
  const RetireOnReturn retire{state, request.process_exits};
  FindingCollector& collector = state->collector;
  RuleRun& run = state->run;
  result.error = prepare_rules(request, collector, run, err);
  if (!result.error.empty()) return result;
  const std::vector<const core::RuleEntry*>& selected = run.selected;
  session::SessionTracker& tracker = *run.tracker;
  for (const core::RuleEntry* entry : selected) {
    result.rules_run.emplace_back(entry->info.id);
    result.report.rules.push_back(entry->info);
  }

  // Inline `pgsift:ignore` comments are dropped from normalized SQL, so the
  // raw text of each event is looked at as it streams by (gate).
  core::SuppressionIndex& suppressions = state->suppressions;
  // Each event is spent once analysed (with two threads it is the consumer's
  // own copy), so the tracker takes its strings instead of copying them.
  const input::EventHandler analyse = [&tracker, &suppressions](model::Event& event) {
    suppressions.observe(event);
    tracker.consume_event(event);
  };
  if (reader_threads(request.jobs) > 1) {
    result.error = read_logs_threaded(request.paths, request.input, analyse, result.report.inputs, err);
  } else {
    result.error = input::read_logs(request.paths, request.input, analyse, result.report.inputs, err);
  }
  if (!result.error.empty()) return result;
  tracker.finish();

  result.stats = tracker.stats();
  result.report.findings = collector.take_sorted();
  result.report.show_values = request.show_values;
  add_coverage_notes(tracker.coverage(), selected, result.report.notes);
  gate::apply_inline_suppressions(suppressions, result.report);
  return result;
}

}  // namespace pgsift::cli::analysis
