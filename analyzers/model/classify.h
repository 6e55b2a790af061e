// Classifies assembled log records (model::LogRecord, from any reader or live
// source) into typed events (model::Event). Pure: no I/O. Message texts are
// PostgreSQL 13-18's (reference/logs.md §2).
//
// Statement executions are counted once whatever the logging settings:
//  - log_min_duration_statement: "duration: N ms  statement: ..." is one
//    execution; for the extended protocol the parse and bind lines are held
//    and merged into the "execute" line (its duration, the bind's parameters
//    if the execute line has none);
//  - log_statement: "statement: ..." / "execute S: ..." lines are held until
//    the same process's bare "duration: N ms" (log_duration, or
//    log_min_duration_statement when the text was already logged), its next
//    statement, an error, its disconnection or the end of input;
//  - bare durations with nothing held (parse/bind under log_duration) are
//    not executions.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "analyzers/model/event.h"
#include "analyzers/model/log_record.h"

namespace pgsift::model {

/// A record's statement text parsed ahead of Classifier::add() by an earlier
/// pipeline stage (the reader thread of `analyze --jobs 2`): `offset` and
/// `length` give the text within the record's message, as statement_text()
/// found it. add() moves `parsed` into the statement it builds from exactly
/// that text, and leaves it alone otherwise.
struct ParsedAhead {
  std::size_t offset = 0;
  std::size_t length = 0;
  sql::Parsed parsed;
};

/// Receives each event once. The event is the classifier's scratch copy: the
/// sink may move its strings out (the reader thread of `analyze --jobs 2`
/// does, instead of copying every event).
using EventSink = std::function<void(Event& event)>;

class Classifier {
 public:
  struct Counters {
    std::uint64_t statements = 0;           // StatementEvents emitted
    std::uint64_t unpaired_durations = 0;   // bare durations with no held statement
    std::uint64_t dropped_parse_bind = 0;   // parse/bind lines never followed by execute
  };

  /// At most this many processes keep held state; beyond it the oldest
  /// state is flushed (memory grows with open sessions, never log size).
  static constexpr std::size_t kMaxProcesses = 1 << 16;

  /// Classifies one record; may emit zero, one or two events (a held
  /// statement is flushed before an error of the same process).
  void add(const LogRecord& record, const EventSink& sink, ParsedAhead* ahead = nullptr);
  /// Emits everything still held (end of input).
  void finish(const EventSink& sink);

  const Counters& counters() const { return counters_; }

 private:
  struct Held {
    bool has_statement = false;
    Event statement;           // a log_statement line waiting for its duration
    bool has_bind = false;
    std::string bind_name;     // statement name of the held bind
    std::string bind_detail;   // DETAIL of the held bind (its parameters, parsed when needed)
    bool has_parse = false;
    std::uint64_t order = 0;   // for eviction
  };

  Held& held_for(std::int32_t pid);
  /// The held state of `pid`, or nullptr: through `recent_` first.
  Held* find_held(std::int32_t pid);
  /// Erases `pid`'s held state (and its entry in `recent_`).
  void erase_held(std::int32_t pid);
  void flush_statement(Held& held, const EventSink& sink);
  void emit_statement(Event& event, const EventSink& sink);
  void emit_other(const LogRecord& record, const EventSink& sink);
  void classify_log(const LogRecord& record, const EventSink& sink, ParsedAhead* ahead);
  void classify_error(const LogRecord& record, const EventSink& sink);

  std::unordered_map<std::int32_t, Held> held_;
  // Answers of held_ lookups by pid (its low bits pick the slot), present
  // or absent: most records ask for the same few processes, and a hash map
  // lookup per record costs more than the rest of a bind line's handling.
  // Map nodes never move, so the pointers stay valid until erase_held.
  struct RecentPid {
    std::int32_t pid = 0;
    bool known = false;
    Held* held = nullptr;  // nullptr: pid has no held state
  };
  static constexpr std::size_t kRecentPids = 64;
  std::array<RecentPid, kRecentPids> recent_{};
  // Scratch events handed to the sink (which may move strings out or swap
  // the whole event): reused so that most records allocate nothing.
  Event statement_scratch_;
  Event other_scratch_;
  std::uint64_t order_ = 0;
  Counters counters_;
};

/// The SQL text of the statement that Classifier::add() builds from `record`
/// (a "statement:" or "execute" message, with or without a duration before
/// it), a view into its message; empty when the record holds none. Stateless,
/// so a stage ahead of the classifier can parse it (ParsedAhead).
std::string_view statement_text(const LogRecord& record);

/// Parses "parameters: $1 = '32', $2 = NULL" (also "Parameters:", PG17+).
/// Returns false when `detail` holds no parameter list.
bool parse_parameters(std::string_view detail, std::vector<std::optional<std::string>>& out);

/// Known SQLSTATE of an error message when the log format did not carry one.
std::string_view sqlstate_from_message(std::string_view message);

}  // namespace pgsift::model
