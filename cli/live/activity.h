// Samples of the server's activity (pg_stat_activity, pg_blocking_pids() for
// sessions waiting on a lock, and the pg_locks rows of the sessions involved)
// and the blocking trees built from them. All times are the server's clock,
// in microseconds since the epoch (model::Timestamp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/model/time.h"
#include "cli/live/pg_connection.h"

namespace pgsift::cli::live {

/// One client backend as pg_stat_activity showed it.
struct Backend {
  std::int32_t pid = 0;
  std::string user, database, application, client;
  std::string state;            // "active", "idle in transaction", ...
  std::string wait_event_type;  // "Lock", "Client", ...
  std::string wait_event;
  std::string query;            // raw text (values!): normalize before showing
  std::string backend_xid;      // "" when the transaction has not written
  model::Timestamp backend_start = model::kNoTime;
  model::Timestamp xact_start = model::kNoTime;
  model::Timestamp query_start = model::kNoTime;
  model::Timestamp state_change = model::kNoTime;
  /// pg_blocking_pids(pid); asked only for sessions waiting on a Lock.
  std::vector<std::int32_t> blocked_by;
  bool is_waiting() const { return !blocked_by.empty(); }
};

/// One pg_locks row of a session of interest.
struct LockRow {
  std::int32_t pid = 0;
  std::string locktype;     // relation, tuple, transactionid, virtualxid, advisory, ...
  std::string mode;         // ShareLock, RowExclusiveLock, ...
  bool granted = false;
  std::string relation;     // resolved name in the connected database, else the OID
  std::string page, tuple;  // tuple locks
  std::string transactionid;
  model::Timestamp waitstart = model::kNoTime;
};

struct ActivitySample {
  model::Timestamp now = model::kNoTime;  // clock_timestamp() on the server
  std::vector<Backend> backends;          // client backends except our own
  std::vector<LockRow> locks;             // of waiters, blockers and idle transactions only
  /// Some query texts read "<insufficient privilege>" (no pg_read_all_stats).
  bool query_texts_hidden = false;

  const Backend* backend(std::int32_t pid) const;
  /// The lock `pid` waits for (its ungranted row), if sampled.
  const LockRow* awaited_lock(std::int32_t pid) const;
  /// Granted locks `pid` holds, excluding its own virtualxid/transactionid.
  std::vector<const LockRow*> held_locks(std::int32_t pid) const;
};

/// Takes one sample. pg_blocking_pids() is called only where wait_event_type
/// = 'Lock' (it briefly locks the lock manager); pg_locks is read only when
/// someone waits or idles in a transaction. Throws QueryError.
ActivitySample take_activity_sample(Connection& connection, model::Timestamp idle_threshold_us);

/// One node of a blocking tree, in depth-first order.
struct TreeNode {
  std::int32_t pid = 0;
  int depth = 0;               // 0 for the root
  std::int32_t parent = 0;     // blocker this node is shown under (0 for the root)
  std::size_t descendants = 0; // sessions waiting below this node
};

/// Sessions blocked, directly or not, by one root blocker (a session that
/// blocks others and waits for nobody). pid 0 stands for a prepared
/// transaction, which pg_blocking_pids() reports that way.
struct BlockingTree {
  std::int32_t root = 0;
  std::vector<TreeNode> nodes;  // nodes[0] is the root
  int depth = 0;                // deepest node's depth
  std::size_t waiters() const { return nodes.empty() ? 0 : nodes.size() - 1; }
};

/// Builds the trees from the (waiter -> blockers) edges. A waiter with
/// several blockers is shown under the first one reached; sessions that
/// wait in a cycle (a deadlock about to be broken) get the lowest pid as root.
std::vector<BlockingTree> blocking_trees(const ActivitySample& sample);

/// "12.3 s", "450 ms", "4m12s".
std::string format_age(model::Timestamp microseconds);

/// The lock in words: "ShareLock on transaction 726", "RowExclusiveLock on
/// relation accounts", "ExclusiveLock on tuple (0,1) of accounts".
std::string describe_lock(const LockRow& lock);

}  // namespace pgsift::cli::live

namespace pgsift::cli::live {

/// What this role cannot see, as notes for the user ("role app lacks
/// pg_read_all_stats: ..."); empty for a superuser or a pg_monitor member.
std::vector<std::string> privilege_notes(Connection& connection);

}  // namespace pgsift::cli::live
