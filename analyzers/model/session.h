// Sessions, transactions, executions and units of work, as rebuilt from the
// event stream by analyzers/session/. Plain data; analyzers read them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/model/event.h"
#include "analyzers/sql/statement.h"

namespace pgsift::model {

/// Identity of one server session (one backend connection).
struct SessionInfo {
  std::int32_t pid = 0;
  std::string session_id;   // %c when the prefix has it, else synthesized "pid:<pid>#<n>"
  std::string user;
  std::string database;
  std::string application;
  std::string client;
  Timestamp connected = kNoTime;
};

/// One execution of one statement (a multi-statement simple-protocol string
/// yields one Execution per statement, sharing `event_line`).
struct Execution {
  SourceLocation where;
  Timestamp start = kNoTime;    // log time minus duration
  Timestamp end = kNoTime;      // log time
  double duration_ms = -1;      // negative when unknown
  std::string sql;              // raw text as logged (never shown without --show-values)
  sql::Parsed parsed;           // shape + this text's literals
  std::size_t statement_index = 0;  // which statement of parsed.shape->statements
  std::vector<std::optional<std::string>> parameters;
  StatementEvent::Protocol protocol = StatementEvent::Protocol::simple;
  bool continues_portal = false;
  std::string virtual_xid;
  std::uint64_t xid = 0;

  const sql::Statement& statement() const { return parsed.shape->statements[statement_index]; }
};

/// A transaction: explicit (BEGIN ... COMMIT/ROLLBACK) or the implicit
/// single-statement transaction of autocommit.
struct Transaction {
  enum class End : std::uint8_t { commit, rollback, open, cut, aborted };
  std::uint64_t sequence = 0;       // per session, from 1
  bool is_explicit = false;
  /// True when the log began (or the session was cut) inside this transaction.
  bool started_before_log = false;
  sql::IsolationLevel isolation = sql::IsolationLevel::read_committed;
  bool isolation_known = false;     // from BEGIN/SET TRANSACTION, not assumed
  bool read_only = false;
  End end = End::open;
  Timestamp begin_time = kNoTime;
  Timestamp end_time = kNoTime;
  std::vector<Execution> executions;
  /// When statements of this transaction failed (ERROR lines). A failed
  /// statement logs no duration, so its run time is unknown: gaps around it
  /// cannot be measured.
  std::vector<Timestamp> error_times;
};

/// A unit of work beyond the transaction: a web request or job (from
/// sqlcommenter/Marginalia tags), else a burst of activity separated from the
/// next by an idle gap outside any transaction.
struct UnitOfWork {
  std::string key;                          // trace id / controller#action#n / "burst#n"
  /// Unique per unit handed to the rules in this process (0: never handed
  /// over), so that rules may share work computed for the same unit.
  std::uint64_t serial = 0;
  std::map<std::string, std::string> tags;  // tags of its first tagged statement
  Timestamp begin_time = kNoTime;
  Timestamp end_time = kNoTime;
  std::vector<Transaction> transactions;
};

/// What the session tracker knows about an open session right now; handed to
/// analyzers with lock events so they can name what a blocker was doing.
struct SessionState {
  SessionInfo info;
  /// The transaction open now, if any (its executions so far).
  const Transaction* open_transaction = nullptr;
  /// The most recent execution of this session, if any.
  const Execution* last_execution = nullptr;
  /// When the session last finished a statement (idle since then).
  Timestamp idle_since = kNoTime;
};

/// Whether the log records every statement (log_min_duration_statement = 0 or
/// log_statement = 'all' without sampling). Gap analysis needs it.
struct LogCoverage {
  bool every_statement = true;
  std::string reason;  // why not, when every_statement is false
  /// Statements are missing from the log (rather than only their durations):
  /// repetition counts are then lower bounds.
  bool missing_statements = false;
};

}  // namespace pgsift::model
