// Assembles prefixed text lines (stderr, syslog payloads, Cloud SQL
// textPayload) into records: a primary line (LOG/ERROR/...) plus the
// DETAIL/HINT/QUERY/CONTEXT/STATEMENT/LOCATION lines of the same process and
// TAB-continued lines. Lines without the prefix are other programs' output
// (noise), never glued onto a record. A small window of open records lets a
// DETAIL line find its record when another process's line came in between
// (syslog, logging_collector=off).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/input/log_line_prefix.h"
#include "cli/input/reader.h"

namespace pgsift::cli::input {

/// Fields an envelope (syslog header, JSON wrapper) supplies when the prefix does not.
struct Envelope {
  model::Timestamp time = model::kNoTime;
  std::int32_t pid = 0;
};

class TextAssembler {
 public:
  TextAssembler(const LogLinePrefix& prefix, ReaderContext& context);

  /// A physical line (or syslog chunk starting a line). Returns false when
  /// the line matched nothing (noise or skipped, already counted).
  bool line(std::string_view text, std::uint64_t number, const Envelope* envelope = nullptr);
  /// Text continuing the newest record of `pid` (syslog chunks): after a
  /// newline when `newline`, else directly appended (split long message).
  bool continue_record(std::int32_t pid, std::string_view text, bool newline);
  /// Would `text` start a record or tag line under this prefix?
  bool matches(std::string_view text) const;
  void finish();

 private:
  struct Slot {
    model::LogRecord record;
    model::LogLevel last_field = model::LogLevel::unknown;
    bool used = false;
  };
  static constexpr std::size_t kWindow = 8;

  Slot* newest_for(std::int32_t pid, std::string_view session_id);
  Slot& open_slot();
  void emit_oldest();
  static std::string& field(model::LogRecord& record, model::LogLevel level);
  void fill_header(model::RecordHeader& h, const PrefixFields& f, std::uint64_t number,
                   const Envelope* envelope);

  const LogLinePrefix& prefix_;
  ReaderContext& context_;
  std::array<Slot, kWindow> slots_;
  std::size_t head_ = 0;   // index of the oldest used slot
  std::size_t count_ = 0;  // used slots
  Slot* last_ = nullptr;   // record the last line went to (TAB continuations)
  std::string scratch_;
  PrefixFields fields_;  // line()'s, views into the current line only
  bool warned_localized_ = false;
  bool warned_zone_ = false;
};

}  // namespace pgsift::cli::input
