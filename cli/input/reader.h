// What the format readers share: where records go, and the per-input counters
// (InputSummary) they update. Each reader takes physical lines in order and
// produces assembled model::LogRecords.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "analyzers/model/log_record.h"
#include "cli/input/line_reader.h"
#include "cli/input/log_source.h"

namespace pgsift::cli::input {

/// Shared state of one input being read.
struct ReaderContext {
  std::uint32_t input = 0;
  InputSummary* summary = nullptr;
  RecordHandler emit;
  /// Called once per distinct warning text (already without "pgsift: warning: ").
  std::function<void(const std::string&)> warn;

  void count_record() { ++summary->records; }
  void skip(std::uint64_t line, std::uint64_t count = 1) {
    if (summary->skipped_lines == 0) summary->first_skipped_line = line;
    summary->skipped_lines += count;
  }
  void noise() { ++summary->noise_lines; }
};

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  virtual void line(const Line& line) = 0;
  /// End of input: emits what is still open.
  virtual void finish() = 0;
};

/// Formats: "stderr", "csvlog", "jsonlog", "syslog", "cloudsql", "cnpg".
/// `prefix` is used by stderr, syslog and cloudsql.
std::unique_ptr<RecordReader> make_reader(std::string_view format, const std::string& prefix,
                                          ReaderContext& context);

/// True when `text` is printable UTF-8 text (TAB allowed), i.e. a foreign
/// program's message rather than binary garbage.
bool is_text_line(std::string_view text);

/// Splits a syslog line ("Feb 11 13:15:39 host postgres[10808]: [3-1] text",
/// ISO and Heroku variants) into time, pid and the program's text.
bool parse_syslog_header(std::string_view text, model::Timestamp& time, std::int32_t& pid,
                         std::string_view& rest);
/// The textPayload of a Google Cloud Logging entry.
bool cloudsql_payload(std::string_view text, std::string& payload);

/// "host(port)" (%r) becomes "host:port", as csvlog writes it.
std::string_view normalize_client(std::string_view client, std::string& scratch);

}  // namespace pgsift::cli::input
