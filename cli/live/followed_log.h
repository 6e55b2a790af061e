// A log file followed like `tail -F` and analysed as it grows, for
// `pgsift analyze --follow` and `pgsift watch --log`. Lines come from
// input::FileFollower (appends, rotation, truncation), go through the
// format's reader (record assembly) and the classifier, then through the
// same session tracker and rules as `pgsift analyze` (analysis::prepare_rules),
// so findings are reported while the log is written. Log time stands still
// while the log is quiet, so the tracker is also told how much time passed
// (a tick): units of work then close after their idle gap and the N+1 rule
// reports without waiting for the next statement.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "analyzers/core/suppression.h"
#include "analyzers/model/classify.h"
#include "cli/analysis/finding_collector.h"
#include "cli/analysis/pipeline.h"
#include "cli/input/follow.h"
#include "cli/input/reader.h"

namespace pgsift::cli::live {

struct FollowedLogOptions {
  std::string path;
  /// Read what the file holds already (analyze --follow); else only what is
  /// appended from now on (watch --log).
  bool from_start = false;
  /// Index of this log's first input in the report (watch puts its
  /// pg_stat_activity input first).
  std::uint32_t input_index = 0;
};

class FollowedLog {
 public:
  /// Sets up the rules of `request` (its format/prefix, rules, options,
  /// schema; its paths are not used) and opens the file. nullptr with a
  /// one-line `error` when the file or the request is unusable.
  static std::unique_ptr<FollowedLog> open(const FollowedLogOptions& options,
                                           const analysis::AnalysisRequest& request,
                                           std::ostream& err, std::string& error);
  ~FollowedLog();
  FollowedLog(const FollowedLog&) = delete;
  FollowedLog& operator=(const FollowedLog&) = delete;

  /// Reads what was appended (at most a few MiB per call) and analyses it.
  /// Appends plain lines for the user to `lines`: findings the moment a rule
  /// reports them, and notes (rotation, truncation). Returns false when more
  /// is already waiting (call again without sleeping).
  bool poll(std::vector<std::string>& lines);
  /// A problem that ends the run (the log's format cannot be recognised);
  /// "" while all is well.
  const std::string& error() const { return error_; }

  /// Follows `path` from now on (the server started a new file under
  /// another name); the current file is read to its end first. The new file
  /// is a new input of the report.
  void switch_to(const std::string& path, std::vector<std::string>& lines);

  /// Events of this backend are not analysed (pgsift's own session).
  void ignore_pid(std::int32_t pid) { own_pids_.insert(pid); }

  /// End of input: reads what is left, flushes held records, closes the
  /// open sessions and lets the rules report what is pending.
  void finish(std::vector<std::string>& lines);

  /// After finish(): the inputs, findings (sorted, inline `pgsift:ignore`
  /// comments applied), coverage notes, rules and tracker counters, as
  /// analysis::analyze_logs() returns them.
  analysis::AnalysisResult take_result();

  const std::string& path() const { return follower_->path(); }
  std::uint64_t statements() const;

 private:
  class LiveSink;
  FollowedLog() = default;
  void start_input(const std::string& path);
  bool make_reader(const std::vector<std::string>& head, const input::InputOptions& given);
  void detect_and_replay();
  void feed(std::vector<std::string>& lines, std::size_t new_file_at);
  void feed_line(const std::string& text);
  void flush_records();
  void end_of_file();
  void on_event(const model::Event& event);
  void tick();

  FollowedLogOptions options_;
  analysis::AnalysisRequest request_;
  std::ostream* err_ = nullptr;
  std::string error_;
  std::unique_ptr<input::FileFollower> follower_;

  // Reading: one summary per file followed; the reader of the current one.
  std::vector<input::InputSummary> summaries_;
  input::ReaderContext context_;
  std::unique_ptr<input::RecordReader> reader_;
  std::vector<std::string> undetected_;  // first lines, until the format is known
  std::uint64_t line_number_ = 0;
  model::Classifier classifier_;

  // Analysis: the analyze pipeline's collector, tracker and rules.
  std::unique_ptr<analysis::FindingCollector> collector_;
  std::unique_ptr<LiveSink> sink_;
  std::unique_ptr<analysis::RuleRun> run_;
  core::SuppressionIndex suppressions_;
  std::vector<std::string> pending_lines_;
  std::set<std::int32_t> own_pids_;
  std::uint64_t own_statements_ = 0;

  // Log time: the latest record time, and when it was last seen to advance.
  model::Timestamp log_time_ = model::kNoTime;
  std::chrono::steady_clock::time_point log_time_seen_{};
  bool finished_ = false;
};

}  // namespace pgsift::cli::live
