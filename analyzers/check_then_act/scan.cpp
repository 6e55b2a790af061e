#include "analyzers/check_then_act/scan.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
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

// ---- Compact footprints ----
// The scan builds a footprint for every table access of every statement of
// the unit, and almost none of them ends up in a candidate. So the scan's
// footprints own nothing: column names are views into the statement shapes
// and values views into the executions' literals and parameters (the unit
// holds both for the whole scan), stored in arenas that are reused from one
// unit to the next. Only candidates get a cta::Footprint of their own. The
// answers are those of footprint.cpp's functions, which stay the reference.

// One value: `text`, with a minus sign in front when `negative` (a literal
// the parser folded a sign into; see sql::resolve).
struct Val {
  std::string_view text;
  bool negative = false;
};

bool same(Val a, Val b) {
  if (a.negative == b.negative) return a.text == b.text;
  if (a.negative) std::swap(a, b);  // now b carries the sign: "-" + b.text against a.text
  return a.text.size() == b.text.size() + 1 && a.text.front() == '-' && a.text.substr(1) == b.text;
}

char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals_lower(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != lower[i]) return false;
  }
  return true;
}

// canonical_value without the copy: booleans become "true"/"false".
Val canonical(std::string_view text, bool negative) {
  const auto could_be_word = [](char c) {
    c = fold(c);
    return c == 't' || c == 'f' || c == 'o' || c == 'y' || c == 'n';
  };
  if (!negative && !text.empty() && text.size() <= 5 && could_be_word(text.front())) {
    for (std::string_view word : {"t", "true", "on", "yes"})
      if (iequals_lower(text, word)) return {"true", false};
    for (std::string_view word : {"f", "false", "off", "no"})
      if (iequals_lower(text, word)) return {"false", false};
  }
  return {text, negative};
}

// sql::resolve without the copy; false when the value is unknown.
bool resolve_view(const sql::Value& value, const model::Execution& e, Val& out) {
  if (value.kind == sql::Value::Kind::literal) {
    if (value.slot < 0 || static_cast<std::size_t>(value.slot) >= e.parsed.literals.size()) return false;
    out = canonical(e.parsed.literals[static_cast<std::size_t>(value.slot)], value.negative);
    return true;
  }
  if (value.kind == sql::Value::Kind::parameter) {
    if (value.param < 1 || static_cast<std::size_t>(value.param) > e.parameters.size()) return false;
    const auto& parameter = e.parameters[static_cast<std::size_t>(value.param - 1)];
    if (!parameter) return false;
    out = canonical(*parameter, false);
    return true;
  }
  return false;
}

struct Col {
  std::string_view column;
  std::uint32_t first_value = 0, value_count = 0;  // in Arena::values
  bool unknown = false;
};

// A footprint: table (interned id) and its columns, sorted by name (in Arena::columns).
struct Print {
  std::uint32_t table = 0;
  std::uint32_t first_column = 0, column_count = 0;
};

// Storage of one scan's footprints, plus the interned table names (kept across units).
class Arena {
 public:
  std::vector<Col> columns;
  std::vector<Val> values;

  void reset() {
    columns.clear();
    values.clear();
    memo_.fill(Memo{});
    if (names_.size() > kMaxNames) {
      names_.clear();
      ids_.clear();
    }
  }

  // The id of canonical_table(name), remembered per table name of the
  // unit's shapes (alive, so their addresses are theirs, until the next reset).
  std::uint32_t table_id(const std::string& name) {
    // Fibonacci hashing of the address: neighbouring names spread over the slots.
    const auto key = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&name));
    Memo& memo = memo_[(key * 0x9E3779B97F4A7C15ull) >> (64 - kMemoBits)];
    if (memo.name == &name) return memo.id;
    memo.name = &name;
    memo.id = intern(name);
    return memo.id;
  }

  std::uint32_t intern(std::string_view name) {
    if (name.size() >= 7 && iequals_lower(name.substr(0, 7), "public.")) name.remove_prefix(7);
    canonical_.assign(name);
    for (char& c : canonical_) c = fold(c);
    auto it = ids_.find(canonical_);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.push_back(canonical_);
    ids_.emplace(canonical_, id);
    return id;
  }
  const std::string& table_name(std::uint32_t id) const { return names_[id]; }
  std::size_t table_count() const { return names_.size(); }

  const Col* begin(const Print& p) const { return columns.data() + p.first_column; }
  const Col* end(const Print& p) const { return begin(p) + p.column_count; }
  const Val* begin(const Col& c) const { return values.data() + c.first_value; }
  const Val* end(const Col& c) const { return begin(c) + c.value_count; }

  const Col* find(const Print& p, std::string_view column) const {
    for (const Col* c = begin(p); c != end(p); ++c) {
      if (c->column == column) return c;
    }
    return nullptr;
  }

  bool intersects(const Col& a, const Col& b) const {
    for (const Val* x = begin(a); x != end(a); ++x) {
      for (const Val* y = begin(b); y != end(b); ++y) {
        if (same(*x, *y)) return true;
      }
    }
    return false;
  }

  // cta::overlap.
  Overlap overlap(const Print& a, const Print& b) const {
    if (a.table != b.table) return Overlap::none;
    bool shared = false;
    bool unknown = false;
    for (const Col* ca = begin(a); ca != end(a); ++ca) {
      const Col* cb = find(b, ca->column);
      if (cb == nullptr) continue;
      shared = true;
      if (ca->unknown || cb->unknown) {
        if (!intersects(*ca, *cb)) unknown = true;
        continue;
      }
      if (!intersects(*ca, *cb)) return Overlap::none;
    }
    if (!shared) return Overlap::none;
    return unknown ? Overlap::pattern : Overlap::value;
  }

  // cta::insert_matches.
  Overlap insert_matches(const Print& read, const Print& inserted) const {
    if (read.table != inserted.table || read.column_count == 0) return Overlap::none;
    bool unknown = false;
    for (const Col* rc = begin(read); rc != end(read); ++rc) {
      const Col* ic = find(inserted, rc->column);
      if (ic == nullptr) return Overlap::none;
      if (intersects(*rc, *ic)) continue;
      if (rc->unknown || ic->unknown) {
        unknown = true;
        continue;
      }
      return Overlap::none;
    }
    return unknown ? Overlap::pattern : Overlap::value;
  }

  bool shares_column(const Print& a, const Print& b) const {
    for (const Col* c = begin(a); c != end(a); ++c) {
      if (find(b, c->column) != nullptr) return true;
    }
    return false;
  }

  std::vector<std::string> column_names(const Print& p) const {
    std::vector<std::string> names;
    for (const Col* c = begin(p); c != end(p); ++c) names.emplace_back(c->column);
    return names;
  }

  // The owning footprint of a candidate.
  Footprint footprint(const Print& p) const {
    Footprint out;
    out.table = names_[p.table];
    for (const Col* c = begin(p); c != end(p); ++c) {
      ColumnValues entry{std::string(c->column), {}, c->unknown};
      for (const Val* v = begin(*c); v != end(*c); ++v) {
        entry.values.push_back(v->negative ? "-" + std::string(v->text) : std::string(v->text));
      }
      out.columns.push_back(std::move(entry));
    }
    return out;
  }

  // ---- building one footprint: add columns and values, then commit ----
  void start(std::uint32_t table) {
    building_table_ = table;
    pending_columns_.clear();
    pending_values_.clear();
  }
  // column_entry: the pending column with this name, added when new.
  std::uint32_t column(std::string_view name) {
    for (std::uint32_t i = 0; i < pending_columns_.size(); ++i) {
      if (pending_columns_[i].column == name) return i;
    }
    pending_columns_.push_back(Col{name, 0, 0, false});
    return static_cast<std::uint32_t>(pending_columns_.size() - 1);
  }
  void set_unknown(std::uint32_t column) { pending_columns_[column].unknown = true; }
  // add_value: the value resolved against `e`, once per column.
  void add_value(std::uint32_t column, const sql::Value& value, const model::Execution& e) {
    Val v;
    if (!resolve_view(value, e, v)) {
      pending_columns_[column].unknown = true;
      return;
    }
    for (const auto& [c, existing] : pending_values_) {
      if (c == column && same(existing, v)) return;
    }
    pending_values_.emplace_back(column, v);
  }
  Print commit() {
    Print p;
    p.table = building_table_;
    p.first_column = static_cast<std::uint32_t>(columns.size());
    p.column_count = static_cast<std::uint32_t>(pending_columns_.size());
    if (pending_columns_.size() == 1) {
      // One key column (most statements): its values in the order added.
      Col c = pending_columns_.front();
      c.first_value = static_cast<std::uint32_t>(values.size());
      for (const auto& entry : pending_values_) values.push_back(entry.second);
      c.value_count = static_cast<std::uint32_t>(values.size()) - c.first_value;
      columns.push_back(c);
      return p;
    }
    order_.clear();
    for (std::uint32_t i = 0; i < pending_columns_.size(); ++i) order_.push_back(i);
    if (order_.size() > 1) {
      std::sort(order_.begin(), order_.end(), [this](std::uint32_t a, std::uint32_t b) {
        return pending_columns_[a].column < pending_columns_[b].column;
      });
    }
    for (std::uint32_t i : order_) {
      Col c = pending_columns_[i];
      c.first_value = static_cast<std::uint32_t>(values.size());
      for (const auto& [column, v] : pending_values_) {
        if (column == i) values.push_back(v);
      }
      c.value_count = static_cast<std::uint32_t>(values.size()) - c.first_value;
      columns.push_back(c);
    }
    return p;
  }

 private:
  static constexpr std::size_t kMaxNames = 4096;
  static constexpr unsigned kMemoBits = 8;
  static constexpr std::size_t kMemo = std::size_t{1} << kMemoBits;
  struct Memo {
    const std::string* name = nullptr;
    std::uint32_t id = 0;
  };
  std::array<Memo, kMemo> memo_{};
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::string canonical_;
  std::uint32_t building_table_ = 0;
  std::vector<Col> pending_columns_;
  std::vector<std::pair<std::uint32_t, Val>> pending_values_;
  std::vector<std::uint32_t> order_;
};

// footprint_of.
Print print_of(Arena& arena, const model::Execution& e, const sql::TableAccess& access) {
  arena.start(arena.table_id(access.name));
  for (const auto& key : access.keys) {
    const std::uint32_t column = arena.column(key.column);
    for (const auto& value : key.values) arena.add_value(column, value, e);
    if (key.values.empty()) arena.set_unknown(column);
  }
  return arena.commit();
}

// insert_footprints, appended to `out`.
template <typename Out>
void insert_prints(Arena& arena, const model::Execution& e, const sql::InsertInfo& insert,
                   std::uint32_t table, Out&& out) {
  if (insert.rows.empty()) {
    arena.start(table);
    for (const auto& column : insert.columns) arena.set_unknown(arena.column(column));
    out(arena.commit());
    return;
  }
  for (const auto& row : insert.rows) {
    arena.start(table);
    for (std::size_t i = 0; i < row.size() && i < insert.columns.size(); ++i) {
      arena.add_value(arena.column(insert.columns[i]), row[i], e);
    }
    out(arena.commit());
  }
}

struct Read {
  std::size_t transaction = 0;
  std::size_t position = 0;  // order within the unit
  const model::Execution* execution = nullptr;
  const sql::TableAccess* access = nullptr;
  Print footprint;
  std::uint32_t first_predicate = 0, predicate_count = 0;  // equality and comparison columns (in predicates_)
  bool after_write = false;  // reads a row this transaction already wrote (pgbench's SELECT)
  std::size_t ordinal = 0;   // among all reads of the unit, kept or not
};

struct Positioned {
  std::size_t position = 0;
  Print footprint;
};

struct PendingInsert {
  const model::Execution* execution = nullptr;
  std::uint32_t table = 0;
};

struct TransactionState {
  IsolationLevel level = IsolationLevel::read_committed;
  bool level_known = false;
  bool snapshot_taken = false;
  model::Timestamp snapshot_time = model::kNoTime;  // start of the first query
  std::vector<std::pair<std::uint32_t, bool>> table_locks;  // table, taken before the snapshot
  std::vector<std::size_t> advisory_locks;                  // positions
  std::vector<Positioned> row_locks;                        // FOR UPDATE / FOR NO KEY UPDATE
  std::vector<Positioned> share_locks;                      // FOR SHARE / FOR KEY SHARE
  std::vector<Print> writes;
  // INSERTs whose row footprints nobody needed yet: most inserted rows are
  // never read back in their transaction, so footprints are built on demand.
  std::vector<PendingInsert> unexamined_inserts;

  // Back to a fresh state, keeping the buffers.
  void reset(IsolationLevel default_level, bool default_known) {
    level = default_level;
    level_known = default_known;
    snapshot_taken = false;
    snapshot_time = model::kNoTime;
    table_locks.clear();
    advisory_locks.clear();
    row_locks.clear();
    share_locks.clear();
    writes.clear();
    unexamined_inserts.clear();
  }
};

// What one scan needs besides its unit, reused by the next scan of the same
// thread (allocating and freeing it per unit cost more than the scan).
struct ScanState {
  Arena arena;
  std::vector<TransactionState> txns;
  std::size_t txn_count = 0;
  std::vector<Read> reads;
  std::vector<std::string_view> predicates;
  std::vector<std::vector<std::size_t>> reads_by_table;  // by table id: indexes into reads
  std::vector<std::string_view> state_columns;           // classify_row's scratch

  void reset() {
    arena.reset();
    txn_count = 0;
    reads.clear();
    predicates.clear();
    for (auto& list : reads_by_table) list.clear();
    // A unit far larger than usual leaves no large buffers behind.
    constexpr std::size_t kKeep = 1 << 14;
    if (txns.size() > kKeep) std::vector<TransactionState>().swap(txns);
    if (reads.capacity() > kKeep) std::vector<Read>().swap(reads);
    if (arena.columns.capacity() > 4 * kKeep) std::vector<Col>().swap(arena.columns);
    if (arena.values.capacity() > 4 * kKeep) std::vector<Val>().swap(arena.values);
    if (predicates.capacity() > 4 * kKeep) std::vector<std::string_view>().swap(predicates);
  }
};

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
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
  Scanner(const model::UnitOfWork& unit, const core::Schema& schema, const ScanOptions& options,
          ScanState& state)
      : unit_(unit), schema_(schema), options_(options), session_default_(options.default_isolation),
        s_(state), arena_(state.arena) {
    s_.reset();
  }

  std::vector<Candidate> run() {
    for (std::size_t t = 0; t < unit_.transactions.size(); ++t) {
      begin_transaction(t);
      const std::vector<model::Execution>& executions = unit_.transactions[t].executions;
      for (std::size_t i = 0; i < executions.size(); ++i) {
        if (i + kValuesAhead < executions.size()) prefetch_values(executions[i + kValuesAhead]);
        const model::Execution& e = executions[i];
        if (!e.parsed.shape || e.statement_index >= e.parsed.shape->statements.size()) continue;
        on_execution(t, e);
        ++position_;
      }
    }
    return std::move(out_);
  }

 private:
  // The literal and parameter lists of an execution are blocks of their own,
  // allocated when the statement was logged: by the time its unit is
  // scanned they have left the cache, and resolving the footprint's values
  // waited on them (perf: most of add_value's samples, 4% of a one-thread
  // run). They are loaded this many executions ahead.
  static constexpr std::size_t kValuesAhead = 2;
  static void prefetch_values(const model::Execution& e) {
    if (!e.parsed.literals.empty()) __builtin_prefetch(e.parsed.literals.data());
    if (!e.parameters.empty()) __builtin_prefetch(e.parameters.data());
  }

  TransactionState& txn(std::size_t t) { return s_.txns[t]; }
  const TransactionState& txn(std::size_t t) const { return s_.txns[t]; }

  void begin_transaction(std::size_t t) {
    const model::Transaction& transaction = unit_.transactions[t];
    if (s_.txn_count == s_.txns.size()) s_.txns.emplace_back();
    TransactionState& state = s_.txns[s_.txn_count++];
    state.reset(session_default_, session_default_known_);
    if (transaction.isolation_known && transaction.isolation != IsolationLevel::unspecified) {
      state.level = transaction.isolation;
      state.level_known = true;
    }
    (void)t;
  }

  std::vector<std::size_t>& reads_of(std::uint32_t table) {
    if (table >= s_.reads_by_table.size()) s_.reads_by_table.resize(arena_.table_count());
    return s_.reads_by_table[table];
  }
  bool has_reads(std::uint32_t table) const {
    return table < s_.reads_by_table.size() && !s_.reads_by_table[table].empty();
  }

  void on_execution(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    TransactionState& state = txn(t);
    if (st.isolation != IsolationLevel::unspecified) {
      if (st.sets_session_default_isolation) {
        session_default_ = st.isolation;
        session_default_known_ = true;
      } else if (!state.snapshot_taken) {
        state.level = st.isolation;  // BEGIN ISOLATION LEVEL / SET TRANSACTION
        state.level_known = true;
      }
    }
    switch (st.kind) {
      case sql::Kind::lock: on_lock_table(state, st); break;
      case sql::Kind::select: on_select(t, e); break;
      case sql::Kind::update:
      case sql::Kind::delete_: on_row_write(t, e); break;
      case sql::Kind::insert: on_insert(t, e); break;
      default: break;
    }
    if (takes_snapshot(st.kind) && !state.snapshot_taken) {
      state.snapshot_taken = true;
      state.snapshot_time = e.start != model::kNoTime ? e.start : e.end;
    }
  }

  void on_lock_table(TransactionState& state, const sql::Statement& st) {
    if (!is_protective_table_mode(st.lock_table_mode)) return;
    for (const auto& access : st.tables) {
      state.table_locks.emplace_back(arena_.table_id(access.name), !state.snapshot_taken);
    }
  }

  void on_select(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    TransactionState& state = txn(t);
    for (const auto& lock : st.advisory_locks) {
      if (lock.function.find("unlock") != std::string::npos) {
        session_advisory_since_.reset();
      } else if (lock.transaction_scoped) {
        state.advisory_locks.push_back(position_);
      } else if (!session_advisory_since_) {
        session_advisory_since_ = t;
      }
    }
    for (const auto& access : st.tables) {
      const Print fp = print_of(arena_, e, access);
      if (access.lock >= RowLock::no_key_update) state.row_locks.push_back({position_, fp});
      else if (access.lock != RowLock::none) state.share_locks.push_back({position_, fp});
      if (!access.read) continue;
      Read read{t, position_, &e, &access, fp, 0, 0, false, 0};
      read.first_predicate = static_cast<std::uint32_t>(s_.predicates.size());
      for (const auto& k : access.keys) s_.predicates.emplace_back(k.column);
      for (const auto& c : access.comparisons) {
        const auto first = s_.predicates.begin() + read.first_predicate;
        if (std::find(first, s_.predicates.end(), std::string_view(c.column)) == s_.predicates.end()) {
          s_.predicates.emplace_back(c.column);
        }
      }
      read.predicate_count = static_cast<std::uint32_t>(s_.predicates.size()) - read.first_predicate;
      examine_inserts(state, fp.table);
      for (const auto& w : state.writes) {
        if (arena_.overlap(w, fp) == Overlap::value) read.after_write = true;
      }
      // Reads of rows this transaction already wrote are never paired, so
      // they are not kept; the others are indexed by table (the only reads a
      // write or insert of that table can match).
      read.ordinal = reads_seen_++;
      if (read.after_write) {
        s_.predicates.resize(read.first_predicate);
        continue;
      }
      reads_of(fp.table).push_back(s_.reads.size());
      s_.reads.push_back(read);
    }
  }

  std::string_view predicate(const Read& r, std::uint32_t i) const { return s_.predicates[r.first_predicate + i]; }
  bool predicates_contain(const Read& r, std::string_view column) const {
    for (std::uint32_t i = 0; i < r.predicate_count; ++i) {
      if (predicate(r, i) == column) return true;
    }
    return false;
  }

  // Level in force for the transaction holding `t`.
  IsolationLevel level(std::size_t t) const { return txn(t).level; }

  bool table_locked(std::size_t t, std::uint32_t table) const {
    const TransactionState& state = txn(t);
    for (const auto& [name, before_snapshot] : state.table_locks) {
      // Under RR/SER the snapshot is taken by the first query; a LOCK TABLE
      // after it cannot make an older snapshot see the other session's rows.
      if (name == table && (before_snapshot || state.level == IsolationLevel::read_committed)) return true;
    }
    return false;
  }

  // An application mutex taken before `position` in transaction t: an
  // advisory lock, or a row lock on another table (the parent row).
  bool mutex_before(std::size_t t, std::size_t position, std::uint32_t table) const {
    const TransactionState& state = txn(t);
    for (std::size_t p : state.advisory_locks) {
      if (p < position) return true;
    }
    for (const auto& lock : state.row_locks) {
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
  const Read* find_read(std::size_t t, std::uint32_t table, Match&& match, Overlap* how) const {
    const Read* best = nullptr;
    Overlap best_how = Overlap::none;
    *how = best_how;
    if (!has_reads(table)) return nullptr;
    const std::vector<std::size_t>& candidates = s_.reads_by_table[table];
    const std::size_t stop = reads_seen_ > kMaxLookBack ? reads_seen_ - kMaxLookBack : 0;
    for (int pass = 0; pass < 2 && best == nullptr; ++pass) {
      if (pass == 1 && !options_.across_transactions) break;
      for (std::size_t k = candidates.size(); k-- > 0 && s_.reads[candidates[k]].ordinal >= stop;) {
        const Read& r = s_.reads[candidates[k]];
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
      const Print w = print_of(arena_, e, access);
      evaluate_row_write(t, e, w);
      txn(t).writes.push_back(w);
    }
  }

  std::optional<PairKind> classify_row(const Read& r, const model::Execution& e, const Print& w) {
    const sql::Statement& st = e.statement();
    std::vector<std::string_view>& state_columns = s_.state_columns;  // what the read checked beyond the row's key
    state_columns.clear();
    for (std::uint32_t i = 0; i < r.predicate_count; ++i) {
      if (arena_.find(w, predicate(r, i)) == nullptr) state_columns.push_back(predicate(r, i));
    }
    const auto checked_state = [&state_columns](const std::string& column) {
      return std::find(state_columns.begin(), state_columns.end(), std::string_view(column)) != state_columns.end();
    };
    if (st.kind == sql::Kind::delete_) {
      if (state_columns.empty()) return std::nullopt;
      return PairKind::consume_after_check;
    }
    for (const auto& item : st.set_items) {
      if (item.kind == sql::SetItem::Kind::absolute && checked_state(item.column)) {
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

  void evaluate_row_write(std::size_t t, const model::Execution& e, const Print& w) {
    const sql::Statement& st = e.statement();
    const TransactionState& state = txn(t);
    for (const auto& share : state.share_locks) {
      if (arena_.overlap(share.footprint, w) == Overlap::none) continue;
      const bool upgraded = std::any_of(state.row_locks.begin(), state.row_locks.end(), [&](const Positioned& l) {
        return arena_.overlap(l.footprint, w) != Overlap::none;
      });
      if (upgraded) break;
      Candidate c = make(PairKind::share_upgrade, nullptr, t, e, w, Overlap::value);
      c.check_transaction = t;
      out_.push_back(std::move(c));
      return;
    }
    // A WHERE that re-checks the row's own state makes the write self-validating.
    if (!st.guards.empty()) return;
    for (const auto& lock : state.row_locks) {
      if (arena_.overlap(lock.footprint, w) != Overlap::none) return;
    }
    Overlap how = Overlap::none;
    const Read* r = find_read(t, w.table, [this, &w](const Read& read) { return arena_.overlap(read.footprint, w); }, &how);
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

  void evaluate_write_skew(std::size_t t, const model::Execution& e, const Print& w) {
    const sql::Statement& st = e.statement();
    Overlap how = Overlap::none;
    const Read* r = find_read(t, w.table, [&](const Read& read) {
      if (read.footprint.table != w.table || read.footprint.column_count == 0) return Overlap::none;
      if (arena_.shares_column(read.footprint, w)) return Overlap::none;  // different keys: not skew
      for (const auto& item : st.set_items) {
        if (predicates_contain(read, item.column)) return Overlap::pattern;
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
    const bool known = std::none_of(arena_.begin(r->footprint), arena_.end(r->footprint),
                                    [](const Col& v) { return v.unknown; });
    Candidate c = make(PairKind::write_skew, r, t, e, r->footprint, known ? Overlap::value : Overlap::pattern);
    c.notes.push_back("the write changes a column the read filtered on, in a row the read did not key on");
    out_.push_back(std::move(c));
  }

  void on_insert(std::size_t t, const model::Execution& e) {
    const sql::Statement& st = e.statement();
    if (!st.insert) return;
    const sql::InsertInfo& insert = *st.insert;
    const std::uint32_t table = arena_.table_id(insert.table);
    if (!insert.on_conflict) {
      if (insert.where_not_exists) {
        evaluate_not_exists(t, e, table);
      } else if (has_reads(table)) {
        rows_.clear();
        insert_prints(arena_, e, insert, table, [this](const Print& p) { rows_.push_back(p); });
        evaluate_insert(t, e, table);
      }
    }
    txn(t).unexamined_inserts.push_back({&e, table});
  }

  // Adds the rows of the transaction's inserts into `table` to its writes.
  void examine_inserts(TransactionState& state, std::uint32_t table) {
    auto& pending = state.unexamined_inserts;
    for (std::size_t i = 0; i < pending.size();) {
      if (pending[i].table != table) {
        ++i;
        continue;
      }
      const model::Execution& e = *pending[i].execution;
      insert_prints(arena_, e, *e.statement().insert, table, [&state](const Print& p) { state.writes.push_back(p); });
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  void evaluate_not_exists(std::size_t t, const model::Execution& e, std::uint32_t table) {
    for (const auto& access : e.statement().tables) {
      if (!access.read || arena_.table_id(access.name) != table) continue;
      const Print fp = print_of(arena_, e, access);
      if (fp.column_count == 0) continue;
      const std::string& name = arena_.table_name(table);
      if (covering_unique_key(schema_, name, arena_.column_names(fp))) return;
      if (level(t) == IsolationLevel::serializable || table_locked(t, table)) return;
      if (level(t) == IsolationLevel::read_committed && mutex_before(t, position_, table)) return;
      Candidate c = make(PairKind::insert_where_not_exists, nullptr, t, e, fp, Overlap::value);
      c.check_transaction = t;
      c.constraint_columns = arena_.column_names(fp);
      out_.push_back(std::move(c));
      return;
    }
  }

  void evaluate_insert(std::size_t t, const model::Execution& e, std::uint32_t table) {
    Overlap how = Overlap::none;
    const Read* r = find_read(t, table, [&](const Read& read) {
      if (read.footprint.table != table) return Overlap::none;
      Overlap best = Overlap::none;
      for (const Print& row : rows_) {
        const Overlap o = arena_.insert_matches(read.footprint, row);
        if (o == Overlap::value) return o;
        if (o == Overlap::pattern) best = o;
      }
      return best;
    }, &how);
    if (r == nullptr) return;
    const std::vector<std::string> columns = arena_.column_names(r->footprint);
    if (covering_unique_key(schema_, arena_.table_name(table), columns)) return;
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
                 const Print& key, Overlap how) const {
    Candidate c;
    c.kind = kind;
    c.check = r ? r->execution : nullptr;
    c.check_transaction = r ? r->transaction : t;
    c.act = &e;
    c.act_transaction = t;
    c.key = arena_.footprint(key);
    c.isolation = level(t);
    c.isolation_known = txn(t).level_known;
    c.match = how;
    c.schema_known = schema_.known;
    const model::Execution* first = r ? r->execution : &e;
    c.window_begin = first->start != model::kNoTime ? first->start : first->end;
    const TransactionState& check_txn = txn(c.check_transaction);
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
  ScanState& s_;
  Arena& arena_;
  std::vector<Print> rows_;  // the rows of the INSERT being evaluated
  std::size_t reads_seen_ = 0;
  std::size_t position_ = 0;
  std::vector<Candidate> out_;
};

}  // namespace

std::vector<Candidate> scan_unit(const model::UnitOfWork& unit, const core::Schema& schema,
                                 const ScanOptions& options) {
  thread_local ScanState state;
  return Scanner(unit, schema, options, state).run();
}

}  // namespace pgsift::analyzers::cta
