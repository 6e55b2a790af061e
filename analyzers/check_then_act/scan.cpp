#include "analyzers/check_then_act/scan.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "analyzers/sql/pg_query_adapter.h"

namespace pgsift::analyzers::cta {

std::string_view to_string(PairKind kind) {
  switch (kind) {
    case PairKind::lost_update: return "lost update";
    case PairKind::unguarded_relative_write: return "unguarded relative write";
    case PairKind::insert_after_check: return "insert after check";
    case PairKind::consume_after_check: return "consume after check";
    case PairKind::write_skew: return "write skew";
    case PairKind::lock_after_snapshot: return "lock after snapshot";
    case PairKind::insert_where_not_exists: return "insert where not exists";
    case PairKind::share_upgrade: return "share lock upgrade";
  }
  return "check then act";
}

std::string_view elle_name(PairKind kind) {
  switch (kind) {
    case PairKind::lost_update:
    case PairKind::unguarded_relative_write:
    case PairKind::consume_after_check: return "G2-item (lost update)";
    case PairKind::insert_after_check:
    case PairKind::lock_after_snapshot:
    case PairKind::insert_where_not_exists: return "G2 (phantom)";
    case PairKind::write_skew: return "G2 (write skew)";
    case PairKind::share_upgrade: return "";
  }
  return "";
}

namespace {

using sql::IsolationLevel;
using sql::RowLock;

// Reads further back than this are not paired: a unit of work is a request or
// a burst, and an unbounded look-back would make long sessions quadratic.
constexpr std::size_t kMaxLookBack = 512;

struct Read {
  std::size_t transaction = 0;
  std::size_t position = 0;  // order within the unit
  const model::Execution* execution = nullptr;
  const sql::TableAccess* access = nullptr;
  Footprint footprint;
  std::vector<std::string> predicate_columns;  // equality and comparison columns
  bool after_write = false;  // reads a row this transaction already wrote (pgbench's SELECT)
  std::size_t ordinal = 0;   // among all reads of the unit, kept or not
};

struct Positioned {
  std::size_t position = 0;
  Footprint footprint;
};

struct TransactionState {
  IsolationLevel level = IsolationLevel::read_committed;
  bool level_known = false;
  bool snapshot_taken = false;
  model::Timestamp snapshot_time = model::kNoTime;  // start of the first query
  std::vector<std::pair<std::string, bool>> table_locks;  // table, taken before the snapshot
  std::vector<std::size_t> advisory_locks;                // positions
  std::vector<Positioned> row_locks;                      // FOR UPDATE / FOR NO KEY UPDATE
  std::vector<Positioned> share_locks;                    // FOR SHARE / FOR KEY SHARE
  std::vector<Footprint> writes;
  // INSERTs whose row footprints nobody needed yet: most inserted rows are
  // never read back in their transaction, so footprints are built on demand.
  std::vector<const model::Execution*> unexamined_inserts;
};

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool shares_column(const Footprint& a, const Footprint& b) {
  for (const auto& c : a.columns) {
    if (b.find(c.column) != nullptr) return true;
  }
  return false;
}

// LOCK TABLE modes that conflict with themselves and with ROW EXCLUSIVE
// (INSERT/UPDATE/DELETE), so two sessions cannot both pass the check.
bool is_protective_table_mode(const std::string& mode) {
  std::string m = mode;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::toupper(c); });
  return m.empty() || m == "SHARE" || m == "SHARE ROW EXCLUSIVE" || m == "EXCLUSIVE" ||
         m == "ACCESS EXCLUSIVE";
}

bool takes_snapshot(sql::Kind kind) {
  switch (kind) {
    case sql::Kind::select:
    case sql::Kind::insert:
    case sql::Kind::update:
    case sql::Kind::delete_:
    case sql::Kind::merge:
    case sql::Kind::copy:
    case sql::Kind::declare: return true;
    default: return false;
  }
}

bool is_decrement(const sql::SetItem& item, const model::Execution& e) {
  if (item.kind != sql::SetItem::Kind::relative) return false;
  if (item.op == '-') return !item.value.negative;
  if (item.op != '+') return false;
  if (item.value.negative) return true;
  // `balance + $1` with a negative $1 is a decrement (pgbench's delta).
  auto v = sql::resolve(item.value, e.parsed.literals, e.parameters);
  return v && !v->empty() && (*v)[0] == '-';
}

bool is_absolute_value(const sql::SetItem& item) {
  if (item.kind != sql::SetItem::Kind::absolute) return false;
  using VK = sql::Value::Kind;
  return item.value.kind == VK::literal || item.value.kind == VK::parameter || item.value.kind == VK::null;
}

// What a SELECT returned: its target list's column names, or a star.
struct ReturnedColumns {
  bool known = false;  // false: not a plain SELECT list (UNION, unparsable): assume everything
  bool star = false;
  std::vector<std::string> names;
};

void collect_column_refs(const nlohmann::json& node, ReturnedColumns& out) {
  if (node.is_object()) {
    if (auto ref = node.find("ColumnRef"); ref != node.end() && ref->is_object()) {
      const auto fields = ref->find("fields");
      if (fields != ref->end() && fields->is_array() && !fields->empty()) {
        const nlohmann::json& last = fields->back();
        if (last.contains("A_Star")) {
          out.star = true;
        } else if (auto str = last.find("String"); str != last.end() && str->is_object()) {
          out.names.push_back(str->value("sval", ""));
        }
      }
      return;
    }
    for (const auto& [key, child] : node.items()) {
      if (child.is_structured()) collect_column_refs(child, out);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) collect_column_refs(child, out);
  }
}

// Parsed on demand from the read's text (the statement model keeps no
// target list): only asked when a write would otherwise be a lost update.
ReturnedColumns returned_columns(const model::Execution& e) {
  ReturnedColumns out;
  const sql::pgq::ParseOutput tree = sql::pgq::parse_json(e.sql);
  if (!tree.ok) return out;
  const nlohmann::json doc = nlohmann::json::parse(tree.json, nullptr, false);
  if (doc.is_discarded() || !doc.contains("stmts") || e.statement_index >= doc["stmts"].size()) return out;
  const nlohmann::json& stmt = doc["stmts"][e.statement_index].value("stmt", nlohmann::json::object());
  const auto select = stmt.find("SelectStmt");
  if (select == stmt.end() || !select->contains("targetList")) return out;
  out.known = true;
  collect_column_refs((*select)["targetList"], out);
  return out;
}

// The target list is the same for every text of one shape (only literal
// values differ), and parsing it costs a full libpg_query parse: the answers
// for the last shapes asked about are kept (per thread, holding the shapes so
// that their addresses cannot be reused while remembered).
const ReturnedColumns& returned_columns_of_shape(const model::Execution& e) {
  struct Entry {
    std::shared_ptr<const sql::Analysis> shape;
    std::size_t statement_index = 0;
    ReturnedColumns columns;
  };
  constexpr std::size_t kRemembered = 64;
  thread_local std::vector<Entry> remembered;
  for (const Entry& entry : remembered) {
    if (entry.shape == e.parsed.shape && entry.statement_index == e.statement_index) return entry.columns;
  }
  if (remembered.size() >= kRemembered) remembered.clear();
  remembered.push_back(Entry{e.parsed.shape, e.statement_index, returned_columns(e)});
  return remembered.back().columns;
}

// Whether the read returned `column` (lost update needs the value read).
bool read_returned(const model::Execution& read, const std::string& column) {
  const ReturnedColumns& returned = returned_columns_of_shape(read);
  return !returned.known || returned.star || contains(returned.names, column);
}

class Scanner {
 public:
  Scanner(const model::UnitOfWork& unit, const core::Schema& schema, const ScanOptions& options)
      : unit_(unit), schema_(schema), options_(options), session_default_(options.default_isolation) {}

  std::vector<Candidate> run() {
    for (std::size_t t = 0; t < unit_.transactions.size(); ++t) {
      begin_transaction(t);
      for (const auto& e : unit_.transactions[t].executions) {
        if (!e.parsed.shape || e.statement_index >= e.parsed.shape->statements.size()) continue;
        on_execution(t, e);
        ++position_;
      }
    }
    return std::move(out_);
  }

 private:
  void begin_transaction(std::size_t t) {
    const model::Transaction& txn = unit_.transactions[t];
    TransactionState state;
    state.level = session_default_;
    state.level_known = session_default_known_;
    if (txn.isolation_known && txn.isolation != IsolationLevel::unspecified) {
      state.level = txn.isolation;
      state.level_known = true;
    }
    txns_.push_back(std::move(state));
  }

  void on_execution(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    TransactionState& txn = txns_[t];
    if (st.isolation != IsolationLevel::unspecified) {
      if (st.sets_session_default_isolation) {
        session_default_ = st.isolation;
        session_default_known_ = true;
      } else if (!txn.snapshot_taken) {
        txn.level = st.isolation;  // BEGIN ISOLATION LEVEL / SET TRANSACTION
        txn.level_known = true;
      }
    }
    switch (st.kind) {
      case sql::Kind::lock: on_lock_table(txn, st); break;
      case sql::Kind::select: on_select(t, e); break;
      case sql::Kind::update:
      case sql::Kind::delete_: on_row_write(t, e); break;
      case sql::Kind::insert: on_insert(t, e); break;
      default: break;
    }
    if (takes_snapshot(st.kind) && !txn.snapshot_taken) {
      txn.snapshot_taken = true;
      txn.snapshot_time = e.start != model::kNoTime ? e.start : e.end;
    }
  }

  void on_lock_table(TransactionState& txn, const sql::Statement& st) {
    if (!is_protective_table_mode(st.lock_table_mode)) return;
    for (const auto& access : st.tables) {
      txn.table_locks.emplace_back(canonical_table(access.name), !txn.snapshot_taken);
    }
  }

  void on_select(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    TransactionState& txn = txns_[t];
    for (const auto& lock : st.advisory_locks) {
      if (lock.function.find("unlock") != std::string::npos) {
        session_advisory_since_.reset();
      } else if (lock.transaction_scoped) {
        txn.advisory_locks.push_back(position_);
      } else if (!session_advisory_since_) {
        session_advisory_since_ = t;
      }
    }
    for (const auto& access : st.tables) {
      Footprint fp = footprint_of(e, access);
      if (access.lock >= RowLock::no_key_update) txn.row_locks.push_back({position_, fp});
      else if (access.lock != RowLock::none) txn.share_locks.push_back({position_, fp});
      if (!access.read) continue;
      Read read{t, position_, &e, &access, std::move(fp), {}, false, 0};
      const Footprint& fp_read = read.footprint;
      for (const auto& k : access.keys) read.predicate_columns.push_back(k.column);
      for (const auto& c : access.comparisons) {
        if (!contains(read.predicate_columns, c.column)) read.predicate_columns.push_back(c.column);
      }
      examine_inserts(txn, fp_read.table);
      for (const auto& w : txn.writes) {
        if (overlap(w, fp_read) == Overlap::value) read.after_write = true;
      }
      // Reads of rows this transaction already wrote are never paired, so
      // they are not kept; the others are indexed by table (the only reads a
      // write or insert of that table can match).
      read.ordinal = reads_seen_++;
      if (read.after_write) continue;
      reads_by_table_[fp_read.table].push_back(reads_.size());
      reads_.push_back(std::move(read));
    }
  }

  // Level in force for the transaction holding `t`.
  IsolationLevel level(std::size_t t) const { return txns_[t].level; }

  bool table_locked(std::size_t t, const std::string& table) const {
    const TransactionState& txn = txns_[t];
    for (const auto& [name, before_snapshot] : txn.table_locks) {
      // Under RR/SER the snapshot is taken by the first query; a LOCK TABLE
      // after it cannot make an older snapshot see the other session's rows.
      if (name == table && (before_snapshot || txn.level == IsolationLevel::read_committed)) return true;
    }
    return false;
  }

  // An application mutex taken before `position` in transaction t: an
  // advisory lock, or a row lock on another table (the parent row).
  bool mutex_before(std::size_t t, std::size_t position, const std::string& table) const {
    const TransactionState& txn = txns_[t];
    for (std::size_t p : txn.advisory_locks) {
      if (p < position) return true;
    }
    for (const auto& lock : txn.row_locks) {
      if (lock.position < position && lock.footprint.table != table) return true;
    }
    return false;
  }

  bool session_mutex_covers(std::size_t check_transaction) const {
    return session_advisory_since_ && *session_advisory_since_ < check_transaction;
  }

  // Reads of `table` to pair with a write in transaction t: that transaction's
  // own reads first (latest first); only when none match, earlier
  // transactions'. Only the last kMaxLookBack reads of the unit are looked at.
  template <typename Match>
  const Read* find_read(std::size_t t, const std::string& table, Match&& match, Overlap* how) const {
    const Read* best = nullptr;
    Overlap best_how = Overlap::none;
    *how = best_how;
    const auto indexed = reads_by_table_.find(table);
    if (indexed == reads_by_table_.end()) return nullptr;
    const std::vector<std::size_t>& candidates = indexed->second;
    const std::size_t stop = reads_seen_ > kMaxLookBack ? reads_seen_ - kMaxLookBack : 0;
    for (int pass = 0; pass < 2 && best == nullptr; ++pass) {
      if (pass == 1 && !options_.across_transactions) break;
      for (std::size_t k = candidates.size(); k-- > 0 && reads_[candidates[k]].ordinal >= stop;) {
        const Read& r = reads_[candidates[k]];
        if ((pass == 0) != (r.transaction == t)) continue;
        const Overlap o = match(r);
        if (o == Overlap::none) continue;
        if (best == nullptr || (o == Overlap::value && best_how != Overlap::value)) {
          best = &r;
          best_how = o;
          if (o == Overlap::value) break;
        }
      }
    }
    *how = best_how;
    return best;
  }

  void on_row_write(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    for (const auto& access : st.tables) {
      if (!access.written) continue;
      Footprint w = footprint_of(e, access);
      evaluate_row_write(t, e, w);
      txns_[t].writes.push_back(std::move(w));
    }
  }

  std::optional<PairKind> classify_row(const Read& r, const model::Execution& e, const Footprint& w) const {
    const sql::Statement& st = e.statement();
    std::vector<std::string> state_columns;  // what the read checked beyond the row's key
    for (const auto& c : r.predicate_columns) {
      if (w.find(c) == nullptr) state_columns.push_back(c);
    }
    if (st.kind == sql::Kind::delete_) {
      if (state_columns.empty()) return std::nullopt;
      return PairKind::consume_after_check;
    }
    for (const auto& item : st.set_items) {
      if (item.kind == sql::SetItem::Kind::absolute && contains(state_columns, item.column)) {
        return PairKind::consume_after_check;
      }
    }
    for (const auto& item : st.set_items) {
      if (is_decrement(item, e)) return PairKind::unguarded_relative_write;
    }
    // An absolute write loses an update only of a value the read returned:
    // `SELECT name ...; UPDATE ... SET balance = $1` wrote no value it read.
    for (const auto& item : st.set_items) {
      if (is_absolute_value(item) && read_returned(*r.execution, item.column)) return PairKind::lost_update;
    }
    return std::nullopt;
  }

  void evaluate_row_write(std::size_t t, const model::Execution& e, const Footprint& w) {
    const sql::Statement& st = e.statement();
    const TransactionState& txn = txns_[t];
    for (const auto& share : txn.share_locks) {
      if (overlap(share.footprint, w) == Overlap::none) continue;
      const bool upgraded = std::any_of(txn.row_locks.begin(), txn.row_locks.end(), [&](const Positioned& l) {
        return overlap(l.footprint, w) != Overlap::none;
      });
      if (upgraded) break;
      Candidate c = make(PairKind::share_upgrade, nullptr, t, e, w, Overlap::value);
      c.check_transaction = t;
      out_.push_back(std::move(c));
      return;
    }
    // A WHERE that re-checks the row's own state makes the write self-validating.
    if (!st.guards.empty()) return;
    for (const auto& lock : txn.row_locks) {
      if (overlap(lock.footprint, w) != Overlap::none) return;
    }
    Overlap how = Overlap::none;
    const Read* r = find_read(t, w.table, [&w](const Read& read) { return overlap(read.footprint, w); }, &how);
    if (r != nullptr) {
      const auto kind = classify_row(*r, e, w);
      if (!kind) return;
      if (r->transaction == t) {
        // RR and SER turn a concurrent write of the same row into 40001.
        if (level(t) != IsolationLevel::read_committed) return;
        if (mutex_before(t, r->position, w.table) || table_locked(t, w.table)) return;
      } else if (session_mutex_covers(r->transaction)) {
        return;
      }
      out_.push_back(make(*kind, r, t, e, w, how));
      return;
    }
    if (st.kind == sql::Kind::update) evaluate_write_skew(t, e, w);
  }

  void evaluate_write_skew(std::size_t t, const model::Execution& e, const Footprint& w) {
    const sql::Statement& st = e.statement();
    Overlap how = Overlap::none;
    const Read* r = find_read(t, w.table, [&](const Read& read) {
      if (read.footprint.table != w.table || read.footprint.columns.empty()) return Overlap::none;
      if (shares_column(read.footprint, w)) return Overlap::none;  // different keys: not skew
      for (const auto& item : st.set_items) {
        if (contains(read.predicate_columns, item.column)) return Overlap::pattern;
      }
      return Overlap::none;
    }, &how);
    if (r == nullptr) return;
    if (r->transaction == t) {
      const IsolationLevel lvl = level(t);
      if (lvl == IsolationLevel::serializable) return;
      if (lvl == IsolationLevel::read_committed &&
          (r->access->lock >= RowLock::no_key_update || mutex_before(t, r->position, w.table))) {
        return;
      }
      if (table_locked(t, w.table)) return;
    } else if (session_mutex_covers(r->transaction)) {
      return;
    }
    (void)how;
    const bool known = std::none_of(r->footprint.columns.begin(), r->footprint.columns.end(),
                                    [](const ColumnValues& v) { return v.unknown; });
    Candidate c = make(PairKind::write_skew, r, t, e, r->footprint, known ? Overlap::value : Overlap::pattern);
    c.notes.push_back("the write changes a column the read filtered on, in a row the read did not key on");
    out_.push_back(std::move(c));
  }

  void on_insert(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    if (!st.insert) return;
    const sql::InsertInfo& insert = *st.insert;
    const std::string table = canonical_table(insert.table);
    if (!insert.on_conflict) {
      if (insert.where_not_exists) {
        evaluate_not_exists(t, e, table);
      } else if (reads_by_table_.count(table) > 0) {
        evaluate_insert(t, e, table, insert_footprints(e, insert));
      }
    }
    txns_[t].unexamined_inserts.push_back(&e);
  }

  // Adds the rows of the transaction's inserts into `table` to its writes.
  void examine_inserts(TransactionState& txn, const std::string& table) {
    auto& pending = txn.unexamined_inserts;
    for (std::size_t i = 0; i < pending.size();) {
      const sql::InsertInfo& insert = *pending[i]->statement().insert;
      if (canonical_table(insert.table) != table) {
        ++i;
        continue;
      }
      for (auto& row : insert_footprints(*pending[i], insert)) txn.writes.push_back(std::move(row));
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  void evaluate_not_exists(std::size_t t, const model::Execution& e, const std::string& table) {
    for (const auto& access : e.statement().tables) {
      if (!access.read || canonical_table(access.name) != table) continue;
      Footprint fp = footprint_of(e, access);
      if (fp.columns.empty()) continue;
      if (covering_unique_key(schema_, table, fp.column_names())) return;
      if (level(t) == IsolationLevel::serializable || table_locked(t, table)) return;
      if (level(t) == IsolationLevel::read_committed && mutex_before(t, position_, table)) return;
      Candidate c = make(PairKind::insert_where_not_exists, nullptr, t, e, fp, Overlap::value);
      c.check_transaction = t;
      c.constraint_columns = fp.column_names();
      out_.push_back(std::move(c));
      return;
    }
  }

  void evaluate_insert(std::size_t t, const model::Execution& e, const std::string& table,
                       const std::vector<Footprint>& rows) {
    Overlap how = Overlap::none;
    const Read* r = find_read(t, table, [&](const Read& read) {
      if (read.footprint.table != table) return Overlap::none;
      Overlap best = Overlap::none;
      for (const auto& row : rows) {
        const Overlap o = insert_matches(read.footprint, row);
        if (o == Overlap::value) return o;
        if (o == Overlap::pattern) best = o;
      }
      return best;
    }, &how);
    if (r == nullptr) return;
    const std::vector<std::string> columns = r->footprint.column_names();
    if (covering_unique_key(schema_, table, columns)) return;
    PairKind kind = PairKind::insert_after_check;
    if (r->transaction == t) {
      const IsolationLevel lvl = level(t);
      if (lvl == IsolationLevel::serializable || table_locked(t, table)) return;
      if (mutex_before(t, r->position, table)) {
        if (lvl == IsolationLevel::read_committed) return;
        kind = PairKind::lock_after_snapshot;  // §2.1: the snapshot predates the lock
      }
    } else if (session_mutex_covers(r->transaction)) {
      return;
    }
    Candidate c = make(kind, r, t, e, r->footprint, how);
    c.constraint_columns = columns;
    if (r->access->lock >= RowLock::no_key_update) {
      c.notes.push_back("FOR UPDATE locks only rows that exist; it cannot lock the absence of a row");
    }
    if (kind == PairKind::lock_after_snapshot) {
      c.notes.push_back("under REPEATABLE READ the lock was taken by a query that already took the snapshot");
    }
    out_.push_back(std::move(c));
  }

  Candidate make(PairKind kind, const Read* r, std::size_t t, const model::Execution& e,
                 const Footprint& key, Overlap how) const {
    Candidate c;
    c.kind = kind;
    c.check = r ? r->execution : nullptr;
    c.check_transaction = r ? r->transaction : t;
    c.act = &e;
    c.act_transaction = t;
    c.key = key;
    c.isolation = level(t);
    c.isolation_known = txns_[t].level_known;
    c.match = how;
    c.schema_known = schema_.known;
    const model::Execution* first = r ? r->execution : &e;
    c.window_begin = first->start != model::kNoTime ? first->start : first->end;
    const TransactionState& check_txn = txns_[c.check_transaction];
    if (c.isolation != IsolationLevel::read_committed && check_txn.snapshot_time != model::kNoTime &&
        (c.window_begin == model::kNoTime || check_txn.snapshot_time < c.window_begin)) {
      c.window_begin = check_txn.snapshot_time;
    }
    c.window_end = e.end != model::kNoTime ? e.end : e.start;
    const model::Transaction& act_txn = unit_.transactions[t];
    if (act_txn.end_time != model::kNoTime && act_txn.end_time > c.window_end) c.window_end = act_txn.end_time;
    return c;
  }

  const model::UnitOfWork& unit_;
  const core::Schema& schema_;
  const ScanOptions& options_;
  IsolationLevel session_default_;
  bool session_default_known_ = false;
  std::optional<std::size_t> session_advisory_since_;
  std::vector<TransactionState> txns_;
  std::vector<Read> reads_;
  std::unordered_map<std::string, std::vector<std::size_t>> reads_by_table_;  // indexes into reads_
  std::size_t reads_seen_ = 0;
  std::size_t position_ = 0;
  std::vector<Candidate> out_;
};

}  // namespace

std::vector<Candidate> scan_unit(const model::UnitOfWork& unit, const core::Schema& schema,
                                 const ScanOptions& options) {
  return Scanner(unit, schema, options).run();
}

}  // namespace pgsift::analyzers::cta
