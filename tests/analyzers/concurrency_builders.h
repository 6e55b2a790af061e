// Builders for the concurrency rules' unit tests: units of work made of real
// parsed statements (sql::parse, libpg_query), lock/deadlock/timeout events as
// the classifier emits them, and a small SessionDirectory over session states
// built the same way. Header-only; used by tests/analyzers/*_test.cpp.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"

namespace pgsift::testing {

inline constexpr model::Timestamp kT0 = 1'700'000'000'000'000;  // 2023-11-14 22:13:20 UTC

inline model::Execution make_execution(const std::string& sql, std::vector<std::optional<std::string>> params,
                                       model::Timestamp at, std::uint64_t line) {
  model::Execution e;
  e.where = {0, line};
  e.start = at;
  e.end = at;
  e.sql = sql;
  e.parsed = sql::parse(sql);
  e.parameters = std::move(params);
  if (!e.parameters.empty()) e.protocol = model::StatementEvent::Protocol::extended;
  return e;
}

/// Builds one unit of work: begin()/run()/commit() for explicit transactions,
/// run() outside them for autocommit statements (each its own transaction).
class UnitBuilder {
 public:
  explicit UnitBuilder(model::Timestamp start = kT0) : clock_(start) {}

  UnitBuilder& begin(sql::IsolationLevel level = sql::IsolationLevel::unspecified) {
    model::Transaction t;
    t.sequence = unit_.transactions.size() + 1;
    t.is_explicit = true;
    if (level != sql::IsolationLevel::unspecified) {
      t.isolation = level;
      t.isolation_known = true;
    }
    t.begin_time = tick();
    unit_.transactions.push_back(std::move(t));
    open_ = true;
    return *this;
  }
  UnitBuilder& run(const std::string& sql, std::vector<std::optional<std::string>> params = {}) {
    if (!open_) {
      model::Transaction t;
      t.sequence = unit_.transactions.size() + 1;
      t.begin_time = clock_;
      t.end = model::Transaction::End::commit;
      unit_.transactions.push_back(std::move(t));
    }
    unit_.transactions.back().executions.push_back(make_execution(sql, std::move(params), tick(), ++line_));
    if (!open_) unit_.transactions.back().end_time = clock_;
    return *this;
  }
  UnitBuilder& commit() {
    unit_.transactions.back().end = model::Transaction::End::commit;
    unit_.transactions.back().end_time = tick();
    open_ = false;
    return *this;
  }
  model::UnitOfWork build() {
    unit_.begin_time = unit_.transactions.empty() ? clock_ : unit_.transactions.front().begin_time;
    unit_.end_time = clock_;
    return unit_;
  }

 private:
  model::Timestamp tick() { return clock_ += 10 * model::kMicrosPerMilli; }
  model::UnitOfWork unit_;
  model::Timestamp clock_;
  std::uint64_t line_ = 0;
  bool open_ = false;
};

/// Collects findings.
struct CollectingSink : core::FindingSink {
  std::vector<core::Finding> findings;
  void add(core::Finding finding) override { findings.push_back(std::move(finding)); }
};

/// A directory of hand-built session states (the real one is the session tracker).
class TestDirectory : public core::SessionDirectory {
 public:
  /// Adds a session whose open transaction ran `statements` and went idle at `idle_since`.
  void add(std::int32_t pid, const std::vector<std::string>& statements, model::Timestamp idle_since,
           bool in_transaction = true) {
    auto entry = std::make_unique<Entry>();
    entry->transaction.is_explicit = true;
    entry->transaction.begin_time = idle_since - 5 * model::kMicrosPerMilli;
    std::uint64_t line = 100 * static_cast<std::uint64_t>(pid % 100);
    for (const auto& sql : statements) {
      entry->transaction.executions.push_back(make_execution(sql, {}, idle_since, ++line));
    }
    entry->state.info.pid = pid;
    entry->state.info.session_id = "s" + std::to_string(pid);
    entry->state.info.user = "app";
    entry->state.open_transaction = in_transaction ? &entry->transaction : nullptr;
    entry->state.last_execution =
        entry->transaction.executions.empty() ? nullptr : &entry->transaction.executions.back();
    entry->state.idle_since = idle_since;
    sessions_[pid] = std::move(entry);
  }
  const model::SessionState* find(std::int32_t pid) const override {
    auto it = sessions_.find(pid);
    return it == sessions_.end() ? nullptr : &it->second->state;
  }
  std::vector<const model::SessionState*> open_session_states() const override {
    std::vector<const model::SessionState*> out;
    for (const auto& [pid, entry] : sessions_) out.push_back(&entry->state);
    return out;
  }

 private:
  struct Entry {
    model::Transaction transaction;
    model::SessionState state;
  };
  std::map<std::int32_t, std::unique_ptr<Entry>> sessions_;
};

inline model::Event event_at(std::int32_t pid, model::Timestamp at, std::uint64_t line, model::EventBody body,
                             model::LogLevel level = model::LogLevel::log) {
  model::Event e;
  e.header.pid = pid;
  e.header.time = at;
  e.header.where = {0, line};
  e.level = level;
  e.body = std::move(body);
  return e;
}

inline model::LockEvent still_waiting(std::int32_t pid, std::string mode, std::string object_kind,
                                      std::uint64_t xid, std::vector<std::int32_t> holders,
                                      std::vector<std::int32_t> queue, std::string statement,
                                      std::string relation = "", double elapsed = 200) {
  model::LockEvent l;
  l.phase = model::LockEvent::Phase::still_waiting;
  l.waiter_pid = pid;
  l.mode = std::move(mode);
  l.object_kind = object_kind;
  l.transaction_id = xid;
  l.object = object_kind == "transaction" ? "transaction " + std::to_string(xid) : object_kind + " 16384 of database 5";
  if (object_kind == "relation") l.relation_oid = 16384;
  l.relation_name = std::move(relation);
  l.elapsed_ms = elapsed;
  l.holders = std::move(holders);
  l.wait_queue = std::move(queue);
  l.statement = std::move(statement);
  return l;
}

}  // namespace pgsift::testing
