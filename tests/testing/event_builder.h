// Builders for model::Event streams, for unit tests of the session tracker and
// the rules (leveldb-style: tests state scenarios, not log text). One clock is
// shared by all sessions; `as(pid)` switches the session later events belong to.
//
//   EventScript s;
//   s.as(101).connect().sql("BEGIN").sql("UPDATE t SET x = 1 WHERE id = 1", 0.2)
//    .wait_ms(500).sql("COMMIT");
//   feed(tracker, s.events);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/model/event.h"

namespace pgsift::testing {

class EventScript {
 public:
  /// 2024-05-01 10:00:00 UTC.
  static constexpr model::Timestamp kStart = 1714557600LL * model::kMicrosPerSecond;

  std::vector<model::Event> events;
  model::Timestamp now = kStart;

  /// Later events come from this backend (session id "" = no %c in the prefix).
  EventScript& as(std::int32_t pid, std::string session_id = "", std::string application = "app") {
    header_ = {};
    header_.pid = pid;
    header_.session_id = std::move(session_id);
    header_.user = "alice";
    header_.database = "shop";
    header_.application = std::move(application);
    return *this;
  }
  /// Moves the shared clock forward.
  EventScript& wait_ms(double ms) {
    now += static_cast<model::Timestamp>(ms * model::kMicrosPerMilli);
    return *this;
  }
  /// Sets %v for later events ("" = the prefix has no %v).
  EventScript& vxid(std::string vxid) {
    header_.virtual_xid = std::move(vxid);
    return *this;
  }
  /// A statement that ran for `duration_ms` starting now (the event is stamped at its end,
  /// as `duration:` lines are). Negative duration: logged without one (log_statement).
  EventScript& sql(std::string text, double duration_ms = 0.05,
                   std::vector<std::optional<std::string>> parameters = {}) {
    model::StatementEvent statement;
    statement.sql = std::move(text);
    statement.duration_ms = duration_ms;
    statement.parameters = std::move(parameters);
    if (!statement.parameters.empty()) {
      statement.protocol = model::StatementEvent::Protocol::extended;
      statement.prepared_name = "<unnamed>";
    }
    if (duration_ms > 0) wait_ms(duration_ms);
    push(model::LogLevel::log, std::move(statement));
    return *this;
  }
  /// An extended-protocol execution with bound parameters.
  EventScript& exec(std::string text, std::vector<std::optional<std::string>> parameters,
                    double duration_ms = 0.05) {
    if (parameters.empty()) parameters.push_back(std::nullopt);
    return sql(std::move(text), duration_ms, std::move(parameters));
  }
  EventScript& fetch(std::string text, double duration_ms = 0.05) {
    model::StatementEvent statement;
    statement.sql = std::move(text);
    statement.duration_ms = duration_ms;
    statement.protocol = model::StatementEvent::Protocol::extended;
    statement.continues_portal = true;
    if (duration_ms > 0) wait_ms(duration_ms);
    push(model::LogLevel::log, std::move(statement));
    return *this;
  }
  EventScript& connect() {
    model::ConnectionEvent received;
    received.kind = model::ConnectionEvent::Kind::received;
    push(model::LogLevel::log, received);
    model::ConnectionEvent authorized;
    authorized.kind = model::ConnectionEvent::Kind::authorized;
    push(model::LogLevel::log, authorized);
    return *this;
  }
  EventScript& disconnect() {
    model::ConnectionEvent event;
    event.kind = model::ConnectionEvent::Kind::disconnected;
    push(model::LogLevel::log, event);
    return *this;
  }
  /// `process <waiter> still waiting for ShareLock on transaction <xid> after <ms> ms`.
  EventScript& lock_wait(std::int32_t waiter, std::vector<std::int32_t> holders, double elapsed_ms,
                         model::LockEvent::Phase phase = model::LockEvent::Phase::still_waiting) {
    model::LockEvent lock;
    lock.phase = phase;
    lock.waiter_pid = waiter;
    lock.mode = "ShareLock";
    lock.object = "transaction 4242";
    lock.object_kind = "transaction";
    lock.transaction_id = 4242;
    lock.elapsed_ms = elapsed_ms;
    lock.holders = std::move(holders);
    lock.statement = "UPDATE accounts SET balance = balance - 1 WHERE id = 1";
    model::RecordHeader saved = header_;
    header_.pid = waiter;
    header_.session_id.clear();
    push(model::LogLevel::log, std::move(lock));
    header_ = saved;
    return *this;
  }
  EventScript& timeout(model::TimeoutEvent::Kind kind) {
    model::TimeoutEvent event;
    event.kind = kind;
    const bool fatal = kind != model::TimeoutEvent::Kind::lock_timeout &&
                       kind != model::TimeoutEvent::Kind::statement_timeout;
    push(fatal ? model::LogLevel::fatal : model::LogLevel::error, event);
    return *this;
  }
  EventScript& error(std::string sqlstate, std::string message) {
    model::ErrorEvent event;
    event.sqlstate = std::move(sqlstate);
    event.message = std::move(message);
    push(model::LogLevel::error, std::move(event));
    return *this;
  }
  /// A noise record of this session (e.g. a NOTICE) that takes one %l number.
  EventScript& other() {
    push(model::LogLevel::notice, model::OtherEvent{});
    return *this;
  }
  /// Sets the next %l number of the current session (0 = the prefix has no %l).
  EventScript& line(std::uint64_t session_line) {
    header_.session_line = session_line;
    return *this;
  }

 private:
  void push(model::LogLevel level, model::EventBody body) {
    model::Event event;
    event.header = header_;
    event.header.time = now;
    event.header.where.line = ++line_;
    if (header_.session_line != 0) header_.session_line += 1;
    event.level = level;
    event.body = std::move(body);
    events.push_back(std::move(event));
  }

  model::RecordHeader header_;
  std::uint64_t line_ = 0;
};

}  // namespace pgsift::testing
