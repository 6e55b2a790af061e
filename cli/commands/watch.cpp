// `pgsift watch CONNINFO`: samples pg_stat_activity, pg_locks and
// pg_blocking_pids() every --interval and reports blocking trees, lock waits
// and transactions idle in transaction as they happen; with --log it also
// follows the server log and runs the log rules on it (see log_watch.h).
// On exit (Ctrl-C or --duration) it writes the same report as analyze.
#include <unistd.h>

#include <deque>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/live/activity.h"
#include "cli/live/live_common.h"
#include "cli/live/live_report.h"
#include "cli/live/log_watch.h"
#include "cli/live/watch_tracker.h"

namespace pgsift::cli {

namespace {

struct WatchOptions {
  std::string conninfo;
  std::string interval = "250ms";
  std::string duration;
  std::string idle_threshold = "1s";
  std::string lock_wait_threshold = "1s";
  bool plain = false;
  live::ReportOptions report;
  std::string log;                    // --log FILE|auto; "" = no log
  analysis::AnalysisRequest log_request;  // --format, --prefix, --rules, --option
};

std::string update_line(const live::LiveUpdate& update) {
  const core::Finding& f = update.finding;
  const char* verb = update.kind == live::LiveUpdate::Kind::started ? "started" : "ended";
  return live::format_timestamp(update.kind == live::LiveUpdate::Kind::started ? f.first_seen
                                                                                : f.last_seen) +
         " " + verb + " " + f.rule + " [" + std::string(core::to_string(f.severity)) + "] " +
         f.message;
}

std::string short_sql(const std::string& raw, std::size_t width = 80) {
  std::string text = live::normalized_sql(raw);
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

// The blocking trees, one indented line per session.
void print_trees(const live::ActivitySample& sample, const std::vector<live::BlockingTree>& trees,
                 std::ostream& out) {
  for (const auto& tree : trees) {
    for (const auto& node : tree.nodes) {
      const live::Backend* b = sample.backend(node.pid);
      out << std::string(2 + 4 * static_cast<std::size_t>(node.depth), ' ');
      if (node.depth > 0) out << "└─ ";
      out << "pid " << node.pid;
      if (b == nullptr) {
        out << (node.pid == 0 ? " prepared transaction" : " (gone)") << '\n';
        continue;
      }
      if (node.depth == 0) {
        out << " [root] " << b->state << " for " << live::format_age(sample.now - b->state_change);
        if (b->xact_start != model::kNoTime)
          out << ", transaction " << live::format_age(sample.now - b->xact_start);
        out << ", blocks " << node.descendants;
      } else {
        const live::LockRow* lock = sample.awaited_lock(node.pid);
        out << " waits";
        if (lock != nullptr) {
          out << " for " << live::describe_lock(*lock);
          if (lock->waitstart != model::kNoTime)
            out << " (" << live::format_age(sample.now - lock->waitstart) << ")";
        }
      }
      out << " " << b->user << "@" << b->database;
      if (!b->application.empty()) out << " " << b->application;
      out << ": " << short_sql(b->query) << '\n';
    }
  }
}

// The refreshing terminal view: header, blocking trees, idle transactions,
// recent findings. Redrawn from the top each interval.
void draw_screen(const std::string& server, const live::ActivitySample& sample,
                 const std::vector<live::BlockingTree>& trees,
                 const std::deque<std::string>& recent, const live::LogWatch* log,
                 std::ostream& out) {
  std::ostringstream screen;
  screen << "\x1b[H\x1b[2J";
  std::size_t waiting = 0, idle = 0;
  for (const auto& b : sample.backends) {
    waiting += b.is_waiting() ? 1 : 0;
    idle += b.state.rfind("idle in transaction", 0) == 0 ? 1 : 0;
  }
  screen << "pgsift watch  " << server << "  " << live::format_timestamp(sample.now) << "\n"
         << sample.backends.size() << " sessions, " << waiting << " waiting on locks, " << idle
         << " idle in transaction";
  if (log != nullptr) screen << "\nlog " << log->path() << ": " << log->statements() << " statements";
  screen << "\n\nBlocking trees:\n";
  if (trees.empty()) screen << "  (none)\n";
  print_trees(sample, trees, screen);
  screen << "\nIdle in transaction:\n";
  bool any = false;
  for (const auto& b : sample.backends) {
    if (b.state.rfind("idle in transaction", 0) != 0) continue;
    any = true;
    screen << "  pid " << b.pid << " for " << live::format_age(sample.now - b.state_change)
           << (b.backend_xid.empty() ? "" : " (has written)") << " " << b.user << "@" << b.database
           << ": " << short_sql(b.query) << '\n';
  }
  if (!any) screen << "  (none)\n";
  screen << "\nRecent findings:\n";
  if (recent.empty()) screen << "  (none)\n";
  for (const auto& line : recent) screen << "  " << line << '\n';
  screen << "\nCtrl-C to stop and print the report.\n";
  out << screen.str() << std::flush;
}

ExitCode run_watch(const WatchOptions& options, CommandIo io) {
  const auto interval = *live::parse_duration(options.interval);
  const auto duration = options.duration.empty() ? std::chrono::microseconds(0)
                                                 : *live::parse_duration(options.duration);
  live::WatchThresholds thresholds;
  thresholds.idle_in_transaction = live::parse_duration(options.idle_threshold)->count();
  thresholds.lock_wait = live::parse_duration(options.lock_wait_threshold)->count();
  if (interval.count() <= 0) {
    print_error(io.err, "--interval must be more than 0");
    return ExitCode::cannot_run;
  }

  std::vector<report::ReportTarget> targets;
  if (std::string error = live::resolve_reports(options.report, targets); !error.empty()) {
    print_error(io.err, error);
    return ExitCode::cannot_run;
  }
  const bool machine_stdout = live::report_owns_stdout(targets);

  live::StopSignal stop_signal;
  live::Reconnector connection(options.conninfo, live::SessionSettings{}, io.err);
  if (std::string error = connection.connect(); !error.empty()) {
    print_error(io.err, error);
    return ExitCode::cannot_run;
  }
  const std::string server = connection.current()->description();
  const std::vector<std::string> privilege_notes = live::privilege_notes(*connection.current());
  for (const auto& note : privilege_notes) print_warning(io.err, note);

  std::unique_ptr<live::LogWatch> log;
  if (!options.log.empty()) {
    analysis::AnalysisRequest request = options.log_request;
    request.show_values = options.report.show_values;
    std::string error;
    try {
      log = live::LogWatch::open(options.log, request, *connection.current(), io.err, error);
    } catch (const live::QueryError& e) {
      error = std::string("--log: cannot read the server's log settings: ") + e.what();
    }
    if (log == nullptr) {
      print_error(io.err, error);
      return ExitCode::cannot_run;
    }
  }

  const bool tty = !options.plain && !machine_stdout && &io.out == &std::cout &&
                   ::isatty(STDOUT_FILENO) != 0;
  std::ostream& lines = machine_stdout ? io.err : io.out;
  live::WatchTracker tracker(thresholds);
  std::deque<std::string> recent;
  const auto emit = [&](const std::vector<std::string>& new_lines) {
    for (const auto& line : new_lines) {
      if (tty) {
        recent.push_back(line);
        if (recent.size() > 12) recent.pop_front();
      } else {
        lines << line << '\n';
      }
    }
    if (!tty && !new_lines.empty()) lines.flush();
  };

  const auto started = std::chrono::steady_clock::now();
  bool hidden_reported = !privilege_notes.empty();
  model::Timestamp last_server_time = live::wall_clock_now();
  std::uint64_t samples = 0;
  while (!live::StopSignal::requested()) {
    if (duration.count() > 0 && std::chrono::steady_clock::now() - started >= duration) break;
    const auto tick = std::chrono::steady_clock::now();
    live::Connection* conn = connection.get();
    if (conn == nullptr) break;
    try {
      live::ActivitySample sample = live::take_activity_sample(*conn, thresholds.idle_in_transaction);
      ++samples;
      last_server_time = sample.now;
      if (sample.query_texts_hidden && !hidden_reported) {
        hidden_reported = true;
        print_warning(io.err,
                      "other users' query texts read <insufficient privilege>: grant pg_monitor "
                      "(or pg_read_all_stats) to " + conn->user());
      }
      std::vector<std::string> new_lines;
      const auto trees = live::blocking_trees(sample);
      for (const auto& update : tracker.update(sample)) {
        new_lines.push_back(update_line(update));
        if (!tty && update.kind == live::LiveUpdate::Kind::started &&
            update.finding.rule == "lock-wait") {
          std::ostringstream tree_text;
          print_trees(sample, trees, tree_text);
          std::string text = tree_text.str();
          if (!text.empty() && text.back() == '\n') text.pop_back();
          new_lines.push_back(text);
        }
      }
      if (log != nullptr) {
        if (std::string error = log->poll(conn, new_lines); !error.empty()) {
          emit(new_lines);
          print_error(io.err, error);
          return ExitCode::cannot_run;
        }
      }
      emit(new_lines);
      if (tty) draw_screen(server, sample, trees, recent, log.get(), io.out);
    } catch (const live::QueryError& e) {
      if (e.connection_lost() || !conn->is_alive())
        connection.lost(e.what());
      else
        print_warning(io.err, std::string("sampling failed: ") + e.what());
    }
    const auto elapsed = std::chrono::steady_clock::now() - tick;
    if (elapsed < interval &&
        !live::StopSignal::sleep_for(std::chrono::duration_cast<std::chrono::microseconds>(
            interval - elapsed)))
      break;
  }
  if (tty) io.out << "\x1b[H\x1b[2J" << std::flush;

  std::vector<std::string> final_lines;
  for (const auto& update : tracker.finish(last_server_time))
    final_lines.push_back(update_line(update));
  report::Report final_report;
  input::InputSummary live_input;
  live_input.path = "postgresql://" + server;
  live_input.format = "pg_stat_activity";
  live_input.records = samples;
  final_report.inputs.push_back(live_input);
  final_report.findings = tracker.findings();
  if (log != nullptr) {
    // The log's inputs follow the activity input (FollowedLogOptions::input_index).
    log->finish(connection.current(), final_lines);
    analysis::AnalysisResult logged = log->take_result();
    for (auto& input : logged.report.inputs) final_report.inputs.push_back(std::move(input));
    for (auto& finding : logged.report.findings) final_report.findings.push_back(std::move(finding));
    for (auto& note : logged.report.notes) final_report.notes.push_back(std::move(note));
  }
  emit(final_lines);
  final_report.notes.push_back("live watch: " + std::to_string(samples) + " samples every " +
                         options.interval + "; durations are lower bounds");
  for (const auto& note : privilege_notes) final_report.notes.push_back(note);
  return live::write_live_report(std::move(final_report), options.report, targets, io);
}

}  // namespace

CommandSpec watch_command() {
  return {"watch", "Watch a live server: blocking trees, lock waits, idle transactions",
          "Live",
          [](CLI::App& sub, CommandIo io) -> CommandRunner {
            auto options = std::make_shared<WatchOptions>();
            live::add_conninfo_argument(sub, options->conninfo);
            const CLI::Validator duration_check = live::duration_validator();
            sub.add_option("--interval", options->interval, "sampling interval (default 250ms)")
                ->check(duration_check);
            sub.add_option("--duration", options->duration, "stop after this long (default: Ctrl-C)")
                ->check(duration_check);
            sub.add_option("--idle-threshold", options->idle_threshold,
                           "report transactions idle in transaction this long (default 1s)")
                ->check(duration_check);
            sub.add_option("--lock-wait-threshold", options->lock_wait_threshold,
                           "report lock waits this long (default 1s)")
                ->check(duration_check);
            sub.add_flag("--plain", options->plain, "plain lines even on a terminal");
            sub.add_option("--log", options->log,
                           "Follow this server log like tail -F and run the log rules (N+1, "
                           "check-then-act, ...) as statements arrive; 'auto' finds the server's "
                           "current log from pg_settings")
                ->type_name("FILE|auto")
                ->group("Log");
            sub.add_option("--format", options->log_request.input.format,
                           "Format of the --log file: stderr, csvlog, jsonlog, syslog, ... "
                           "(default: the server's, or detected)")
                ->group("Log");
            sub.add_option("--prefix", options->log_request.input.prefix,
                           "log_line_prefix of the --log file (default: the server's setting)")
                ->group("Log");
            sub.add_option("--rules", options->log_request.rules,
                           "Log rules to run: comma list of ids, 'all', '-id' excludes (default: all)")
                ->group("Log");
            sub.add_option("-o,--option", options->log_request.options,
                           "Rule option RULE.KEY=VALUE, e.g. n-plus-one.min-repetitions=5 (see "
                           "'pgsift rules ID')")
                ->group("Log");
            live::add_report_options(sub, options->report);
            return [options, io]() { return run_watch(*options, io); };
          }};
}

}  // namespace pgsift::cli
