#include "analyzers/idle_in_transaction/idle_in_transaction.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "analyzers/core/option_values.h"
#include "analyzers/session/evidence.h"

namespace pgsift::analyzers {

const core::RuleInfo IdleInTransactionRule::kInfo = {
    "idle-in-transaction",
    "A gap between statements of one open transaction, during which the client did something "
    "else while holding the transaction's snapshot and locks.",
    core::Severity::warning};

namespace {

constexpr std::size_t kWaitsPerHolder = 32;

const char* kHelp =
    "do the slow work outside the transaction: call the HTTP service, payment provider or queue "
    "before BEGIN or after COMMIT; for work that must happen only if the transaction commits, "
    "write it to an outbox table in the transaction (transactional outbox) or use after-commit "
    "hooks (Rails after_commit, Django transaction.on_commit, Spring "
    "@TransactionalEventListener(AFTER_COMMIT)); set idle_in_transaction_session_timeout as a "
    "safety net";

/// Tables the transaction has written or locked up to (not including) `end`.
std::vector<std::string> held_locks(const model::Transaction& transaction, std::size_t end) {
  std::set<std::string> held;
  for (std::size_t i = 0; i < end && i < transaction.executions.size(); ++i) {
    const sql::Statement& statement = transaction.executions[i].statement();
    const bool writes = statement.kind == sql::Kind::insert || statement.kind == sql::Kind::update ||
                        statement.kind == sql::Kind::delete_ || statement.kind == sql::Kind::merge;
    for (const sql::TableAccess& table : statement.tables) {
      if ((writes && table.written) || table.lock != sql::RowLock::none) held.insert(table.name);
    }
    if (writes && statement.insert) held.insert(statement.insert->table);
    if (statement.kind == sql::Kind::lock) {
      for (const sql::TableAccess& table : statement.tables) held.insert(table.name);
    }
    for (const sql::AdvisoryLock& lock : statement.advisory_locks) {
      if (lock.transaction_scoped) held.insert("advisory lock");
    }
  }
  held.erase("");
  return {held.begin(), held.end()};
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

model::Timestamp earliest(model::Timestamp a, model::Timestamp b) {
  return a == model::kNoTime ? b : b == model::kNoTime ? a : std::min(a, b);
}

}  // namespace

std::string IdleInTransactionOptions::from(const core::OptionMap& options,
                                           IdleInTransactionOptions& out) {
  for (const std::string& error :
       {core::read_number(options, "min-gap-ms", 0, 1e12, out.min_gap_ms),
        core::read_number(options, "warning-gap-ms", 0, 1e12, out.warning_gap_ms),
        core::read_number(options, "error-gap-ms", 0, 1e12, out.error_gap_ms)}) {
    if (!error.empty()) return error;
  }
  auto it = options.find("ignore-applications");
  if (it != options.end()) out.ignore_applications = it->second;
  return "";
}

core::RuleEntry IdleInTransactionRule::entry() {
  core::RuleEntry entry;
  entry.info = kInfo;
  entry.options = {
      {"min-gap-ms", "100: report gaps at least this long inside a transaction"},
      {"warning-gap-ms", "1000: a gap of a transaction that holds no locks is a warning from this long (info below)"},
      {"error-gap-ms", "5000: a gap while holding locks is an error from this long"},
      {"ignore-applications",
       "psql,pgAdmin*,DBeaver*,DataGrip*,TablePlus*,Navicat*: application_name patterns to leave out ('*' = prefix)"},
  };
  entry.make = [](const core::RuleContext& context) {
    return std::make_unique<IdleInTransactionRule>(context);
  };
  entry.validate = [](const core::OptionMap& options) {
    IdleInTransactionOptions parsed;
    return IdleInTransactionOptions::from(options, parsed);
  };
  return entry;
}

IdleInTransactionRule::IdleInTransactionRule(const core::RuleContext& context)
    : coverage_(context.coverage) {
  IdleInTransactionOptions::from(context.options, options_);
  std::size_t start = 0;
  const std::string& list = options_.ignore_applications;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string pattern = list.substr(start, comma - start);
    if (!pattern.empty()) ignore_patterns_.push_back(pattern);
    start = comma + 1;
  }
}

bool IdleInTransactionRule::ignored(const std::string& application) const {
  for (const std::string& pattern : ignore_patterns_) {
    if (pattern.back() == '*') {
      if (application.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0) return true;
    } else if (application == pattern) {
      return true;
    }
  }
  return false;
}

void IdleInTransactionRule::on_event(const model::Event& event,
                                     const core::SessionDirectory& sessions,
                                     core::FindingSink& out) {
  if (const auto* lock = std::get_if<model::LockEvent>(&event.body)) {
    record_wait(event, *lock);
  } else if (const auto* timeout = std::get_if<model::TimeoutEvent>(&event.body)) {
    if (timeout->kind == model::TimeoutEvent::Kind::idle_in_transaction_timeout ||
        timeout->kind == model::TimeoutEvent::Kind::transaction_timeout) {
      on_timeout(event, sessions, out);
    }
  }
}

void IdleInTransactionRule::record_wait(const model::Event& event, const model::LockEvent& lock) {
  const model::Timestamp now = event.header.time;
  if (lock.phase == model::LockEvent::Phase::acquired) {
    // The wait that "still waiting" opened ends here.
    for (auto& [holder, waits] : waits_by_holder_) {
      for (Wait& wait : waits) {
        if (wait.waiter == lock.waiter_pid && wait.end <= now) wait.end = now;
      }
    }
    return;
  }
  for (std::int32_t holder : lock.holders) {
    Wait wait;
    wait.end = now;
    wait.start = now == model::kNoTime || lock.elapsed_ms < 0
                     ? now
                     : now - static_cast<model::Timestamp>(lock.elapsed_ms * model::kMicrosPerMilli);
    wait.waiter = lock.waiter_pid != 0 ? lock.waiter_pid : event.header.pid;
    wait.mode = lock.mode;
    wait.object = lock.object;
    wait.relation = lock.relation_name;
    wait.where = event.header.where;
    std::deque<Wait>& waits = waits_by_holder_[holder];
    waits.push_back(std::move(wait));
    if (waits.size() > kWaitsPerHolder) waits.pop_front();
  }
}

void IdleInTransactionRule::on_timeout(const model::Event& event,
                                       const core::SessionDirectory& sessions,
                                       core::FindingSink& out) {
  const model::SessionState* state = sessions.find(event.header.pid);
  core::Finding finding;
  finding.rule = std::string(kInfo.id);
  finding.severity = core::Severity::error;
  core::Evidence terminated;
  terminated.role = "terminated by the server";
  terminated.input = event.header.where.input;
  terminated.line = event.header.where.line;
  terminated.time = event.header.time;
  terminated.pid = event.header.pid;
  std::string last_sql;
  std::vector<std::string> held;
  double idle_ms = -1;
  if (state != nullptr && state->open_transaction != nullptr && state->last_execution != nullptr) {
    const model::Execution& last = *state->last_execution;
    last_sql = last.statement().normalized;
    idle_ms = session::elapsed_ms(last.end, event.header.time);
    held = held_locks(*state->open_transaction, state->open_transaction->executions.size());
    finding.evidence.push_back(session::evidence_of(last, "last statement", event.header.pid));
  }
  finding.evidence.insert(finding.evidence.begin(), terminated);
  const auto* timeout = std::get_if<model::TimeoutEvent>(&event.body);
  const bool whole = timeout->kind == model::TimeoutEvent::Kind::transaction_timeout;
  finding.message = std::string("the server terminated a session ") +
                    (whole ? "whose transaction ran past transaction_timeout"
                           : "idle in transaction past idle_in_transaction_session_timeout") +
                    (idle_ms >= 0 ? " (idle " + session::duration_text(idle_ms) + ")" : "") +
                    (last_sql.empty() ? "" : " after '" + session::shorten(last_sql, 60) + "'");
  finding.help = kHelp;
  if (state != nullptr) finding.sessions.push_back(session::session_ref(state->info));
  else finding.sessions.push_back({event.header.pid, event.header.session_id, event.header.user,
                                   event.header.database, event.header.application});
  finding.id = core::make_finding_id(
      kInfo.id, {"timeout", event.header.database, event.header.application, last_sql});
  finding.details = {{"gap_ms", idle_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(idle_ms)},
                     {"held_locks", held},
                     {"ended_by_timeout", true},
                     {"timeout", whole ? "transaction_timeout" : "idle_in_transaction_session_timeout"}};
  out.add(std::move(finding));
}

void IdleInTransactionRule::on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
                                    core::FindingSink&) {
  if (ignored(session.application)) return;
  for (const model::Transaction& transaction : unit.transactions) {
    if (transaction.is_explicit && transaction.executions.size() >= 2) on_transaction(session, transaction);
  }
}

void IdleInTransactionRule::on_transaction(const model::SessionInfo& session,
                                           const model::Transaction& transaction) {
  const auto min_gap = static_cast<model::Timestamp>(options_.min_gap_ms * model::kMicrosPerMilli);
  for (std::size_t i = 1; i < transaction.executions.size(); ++i) {
    const model::Execution& before = transaction.executions[i - 1];
    const model::Execution& after = transaction.executions[i];
    // Without both durations the gap would include statement time.
    if (before.duration_ms < 0 || after.duration_ms < 0) continue;
    if (before.end == model::kNoTime || after.start == model::kNoTime) continue;
    const model::Timestamp gap = after.start - before.end;
    if (gap < min_gap) continue;
    // A statement that failed in between ran for an unknown time (no duration line).
    const bool failed_between = std::any_of(
        transaction.error_times.begin(), transaction.error_times.end(),
        [&](model::Timestamp t) { return t != model::kNoTime && t > before.end && t <= after.start; });
    if (failed_between) continue;
    const double gap_ms = session::elapsed_ms(before.end, after.start);
    const std::vector<std::string> held = held_locks(transaction, i);
    const auto waits = waits_by_holder_.find(session.pid);
    const auto waited_in_gap = [&](const Wait& wait) { return !(wait.end < before.end || wait.start > after.start); };
    const bool any_blocked = waits != waits_by_holder_.end() &&
                             std::any_of(waits->second.begin(), waits->second.end(), waited_in_gap);
    const bool locks = !held.empty();
    core::Severity severity = core::Severity::info;
    if (any_blocked || (locks && gap_ms >= options_.error_gap_ms)) {
      severity = core::Severity::error;
    } else if (locks || gap_ms >= options_.warning_gap_ms) {
      severity = core::Severity::warning;
    }
    const sql::Statement& first = before.statement();
    const sql::Statement& second = after.statement();
    std::string id = core::make_finding_id(
        kInfo.id, {session.database, session.application, session::fingerprint_hex(first.fingerprint),
                   session::fingerprint_hex(second.fingerprint)});
    if (auto pending = pending_.find(id); pending != pending_.end() && !(severity > pending->second.severity)) {
      // Another occurrence that keep() would not show: only its counts,
      // times and session are merged, so the finding is not built.
      merge_occurrence(pending->second, session::session_ref(session), before.end, after.start);
      continue;
    }

    core::Finding finding;
    finding.rule = std::string(kInfo.id);
    finding.evidence.push_back(session::evidence_of(before, "before the gap", session.pid));
    finding.evidence.push_back(session::evidence_of(after, "after the gap", session.pid));
    nlohmann::json blocked = nlohmann::json::array();
    if (waits != waits_by_holder_.end()) {
      for (const Wait& wait : waits->second) {
        if (wait.end < before.end || wait.start > after.start) continue;
        blocked.push_back({{"pid", wait.waiter}, {"mode", wait.mode}, {"object", wait.object},
                           {"relation", wait.relation},
                           {"waited_ms", session::elapsed_ms(wait.start, wait.end)}});
        core::Evidence evidence;
        evidence.role = "waited for " + wait.mode + " on " + wait.object + " held by this transaction";
        evidence.input = wait.where.input;
        evidence.line = wait.where.line;
        evidence.time = wait.end;
        evidence.pid = wait.waiter;
        finding.evidence.push_back(std::move(evidence));
      }
    }
    finding.severity = severity;
    std::string message = "transaction idle for " + session::duration_text(gap_ms) + " between '" +
                          session::shorten(first.normalized, 60) + "' and '" +
                          session::shorten(second.normalized, 60) + "'";
    message += locks ? " while holding locks on " + join(held) : " while holding its snapshot";
    if (!blocked.empty()) {
      message += "; " + std::to_string(blocked.size()) +
                 (blocked.size() == 1 ? " session waited" : " sessions waited") + " for it";
    }
    finding.message = std::move(message);
    finding.help = kHelp;
    finding.sessions.push_back(session::session_ref(session));
    finding.id = std::move(id);
    const char* position = first.kind == sql::Kind::begin      ? "after BEGIN"
                           : second.kind == sql::Kind::commit   ? "before COMMIT"
                           : second.kind == sql::Kind::rollback ? "before ROLLBACK"
                                                                : "between statements";
    finding.details = {{"gap_ms", std::round(gap_ms * 1000) / 1000},
                       {"position", position},
                       {"before", first.normalized},
                       {"after", second.normalized},
                       {"held_locks", held},
                       {"blocked", blocked},
                       {"transaction_statements", transaction.executions.size()},
                       {"started_before_log", transaction.started_before_log},
                       {"ended_by_timeout", false}};
    finding.first_seen = before.end;
    finding.last_seen = after.start;
    keep(std::move(finding));
  }
}

void IdleInTransactionRule::keep(core::Finding finding) {
  auto [it, inserted] = pending_.try_emplace(finding.id);
  if (inserted) {
    it->second = std::move(finding);
    return;
  }
  core::Finding& kept = it->second;
  const std::uint64_t occurrences = kept.occurrences + 1;
  const model::Timestamp first = earliest(kept.first_seen, finding.first_seen);
  const model::Timestamp last = std::max(kept.last_seen, finding.last_seen);
  std::vector<core::SessionRef> sessions = std::move(kept.sessions);
  for (const core::SessionRef& session : finding.sessions) {
    if (sessions.size() < 8 && std::find(sessions.begin(), sessions.end(), session) == sessions.end()) {
      sessions.push_back(session);
    }
  }
  if (finding.severity > kept.severity) kept = std::move(finding);
  kept.sessions = std::move(sessions);
  kept.occurrences = occurrences;
  kept.first_seen = first;
  kept.last_seen = last;
}

// keep() of an occurrence no more severe than `kept`, from its parts.
void IdleInTransactionRule::merge_occurrence(core::Finding& kept, const core::SessionRef& session,
                                             model::Timestamp first_seen, model::Timestamp last_seen) {
  if (kept.sessions.size() < 8 && std::find(kept.sessions.begin(), kept.sessions.end(), session) == kept.sessions.end()) {
    kept.sessions.push_back(session);
  }
  kept.occurrences += 1;
  kept.first_seen = earliest(kept.first_seen, first_seen);
  kept.last_seen = std::max(kept.last_seen, last_seen);
}

void IdleInTransactionRule::finish(core::FindingSink& out) {
  // A log without every statement shows unlogged statements as gaps.
  if (coverage_ == nullptr || coverage_->every_statement) {
    for (auto& [id, finding] : pending_) out.add(std::move(finding));
  }
  pending_.clear();
}

}  // namespace pgsift::analyzers
