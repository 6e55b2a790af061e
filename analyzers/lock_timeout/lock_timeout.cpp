#include "analyzers/lock_timeout/lock_timeout.h"

#include <algorithm>

#include "analyzers/locks/lock_words.h"

namespace pgsift::analyzers {

const core::RuleInfo LockTimeoutRule::kInfo{
    "lock-timeout",
    "Reports statements cancelled because they could not get a lock in time (lock_timeout, NOWAIT), with the "
    "lock they wanted and the likely holder.",
    core::Severity::warning};

namespace {

std::string first_table(std::string_view raw) {
  if (raw.empty()) return "";
  const sql::Parsed parsed = sql::parse(raw);
  if (!parsed.shape) return "";
  for (const auto& st : parsed.shape->statements) {
    for (const auto& t : st.tables) {
      if (t.written || t.lock != sql::RowLock::none || st.kind == sql::Kind::lock) return t.name;
    }
    if (!st.tables.empty()) return st.tables.front().name;
  }
  return locks::single_table(raw);  // DDL: ALTER TABLE acct ... names acct
}

// Whether a statement asks for a lock that conflicts even with plain
// readers' AccessShareLock: DDL, or LOCK TABLE in ACCESS EXCLUSIVE mode (the
// only mode that conflicts with AccessShareLock).
bool wants_exclusive(std::string_view raw) {
  if (raw.empty()) return false;
  const sql::Parsed parsed = sql::parse(raw);
  if (!parsed.shape) return false;
  for (const auto& st : parsed.shape->statements) {
    if (st.kind == sql::Kind::utility) return true;
    if (st.kind == sql::Kind::lock && (st.lock_table_mode.empty() || st.lock_table_mode == "ACCESS EXCLUSIVE")) {
      return true;
    }
  }
  return false;
}

std::string_view cause_words(int cause) {
  switch (cause) {
    case 0: return "lock timeout";
    case 1: return "statement timeout while waiting for a lock";
    default: return "NOWAIT lock failure";
  }
}

}  // namespace

LockTimeoutRule::LockTimeoutRule(const core::RuleContext& context)
    : schema_(context.schema != nullptr ? context.schema : &empty_schema_) {}

void LockTimeoutRule::on_event(const model::Event& event, const core::SessionDirectory& sessions,
                               core::FindingSink& out) {
  (void)out;
  const std::int32_t pid = event.header.pid;
  if (const auto* lock = std::get_if<model::LockEvent>(&event.body)) {
    names_.learn(*lock);
    const std::int32_t waiter = lock->waiter_pid ? lock->waiter_pid : pid;
    using Phase = model::LockEvent::Phase;
    if (lock->phase == Phase::still_waiting) {
      waiting_[waiter] = *lock;
    } else if (lock->phase == Phase::failed_to_acquire) {
      waiting_[waiter] = *lock;
      report(event, Cause::nowait, lock->statement, "", sessions);
      waiting_.erase(waiter);
    } else if (lock->phase != Phase::avoided_deadlock) {
      waiting_.erase(waiter);
    }
  } else if (const auto* timeout = std::get_if<model::TimeoutEvent>(&event.body)) {
    if (timeout->kind == model::TimeoutEvent::Kind::lock_timeout) {
      report(event, Cause::lock_timeout, timeout->statement, timeout->context, sessions);
    } else if (timeout->kind == model::TimeoutEvent::Kind::statement_timeout && waiting_.count(pid)) {
      report(event, Cause::statement_timeout, timeout->statement, timeout->context, sessions);
    }
    waiting_.erase(pid);
  } else if (const auto* error = std::get_if<model::ErrorEvent>(&event.body)) {
    const std::string& state = error->sqlstate.empty() ? event.header.sqlstate : error->sqlstate;
    if (state == "55P03") {
      const bool timed_out = error->message.find("lock timeout") != std::string::npos;
      report(event, timed_out ? Cause::lock_timeout : Cause::nowait, error->statement, error->message, sessions);
    }
    waiting_.erase(pid);
  } else if (const auto* connection = std::get_if<model::ConnectionEvent>(&event.body)) {
    if (connection->kind == model::ConnectionEvent::Kind::disconnected) waiting_.erase(pid);
  }
}

void LockTimeoutRule::report(const model::Event& event, Cause cause, const std::string& statement,
                             const std::string& context, const core::SessionDirectory& sessions) {
  const std::int32_t pid = event.header.pid;
  const model::Timestamp at = event.header.time;
  const auto wait = waiting_.find(pid);
  const bool logged_wait = wait != waiting_.end();

  std::string relation = logged_wait ? locks::relation_of(wait->second, *schema_, &names_) : "";
  if (relation.empty()) relation = locks::relation_from_context(context);
  if (relation.empty()) relation = first_table(statement);
  std::string wanted = logged_wait ? wait->second.mode + " on " + locks::object_words(wait->second, *schema_, &names_)
                                   : (relation.empty() ? "a lock" : "a lock on " + relation);

  std::vector<locks::BlockerView> holders;
  std::string named_by = "the log (DETAIL of the wait)";
  if (logged_wait) {
    for (std::int32_t h : wait->second.holders) {
      if (h != pid) holders.push_back(locks::view_blocker(h, at, sessions, relation));
    }
  }
  if (holders.empty()) {
    holders = locks::likely_holders(relation, at, sessions, pid, wants_exclusive(statement));
    named_by = "open transactions that touched " + relation + " (likely)";
  }

  const std::string normalized = locks::normalize(statement);
  const std::string id = core::make_finding_id(
      kInfo.id, {std::string(cause_words(static_cast<int>(cause))), normalized, relation});
  if (auto found = by_id_.find(id); found != by_id_.end()) {
    core::Finding& f = findings_[found->second];
    f.occurrences += 1;
    if (at != model::kNoTime) f.last_seen = std::max(f.last_seen, at);
    return;
  }

  core::Finding f;
  f.rule = std::string(kInfo.id);
  f.severity = cause == Cause::nowait ? core::Severity::info : core::Severity::warning;
  f.id = id;
  f.message = std::string(cause_words(static_cast<int>(cause))) + ": pid " + std::to_string(pid) + " '" +
              (normalized.size() > 72 ? normalized.substr(0, 69) + "..." : normalized) + "' wanted " + wanted;
  if (!holders.empty()) {
    f.message += holders.size() == 1 ? ", likely holder " : ", likely holders ";
    for (std::size_t i = 0; i < holders.size(); ++i) f.message += (i ? " and " : "") + locks::blocker_words(holders[i]);
  }
  f.help = cause == Cause::nowait
               ? "NOWAIT failed because another transaction held the row; if this is a work queue, SKIP LOCKED "
                 "avoids the error, otherwise find and shorten the holder's transaction"
               : "the statement gave up waiting, as lock_timeout asked; shorten the holder's transaction (it "
                 "held the lock for the whole wait), and retry the cancelled statement with backoff";
  f.sessions.push_back(core::SessionRef{pid, event.header.session_id, event.header.user, event.header.database,
                                        event.header.application});
  f.evidence.push_back(locks::evidence_at(event.header, "cancelled", statement));
  for (const auto& h : holders) {
    if (h.session) f.sessions.push_back(*h.session);
    if (h.lock_evidence) f.evidence.push_back(*h.lock_evidence);
  }
  f.first_seen = f.last_seen = at;
  nlohmann::json& d = f.details;
  d["cause"] = std::string(cause_words(static_cast<int>(cause)));
  d["statement"] = normalized;
  d["wanted"] = wanted;
  if (!relation.empty()) d["relation"] = relation;
  if (logged_wait && wait->second.elapsed_ms >= 0) d["waited_at_least_ms"] = wait->second.elapsed_ms;
  d["holders"] = nlohmann::json::array();
  for (const auto& h : holders) d["holders"].push_back(locks::to_json(h));
  if (!holders.empty()) d["holders_named_by"] = named_by;
  by_id_.emplace(id, findings_.size());
  findings_.push_back(std::move(f));
}

void LockTimeoutRule::finish(core::FindingSink& out) {
  for (auto& f : findings_) out.add(std::move(f));
  findings_.clear();
  by_id_.clear();
}

}  // namespace pgsift::analyzers
