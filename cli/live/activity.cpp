#include "cli/live/activity.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace pgsift::cli::live {

namespace {

// One row per client backend (and one row with a NULL pid when there is
// none, so that the server clock always comes back). Catalog views only: no
// heavyweight lock is taken. pg_blocking_pids() only for Lock waiters.
constexpr const char* kActivitySql = R"SQL(
WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now)
SELECT clock.now, a.pid, a.usename, a.datname, a.application_name,
       coalesce(host(a.client_addr), '') AS client, a.state, a.wait_event_type, a.wait_event,
       a.query, a.backend_xid::text AS backend_xid,
       (extract(epoch FROM a.backend_start) * 1000000)::bigint AS backend_start,
       (extract(epoch FROM a.xact_start) * 1000000)::bigint AS xact_start,
       (extract(epoch FROM a.query_start) * 1000000)::bigint AS query_start,
       (extract(epoch FROM a.state_change) * 1000000)::bigint AS state_change,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blocked_by
FROM clock
LEFT JOIN pg_stat_activity a
  ON a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
)SQL";

// Locks of the sessions of interest. Relation OIDs are named only when they
// belong to this database (or are shared); elsewhere ::regclass would
// resolve them against the wrong catalog.
constexpr const char* kLocksSql = R"SQL(
SELECT l.pid, l.locktype, l.mode, l.granted,
       CASE WHEN l.relation IS NULL THEN ''
            WHEN l.database = 0 OR l.database = (SELECT oid FROM pg_database
                                                 WHERE datname = current_database())
            THEN l.relation::regclass::text
            ELSE l.relation::text END AS relation,
       l.page, l.tuple, l.transactionid::text AS transactionid,
       (extract(epoch FROM l.waitstart) * 1000000)::bigint AS waitstart
FROM pg_locks l
WHERE l.pid = ANY($1::int[])
ORDER BY l.pid, l.granted, l.locktype
)SQL";

constexpr std::string_view kHiddenText = "<insufficient privilege>";

model::Timestamp time_or_none(const Result& r, int row, std::string_view name) {
  auto value = r.integer(row, name);
  return value ? *value : model::kNoTime;
}

std::string int_array_literal(const std::set<std::int32_t>& pids) {
  std::string out = "{";
  for (auto pid : pids) {
    if (out.size() > 1) out += ',';
    out += std::to_string(pid);
  }
  return out + "}";
}

}  // namespace

const Backend* ActivitySample::backend(std::int32_t pid) const {
  for (const auto& b : backends) {
    if (b.pid == pid) return &b;
  }
  return nullptr;
}

const LockRow* ActivitySample::awaited_lock(std::int32_t pid) const {
  for (const auto& l : locks) {
    if (l.pid == pid && !l.granted) return &l;
  }
  return nullptr;
}

std::vector<const LockRow*> ActivitySample::held_locks(std::int32_t pid) const {
  std::vector<const LockRow*> held;
  for (const auto& l : locks) {
    if (l.pid == pid && l.granted && l.locktype != "virtualxid" && l.locktype != "transactionid")
      held.push_back(&l);
  }
  return held;
}

ActivitySample take_activity_sample(Connection& connection, model::Timestamp idle_threshold_us) {
  ActivitySample sample;
  Result r = connection.query(kActivitySql);
  std::set<std::int32_t> interesting;
  for (int row = 0; row < r.rows(); ++row) {
    sample.now = time_or_none(r, row, "now");
    auto pid = r.integer(row, "pid");
    if (!pid) continue;
    Backend b;
    b.pid = static_cast<std::int32_t>(*pid);
    b.user = r.text(row, "usename");
    b.database = r.text(row, "datname");
    b.application = r.text(row, "application_name");
    b.client = r.text(row, "client");
    b.state = r.text(row, "state");
    b.wait_event_type = r.text(row, "wait_event_type");
    b.wait_event = r.text(row, "wait_event");
    b.query = r.text(row, "query");
    b.backend_xid = r.text(row, "backend_xid");
    b.backend_start = time_or_none(r, row, "backend_start");
    b.xact_start = time_or_none(r, row, "xact_start");
    b.query_start = time_or_none(r, row, "query_start");
    b.state_change = time_or_none(r, row, "state_change");
    b.blocked_by = r.int_array(row, "blocked_by");
    if (b.query == kHiddenText) sample.query_texts_hidden = true;
    if (b.is_waiting()) {
      interesting.insert(b.pid);
      for (auto blocker : b.blocked_by) interesting.insert(blocker);
    }
    if (b.state.rfind("idle in transaction", 0) == 0 && b.state_change != model::kNoTime &&
        sample.now - b.state_change >= idle_threshold_us)
      interesting.insert(b.pid);
    sample.backends.push_back(std::move(b));
  }
  interesting.erase(0);
  if (interesting.empty()) return sample;
  Result locks = connection.query(kLocksSql, {int_array_literal(interesting)});
  for (int row = 0; row < locks.rows(); ++row) {
    LockRow l;
    l.pid = static_cast<std::int32_t>(locks.integer(row, "pid").value_or(0));
    l.locktype = locks.text(row, "locktype");
    l.mode = locks.text(row, "mode");
    l.granted = locks.boolean(row, "granted");
    l.relation = locks.text(row, "relation");
    l.page = locks.text(row, "page");
    l.tuple = locks.text(row, "tuple");
    l.transactionid = locks.text(row, "transactionid");
    l.waitstart = time_or_none(locks, row, "waitstart");
    sample.locks.push_back(std::move(l));
  }
  return sample;
}

std::vector<BlockingTree> blocking_trees(const ActivitySample& sample) {
  // blocker -> waiters, in pid order for a deterministic layout.
  std::map<std::int32_t, std::vector<std::int32_t>> waiters_of;
  std::set<std::int32_t> waiting;
  for (const auto& b : sample.backends) {
    if (!b.is_waiting()) continue;
    waiting.insert(b.pid);
    for (auto blocker : b.blocked_by) waiters_of[blocker].push_back(b.pid);
  }
  for (auto& [blocker, list] : waiters_of) std::sort(list.begin(), list.end());

  std::vector<std::int32_t> roots;
  for (const auto& [blocker, list] : waiters_of) {
    if (!waiting.count(blocker)) roots.push_back(blocker);
  }
  std::set<std::int32_t> placed;
  std::vector<BlockingTree> trees;
  const auto grow = [&](std::int32_t root) {
    BlockingTree tree;
    tree.root = root;
    // Iterative depth-first walk; `placed` breaks cycles and keeps a waiter
    // with several blockers under the first one reached.
    struct Frame { std::int32_t pid, parent; int depth; };
    std::vector<Frame> stack{{root, 0, 0}};
    placed.insert(root);
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      tree.nodes.push_back({f.pid, f.depth, f.parent, 0});
      tree.depth = std::max(tree.depth, f.depth);
      auto it = waiters_of.find(f.pid);
      if (it == waiters_of.end()) continue;
      for (auto w = it->second.rbegin(); w != it->second.rend(); ++w) {
        if (placed.insert(*w).second) stack.push_back({*w, f.pid, f.depth + 1});
      }
    }
    // Descendant counts, bottom-up over the depth-first order.
    for (std::size_t i = tree.nodes.size(); i-- > 1;) {
      for (std::size_t j = i; j-- > 0;) {
        if (tree.nodes[j].pid == tree.nodes[i].parent) {
          tree.nodes[j].descendants += tree.nodes[i].descendants + 1;
          break;
        }
      }
    }
    trees.push_back(std::move(tree));
  };
  for (auto root : roots) grow(root);
  // Whoever is left waits in a cycle: root it at its lowest pid.
  for (auto pid : waiting) {
    if (!placed.count(pid) && waiters_of.count(pid)) grow(pid);
  }
  return trees;
}

std::string format_age(model::Timestamp us) {
  char buf[48];
  if (us < 0) us = 0;
  if (us < model::kMicrosPerSecond) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(us / 1000));
  } else if (us < 60 * model::kMicrosPerSecond) {
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(us) / 1e6);
  } else {
    const long long s = us / model::kMicrosPerSecond;
    if (s < 3600)
      std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else
      std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  }
  return buf;
}

std::string describe_lock(const LockRow& lock) {
  std::string what = lock.mode + " on ";
  if (lock.locktype == "transactionid") return what + "transaction " + lock.transactionid;
  if (lock.locktype == "tuple")
    return what + "tuple (" + lock.page + "," + lock.tuple + ") of " + lock.relation;
  if (lock.locktype == "relation") return what + "relation " + lock.relation;
  if (!lock.relation.empty()) return what + lock.locktype + " of " + lock.relation;
  return what + lock.locktype;
}

}  // namespace pgsift::cli::live

namespace pgsift::cli::live {

std::vector<std::string> privilege_notes(Connection& connection) {
  std::vector<std::string> notes;
  Result r = connection.query(
      "SELECT current_user AS role, "
      "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser, "
      "pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats");
  if (r.rows() == 1 && !r.boolean(0, "superuser") && !r.boolean(0, "read_all_stats")) {
    notes.push_back("role " + r.text(0, "role") +
                    " lacks pg_read_all_stats: other users' query texts and query ids are hidden "
                    "(<insufficient privilege>); GRANT pg_monitor TO " + r.text(0, "role") +
                    " to see them");
  }
  return notes;
}

}  // namespace pgsift::cli::live
