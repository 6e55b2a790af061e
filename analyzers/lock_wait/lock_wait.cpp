#include "analyzers/lock_wait/lock_wait.h"

#include <algorithm>
#include <set>

namespace pgsift::analyzers {

const core::RuleInfo LockWaitRule::kInfo{
    "lock-wait",
    "Reports statements that waited for a lock, with the session that blocked them and what it was doing.",
    core::Severity::warning};

namespace {

constexpr std::size_t kMaxListed = 20;
constexpr std::size_t kMaxChain = 16;

std::optional<double> parse_number(const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || v < 0) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string joined_pids(const std::vector<std::int32_t>& pids) {
  std::string out;
  for (std::size_t i = 0; i < pids.size(); ++i) out += (i ? ", " : "") + std::to_string(pids[i]);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> LockWaitRule::option_docs() {
  return {
      {"min-wait-ms", "0: ignore waits shorter than this (the server logs only waits longer than deadlock_timeout)"},
      {"warning-after-ms", "5000: waits at least this long are warnings (also: blocker idle in transaction, chains)"},
  };
}

std::string LockWaitRule::validate(const core::OptionMap& options) {
  for (const char* key : {"min-wait-ms", "warning-after-ms"}) {
    auto it = options.find(key);
    if (it != options.end() && !parse_number(it->second)) {
      return std::string("lock-wait.") + key + ": expected a number of milliseconds >= 0, got '" + it->second + "'";
    }
  }
  return "";
}

LockWaitRule::LockWaitRule(const core::RuleContext& context)
    : schema_(context.schema != nullptr ? context.schema : &empty_schema_) {
  if (auto it = context.options.find("min-wait-ms"); it != context.options.end()) {
    min_wait_ms_ = parse_number(it->second).value_or(min_wait_ms_);
  }
  if (auto it = context.options.find("warning-after-ms"); it != context.options.end()) {
    warn_after_ms_ = parse_number(it->second).value_or(warn_after_ms_);
  }
}

void LockWaitRule::on_event(const model::Event& event, const core::SessionDirectory& sessions,
                            core::FindingSink& out) {
  (void)out;
  const std::int32_t pid = event.header.pid;
  const model::Timestamp at = event.header.time;
  if (const auto* lock = std::get_if<model::LockEvent>(&event.body)) {
    names_.learn(*lock);
    const std::int32_t waiter = lock->waiter_pid ? lock->waiter_pid : pid;
    using Phase = model::LockEvent::Phase;
    switch (lock->phase) {
      case Phase::still_waiting: start(event, *lock, sessions); break;
      case Phase::acquired: end(waiter, lock->elapsed_ms, "acquired", at); break;
      case Phase::deadlock_detected: end(waiter, lock->elapsed_ms, "deadlock detected", at); break;
      case Phase::failed_to_acquire: end(waiter, lock->elapsed_ms, "failed to acquire", at); break;
      case Phase::avoided_deadlock: break;
    }
  } else if (const auto* timeout = std::get_if<model::TimeoutEvent>(&event.body)) {
    if (timeout->kind == model::TimeoutEvent::Kind::lock_timeout) end(pid, -1, "lock timeout", at);
    if (timeout->kind == model::TimeoutEvent::Kind::statement_timeout) end(pid, -1, "statement timeout", at);
  } else if (std::holds_alternative<model::DeadlockEvent>(event.body)) {
    end(pid, -1, "deadlock detected", at);
  } else if (const auto* error = std::get_if<model::ErrorEvent>(&event.body)) {
    end(pid, -1, "error " + (error->sqlstate.empty() ? event.header.sqlstate : error->sqlstate), at);
  } else if (const auto* connection = std::get_if<model::ConnectionEvent>(&event.body)) {
    if (connection->kind == model::ConnectionEvent::Kind::disconnected) end(pid, -1, "disconnection", at);
  }
}

void LockWaitRule::start(const model::Event& event, const model::LockEvent& lock,
                         const core::SessionDirectory& sessions) {
  const std::int32_t pid = lock.waiter_pid ? lock.waiter_pid : event.header.pid;
  if (auto previous = pending_.find(pid); previous != pending_.end()) {
    // A new wait means the previous one ended without an "acquired" line.
    Wait old = std::move(previous->second);
    pending_.erase(previous);
    const double elapsed = old.lock.elapsed_ms;
    record(std::move(old), elapsed, "ended (no further line)");
  }
  Wait w;
  w.header = event.header;
  w.lock = lock;
  w.started = event.header.time;
  if (w.started != model::kNoTime && lock.elapsed_ms > 0) {
    w.started -= static_cast<model::Timestamp>(lock.elapsed_ms * model::kMicrosPerMilli);
  }
  // Relation-level waits carry no CONTEXT: the name comes from the schema,
  // from earlier lines about the same OID, or from the waiting statement;
  // finish() retries with what later lines taught.
  w.relation = locks::relation_of(lock, *schema_, &names_);
  w.object = locks::object_words(w.lock, *schema_, &names_);
  w.statement = locks::normalize(lock.statement);
  if (const model::SessionState* self = sessions.find(pid)) w.session = locks::ref_of(self->info);

  // A waiter queued ahead of us with a conflicting request blocks us even
  // though the DETAIL lists only the holders (races_locks.md §3.1, "Holders").
  for (std::int32_t queued : lock.wait_queue) {
    if (queued == pid) break;
    auto it = pending_.find(queued);
    if (it == pending_.end() || it->second.lock.object != lock.object) continue;
    if (!locks::modes_conflict(lock.mode, it->second.lock.mode)) continue;
    locks::BlockerView view = locks::view_blocker(queued, event.header.time, sessions, w.relation);
    view.queued_ahead = true;
    view.lock_statement = it->second.statement;
    w.blockers.push_back(std::move(view));
  }
  if (w.blockers.empty()) {
    for (std::int32_t holder : lock.holders) {
      if (holder != pid) w.blockers.push_back(locks::view_blocker(holder, event.header.time, sessions, w.relation));
    }
  }
  // Chain: follow the first blocker's own pending wait upwards.
  std::set<std::int32_t> seen{pid};
  for (const auto& b : w.blockers) {
    auto it = pending_.find(b.pid);
    if (it != pending_.end() && it->second.blocking.size() < kMaxListed) it->second.blocking.push_back(pid);
  }
  std::int32_t next = w.blockers.empty() ? 0 : w.blockers.front().pid;
  while (next != 0 && seen.insert(next).second && w.chain.size() < kMaxChain) {
    w.chain.push_back(next);
    auto it = pending_.find(next);
    next = (it == pending_.end() || it->second.blockers.empty()) ? 0 : it->second.blockers.front().pid;
  }
  pending_[pid] = std::move(w);
}

void LockWaitRule::end(std::int32_t pid, double total_ms, const std::string& how, model::Timestamp at) {
  auto it = pending_.find(pid);
  if (it == pending_.end()) return;
  Wait w = std::move(it->second);
  pending_.erase(it);
  if (total_ms < 0 && at != model::kNoTime && w.started != model::kNoTime) {
    total_ms = static_cast<double>(at - w.started) / static_cast<double>(model::kMicrosPerMilli);
  }
  if (total_ms < 0) total_ms = w.lock.elapsed_ms;
  record(std::move(w), total_ms, how);
}

void LockWaitRule::record(Wait w, double total_ms, const std::string& how) {
  if (total_ms < min_wait_ms_) return;
  std::vector<std::string> parts{w.lock.mode, w.lock.object_kind, w.relation, w.statement};
  for (const auto& b : w.blockers) parts.push_back(b.lock_statement.empty() ? b.state : b.lock_statement);
  const std::string id = core::make_finding_id(kInfo.id, parts);
  waits_by_id_[id].push_back(total_ms);

  const bool idle_blocker = std::any_of(w.blockers.begin(), w.blockers.end(), [](const locks::BlockerView& b) {
    return b.state == "idle in transaction";
  });
  const bool chained = w.chain.size() >= 2 || !w.blocking.empty();
  core::Severity severity = core::Severity::info;
  if (total_ms >= warn_after_ms_ || idle_blocker || chained) severity = core::Severity::warning;

  if (auto found = by_id_.find(id); found != by_id_.end()) {
    core::Finding& f = findings_[found->second];
    f.occurrences += 1;
    f.severity = std::max(f.severity, severity);
    if (w.header.time != model::kNoTime) f.last_seen = std::max(f.last_seen, w.header.time);
    return;
  }

  const std::int32_t pid = w.lock.waiter_pid ? w.lock.waiter_pid : w.header.pid;
  core::Finding f;
  f.rule = std::string(kInfo.id);
  f.severity = severity;
  f.id = id;
  f.message = "pid " + std::to_string(pid) + " waited " + locks::duration_words(total_ms) + " for " + w.lock.mode +
              " on " + w.object;
  if (!w.blockers.empty()) {
    f.message += ", blocked by ";
    for (std::size_t i = 0; i < w.blockers.size(); ++i) {
      f.message += (i ? " and " : "") + locks::blocker_words(w.blockers[i]);
    }
  }
  if (how != "acquired") f.message += "; the wait ended by " + how;
  f.help = idle_blocker
               ? "the blocking session held its locks while idle in a transaction: commit or roll back before "
                 "slow work in the application, and set idle_in_transaction_session_timeout; an idle blocker "
                 "needs pg_terminate_backend, pg_cancel_backend only stops a running query"
               : "shorten the blocking transaction, take row locks in a consistent order, and set lock_timeout "
                 "for statements (especially DDL) that must not queue";
  if (w.session) f.sessions.push_back(*w.session);
  else f.sessions.push_back(core::SessionRef{pid, w.header.session_id, w.header.user, w.header.database,
                                             w.header.application});
  f.evidence.push_back(locks::evidence_at(w.header, "waiter", w.lock.statement));
  f.evidence[0].duration_ms = total_ms;
  for (const auto& b : w.blockers) {
    if (b.session && f.sessions.size() < kMaxListed) f.sessions.push_back(*b.session);
    if (b.lock_evidence) f.evidence.push_back(*b.lock_evidence);
  }
  f.first_seen = w.started;
  f.last_seen = w.header.time;

  nlohmann::json& d = f.details;
  d["waiter"] = {{"pid", pid}, {"statement", w.statement}, {"mode", w.lock.mode}, {"object", w.lock.object}};
  if (!w.relation.empty()) d["waiter"]["relation"] = w.relation;
  if (!w.lock.tuple.empty()) d["waiter"]["tuple"] = w.lock.tuple;
  if (w.lock.transaction_id != 0) d["waiter"]["transaction"] = w.lock.transaction_id;
  d["object"] = w.object;
  d["wait_ms"] = total_ms;
  d["ended_by"] = how;
  d["blockers"] = nlohmann::json::array();
  for (const auto& b : w.blockers) d["blockers"].push_back(locks::to_json(b));
  d["holders"] = w.lock.holders;
  d["wait_queue"] = w.lock.wait_queue;
  if (!w.chain.empty()) {
    d["chain"] = w.chain;
    d["chain_text"] = std::to_string(pid) + " <- " + joined_pids(w.chain);
  }
  if (!w.blocking.empty()) d["blocking"] = w.blocking;
  if (locks::unnamed_relation(w.relation)) unnamed_.emplace(findings_.size(), Unnamed{w.lock, w.object});
  by_id_.emplace(id, findings_.size());
  findings_.push_back(std::move(f));
}

void LockWaitRule::finish(core::FindingSink& out) {
  std::vector<std::int32_t> open;
  for (const auto& [pid, w] : pending_) open.push_back(pid);
  for (std::int32_t pid : open) end(pid, pending_[pid].lock.elapsed_ms, "the end of the log (still waiting)",
                                    model::kNoTime);
  name_late();
  for (auto& f : findings_) {
    const auto& waits = waits_by_id_[f.id];
    if (waits.size() > 1) {
      double total = 0, max = 0;
      for (double v : waits) total += v, max = std::max(max, v);
      f.details["hot_spot"] = {{"waits", waits.size()}, {"total_ms", total}, {"max_ms", max},
                               {"p50_ms", percentile(waits, 0.5)}, {"p95_ms", percentile(waits, 0.95)}};
      f.message += "; " + std::to_string(waits.size()) + " waits of this shape, longest " +
                   locks::duration_words(max);
    }
    out.add(std::move(f));
  }
  findings_.clear();
  by_id_.clear();
  waits_by_id_.clear();
  unnamed_.clear();
}

// A wait reported before any line named its relation: a later tuple wait's
// CONTEXT or a single-table statement on the same OID names it now.
void LockWaitRule::name_late() {
  for (auto& [index, unnamed] : unnamed_) {
    const std::string name = names_.find(unnamed.lock.relation_oid);
    if (name.empty()) continue;
    model::LockEvent named = unnamed.lock;
    named.relation_name = name;
    const std::string object = locks::object_words(named, *schema_);
    core::Finding& f = findings_[index];
    if (auto at = f.message.find(unnamed.object); at != std::string::npos) {
      f.message.replace(at, unnamed.object.size(), object);
    }
    f.details["object"] = object;
    f.details["waiter"]["relation"] = name;
    f.details["relation_named_by"] = "another lock line about the same OID";
  }
}

}  // namespace pgsift::analyzers
