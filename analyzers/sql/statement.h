// The SQL model: what one statement reads, writes, locks and keys on, derived
// once from libpg_query's parse tree and cached per literal-masked shape.
// Thread-safe: analyze() may be called from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsift::sql {

enum class Kind : std::uint8_t {
  select, insert, update, delete_, merge,
  begin, commit, rollback, savepoint, release, rollback_to_savepoint, prepare_transaction,
  commit_prepared, rollback_prepared,
  set, show, lock, copy, declare, fetch, close, discard, utility, unknown
};
std::string_view to_string(Kind kind);

enum class IsolationLevel : std::uint8_t {
  unspecified, read_uncommitted, read_committed, repeatable_read, serializable
};
std::string_view to_string(IsolationLevel level);

/// Row-level lock strength of a SELECT's locking clause, weakest first.
enum class RowLock : std::uint8_t { none, key_share, share, no_key_update, update };
std::string_view to_string(RowLock lock);

/// A value in a predicate, SET item or VALUES row. Literal values are not
/// stored in the (shared, cached) shape: `slot` indexes the literal list of
/// the concrete text (Parsed::literals), and `param` is the $n number.
struct Value {
  enum class Kind : std::uint8_t { literal, parameter, null, column, other };
  Kind kind = Kind::other;
  int slot = -1;    // literal: index into Parsed::literals
  int param = 0;    // parameter: n of $n
  std::string column;  // column: referenced column name (lowercase)
  std::string qualifier;  // column: table/alias qualifier as written ("excluded", "u"), else empty
  bool negative = false;  // literal: the parser folded a minus sign that is not part of the literal text
};

/// One equality conjunct on a table's column: col = v, col IN (v...),
/// col = ANY(v), or one column of a row comparison (a, b) = (v1, v2).
struct KeyPredicate {
  enum class Op : std::uint8_t { eq, in, any, row };
  std::string column;
  Op op = Op::eq;
  std::vector<Value> values;
};

/// Other comparison conjuncts on a table's column (used as UPDATE guards:
/// `stock >= $1`, `used = false`, `version = $2`).
struct Comparison {
  std::string column;
  std::string op;  // "=", "<>", ">=", "IS NULL", "IS NOT NULL", ...
  Value value;
};

struct TableAccess {
  std::string name;    // as written, schema-qualified when written so, unquoted lowercase
  std::string alias;   // empty when none
  bool read = false;
  bool written = false;
  std::vector<KeyPredicate> keys;      // equality conjuncts of the WHERE on this table
  std::vector<Comparison> comparisons; // all simple column-vs-value conjuncts (includes keys' eq)
  bool has_residual = false;           // other predicates exist beyond the keys
  RowLock lock = RowLock::none;
  bool nowait = false;
  bool skip_locked = false;
};

struct SetItem {
  enum class Kind : std::uint8_t { absolute, relative, other };
  std::string column;
  Kind kind = Kind::other;
  Value value;       // absolute: the value; relative: the delta operand
  char op = 0;       // relative: '+' or '-' (or '*', '/')
};

struct InsertInfo {
  std::string table;
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;   // VALUES rows
  bool from_select = false;
  bool where_not_exists = false;          // INSERT ... SELECT ... WHERE NOT EXISTS (...)
  bool on_conflict = false;
  std::vector<std::string> conflict_target;
  std::string conflict_constraint;        // ON CONFLICT ON CONSTRAINT name
  enum class ConflictAction : std::uint8_t { none, nothing, update } conflict_action = ConflictAction::none;
};

struct AdvisoryLock {
  std::string function;       // "pg_advisory_xact_lock", "pg_try_advisory_lock", ...
  bool transaction_scoped = false;
  std::vector<Value> keys;
};

/// Everything the engine knows about one statement's shape. Shared between all
/// executions of the same literal-masked text; immutable once built.
struct Statement {
  Kind kind = Kind::unknown;
  std::vector<TableAccess> tables;
  std::vector<SetItem> set_items;    // UPDATE
  std::vector<Comparison> guards;    // UPDATE/DELETE: WHERE conjuncts on columns the UPDATE assigns, or on a version/state column
  std::optional<InsertInfo> insert;
  bool returning = false;
  bool aggregate = false;            // count(*)/exists/sum... rather than row reads
  bool exists_check = false;         // SELECT EXISTS(...) / SELECT 1 ... LIMIT 1
  bool has_limit = false;
  IsolationLevel isolation = IsolationLevel::unspecified;  // BEGIN/START/SET TRANSACTION ...
  bool sets_session_default_isolation = false;             // SET SESSION CHARACTERISTICS / default_transaction_isolation
  bool read_only = false;
  std::vector<AdvisoryLock> advisory_locks;
  std::string lock_table_mode;       // LOCK TABLE ... IN <mode> MODE ("ACCESS EXCLUSIVE" default)
  std::string savepoint_name;
  std::string transaction_gid;       // PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK PREPARED 'gid'
  /// SET/RESET: the setting name as the parser gives it ("lock_timeout",
  /// "transaction", "session characteristics", "all" for RESET ALL), its
  /// first value, and whether it was SET LOCAL.
  std::string setting;
  Value setting_value;
  bool setting_local = false;
  /// sqlcommenter / Marginalia tags from comments, URL-decoded.
  std::map<std::string, std::string> tags;
  /// Stable across runs and releases; see man/pgsift.1 "FINGERPRINTS".
  std::uint64_t fingerprint = 0;
  /// Text with literals replaced by $n placeholders (what reports show).
  std::string normalized;
  /// Parse failure: kind == unknown, message and 1-based cursor position.
  std::string error;
  int error_position = 0;
};

/// The analysis of one SQL text (possibly several statements).
struct Analysis {
  std::vector<Statement> statements;
};

/// One concrete text: its shared shape plus this text's literal values, in
/// order of appearance (Value::slot indexes them; strings unquoted).
struct Parsed {
  std::shared_ptr<const Analysis> shape;
  std::vector<std::string> literals;
};

/// Parses `text` (through the cache). Never throws; SQL that does not parse
/// yields one Statement of kind unknown with `error` set.
Parsed parse(std::string_view text);
/// The same into `out` (its shape replaced, its literal list refilled): the
/// list keeps its capacity, so a caller recycling lists allocates none.
void parse(std::string_view text, Parsed& out);

/// Resolves a Value to its concrete text given this execution's literals and
/// bound parameters; nullopt when unknown (e.g. column or other expression).
std::optional<std::string> resolve(const Value& value, const std::vector<std::string>& literals,
                                   const std::vector<std::optional<std::string>>& parameters);

/// Cache statistics, for `--stats` and benchmarks.
struct CacheStats {
  std::uint64_t hits = 0, misses = 0, entries = 0, parse_errors = 0;
};
CacheStats cache_stats();
/// Bounds the cache (entries); the default is generous for real logs.
void set_cache_capacity(std::size_t entries);

}  // namespace pgsift::sql
