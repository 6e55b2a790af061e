// pg_stat_statements snapshots, per-interval deltas, and the N+1 heuristic
// those counters allow (reference/nplus1_gaps.md 6.3): a cheap single-key
// lookup C whose call delta tracks the row delta of a multi-row parent P in
// the same database and role, confirmed by a foreign key between their
// tables and/or by correlation over several intervals.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "analyzers/core/finding.h"
#include "cli/live/pg_connection.h"

namespace pgsift::cli::live {

/// pg_stat_statements is missing, not preloaded or unreadable; what() says
/// exactly what to run or configure.
class StatementsUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StatementKey {
  std::string userid, dbid, queryid;
  bool toplevel = true;
  auto operator<=>(const StatementKey&) const = default;
};

/// Cumulative counters of one entry.
struct StatementCounters {
  std::string query;  // as stored: constants already replaced by $n
  std::string user, database;
  std::int64_t calls = 0, rows = 0;
  double total_ms = 0;  // execution + planning
};

struct StatementsSnapshot {
  std::int64_t time = 0;  // server clock, microseconds since the epoch
  std::map<StatementKey, StatementCounters> entries;
  std::optional<std::int64_t> dealloc;      // pg_stat_statements_info (PG14+)
  std::optional<std::int64_t> stats_reset;  // microseconds since the epoch
  std::size_t hidden = 0;                   // rows without queryid (no pg_read_all_stats)
};

struct StatementDelta {
  StatementKey key;
  const StatementCounters* now = nullptr;  // points into the later snapshot
  std::int64_t calls = 0, rows = 0;
  double total_ms = 0;
  double mean_ms() const { return calls > 0 ? total_ms / static_cast<double>(calls) : 0; }
  /// Entry created (or re-created after eviction) during the interval: its
  /// whole count is the delta, a lower bound if it had been evicted before.
  bool is_new = false;
};

struct IntervalDeltas {
  std::int64_t from = 0, to = 0;      // server times
  std::vector<StatementDelta> deltas; // entries that moved
  /// All statistics were reset in the interval: no deltas can be trusted.
  bool reset = false;
  std::int64_t evictions = 0;         // dealloc increase (entries evicted)
  std::size_t vanished = 0;           // entries present before, gone now
  double seconds() const { return static_cast<double>(to - from) / 1e6; }
};

/// Reads the current counters. Throws StatementsUnavailable (with the
/// remedy) or QueryError.
class StatementsReader {
 public:
  /// Checks the extension (installed, loaded, version) once.
  explicit StatementsReader(Connection& connection);
  StatementsSnapshot snapshot(Connection& connection) const;
  const std::string& version() const { return version_; }

 private:
  std::string version_;
  std::string schema_;
  bool has_toplevel_ = false, has_exec_time_ = false, has_info_ = false;
};

/// Deltas from `before` to `after` (resets, evictions and per-entry resets
/// handled as documented on the fields).
IntervalDeltas diff(const StatementsSnapshot& before, const StatementsSnapshot& after);

/// A single-column foreign key: table.column -> referenced_table.referenced_column.
struct ForeignKey {
  std::string table, column, referenced_table, referenced_column;
};
/// Single-column foreign keys of the connected database (names unqualified, lowercase).
std::vector<ForeignKey> read_foreign_keys(Connection& connection);
/// OID of the connected database, as text.
std::string current_database_oid(Connection& connection);

struct NPlusOneThresholds {
  std::int64_t min_child_calls = 500;  // per interval
  double min_child_rate = 10;          // calls per second
  double max_child_mean_ms = 2;
  double min_parent_rows_per_call = 2;
  double min_fan_out = 5;              // child calls / parent calls
  double min_coverage = 0.3, max_coverage = 1.1;  // child calls / parent rows
  double min_correlation = 0.8;
  std::size_t correlation_intervals = 5;
  double rtt_ms = 0.3;                 // assumed round trip, for the waste estimate
};

class StatementsNPlusOne {
 public:
  StatementsNPlusOne(NPlusOneThresholds thresholds, std::vector<ForeignKey> foreign_keys,
                     std::string connected_dbid)
      : thresholds_(thresholds),
        foreign_keys_(std::move(foreign_keys)),
        connected_dbid_(std::move(connected_dbid)) {}

  /// Findings for this interval (likely/possible pairs); remembers each
  /// pair's history for the correlation test.
  std::vector<core::Finding> observe(const IntervalDeltas& interval);

 private:
  using PairKey = std::pair<StatementKey, StatementKey>;  // parent, child
  struct History {
    std::vector<std::pair<double, double>> points;  // (parent rows, child calls) per interval
  };
  std::string foreign_key_link(const std::string& parent_sql, const std::string& child_sql,
                               const StatementKey& child) const;

  NPlusOneThresholds thresholds_;
  std::vector<ForeignKey> foreign_keys_;
  std::string connected_dbid_;
  std::map<PairKey, History> history_;
};

/// Pearson correlation of the pairs; nullopt when undefined.
std::optional<double> correlation(const std::vector<std::pair<double, double>>& points);

}  // namespace pgsift::cli::live
