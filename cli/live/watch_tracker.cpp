#include "cli/live/watch_tracker.h"

#include <algorithm>

#include "analyzers/sql/statement.h"
#include "cli/live/live_common.h"

namespace pgsift::cli::live {

namespace {

constexpr model::Timestamp kSeverityErrorAfter = 5 * model::kMicrosPerSecond;

double to_ms(model::Timestamp us) { return static_cast<double>(us) / 1000.0; }

core::SessionRef session_ref(const Backend& b) {
  core::SessionRef ref;
  ref.pid = b.pid;
  ref.user = b.user;
  ref.database = b.database;
  ref.application = b.application;
  return ref;
}

core::SessionRef prepared_transaction_ref() {
  core::SessionRef ref;
  ref.application = "<prepared transaction>";
  return ref;
}

core::Evidence statement_evidence(std::string role, const Backend& b, model::Timestamp time) {
  core::Evidence e;
  e.role = std::move(role);
  e.time = time;
  e.pid = b.pid;
  e.sql = normalized_sql(b.query);
  const sql::Parsed parsed = sql::parse(b.query);
  e.values = parsed.literals;
  return e;
}

// How many sessions wait (directly or not) behind `pid`, from the trees.
std::size_t sessions_blocked_by(const std::vector<BlockingTree>& trees, std::int32_t pid) {
  for (const auto& tree : trees) {
    for (const auto& node : tree.nodes) {
      if (node.pid == pid) return node.descendants;
    }
  }
  return 0;
}

const BlockingTree* tree_of(const std::vector<BlockingTree>& trees, std::int32_t pid,
                            const TreeNode** node_out) {
  for (const auto& tree : trees) {
    for (const auto& node : tree.nodes) {
      if (node.pid == pid) {
        *node_out = &node;
        return &tree;
      }
    }
  }
  return nullptr;
}

nlohmann::json lock_json(const LockRow* lock) {
  if (lock == nullptr) return nullptr;
  nlohmann::json j = {{"type", lock->locktype}, {"mode", lock->mode}};
  if (!lock->relation.empty()) j["relation"] = lock->relation;
  if (lock->locktype == "tuple") j["tuple"] = "(" + lock->page + "," + lock->tuple + ")";
  if (!lock->transactionid.empty()) j["transaction"] = lock->transactionid;
  return j;
}

}  // namespace

std::string normalized_sql(std::string_view raw) {
  if (raw.empty()) return {};
  if (raw == "<insufficient privilege>") return std::string(raw);
  const sql::Parsed parsed = sql::parse(raw);
  std::string out;
  if (parsed.shape) {
    for (const auto& statement : parsed.shape->statements) {
      if (!statement.error.empty() || statement.normalized.empty()) {
        out.clear();
        break;
      }
      if (!out.empty()) out += "; ";
      out += statement.normalized;
    }
  }
  if (out.empty())
    return "<statement that does not parse, " + std::to_string(raw.size()) + " characters>";
  return out;
}

std::vector<LiveUpdate> WatchTracker::update(const ActivitySample& sample) {
  std::vector<LiveUpdate> updates;
  seen_this_sample_.clear();
  const std::vector<BlockingTree> trees = blocking_trees(sample);
  observe_waits(sample, trees, updates);
  observe_idle(sample, trees, updates);
  close_missing(sample.now, updates);
  return updates;
}

void WatchTracker::observe_waits(const ActivitySample& sample,
                                 const std::vector<BlockingTree>& trees,
                                 std::vector<LiveUpdate>& updates) {
  for (const auto& waiter : sample.backends) {
    if (!waiter.is_waiting()) continue;
    const LockRow* lock = sample.awaited_lock(waiter.pid);
    // waitstart can be NULL for a moment after the wait began; the
    // statement's start is then the best lower bound we have.
    model::Timestamp wait_start = lock != nullptr && lock->waitstart != model::kNoTime
                                      ? lock->waitstart
                                      : waiter.query_start;
    if (wait_start == model::kNoTime) wait_start = sample.now;
    const Key key{"lock-wait", waiter.pid, waiter.query_start, 0};
    auto [it, inserted] = episodes_.try_emplace(key);
    Episode& ep = it->second;
    if (inserted) {
      order_.push_back(key);
      ep.started = wait_start;
    }
    ep.last_seen = sample.now;
    seen_this_sample_[key] = true;

    const TreeNode* node = nullptr;
    const BlockingTree* tree = tree_of(trees, waiter.pid, &node);
    const std::int32_t root_pid = tree != nullptr ? tree->root : waiter.blocked_by.front();
    const Backend* root = sample.backend(root_pid);
    const model::Timestamp waited = sample.now - ep.started;

    core::Finding& f = ep.finding;
    f.rule = "lock-wait";
    const std::string waiter_sql = normalized_sql(waiter.query);
    const std::string lock_words = lock != nullptr ? describe_lock(*lock) : waiter.wait_event + " lock";
    f.id = core::make_finding_id(
        "lock-wait", {waiter_sql, lock != nullptr ? lock->locktype + ":" + lock->mode : waiter.wait_event,
                      lock != nullptr ? lock->relation : ""});
    f.severity = waited >= kSeverityErrorAfter ? core::Severity::error : core::Severity::warning;
    std::string root_words = root_pid == 0 ? std::string("a prepared transaction")
                                           : "pid " + std::to_string(root_pid);
    if (root != nullptr) {
      root_words += " (" + root->state + " for " + format_age(sample.now - root->state_change) + ")";
    }
    f.message = "pid " + std::to_string(waiter.pid) + " waited at least " + format_age(waited) +
                " for " + lock_words + " behind " + root_words;
    f.help =
        "find why the root blocker keeps its transaction open; an idle root needs "
        "pg_terminate_backend (pg_cancel_backend only stops a running query); keep transactions "
        "short and set lock_timeout for DDL";
    f.sessions = {session_ref(waiter), root != nullptr ? session_ref(*root) : prepared_transaction_ref()};
    f.evidence = {statement_evidence("waiter", waiter, ep.started)};
    if (root != nullptr) f.evidence.push_back(statement_evidence("blocker", *root, root->state_change));
    f.first_seen = ep.started;
    f.last_seen = sample.now;
    nlohmann::json blocked_by = waiter.blocked_by;
    f.details = {
        {"source", "pg_stat_activity"},
        {"status", "waiting"},
        {"wait_ms", to_ms(waited)},
        {"duration_is_lower_bound", true},
        {"lock", lock_json(lock)},
        {"blocked_by", blocked_by},
        {"root_pid", root_pid},
        {"depth", node != nullptr ? node->depth : 1},
    };
    if (root != nullptr) {
      f.details["root_state"] = root->state;
      f.details["root_state_age_ms"] = to_ms(sample.now - root->state_change);
      if (root->xact_start != model::kNoTime)
        f.details["root_transaction_age_ms"] = to_ms(sample.now - root->xact_start);
    }
    if (!ep.reported && waited >= thresholds_.lock_wait) {
      ep.reported = true;
      updates.push_back({LiveUpdate::Kind::started, f});
    }
  }
}

void WatchTracker::observe_idle(const ActivitySample& sample, const std::vector<BlockingTree>& trees,
                                std::vector<LiveUpdate>& updates) {
  for (const auto& b : sample.backends) {
    if (b.state.rfind("idle in transaction", 0) != 0 || b.state_change == model::kNoTime) continue;
    const model::Timestamp idle = sample.now - b.state_change;
    const Key key{"idle-in-transaction", b.pid, b.xact_start, b.state_change};
    auto found = episodes_.find(key);
    if (found == episodes_.end() && idle < thresholds_.idle_in_transaction) continue;
    auto [it, inserted] = episodes_.try_emplace(key);
    Episode& ep = it->second;
    if (inserted) {
      order_.push_back(key);
      ep.started = b.state_change;
    }
    ep.last_seen = sample.now;
    seen_this_sample_[key] = true;

    const auto held = sample.held_locks(b.pid);
    const std::size_t blocking = sessions_blocked_by(trees, b.pid);
    const bool writes = !b.backend_xid.empty();
    core::Finding& f = ep.finding;
    f.rule = "idle-in-transaction";
    const std::string last_sql = normalized_sql(b.query);
    f.id = core::make_finding_id("idle-in-transaction", {b.application, last_sql});
    if (blocking > 0 || idle >= kSeverityErrorAfter)
      f.severity = core::Severity::error;
    else if (idle >= model::kMicrosPerSecond || writes)
      f.severity = core::Severity::warning;
    else
      f.severity = core::Severity::info;
    std::string message = "pid " + std::to_string(b.pid) + " idle in transaction for at least " +
                          format_age(idle) + " after " + (last_sql.empty() ? "BEGIN" : last_sql);
    if (writes || !held.empty())
      message += "; holds " + std::to_string(held.size()) + " lock" + (held.size() == 1 ? "" : "s") +
                 (writes ? " and row locks of its writes" : "");
    if (blocking > 0)
      message += "; blocks " + std::to_string(blocking) + " session" + (blocking == 1 ? "" : "s");
    f.message = std::move(message);
    f.help =
        "do external calls and slow work before BEGIN or after COMMIT; set "
        "idle_in_transaction_session_timeout as a safety net";
    f.sessions = {session_ref(b)};
    f.evidence = {statement_evidence("before-gap", b, b.state_change)};
    f.first_seen = ep.started;
    f.last_seen = sample.now;
    nlohmann::json locks = nlohmann::json::array();
    for (const LockRow* l : held) locks.push_back(lock_json(l));
    f.details = {
        {"source", "pg_stat_activity"},
        {"status", "idle"},
        {"state", b.state},
        {"gap_ms", to_ms(idle)},
        {"duration_is_lower_bound", true},
        {"writes", writes},
        {"holds_locks", writes || !held.empty()},
        {"locks", locks},
        {"blocks_sessions", blocking},
    };
    if (b.xact_start != model::kNoTime)
      f.details["transaction_age_ms"] = to_ms(sample.now - b.xact_start);
    if (!ep.reported) {
      ep.reported = true;
      updates.push_back({LiveUpdate::Kind::started, f});
    }
  }
}

void WatchTracker::close_missing(model::Timestamp now, std::vector<LiveUpdate>& updates) {
  for (const Key& key : order_) {
    Episode& ep = episodes_.at(key);
    if (!ep.open || seen_this_sample_.count(key)) continue;
    ep.open = false;
    if (!ep.reported) continue;
    // The episode ended somewhere between its last sighting and `now`.
    ep.finding.details["status"] = "ended";
    ep.finding.details["ended_before"] = format_timestamp(now);
    updates.push_back({LiveUpdate::Kind::ended, ep.finding});
  }
  // Episodes that ended below their threshold are forgotten, so a long watch
  // over a busy server keeps bounded state.
  std::erase_if(order_, [this](const Key& key) {
    auto it = episodes_.find(key);
    if (it->second.open || it->second.reported) return false;
    episodes_.erase(it);
    return true;
  });
}

std::vector<LiveUpdate> WatchTracker::finish(model::Timestamp now) {
  std::vector<LiveUpdate> updates;
  seen_this_sample_.clear();
  for (const Key& key : order_) {
    Episode& ep = episodes_.at(key);
    if (!ep.open) continue;
    ep.open = false;
    if (!ep.reported) continue;
    ep.finding.details["status"] = "still open when the watch ended";
    ep.finding.last_seen = std::max(ep.finding.last_seen, now);
    updates.push_back({LiveUpdate::Kind::ended, ep.finding});
  }
  return updates;
}

std::vector<core::Finding> WatchTracker::findings() const {
  std::vector<core::Finding> out;
  for (const Key& key : order_) {
    const Episode& ep = episodes_.at(key);
    if (ep.reported) out.push_back(ep.finding);
  }
  return out;
}

std::size_t WatchTracker::open_episodes() const {
  std::size_t n = 0;
  for (const auto& [key, ep] : episodes_) n += (ep.open && ep.reported) ? 1 : 0;
  return n;
}

}  // namespace pgsift::cli::live
