// Reading logs: files, directories (their log files in time order, rotated
// series read as one stream), '-' for stdin, compressed or not, in any
// supported format; assembled into records and classified into events.
// Streaming: memory is bounded by open multi-line records, not by log size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/model/classify.h"
#include "analyzers/model/event.h"
#include "analyzers/model/log_record.h"

namespace pgsift::cli::input {

struct InputOptions {
  std::string format;   // "" = detect; "stderr", "csvlog", "jsonlog", "syslog", "cloudsql", "cnpg"
  std::string prefix;   // log_line_prefix for stderr/syslog; "" = detect
  bool strict = false;  // unreadable lines make the run fail (exit 2)
};

/// What was read from one input, for reports (`inputs` in JSON) and --stats.
struct InputSummary {
  std::string path;
  std::string format;        // detected or given
  std::string prefix;        // detected or given (stderr/syslog)
  std::string compression;   // "", "gzip", "bzip2", "xz", "zstd"
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;
  std::uint64_t records = 0;
  std::uint64_t statements = 0;
  std::uint64_t noise_lines = 0;    // lines from other programs, counted, ignored
  std::uint64_t skipped_lines = 0;  // unreadable, counted
  std::uint64_t first_skipped_line = 0;
  bool truncated = false;           // compressed stream ended early, or similar
  std::vector<std::string> warnings;
};

/// Receives classified events in log order; it may move from the event
/// (see model::EventSink).
using EventHandler = std::function<void(model::Event& event)>;
/// Receives assembled records in log order (before classification).
using RecordHandler = std::function<void(model::LogRecord& record)>;

/// Reads all `paths` in order (directories expanded, rotated series joined)
/// and calls `on_event` for each event. Summaries are appended to `summaries`
/// (index = model::SourceLocation::input). Warnings go to `err` as one-line
/// "pgsift: warning: ..." messages. Returns "" on success, or a one-line error
/// naming the file (and line) when an input cannot be read at all.
std::string read_logs(const std::vector<std::string>& paths, const InputOptions& options,
                      const EventHandler& on_event, std::vector<InputSummary>& summaries,
                      std::ostream& err);

}  // namespace pgsift::cli::input

namespace pgsift::cli::input {

/// The classifying stage of read_logs(), for callers that read records
/// themselves (read_log_records()): one Classifier for all inputs, so that a
/// rotated series reads as one stream, and each input's statement count.
/// `on_event` must outlive the stage.
class EventStage {
 public:
  explicit EventStage(const EventHandler& on_event);
  EventStage(const EventStage&) = delete;
  EventStage& operator=(const EventStage&) = delete;
  /// Classifies one record; `ahead` is its statement text parsed ahead of time.
  void add(const model::LogRecord& record, model::ParsedAhead* ahead = nullptr) {
    classifier_.add(record, sink_, ahead);
  }
  /// Emits what the classifier still holds (end of input).
  void finish() { classifier_.finish(sink_); }
  /// Adds the statements counted per input to `summaries` (index = input).
  void count_into(std::vector<InputSummary>& summaries) const;

 private:
  const EventHandler& on_event_;
  model::Classifier classifier_;
  std::vector<std::uint64_t> statements_;
  model::EventSink sink_;
};

class ReadAhead;

/// read_logs() without its classifying stage: `on_record` gets every
/// assembled record, and the summaries count no statements. With
/// `read_ahead`, each input file (not standard input) is read through it:
/// another thread may then read its blocks ahead.
std::string read_log_records(const std::vector<std::string>& paths, const InputOptions& options,
                             const RecordHandler& on_record, std::vector<InputSummary>& summaries,
                             std::ostream& err, ReadAhead* read_ahead = nullptr);

}  // namespace pgsift::cli::input

namespace pgsift::cli::input {

/// Reads one in-memory log (tests, fuzzers) like read_logs() reads a file.
std::string read_log_buffer(std::string_view data, const InputOptions& options,
                            const EventHandler& on_event, InputSummary& summary,
                            std::ostream& err);

}  // namespace pgsift::cli::input

namespace pgsift::cli::input {

/// The format and log_line_prefix of a log from its first lines (`head`),
/// recognised as read_logs() does; values given in `options` win. "" or a
/// one-line error (unknown format, no known prefix matches). For readers
/// that feed lines themselves (cli/live/followed_log.h).
std::string detect_layout(const std::vector<std::string_view>& head, const InputOptions& options,
                          std::string& format, std::string& prefix);

}  // namespace pgsift::cli::input
