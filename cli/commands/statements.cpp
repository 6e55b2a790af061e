// `pgsift statements CONNINFO`: snapshots pg_stat_statements every
// --interval, prints per-interval deltas (top statements by time and by
// calls) and reports the N+1 pairs the counters reveal (cli/live/statements.h).
// On exit (--count snapshots taken, or Ctrl-C) it writes the same report as
// analyze.
#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "cli/live/live_common.h"
#include "cli/live/live_report.h"
#include "cli/live/statements.h"
#include "cli/live/watch_tracker.h"

namespace pgsift::cli {

namespace {

struct StatementsOptions {
  std::string conninfo;
  std::string interval = "10s";
  int count = 0;  // snapshots; 0 = until Ctrl-C
  int top = 10;
  live::NPlusOneThresholds thresholds;
  live::ReportOptions report;
};

std::string fit(const std::string& text, std::size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

void print_top(const char* title, std::vector<const live::StatementDelta*> rows,
               bool by_time, int top, std::ostream& out) {
  std::sort(rows.begin(), rows.end(), [by_time](const auto* a, const auto* b) {
    if (by_time ? a->total_ms != b->total_ms : a->calls != b->calls)
      return by_time ? a->total_ms > b->total_ms : a->calls > b->calls;
    return a->key < b->key;
  });
  if (rows.size() > static_cast<std::size_t>(top)) rows.resize(static_cast<std::size_t>(top));
  out << "  " << title << ":\n"
      << "    total_ms      calls       rows   mean_ms  database  statement\n";
  char line[160];
  for (const auto* d : rows) {
    std::snprintf(line, sizeof line, "  %10.1f %10lld %10lld %9.3f  ", d->total_ms,
                  static_cast<long long>(d->calls), static_cast<long long>(d->rows), d->mean_ms());
    out << line << d->now->database << "  " << fit(live::normalized_sql(d->now->query), 100)
        << (d->is_new ? "  (new entry)" : "") << '\n';
  }
}

void print_interval(const live::IntervalDeltas& interval, int top, std::ostream& out) {
  char head[160];
  std::snprintf(head, sizeof head, "%.1f s", interval.seconds());
  out << "interval " << live::format_timestamp(interval.from) << " -> "
      << live::format_timestamp(interval.to) << " (" << head << ")";
  if (interval.reset) {
    out << ": statistics were reset (pg_stat_statements_reset); interval skipped\n";
    return;
  }
  std::int64_t calls = 0;
  double total = 0;
  std::vector<const live::StatementDelta*> rows;
  for (const auto& d : interval.deltas) {
    calls += d.calls;
    total += d.total_ms;
    rows.push_back(&d);
  }
  std::snprintf(head, sizeof head, ": %lld calls, %.1f ms, %zu statements moved",
                static_cast<long long>(calls), total, interval.deltas.size());
  out << head;
  if (interval.evictions > 0 || interval.vanished > 0)
    out << "; " << interval.evictions << " entries evicted, " << interval.vanished
        << " gone (raise pg_stat_statements.max; deltas of re-created entries are lower bounds)";
  out << '\n';
  if (rows.empty()) return;
  print_top("top by time", rows, true, top, out);
  print_top("top by calls", rows, false, top, out);
}

ExitCode run_statements(const StatementsOptions& options, CommandIo io) {
  const auto interval = *live::parse_duration(options.interval);
  if (interval.count() <= 0) {
    print_error(io.err, "--interval must be more than 0");
    return ExitCode::cannot_run;
  }
  std::vector<report::ReportTarget> targets;
  if (std::string error = live::resolve_reports(options.report, targets); !error.empty()) {
    print_error(io.err, error);
    return ExitCode::cannot_run;
  }

  live::StopSignal stop_signal;
  live::Reconnector connection(options.conninfo, live::SessionSettings{}, io.err);
  if (std::string error = connection.connect(); !error.empty()) {
    print_error(io.err, error);
    return ExitCode::cannot_run;
  }
  live::Connection& first = *connection.current();
  const std::string server = first.description();
  std::unique_ptr<live::StatementsReader> reader;
  std::unique_ptr<live::StatementsNPlusOne> detector;
  std::vector<std::string> notes;
  try {
    reader = std::make_unique<live::StatementsReader>(first);
    detector = std::make_unique<live::StatementsNPlusOne>(
        options.thresholds, live::read_foreign_keys(first), live::current_database_oid(first));
    notes = live::privilege_notes(first);
  } catch (const std::exception& e) {
    print_error(io.err, e.what());
    return ExitCode::cannot_run;
  }
  for (const auto& note : notes) print_warning(io.err, note);

  std::ostream& lines = live::report_owns_stdout(targets) ? io.err : io.out;
  std::vector<core::Finding> findings;
  std::optional<live::StatementsSnapshot> previous;
  int taken = 0;
  std::uint64_t intervals = 0;
  while (!live::StopSignal::requested()) {
    live::Connection* conn = connection.get();
    if (conn == nullptr) break;
    try {
      live::StatementsSnapshot snap = reader->snapshot(*conn);
      ++taken;
      if (previous) {
        const live::IntervalDeltas deltas = live::diff(*previous, snap);
        ++intervals;
        print_interval(deltas, options.top, lines);
        for (auto& f : detector->observe(deltas)) {
          lines << "  " << f.rule << " [" << core::to_string(f.severity) << "] " << f.message << '\n';
          findings.push_back(std::move(f));
        }
        lines.flush();
      } else if (snap.hidden > 0) {
        print_warning(io.err, std::to_string(snap.hidden) +
                                  " pg_stat_statements entries of other roles are hidden: GRANT "
                                  "pg_monitor TO " + conn->user());
      }
      previous = std::move(snap);
    } catch (const live::QueryError& e) {
      if (e.connection_lost() || !conn->is_alive()) {
        connection.lost(e.what());
        previous.reset();  // counters across a reconnection are still valid, but the gap is unknown
      } else {
        print_warning(io.err, std::string("snapshot failed: ") + e.what());
      }
    }
    if (options.count > 0 && taken >= options.count) break;
    if (!live::StopSignal::sleep_for(interval)) break;
  }

  report::Report final_report;
  input::InputSummary live_input;
  live_input.path = "postgresql://" + server;
  live_input.format = "pg_stat_statements";
  live_input.records = static_cast<std::uint64_t>(taken);
  final_report.inputs.push_back(live_input);
  final_report.findings = std::move(findings);
  final_report.notes.push_back("pg_stat_statements " + reader->version() + ": " + std::to_string(taken) +
                         " snapshots, " + std::to_string(intervals) + " intervals of " +
                         options.interval);
  if (taken < 2)
    final_report.notes.push_back("fewer than two snapshots: no deltas (use --count 2 or more)");
  for (auto& note : notes) final_report.notes.push_back(std::move(note));
  return live::write_live_report(std::move(final_report), options.report, targets, io);
}

}  // namespace

CommandSpec statements_command() {
  return {"statements", "Per-interval pg_stat_statements deltas and N+1 pairs from its counters",
          "Live",
          [](CLI::App& sub, CommandIo io) -> CommandRunner {
            auto options = std::make_shared<StatementsOptions>();
            live::add_conninfo_argument(sub, options->conninfo);
            sub.add_option("--interval", options->interval, "time between snapshots (default 10s)")
                ->check(live::duration_validator());
            sub.add_option("--count", options->count,
                           "stop after this many snapshots (default: until Ctrl-C)")
                ->check(CLI::NonNegativeNumber);
            sub.add_option("--top", options->top, "statements listed per table (default 10)")
                ->check(CLI::PositiveNumber);
            sub.add_option("--min-calls", options->thresholds.min_child_calls,
                           "N+1: least child calls per interval (default 500)")
                ->check(CLI::PositiveNumber);
            sub.add_option("--rtt-ms", options->thresholds.rtt_ms,
                           "N+1: assumed client round trip for the waste estimate (default 0.3)");
            live::add_report_options(sub, options->report);
            return [options, io]() { return run_statements(*options, io); };
          }};
}

}  // namespace pgsift::cli
