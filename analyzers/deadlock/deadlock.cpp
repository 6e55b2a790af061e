#include "analyzers/deadlock/deadlock.h"

#include <algorithm>

#include "analyzers/locks/lock_words.h"

namespace pgsift::analyzers {

const core::RuleInfo DeadlockRule::kInfo{
    "deadlock",
    "Reports deadlocks with their full cycle: each process, its transaction, what it waited for and which "
    "one PostgreSQL cancelled.",
    core::Severity::error};

namespace {

constexpr std::size_t kMaxStatements = 8;

struct TransactionView {
  std::vector<std::string> statements;  // writes and locks, in order, normalized
  std::vector<core::Evidence> evidence;
  bool share_then_write = false;        // FOR SHARE/KEY SHARE followed by a write
  std::optional<core::SessionRef> session;
  std::string last_statement;
};

bool has_statement(const model::Execution& e) {
  return e.parsed.shape && e.statement_index < e.parsed.shape->statements.size();
}

TransactionView view_transaction(std::int32_t pid, const core::SessionDirectory& sessions) {
  TransactionView view;
  const model::SessionState* state = sessions.find(pid);
  if (state == nullptr) return view;
  view.session = locks::ref_of(state->info);
  if (state->last_execution != nullptr && has_statement(*state->last_execution)) {
    view.last_statement = state->last_execution->statement().normalized;
  }
  if (state->open_transaction == nullptr) return view;
  bool shared = false;
  for (const auto& e : state->open_transaction->executions) {
    if (!has_statement(e)) continue;
    const sql::Statement& st = e.statement();
    const bool locks_rows = std::any_of(st.tables.begin(), st.tables.end(), [](const sql::TableAccess& t) {
      return t.lock != sql::RowLock::none;
    });
    const bool writes = st.kind == sql::Kind::insert || st.kind == sql::Kind::update ||
                        st.kind == sql::Kind::delete_ || st.kind == sql::Kind::merge;
    for (const auto& t : st.tables) {
      if (t.lock == sql::RowLock::share || t.lock == sql::RowLock::key_share) shared = true;
    }
    if (writes && shared) view.share_then_write = true;
    if (!(writes || locks_rows || st.kind == sql::Kind::lock || !st.advisory_locks.empty())) continue;
    if (view.statements.size() < kMaxStatements) view.statements.push_back(st.normalized);
    if (view.evidence.size() < kMaxStatements) view.evidence.push_back(locks::evidence_of(e, "participant", pid));
  }
  return view;
}

}  // namespace

DeadlockRule::DeadlockRule(const core::RuleContext& context)
    : schema_(context.schema != nullptr ? context.schema : &empty_schema_) {}

void DeadlockRule::on_event(const model::Event& event, const core::SessionDirectory& sessions,
                            core::FindingSink& out) {
  (void)out;
  if (const auto* lock = std::get_if<model::LockEvent>(&event.body)) {
    if (lock->phase == model::LockEvent::Phase::deadlock_detected) {
      detected_[lock->waiter_pid ? lock->waiter_pid : event.header.pid] = *lock;
    }
  } else if (const auto* deadlock = std::get_if<model::DeadlockEvent>(&event.body)) {
    report(event, *deadlock, sessions);
    detected_.erase(event.header.pid);
  }
}

void DeadlockRule::report(const model::Event& event, const model::DeadlockEvent& deadlock,
                          const core::SessionDirectory& sessions) {
  const std::int32_t victim = event.header.pid;
  std::string relation = locks::relation_from_context(deadlock.context);
  if (auto it = detected_.find(victim); relation.empty() && it != detected_.end()) {
    relation = locks::relation_of(it->second, *schema_);
  }

  nlohmann::json cycle = nlohmann::json::array();
  std::vector<std::string> shapes;
  std::vector<std::string> edges;
  std::vector<core::SessionRef> refs;
  std::vector<core::Evidence> participant_evidence;
  bool share_upgrade = false;
  for (const auto& p : deadlock.cycle) {
    TransactionView txn = view_transaction(p.pid, sessions);
    std::string statement = locks::normalize(p.statement);
    if (statement.empty()) statement = txn.last_statement;
    shapes.push_back(statement);
    share_upgrade = share_upgrade || txn.share_then_write;
    edges.push_back(std::to_string(p.pid) + " waited for " + p.waits_for_mode + " on " + p.waits_for_object +
                    " held by " + std::to_string(p.blocked_by_pid));
    nlohmann::json j{{"pid", p.pid},
                     {"waits_for", p.waits_for_mode + " on " + p.waits_for_object},
                     {"blocked_by", p.blocked_by_pid},
                     {"statement", statement},
                     {"cancelled", p.pid == victim}};
    if (!txn.statements.empty()) j["transaction_locks_in_order"] = txn.statements;
    cycle.push_back(std::move(j));
    if (txn.session) refs.push_back(*txn.session);
    if (p.pid != victim) {
      for (auto& ev : txn.evidence) participant_evidence.push_back(std::move(ev));
    }
  }
  std::vector<std::string> sorted = shapes;
  std::sort(sorted.begin(), sorted.end());
  sorted.push_back(relation);
  const std::string id = core::make_finding_id(kInfo.id, sorted);
  if (auto found = by_id_.find(id); found != by_id_.end()) {
    core::Finding& f = findings_[found->second];
    f.occurrences += 1;
    if (event.header.time != model::kNoTime) f.last_seen = std::max(f.last_seen, event.header.time);
    return;
  }

  core::Finding f;
  f.rule = std::string(kInfo.id);
  f.severity = core::Severity::error;
  f.id = id;
  std::vector<std::int32_t> pids;
  for (const auto& p : deadlock.cycle) pids.push_back(p.pid);
  f.message = "deadlock of " + std::to_string(pids.size()) + " processes";
  if (!relation.empty()) f.message += " on " + relation;
  f.message += ": ";
  for (std::size_t i = 0; i < edges.size(); ++i) f.message += (i ? ", " : "") + edges[i];
  f.message += "; PostgreSQL cancelled pid " + std::to_string(victim);
  f.help = "take locks in one consistent order in every transaction (sort the keys, or lock them up front with "
           "SELECT ... WHERE id = ANY($1) ORDER BY id FOR UPDATE), keep transactions short, and retry the "
           "transaction on 40P01";
  if (share_upgrade) {
    f.help += "; these transactions read rows FOR SHARE and then wrote them: two FOR SHARE holders that both "
              "upgrade deadlock, lock with FOR UPDATE (or FOR NO KEY UPDATE) from the start";
  }
  f.sessions = refs;
  f.evidence.push_back(locks::evidence_at(event.header, "cancelled", deadlock.statement));
  for (auto& ev : participant_evidence) f.evidence.push_back(std::move(ev));
  f.first_seen = f.last_seen = event.header.time;
  f.details["cycle"] = std::move(cycle);
  f.details["cancelled_pid"] = victim;
  if (!relation.empty()) f.details["relation"] = relation;
  if (!deadlock.context.empty()) f.details["context"] = deadlock.context;
  f.details["share_lock_upgrade"] = share_upgrade;
  by_id_.emplace(id, findings_.size());
  findings_.push_back(std::move(f));
}

void DeadlockRule::finish(core::FindingSink& out) {
  for (auto& f : findings_) out.add(std::move(f));
  findings_.clear();
  by_id_.clear();
}

}  // namespace pgsift::analyzers
