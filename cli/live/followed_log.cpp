#include "cli/live/followed_log.h"

#include <cstring>
#include <set>
#include <string_view>
#include <variant>

#include "cli/command.h"
#include "cli/gate/filters.h"
#include "cli/input/log_source.h"
#include "cli/live/live_common.h"

namespace pgsift::cli::live {

namespace {

// Bounds memory when a big file is read from its start: the rest is read on
// the next call, without sleeping in between.
constexpr std::size_t kMaxBytesPerPoll = std::size_t{4} << 20;
// Lines gathered before the format and prefix are guessed (as analyze does
// from a file's first lines); fewer when the log goes quiet first.
constexpr std::size_t kDetectLines = 50;
// The logging collector writes a record a little after its timestamp; ticks
// stay this far behind the log's own time so they never overtake a record
// still on its way.
constexpr auto kTickLag = std::chrono::seconds(1);

bool needs_prefix(const std::string& format) {
  return format.empty() || format == "stderr" || format == "syslog" || format == "cloudsql";
}

}  // namespace

// Passes findings on to the collector and, the first time an id is seen and
// no inline comment silences it, writes a line for the user right away.
class FollowedLog::LiveSink final : public core::FindingSink {
 public:
  explicit LiveSink(FollowedLog& log) : log_(log) {}
  void add(core::Finding finding) override {
    if (!log_.suppressions_.suppresses(finding) && seen_.insert(finding.id).second)
      log_.pending_lines_.push_back(describe(finding));
    log_.collector_->add(std::move(finding));
  }

 private:
  std::string describe(const core::Finding& f) const {
    const model::Timestamp when = f.last_seen != model::kNoTime ? f.last_seen : wall_clock_now();
    std::string line = format_timestamp(when) + " found " + f.rule + " [" +
                       std::string(core::to_string(f.severity)) + "] " + f.message;
    std::string where;
    if (!f.sessions.empty() && f.sessions.front().pid != 0)
      where = "pid " + std::to_string(f.sessions.front().pid);
    if (!f.evidence.empty()) {
      const core::Evidence& e = f.evidence.front();
      const std::uint32_t index = e.input - log_.options_.input_index;
      if (e.input >= log_.options_.input_index && index < log_.summaries_.size()) {
        where += (where.empty() ? "" : ", ") + log_.summaries_[index].path + ":" +
                 std::to_string(e.line);
      }
    }
    return where.empty() ? line : line + " (" + where + ")";
  }

  FollowedLog& log_;
  std::set<std::string> seen_;
};

std::unique_ptr<FollowedLog> FollowedLog::open(const FollowedLogOptions& options,
                                               const analysis::AnalysisRequest& request,
                                               std::ostream& err, std::string& error) {
  std::unique_ptr<FollowedLog> log(new FollowedLog());
  log->options_ = options;
  log->request_ = request;
  log->err_ = &err;
  log->collector_ = std::make_unique<analysis::FindingCollector>();
  log->sink_ = std::make_unique<LiveSink>(*log);
  log->run_ = std::make_unique<analysis::RuleRun>();
  error = analysis::prepare_rules(request, *log->sink_, *log->run_, err);
  if (!error.empty()) return nullptr;
  log->follower_ = std::make_unique<input::FileFollower>(options.path, options.from_start);
  error = log->follower_->open(/*wait_for_file=*/false);
  if (!error.empty()) {
    if (error.find(std::strerror(EACCES)) != std::string::npos)
      error += " (run pgsift as a user who can read the server's log)";
    return nullptr;
  }
  log->start_input(options.path);
  const input::InputOptions& given = request.input;
  if (!given.format.empty() && !(needs_prefix(given.format) && given.prefix.empty() &&
                                 given.format != "syslog")) {
    if (!log->make_reader({}, given)) {
      error = log->error_;
      return nullptr;
    }
  }
  return log;
}

FollowedLog::~FollowedLog() = default;

void FollowedLog::start_input(const std::string& path) {
  summaries_.emplace_back();
  summaries_.back().path = path;
  line_number_ = 0;
}

bool FollowedLog::make_reader(const std::vector<std::string>& head,
                              const input::InputOptions& given) {
  std::vector<std::string_view> views(head.begin(), head.end());
  input::InputSummary& summary = summaries_.back();
  const std::string error = input::detect_layout(views, given, summary.format, summary.prefix);
  if (!error.empty()) {
    error_ = summary.path + ":1: " + error;
    return false;
  }
  if (given.format.empty() || (given.prefix.empty() && !summary.prefix.empty())) {
    *err_ << "pgsift: note: " << summary.path << ": " << summary.format << " format"
          << (summary.prefix.empty() ? "" : ", log_line_prefix '" + summary.prefix + "'")
          << " (detected; use --format and --prefix to override)\n";
  }
  context_ = input::ReaderContext{};
  context_.input = options_.input_index + static_cast<std::uint32_t>(summaries_.size() - 1);
  context_.summary = &summary;
  context_.emit = [this](model::LogRecord& record) {
    classifier_.add(record, [this](const model::Event& event) { on_event(event); });
  };
  context_.warn = [this](const std::string& message) {
    input::InputSummary& current = summaries_.back();
    for (const std::string& seen : current.warnings) {
      if (seen == message) return;
    }
    current.warnings.push_back(message);
    print_warning(*err_, current.path + ": " + message);
  };
  reader_ = input::make_reader(summary.format, summary.prefix, context_);
  if (reader_ == nullptr) {
    error_ = summary.path + ": cannot read the " + summary.format + " format";
    return false;
  }
  return true;
}

void FollowedLog::feed_line(const std::string& text) {
  if (reader_ == nullptr) {
    undetected_.push_back(text);
    if (undetected_.size() >= kDetectLines) detect_and_replay();
    return;
  }
  input::InputSummary& summary = summaries_.back();
  summary.bytes += text.size() + 1;
  ++summary.lines;
  input::Line line;
  line.text = text;
  line.number = ++line_number_;
  reader_->line(line);
}

void FollowedLog::detect_and_replay() {
  if (!error_.empty()) return;
  std::vector<std::string> head = std::move(undetected_);
  undetected_.clear();
  if (!make_reader(head, request_.input)) return;
  for (const std::string& line : head) feed_line(line);
}

void FollowedLog::feed(std::vector<std::string>& lines, std::size_t new_file_at) {
  for (std::size_t i = 0; i < lines.size() && error_.empty(); ++i) {
    if (i == new_file_at) {
      // A new file under the same name: what the old one left open ends
      // here, and line numbers count from the new file's start.
      end_of_file();
      line_number_ = 0;
    }
    feed_line(lines[i]);
  }
}

void FollowedLog::flush_records() {
  if (reader_ == nullptr && !undetected_.empty()) detect_and_replay();
  // Text formats keep a few records open for their DETAIL lines; the
  // collector writes a record with its DETAIL lines at once, so what has
  // arrived is complete. (A csvlog record is complete at its last line.)
  if (reader_ != nullptr && summaries_.back().format != "csvlog") reader_->finish();
}

void FollowedLog::end_of_file() {
  flush_records();
  if (reader_ != nullptr) reader_->finish();  // also a csvlog record cut short
}

std::uint64_t FollowedLog::statements() const {
  std::uint64_t n = 0;
  for (const input::InputSummary& summary : summaries_) n += summary.statements;
  return n;
}

void FollowedLog::on_event(const model::Event& event) {
  const model::Timestamp time = event.header.time;
  if (time != model::kNoTime && (log_time_ == model::kNoTime || time > log_time_)) {
    log_time_ = time;
    log_time_seen_ = std::chrono::steady_clock::now();
  }
  const bool statement = std::holds_alternative<model::StatementEvent>(event.body);
  if (own_pids_.count(event.header.pid) > 0) {
    // Our own monitoring queries: not analysed, but their time still moves
    // the tracker's clock.
    own_statements_ += statement ? 1 : 0;
    model::Event clock;
    clock.header.time = time;
    clock.body = model::OtherEvent{};
    run_->tracker->on_event(clock);
    return;
  }
  if (statement) {
    const std::uint32_t index = event.header.where.input - options_.input_index;
    if (event.header.where.input >= options_.input_index && index < summaries_.size())
      ++summaries_[index].statements;
  }
  suppressions_.observe(event);
  run_->tracker->on_event(event);
}

void FollowedLog::tick() {
  if (log_time_ == model::kNoTime) return;
  const auto quiet = std::chrono::steady_clock::now() - log_time_seen_;
  if (quiet <= kTickLag) return;
  model::Event clock;
  clock.header.time =
      log_time_ + std::chrono::duration_cast<std::chrono::microseconds>(quiet - kTickLag).count();
  clock.body = model::OtherEvent{};
  run_->tracker->on_event(clock);
}

bool FollowedLog::poll(std::vector<std::string>& lines) {
  if (finished_ || !error_.empty()) return true;
  std::vector<std::string> read;
  for (const std::string& notice : follower_->poll(read, kMaxBytesPerPoll))
    lines.push_back("pgsift: note: " + notice);
  feed(read, follower_->new_file_at());
  // Complete what arrived: a quiet log also settles its format.
  if (read.empty() || reader_ != nullptr) flush_records();
  if (error_.empty()) tick();
  for (std::string& line : pending_lines_) lines.push_back(std::move(line));
  pending_lines_.clear();
  return follower_->caught_up();
}

void FollowedLog::switch_to(const std::string& path, std::vector<std::string>& lines) {
  if (finished_ || path == follower_->path()) return;
  poll(lines);
  end_of_file();
  auto next = std::make_unique<input::FileFollower>(path, /*from_start=*/true);
  if (const std::string error = next->open(/*wait_for_file=*/true); !error.empty()) {
    lines.push_back("pgsift: warning: " + error + "; still following " + follower_->path());
    return;
  }
  follower_ = std::move(next);
  lines.push_back("pgsift: note: the server now logs to " + path + "; following it");
  // The new file has the format and prefix of the old one (when known).
  input::InputOptions same = request_.input;
  same.format = summaries_.back().format;
  same.prefix = summaries_.back().prefix;
  start_input(path);
  if (reader_ != nullptr) make_reader({}, same);
}

void FollowedLog::finish(std::vector<std::string>& lines) {
  if (finished_) return;
  if (error_.empty()) {
    // What was written in the last moments; a backlog not read yet stays
    // unread (a stop must not wait for a big file).
    poll(lines);
    if (std::string rest = follower_->take_partial(); !rest.empty() && error_.empty()) {
      feed_line(rest);
    }
    end_of_file();
  }
  classifier_.finish([this](const model::Event& event) { on_event(event); });
  run_->tracker->finish();
  finished_ = true;
  for (std::string& line : pending_lines_) lines.push_back(std::move(line));
  pending_lines_.clear();
}

analysis::AnalysisResult FollowedLog::take_result() {
  analysis::AnalysisResult result;
  result.error = error_;
  result.report.inputs = summaries_;
  result.report.findings = collector_->take_sorted();
  result.report.show_values = request_.show_values;
  analysis::add_coverage_notes(run_->tracker->coverage(), run_->selected, result.report.notes);
  if (own_statements_ > 0) {
    result.report.notes.push_back(std::to_string(own_statements_) +
                                  " statements of pgsift's own session were left out of the analysis");
  }
  gate::apply_inline_suppressions(suppressions_, result.report);
  for (const core::RuleEntry* entry : run_->selected) {
    result.rules_run.emplace_back(entry->info.id);
    result.report.rules.push_back(entry->info);
  }
  result.stats = run_->tracker->stats();
  return result;
}

}  // namespace pgsift::cli::live
