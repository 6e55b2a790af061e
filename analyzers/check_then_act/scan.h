// The check-then-act scan of one unit of work: pairs each write with the
// earlier read of the same rows (same transaction, or an earlier transaction
// of the unit) and keeps the pairs nothing makes atomic. Input comes from the
// session tracker (model::UnitOfWork), output feeds CheckThenActRule, which
// adds runtime evidence and turns candidates into findings. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/check_then_act/footprint.h"

namespace pgsift::analyzers::cta {

/// The kinds reference/races_locks.md §2.2 names, in finding details.
enum class PairKind {
  lost_update,               // absolute write of a value read before (G2-item on one key)
  unguarded_relative_write,  // SET c = c - x with no guard: overdraft, oversell
  insert_after_check,        // existence/count check, then INSERT matching it (phantom)
  consume_after_check,       // read of a state, then delete/flip of it: coupon, voucher
  write_skew,                // predicate read, then write of another row changing it (G2)
  lock_after_snapshot,       // RR mutex taken by a SELECT: the check reads an older snapshot
  insert_where_not_exists,   // single INSERT ... WHERE NOT EXISTS without a constraint
  share_upgrade,             // FOR SHARE then write of the same row: deadlock-prone
};
std::string_view to_string(PairKind kind);
/// Elle/Adya name for the anomaly ("G2-item", "G2", "phantom"...), or "".
std::string_view elle_name(PairKind kind);

struct ScanOptions {
  sql::IsolationLevel default_isolation = sql::IsolationLevel::read_committed;
  /// Pair reads and writes of different transactions of the unit (scope split).
  bool across_transactions = true;
};

struct Candidate {
  PairKind kind = PairKind::lost_update;
  const model::Execution* check = nullptr;  // the read; null for single-statement kinds
  const model::Execution* act = nullptr;    // the write
  std::size_t check_transaction = 0;        // indexes into unit.transactions
  std::size_t act_transaction = 0;
  Footprint key;                            // the matched table and key values
  sql::IsolationLevel isolation = sql::IsolationLevel::read_committed;
  bool isolation_known = false;
  Overlap match = Overlap::value;           // value: keys matched by value; pattern: structural
  bool schema_known = false;
  /// Columns a unique constraint would have to cover to make this safe (insert kinds).
  std::vector<std::string> constraint_columns;
  std::vector<std::string> notes;
  /// When the pair was exposed to another session: from the read (at READ
  /// COMMITTED; at REPEATABLE READ and SERIALIZABLE from the transaction's
  /// snapshot, its first query) until the act's transaction ended (its
  /// writes became visible then). Two sessions whose windows overlap on the
  /// same key raced.
  model::Timestamp window_begin = model::kNoTime;
  model::Timestamp window_end = model::kNoTime;

  bool split() const { return check != nullptr && check_transaction != act_transaction; }
};

/// Scans one unit of work. Candidates point into `unit`.
std::vector<Candidate> scan_unit(const model::UnitOfWork& unit, const core::Schema& schema,
                                 const ScanOptions& options);

}  // namespace pgsift::analyzers::cta
