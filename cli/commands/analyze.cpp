// `pgsift analyze LOG...`: runs the analysis pipeline on log files and writes
// the report in one or more formats; exit 1 when a finding reaches --fail-on.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/analysis/pipeline.h"
#include "cli/command.h"
#include "cli/gate/analyze_gate.h"
#include "cli/live/follow_analyze.h"
#include "cli/live/live_common.h"
#include "cli/live/live_report.h"
#include "cli/report/reporters.h"

namespace pgsift::cli {

namespace {

struct AnalyzeOptions {
  analysis::AnalysisRequest request;
  std::vector<std::string> reports;
  std::string fail_on = "warning";
  std::string color = "auto";
  // Gate (config file, baseline, budgets): cli/gate/analyze_gate.h.
  gate::GateFlags gate_flags;
  live::FollowRequest follow;  // --follow, --duration: cli/live/follow_analyze.h
  std::function<bool(const std::string&)> given;  // was this flag on the command line?
};

bool use_color(const std::string& mode, const std::ostream& out) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  // https://no-color.org: any non-empty NO_COLOR disables colour.
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return &out == &std::cout && isatty(STDOUT_FILENO) == 1;
}

std::string plural(std::uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void print_summary(const analysis::AnalysisResult& result, std::ostream& err) {
  std::uint64_t counts[3] = {0, 0, 0};
  for (const core::Finding& finding : result.report.findings) ++counts[static_cast<int>(finding.severity)];
  std::uint64_t statements = 0, skipped = 0;
  for (const input::InputSummary& input : result.report.inputs) {
    statements += input.statements;
    skipped += input.skipped_lines;
  }
  err << "pgsift: " << plural(result.report.findings.size(), "finding") << " ("
      << plural(counts[2], "error") << ", " << plural(counts[1], "warning") << ", " << counts[0]
      << " info) in " << plural(result.report.inputs.size(), "input") << ": "
      << plural(statements, "statement") << ", " << plural(result.stats.sessions, "session");
  if (skipped > 0) err << "; " << plural(skipped, "unreadable line") << " skipped";
  err << '\n';
}

ExitCode write_reports(const AnalyzeOptions& options, report::Report& report, CommandIo io) {
  std::vector<std::string> values = options.reports;
  if (values.empty()) values.push_back("text");
  std::vector<report::ReportTarget> targets;
  for (const std::string& value : values) {
    report::ReportTarget target;
    const std::string error = report::parse_report_target(value, target);
    if (!error.empty()) {
      print_error(io.err, error);
      return ExitCode::cannot_run;
    }
    targets.push_back(target);
  }
  for (const report::ReportTarget& target : targets) {
    if (target.path.empty()) {
      report.color = target.reporter->name == "text" && use_color(options.color, io.out);
      target.reporter->render(report, io.out);
      continue;
    }
    std::ofstream file(target.path, std::ios::binary | std::ios::trunc);
    if (!file) {
      print_error(io.err, "cannot write '" + target.path + "'");
      return ExitCode::cannot_run;
    }
    report.color = false;
    target.reporter->render(report, file);
    if (!file.flush()) {
      print_error(io.err, "cannot write '" + target.path + "'");
      return ExitCode::cannot_run;
    }
  }
  return ExitCode::ok;
}

ExitCode run_analyze(AnalyzeOptions& options, CommandIo io) {
  // Gate: configuration fills in what the flags left unset.
  gate::GatePlan plan;
  if (const std::string error = gate::prepare_gate(options.gate_flags, options.given, options.request,
                                                   options.fail_on, plan);
      !error.empty()) {
    print_error(io.err, error);
    return ExitCode::cannot_run;
  }
  options.request.process_exits = io.process_exits;
  analysis::AnalysisResult result =
      options.follow.enabled
          ? live::follow_analyze(options.request, options.follow,
                                 live::live_lines_stream(options.reports, io), io.err)
          : analysis::analyze_logs(options.request, io.err);
  if (!result.error.empty()) {
    print_error(io.err, result.error);
    return ExitCode::cannot_run;
  }
  if (options.request.input.strict) {
    for (const input::InputSummary& input : result.report.inputs) {
      if (input.skipped_lines > 0) {
        print_error(io.err, input.path + ":" + std::to_string(input.first_skipped_line) +
                                ": unreadable line (--strict; " +
                                plural(input.skipped_lines, "line") + " skipped in all)");
        return ExitCode::cannot_run;
      }
    }
  }
  // Gate: severities, ignores, baseline before any report is written.
  if (const std::string error = gate::filter_report(plan, result.report, io.err); !error.empty()) {
    print_error(io.err, error);
    return ExitCode::cannot_run;
  }
  const ExitCode written = write_reports(options, result.report, io);
  if (written != ExitCode::ok) return written;
  print_summary(result, io.err);
  // Gate: --write-baseline records and passes; otherwise --fail-on with budgets.
  if (result.report.suppressed > 0 || result.report.baselined > 0) {
    io.err << "pgsift: " << result.report.suppressed << " suppressed, " << result.report.baselined
           << " baselined\n";
  }
  if (!plan.write_baseline.empty()) return ExitCode::ok;
  const gate::GateResult decision = gate::evaluate_gate(result.report, plan.threshold, plan.budgets);
  return decision.fail ? ExitCode::findings : ExitCode::ok;
}

std::string format_list() {
  std::string names;
  for (const report::ReporterEntry& entry : report::reporter_table()) {
    names += (names.empty() ? "" : ", ") + std::string(entry.name);
  }
  return names;
}

CommandRunner setup_analyze(CLI::App& sub, CommandIo io) {
  auto options = std::make_shared<AnalyzeOptions>();
  analysis::AnalysisRequest& request = options->request;
  sub.add_option("logs", request.paths, "Log files, directories or '-' for stdin")
      ->required()
      ->type_name("LOG...");
  sub.add_option("--format", request.input.format,
                 "Input format: stderr, csvlog, jsonlog, syslog, cloudsql, cnpg (default: detect)")
      ->group("Input");
  sub.add_option("--prefix", request.input.prefix,
                 "log_line_prefix of stderr/syslog logs (default: detect)")
      ->group("Input");
  sub.add_flag("--strict", request.input.strict, "Exit 2 when any line cannot be read")
      ->group("Input");
  CLI::Option* follow =
      sub.add_flag("--follow", options->follow.enabled,
                   "Keep following the log like tail -F (rotation, truncation) and print findings "
                   "as they come; Ctrl-C or --duration ends it with the report")
          ->group("Input");
  sub.add_option("--duration", options->follow.duration,
                 "With --follow: stop after this long (250ms, 30s, 5m; default: Ctrl-C)")
      ->check(live::duration_validator())
      ->needs(follow)
      ->group("Input");
  sub.add_option("--schema", request.schema_files,
                 "DDL file (pg_dump --schema-only or migrations) with keys and constraints; "
                 "repeatable")
      ->group("Input");
  sub.add_option("--schema-from", request.schema_conninfo,
                 "Read keys and constraints from this database (read-only catalog queries)")
      ->group("Input");
  sub.add_option("-j,--jobs", request.jobs,
                 "Threads: 1 reads and analyses on one thread; 2 reads on a second thread "
                 "(both cores busy); 0 = one per core, at most 2 (default: 1)")
      ->group("Input");
  sub.add_option("--rules", request.rules,
                 "Rules to run: comma list of ids, 'all', '-id' excludes (default: all)")
      ->group("Selection");
  sub.add_option("-o,--option", request.options,
                 "Rule option RULE.KEY=VALUE, e.g. n-plus-one.min-repetitions=5; "
                 "session.unit-gap-ms=N, session.max-unit-statements=N (see 'pgsift rules ID')")
      ->group("Selection");
  sub.add_option("--report", options->reports,
                 "Report FORMAT[:PATH], repeatable; formats: " + format_list() + " (default: text)")
      ->group("Output");
  sub.add_flag("--show-values", request.show_values,
               "Show literal and parameter values (redacted by default)")
      ->group("Output");
  sub.add_option("--color", options->color, "Colour: auto (a TTY without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->group("Output");
  sub.add_option("--fail-on", options->fail_on,
                 "Exit 1 when a finding at or above this severity exists: info, warning, error, "
                 "never (default: warning)")
      ->check(CLI::IsMember({"info", "warning", "error", "never"}))
      ->group("Output");
  gate::bind_gate_flags(sub, options->gate_flags);
  options->given = [&sub](const std::string& flag) { return sub.count(flag) > 0; };
  return [options, io]() { return run_analyze(*options, io); };
}

}  // namespace

CommandSpec analyze_command() {
  return {"analyze", "Find problems in PostgreSQL logs (N+1 loops, idle transactions, locks...)",
          "Log analysis", &setup_analyze};
}

}  // namespace pgsift::cli
