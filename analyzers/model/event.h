// Typed events classified from log records (see analyzers/model/classify.h).
// These are what sessions, transactions and analyzers consume. An event keeps
// its record's header (who, when, where in which file) and the fields that
// matter for its kind; the free text stays in LogRecord.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "analyzers/model/log_record.h"
#include "analyzers/sql/statement.h"

namespace pgsift::model {

/// One statement execution: a `statement:` line, a `duration: ... statement:`
/// line, or the parse/bind/execute of the extended protocol merged into one.
struct StatementEvent {
  enum class Protocol : std::uint8_t { simple, extended };
  std::string sql;
  /// Server time in milliseconds; negative when the log gave no duration.
  double duration_ms = -1;
  /// When the statement started: the log time minus the duration (the log
  /// time itself when no duration was logged, e.g. log_statement alone).
  Timestamp start = kNoTime;
  Protocol protocol = Protocol::simple;
  /// `execute fetch from`: continues a portal opened by an earlier execution.
  bool continues_portal = false;
  /// Name of the prepared statement / portal, when extended ("S_1", "<unnamed>").
  std::string prepared_name;
  /// Bound parameter values $1..$n as logged; nullopt for SQL NULL.
  std::vector<std::optional<std::string>> parameters;
  /// `sql` parsed ahead of time by an earlier pipeline stage (the reader
  /// thread of `analyze --jobs 2`); no shape when nobody parsed it yet.
  sql::Parsed parsed;
};

/// Lock-wait lifecycle lines (log_lock_waits) and lock acquisition failures.
struct LockEvent {
  enum class Phase : std::uint8_t {
    still_waiting,      // "process N still waiting for M on O after T ms"
    acquired,           // "process N acquired M on O after T ms"
    avoided_deadlock,   // "process N avoided deadlock for M on O by rearranging queue after T ms"
    deadlock_detected,  // "process N detected deadlock while waiting for M on O after T ms"
    failed_to_acquire,  // "process N failed to acquire M on O after T ms" / "could not obtain lock"
  };
  Phase phase = Phase::still_waiting;
  std::int32_t waiter_pid = 0;
  std::string mode;            // "ShareLock", "ExclusiveLock", ...
  std::string object;          // "transaction 1234", "relation 16384 of database 5", "tuple (0,1) of relation ..."
  std::string object_kind;     // "transaction", "relation", "tuple", "virtual transaction", "advisory lock", ...
  std::uint64_t relation_oid = 0;
  std::uint64_t database_oid = 0;
  std::uint64_t transaction_id = 0;
  std::string tuple;           // "(0,1)"
  std::string relation_name;   // from CONTEXT ("while updating tuple (0,1) in relation \"accounts\"")
  double elapsed_ms = -1;
  std::vector<std::int32_t> holders;     // DETAIL "Process holding the lock: N." / "Processes holding the lock: ..."
  std::vector<std::int32_t> wait_queue;  // DETAIL "Wait queue: N, M." (possibly empty: "Wait queue: .")
  std::string statement;                 // STATEMENT: line, if any
};

/// One process of a deadlock cycle, from the ERROR's DETAIL.
struct DeadlockParticipant {
  std::int32_t pid = 0;
  std::string waits_for_mode;
  std::string waits_for_object;
  std::uint64_t waits_for_transaction = 0;
  std::int32_t blocked_by_pid = 0;
  std::string statement;  // "Process N: <sql>" lines
};

/// `ERROR:  deadlock detected` with its full cycle. The record's pid is the
/// process PostgreSQL cancelled.
struct DeadlockEvent {
  std::vector<DeadlockParticipant> cycle;
  std::string statement;  // STATEMENT: of the cancelled process
  std::string context;    // CONTEXT: (relation, tuple)
};

/// Server-side cancellations and terminations by a timeout setting.
struct TimeoutEvent {
  enum class Kind : std::uint8_t {
    lock_timeout,                 // 55P03 "canceling statement due to lock timeout"
    statement_timeout,            // 57014 "canceling statement due to statement timeout"
    idle_in_transaction_timeout,  // 25P03 "terminating connection due to idle-in-transaction timeout"
    idle_session_timeout,         // 57P05
    transaction_timeout,          // 25P04 (PostgreSQL 17+)
  };
  Kind kind = Kind::lock_timeout;
  std::string statement;
  std::string context;
};

/// Any other ERROR/FATAL with its SQLSTATE (serialization failures 40001,
/// unique violations 23505, ...).
struct ErrorEvent {
  std::string sqlstate;  // may be empty when the format did not carry it
  std::string message;
  std::string detail;
  std::string statement;
};

struct ConnectionEvent {
  enum class Kind : std::uint8_t { received, authorized, disconnected };
  Kind kind = Kind::received;
  double session_seconds = -1;  // disconnection: "session time: 0:00:01.234"
};

struct TempFileEvent {
  std::string path;
  std::uint64_t bytes = 0;
  std::string statement;
};

/// Records that matter to nobody downstream (checkpoints, autovacuum, ...).
struct OtherEvent {};

using EventBody = std::variant<StatementEvent, LockEvent, DeadlockEvent, TimeoutEvent, ErrorEvent,
                               ConnectionEvent, TempFileEvent, OtherEvent>;

/// A classified record: header (who/when/where) plus a typed body.
struct Event {
  RecordHeader header;
  LogLevel level = LogLevel::unknown;
  EventBody body;
};

}  // namespace pgsift::model
