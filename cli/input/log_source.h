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

/// Reads one in-memory log (tests, fuzzers) like read_logs() reads a file.
std::string read_log_buffer(std::string_view data, const InputOptions& options,
                            const EventHandler& on_event, InputSummary& summary,
                            std::ostream& err);

}  // namespace pgsift::cli::input
