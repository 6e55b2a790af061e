// The streaming session tracker: consumes classified events in log order,
// rebuilds sessions, transactions and units of work, and drives the rules
// (Rule::on_unit when a unit closes, Rule::on_event for non-statement events,
// Rule::finish at the end). Memory is bounded by the open sessions: units and
// sessions close on disconnection, on idle gaps and timeouts in log time, and
// on size caps. Not thread-safe; one tracker per run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/model/event.h"
#include "analyzers/model/session.h"
#include "analyzers/session/coverage.h"

namespace pgsift::session {

/// Tunables; `from_options` reads them from "session.*" keys.
struct TrackerOptions {
  /// An idle gap outside any transaction at least this long ends an untagged
  /// unit of work (a request or job burst).
  model::Timestamp unit_gap_us = 250 * model::kMicrosPerMilli;
  /// A session quiet for this long (log time) is closed; its open transaction is cut.
  model::Timestamp session_timeout_us = 3600 * model::kMicrosPerSecond;
  /// A unit with more executions than this is closed at its next transaction
  /// boundary. Under continuous load (no idle gap, no request tags) every
  /// session holds a unit this long, and the rules walk it when it closes:
  /// the executions held at once are the analysis' working set. On the bench
  /// logs (11 busy sessions) 2000 instead of 5000 gave the same findings,
  /// peak RSS 20 -> 18 MB and one thread ~14% faster (bench/ab, 9 rounds
  /// per format); 1000 was faster still but split loops and races the
  /// larger units kept whole.
  std::size_t max_unit_executions = 2000;
  /// An open transaction with more executions than this is handed to the rules
  /// in pieces (the piece is marked cut, the rest started_before_log).
  std::size_t max_transaction_executions = 20000;
  /// While the log cannot tell whether a session that started before the log
  /// is inside a transaction, statements wait (at most this many) for a hint.
  std::size_t max_undecided_executions = 500;

  /// Reads `session.unit-gap-ms`, `session.timeout-s`, `session.max-unit-statements`
  /// from `options`; returns an error message naming the bad key/value, or "".
  static std::string from_options(const core::OptionMap& options, TrackerOptions& out);
};

/// Counters for --stats and tests.
struct TrackerStats {
  std::uint64_t sessions = 0;
  std::uint64_t max_open_sessions = 0;
  std::uint64_t units = 0;
  std::uint64_t transactions = 0;
  std::uint64_t executions = 0;
};

class SessionTracker final : public core::SessionDirectory {
 public:
  SessionTracker(TrackerOptions options, core::FindingSink& sink);
  ~SessionTracker() override;
  SessionTracker(const SessionTracker&) = delete;
  SessionTracker& operator=(const SessionTracker&) = delete;

  /// Rules to drive (not owned; must outlive the tracker's last call).
  void add_rule(core::Rule* rule);

  /// Feeds the next event, in log order.
  void on_event(const model::Event& event);
  /// The same, but the tracker may move the statement's text, parameters and
  /// parse out of `event` instead of copying them (the event is spent).
  void consume_event(model::Event& event);

  /// Closes every open session (open transactions are cut), finalizes the
  /// coverage, then calls Rule::finish. Call once, after the last event.
  void finish();

  /// Coverage of the log; final after finish(). The address is stable, so
  /// rules may keep it (RuleContext::coverage) and read it in finish().
  const model::LogCoverage& coverage() const { return coverage_; }

  const TrackerStats& stats() const { return stats_; }
  std::size_t open_sessions() const { return sessions_.size(); }

  /// SessionDirectory: the open session with this pid (latest one), or nullptr.
  const model::SessionState* find(std::int32_t pid) const override;
  /// SessionDirectory: every open session (the latest per pid), by pid.
  std::vector<const model::SessionState*> open_session_states() const override;

  struct Session;  // internal, defined in session_tracker.cpp

 private:
  Session* session_for(const model::Event& event, bool create, bool new_connection);
  void dispatch(const model::Event& event, model::StatementEvent* movable);
  void on_statement(Session& session, const model::Event& event, model::StatementEvent* movable,
                    const model::StatementEvent& statement);
  void on_other(const model::Event& event);
  void close_session(const std::string& key, model::Transaction::End end);
  void sweep(model::Timestamp now);
  void emit_unit(Session& session);

  TrackerOptions options_;
  core::FindingSink& sink_;
  std::vector<core::Rule*> rules_;
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
  std::unordered_map<std::int32_t, Session*> by_pid_;
  std::unordered_map<std::int32_t, std::uint64_t> pid_generation_;
  CoverageMonitor monitor_;
  model::LogCoverage coverage_;
  TrackerStats stats_;
  model::Timestamp next_sweep_ = model::kNoTime;
  bool finished_ = false;
  /// Buffers of the executions of dropped units (defined in session_tracker.cpp).
  struct Recycled;
  std::unique_ptr<Recycled> recycled_;

  friend class SessionOps;
};

}  // namespace pgsift::session
