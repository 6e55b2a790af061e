// Log coverage sniffing: does the log record every statement, with its
// duration? Gap analysis (idle-in-transaction) is only sound when it does;
// otherwise a statement that was not logged looks exactly like idle time.
// Evidence comes from the statement events themselves (durations, duration
// lines without text), %l session line numbers, and COMMITs without BEGIN.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "analyzers/model/event.h"
#include "analyzers/model/session.h"

namespace pgsift::session {

class CoverageMonitor {
 public:
  /// A statement event (before merging into sessions).
  void observe_statement(const model::StatementEvent& statement);
  /// Any event of a client session, keyed by session: checks %l continuity.
  void observe_line(const std::string& session_key, std::uint64_t session_line);
  /// The same for a caller that keeps each session's last %l itself (no
  /// lookup by key): `last_line` is 0 before the session's first line.
  void observe_line(std::uint64_t& last_line, std::uint64_t session_line);
  void forget_session(const std::string& session_key);
  /// A COMMIT/END arrived in a session known to be outside any transaction.
  void observe_unmatched_commit() { ++unmatched_commits_; }

  /// The verdict so far.
  model::LogCoverage result() const;

  std::uint64_t statements() const { return statements_; }

 private:
  std::uint64_t statements_ = 0;
  std::uint64_t with_duration_ = 0;
  std::uint64_t without_duration_ = 0;
  std::uint64_t duration_only_ = 0;  // "duration: X ms" with no statement text
  std::uint64_t fast_ = 0;           // durations under 1 ms
  double min_duration_ms_ = -1;
  std::uint64_t missing_lines_ = 0;
  std::uint64_t unmatched_commits_ = 0;
  std::unordered_map<std::string, std::uint64_t> last_line_;
};

}  // namespace pgsift::session
