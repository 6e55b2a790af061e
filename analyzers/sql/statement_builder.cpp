// Walks libpg_query's JSON parse tree (PostgreSQL 15 node names) and fills
// the Statement fields. Conventions (documented for analyzer authors):
//  - tables: one TableAccess per table reference (a table named twice, e.g.
//    in a subquery, appears twice). `read` = rows are read through FROM/USING/
//    a subquery/MERGE source/COPY TO; `written` = target of INSERT/UPDATE/
//    DELETE/MERGE/COPY FROM (also inside data-modifying CTEs). CTE names and
//    subquery aliases are not tables; LOCK TABLE targets are listed with
//    neither flag.
//  - keys: top-level AND conjuncts of WHERE/JOIN ON, `col = literal|$n`,
//    `col IN (...)`, `col = ANY(...)`, `(a, b) = (...)`/`(a, b) IN (...)`.
//    Unqualified columns belong to the UPDATE/DELETE target, else to the only
//    table of the query level. Column = column (joins) goes to `comparisons`
//    only. Everything else sets has_residual on the tables it mentions (all
//    tables of the level when it mentions none).
//  - set_items/guards/insert describe the first UPDATE/INSERT met, including
//    one inside a data-modifying CTE; ON CONFLICT DO UPDATE SET fills
//    set_items too.
#include "analyzers/sql/statement_builder.h"

#include "analyzers/sql/json_tree.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace pgsift::sql {
namespace {

using json = jt::Value;

constexpr int kMaxDepth = 3000;

const json* field(const json& obj, const char* key) { return obj.find(key); }

std::string str(const json* j) { return j != nullptr && j->is_string() ? std::string(j->as_string()) : std::string(); }
bool boolean(const json* j) { return j != nullptr && j->is_boolean() && j->as_bool(); }
long long integer(const json* j) { return j != nullptr && j->is_number() ? j->as_int() : 0; }

// A node is {"TypeName": {...}}.
struct Node {
  std::string_view type;
  const json* body = nullptr;
  explicit operator bool() const { return body != nullptr; }
};
Node node(const json* n) {
  if (n == nullptr || !n->is_object() || n->size() != 1) return {};
  return {n->key(0), &(*n)[0]};
}

// Last String of a name list such as A_Expr.name or FuncCall.funcname.
std::string last_name(const json* list) {
  if (list == nullptr || !list->is_array() || list->empty()) return {};
  Node n = node(&list->back());
  return n.type == "String" ? str(field(*n.body, "sval")) : std::string();
}

struct ColRef {
  std::string qualifier;  // "u", "public.users"
  std::string column;
  bool star = false;
};

bool column_ref(const json* n, ColRef& out) {
  Node c = node(n);
  if (c.type == "TypeCast") return column_ref(field(*c.body, "arg"), out);
  if (c.type != "ColumnRef") return false;
  const json* fields = field(*c.body, "fields");
  if (fields == nullptr || !fields->is_array() || fields->empty()) return false;
  std::vector<std::string> parts;
  for (const json& f : *fields) {
    Node p = node(&f);
    if (p.type == "A_Star") {
      out.star = true;
      parts.emplace_back("*");
    } else {
      parts.push_back(str(field(*p.body, "sval")));
    }
  }
  out.column = parts.back();
  parts.pop_back();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.qualifier.push_back('.');
    out.qualifier += parts[i];
  }
  return !out.star;
}

bool is_guard_column(const std::string& c) {
  static constexpr std::array<const char*, 24> names = {
      "version", "lock_version", "row_version", "state", "status", "used", "is_used", "redeemed",
      "is_redeemed", "consumed", "claimed", "locked", "processed", "available", "deleted_at", "locked_at",
      "locked_by", "claimed_at", "claimed_by", "processed_at", "redeemed_at", "used_at", "xmin", "revision"};
  for (const char* n : names)
    if (c == n) return true;
  auto ends = [&](const char* suf) {
    std::size_t l = std::strlen(suf);
    return c.size() > l && c.compare(c.size() - l, l, suf) == 0;
  };
  return ends("_version") || ends("_state") || ends("_status");
}

bool is_aggregate_function(const std::string& f) {
  static constexpr std::array<const char*, 22> names = {
      "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "array_agg", "string_agg",
      "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "bit_and", "bit_or", "stddev",
      "variance", "stddev_pop", "stddev_samp", "var_pop", "var_samp"};
  for (const char* n : names)
    if (f == n) return true;
  return false;
}

std::string flip(const std::string& op) {
  if (op == "<") return ">";
  if (op == ">") return "<";
  if (op == "<=") return ">=";
  if (op == ">=") return "<=";
  return op;
}

RowLock row_lock(const std::string& strength) {
  if (strength == "LCS_FORKEYSHARE") return RowLock::key_share;
  if (strength == "LCS_FORSHARE") return RowLock::share;
  if (strength == "LCS_FORNOKEYUPDATE") return RowLock::no_key_update;
  if (strength == "LCS_FORUPDATE") return RowLock::update;
  return RowLock::none;
}

IsolationLevel isolation_of(std::string v) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "serializable") return IsolationLevel::serializable;
  if (v == "repeatable read") return IsolationLevel::repeatable_read;
  if (v == "read committed") return IsolationLevel::read_committed;
  if (v == "read uncommitted") return IsolationLevel::read_uncommitted;
  return IsolationLevel::unspecified;
}

const char* lock_mode_name(long long mode) {
  static constexpr std::array<const char*, 9> names = {"",
                                                       "ACCESS SHARE",
                                                       "ROW SHARE",
                                                       "ROW EXCLUSIVE",
                                                       "SHARE UPDATE EXCLUSIVE",
                                                       "SHARE",
                                                       "SHARE ROW EXCLUSIVE",
                                                       "EXCLUSIVE",
                                                       "ACCESS EXCLUSIVE"};
  return mode >= 1 && mode <= 8 ? names[static_cast<std::size_t>(mode)] : "ACCESS EXCLUSIVE";
}

struct Scope {
  Scope* parent = nullptr;
  std::vector<std::pair<std::string, int>> names;  // alias or (schema.)relname -> table index
  std::vector<std::string> ctes;
  std::vector<int> tables;                          // tables of this query level
  int default_table = -1;                           // owner of unqualified columns
  int from_begin = 0, from_end = 0;                 // st.tables range added by FROM (locking clause)

  bool is_cte(const std::string& name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent)
      for (const std::string& c : s->ctes)
        if (c == name) return true;
    return false;
  }
};

class Builder {
 public:
  Builder(std::string_view text, const lex::Lexed& lexed, std::uint32_t base, Statement& st)
      : text_(text), st_(st), base_(base) {
    for (const lex::Token& t : lexed.tokens)
      if (lex::is_literal(t.kind)) literal_begins_.push_back(t.begin);
  }

  void statement(const json& stmt) {
    Node n = node(&stmt);
    scan_functions(stmt, 0);
    if (!n) {
      st_.kind = Kind::unknown;
      return;
    }
    Scope root;
    const json& b = *n.body;
    if (n.type == "SelectStmt") {
      st_.kind = Kind::select;
      select(b, root, true);
    } else if (n.type == "InsertStmt") {
      st_.kind = Kind::insert;
      insert(b, root);
    } else if (n.type == "UpdateStmt") {
      st_.kind = Kind::update;
      update(b, root);
    } else if (n.type == "DeleteStmt") {
      st_.kind = Kind::delete_;
      delete_(b, root);
    } else if (n.type == "MergeStmt") {
      st_.kind = Kind::merge;
      merge(b, root);
    } else if (n.type == "TransactionStmt") {
      transaction(b);
    } else if (n.type == "VariableSetStmt") {
      st_.kind = Kind::set;
      variable_set(b);
    } else if (n.type == "VariableShowStmt") {
      st_.kind = Kind::show;
      st_.setting = str(field(b, "name"));
    } else if (n.type == "LockStmt") {
      lock(b);
    } else if (n.type == "CopyStmt") {
      st_.kind = Kind::copy;
      copy(b, root);
    } else if (n.type == "DeclareCursorStmt") {
      st_.kind = Kind::declare;
      any_statement(field(b, "query"), root);
    } else if (n.type == "FetchStmt") {
      st_.kind = Kind::fetch;
    } else if (n.type == "ClosePortalStmt") {
      st_.kind = Kind::close;
    } else if (n.type == "DiscardStmt") {
      st_.kind = Kind::discard;
    } else if (n.type == "ExplainStmt") {
      st_.kind = Kind::utility;
      any_statement(field(b, "query"), root);
    } else {
      st_.kind = Kind::utility;
    }
  }

 private:
  std::string_view text_;
  Statement& st_;
  std::uint32_t base_ = 0;  // offset of the parsed text within `text_`
  std::vector<std::uint32_t> literal_begins_;
  bool set_items_taken_ = false;
  bool guards_taken_ = false;
  int depth_ = 0;

  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& depth) : d(depth) {
      if (++d > kMaxDepth) throw std::runtime_error("statement nested too deeply");
    }
    ~DepthGuard() { --d; }
  };

  // ---- values ------------------------------------------------------------

  int slot_for(long long location, bool& negative) const {
    negative = false;
    if (location < 0) return -1;
    auto find = [&](std::uint32_t loc) {
      auto it = std::lower_bound(literal_begins_.begin(), literal_begins_.end(), loc);
      return (it != literal_begins_.end() && *it == loc) ? static_cast<int>(it - literal_begins_.begin()) : -1;
    };
    std::uint32_t loc = static_cast<std::uint32_t>(location) + base_;
    int s = find(loc);
    if (s >= 0 || loc >= text_.size() || text_[loc] != '-') return s;
    // The parser folded "- 5" after a keyword (SELECT -5): the literal starts later.
    std::size_t i = loc + 1;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r')) ++i;
    s = find(static_cast<std::uint32_t>(i));
    negative = s >= 0;
    return s;
  }

  Value value_of(const json* n) const {
    Value v;
    Node c = node(n);
    if (c.type == "A_Const") {
      if (boolean(field(*c.body, "isnull"))) {
        v.kind = Value::Kind::null;
        return v;
      }
      bool neg = false;
      int s = slot_for(integer(field(*c.body, "location")), neg);
      if (s >= 0) {
        v.kind = Value::Kind::literal;
        v.slot = s;
        v.negative = neg;
      }
      return v;
    }
    if (c.type == "ParamRef") {
      v.kind = Value::Kind::parameter;
      v.param = static_cast<int>(integer(field(*c.body, "number")));
      return v;
    }
    if (c.type == "TypeCast") return value_of(field(*c.body, "arg"));
    ColRef col;
    if (column_ref(n, col)) {
      v.kind = Value::Kind::column;
      v.column = col.column;
      v.qualifier = col.qualifier;
    }
    return v;
  }

  static bool bound(const Value& v) {
    return v.kind == Value::Kind::literal || v.kind == Value::Kind::parameter;
  }

  // ---- tables and scopes ---------------------------------------------------

  int add_table(const json& range_var, Scope& scope, bool read, bool written) {
    TableAccess t;
    std::string schema = str(field(range_var, "schemaname"));
    std::string rel = str(field(range_var, "relname"));
    t.name = schema.empty() ? rel : schema + "." + rel;
    if (const json* alias = field(range_var, "alias")) t.alias = str(field(*alias, "aliasname"));
    t.read = read;
    t.written = written;
    st_.tables.push_back(std::move(t));
    int idx = static_cast<int>(st_.tables.size()) - 1;
    const TableAccess& ta = st_.tables.back();
    if (!ta.alias.empty()) {
      scope.names.emplace_back(ta.alias, idx);
    } else {
      scope.names.emplace_back(rel, idx);
      if (!schema.empty()) scope.names.emplace_back(ta.name, idx);
    }
    scope.tables.push_back(idx);
    return idx;
  }

  int lookup(const ColRef& col, Scope& scope) const {
    if (col.qualifier.empty()) {
      if (scope.default_table >= 0) return scope.default_table;
      return scope.tables.size() == 1 ? scope.tables.front() : -1;
    }
    for (const Scope* s = &scope; s != nullptr; s = s->parent)
      for (auto it = s->names.rbegin(); it != s->names.rend(); ++it)
        if (it->first == col.qualifier) return it->second;
    return -1;
  }

  void with_clause(const json* with, Scope& scope) {
    if (with == nullptr) return;
    const json* ctes = field(*with, "ctes");
    if (ctes == nullptr) return;
    bool recursive = boolean(field(*with, "recursive"));
    for (const json& c : *ctes) {
      Node cte = node(&c);
      if (cte.type != "CommonTableExpr") continue;
      std::string name = str(field(*cte.body, "ctename"));
      if (recursive) scope.ctes.push_back(name);
      Scope inner;
      inner.parent = &scope;
      any_statement(field(*cte.body, "ctequery"), inner);
      if (!recursive) scope.ctes.push_back(name);
    }
  }

  // Dispatches a nested statement (CTE body, DECLARE/EXPLAIN query).
  void any_statement(const json* n, Scope& scope) {
    Node s = node(n);
    if (!s) return;
    DepthGuard g(depth_);
    if (s.type == "SelectStmt") select(*s.body, scope, false);
    else if (s.type == "InsertStmt") insert(*s.body, scope);
    else if (s.type == "UpdateStmt") update(*s.body, scope);
    else if (s.type == "DeleteStmt") delete_(*s.body, scope);
    else if (s.type == "MergeStmt") merge(*s.body, scope);
  }

  void from_item(const json& item, Scope& scope) {
    Node n = node(&item);
    if (!n) return;
    DepthGuard g(depth_);
    const json& b = *n.body;
    if (n.type == "RangeVar") {
      std::string rel = str(field(b, "relname"));
      if (field(b, "schemaname") == nullptr && scope.is_cte(rel)) return;
      add_table(b, scope, true, false);
    } else if (n.type == "JoinExpr") {
      if (const json* l = field(b, "larg")) from_item(*l, scope);
      if (const json* r = field(b, "rarg")) from_item(*r, scope);
      if (const json* q = field(b, "quals")) predicates(*q, scope);
    } else if (n.type == "RangeSubselect") {
      Scope inner;
      inner.parent = &scope;
      if (const json* q = field(b, "subquery")) any_statement(q, inner);
    } else {
      expressions(b, scope);  // RangeFunction, RangeTableSample, ...
    }
  }

  // ---- expressions -----------------------------------------------------------

  // Visits an expression tree: sub-selects are analyzed as their own level.
  void expressions(const json& j, Scope& scope) {
    DepthGuard g(depth_);
    if (j.is_array()) {
      for (const json& e : j) expressions(e, scope);
      return;
    }
    if (!j.is_object()) return;
    Node n = node(&j);
    if (n.type == "SubLink") {
      if (const json* t = field(*n.body, "testexpr")) expressions(*t, scope);
      Scope inner;
      inner.parent = &scope;
      any_statement(field(*n.body, "subselect"), inner);
      return;
    }
    if (n.type == "SelectStmt") {
      Scope inner;
      inner.parent = &scope;
      select(*n.body, inner, false);
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it->is_structured()) expressions(*it, scope);
  }

  // Tables whose columns an expression mentions (not looking into sub-selects).
  void mentioned_tables(const json& j, Scope& scope, std::vector<int>& out) {
    DepthGuard g(depth_);
    if (j.is_array()) {
      for (const json& e : j) mentioned_tables(e, scope, out);
      return;
    }
    if (!j.is_object()) return;
    Node n = node(&j);
    if (n.type == "SubLink") return;
    if (n.type == "ColumnRef") {
      ColRef c;
      if (column_ref(&j, c)) {
        int t = lookup(c, scope);
        if (t >= 0) out.push_back(t);
      }
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it->is_structured()) mentioned_tables(*it, scope, out);
  }

  void residual(const json& conjunct, Scope& scope) {
    std::vector<int> ts;
    mentioned_tables(conjunct, scope, ts);
    if (ts.empty()) ts = scope.tables;
    for (int t : ts) st_.tables[static_cast<std::size_t>(t)].has_residual = true;
  }

  void flatten_and(const json& e, std::vector<const json*>& out) {
    DepthGuard g(depth_);
    Node n = node(&e);
    if (n.type == "BoolExpr" && str(field(*n.body, "boolop")) == "AND_EXPR") {
      if (const json* args = field(*n.body, "args"))
        for (const json& a : *args) flatten_and(a, out);
      return;
    }
    out.push_back(&e);
  }

  void add_key(int table, const std::string& column, KeyPredicate::Op op, std::vector<Value> values) {
    KeyPredicate k;
    k.column = column;
    k.op = op;
    k.values = std::move(values);
    st_.tables[static_cast<std::size_t>(table)].keys.push_back(std::move(k));
  }

  void add_comparison(int table, const std::string& column, const std::string& op, const Value& v) {
    st_.tables[static_cast<std::size_t>(table)].comparisons.push_back({column, op, v});
  }

  // Row comparison (a, b) = (v1, v2) or (a, b) IN ((..), (..)): true when handled.
  bool row_keys(const json* lhs, const std::vector<const json*>& rows, Scope& scope) {
    Node l = node(lhs);
    if (l.type != "RowExpr") return false;
    const json* cols = field(*l.body, "args");
    if (cols == nullptr || cols->empty()) return false;
    std::vector<std::pair<int, std::string>> targets;
    for (const json& c : *cols) {
      ColRef cr;
      if (!column_ref(&c, cr)) return false;
      int t = lookup(cr, scope);
      if (t < 0) return false;
      targets.emplace_back(t, cr.column);
    }
    std::vector<std::vector<Value>> per_column(targets.size());
    for (const json* r : rows) {
      Node rn = node(r);
      if (rn.type != "RowExpr") return false;
      const json* vals = field(*rn.body, "args");
      if (vals == nullptr || vals->size() != targets.size()) return false;
      for (std::size_t i = 0; i < targets.size(); ++i) {
        Value v = value_of(&(*vals)[i]);
        if (!bound(v)) return false;
        per_column[i].push_back(v);
      }
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      add_key(targets[i].first, targets[i].second, KeyPredicate::Op::row, per_column[i]);
      if (rows.size() == 1) add_comparison(targets[i].first, targets[i].second, "=", per_column[i].front());
    }
    return true;
  }

  // One conjunct: a key, a comparison, or residual. Returns nothing; records.
  void conjunct(const json& c, Scope& scope) {
    Node n = node(&c);
    const json* b = n.body;
    if (n.type == "A_Expr") {
      std::string kind = str(field(*b, "kind"));
      std::string op = last_name(field(*b, "name"));
      const json* lhs = field(*b, "lexpr");
      const json* rhs = field(*b, "rexpr");
      ColRef col;
      if (kind == "AEXPR_OP" && op == "=" && node(rhs).type == "RowExpr" && row_keys(lhs, {rhs}, scope)) return;
      if (kind == "AEXPR_IN" && op == "=" && rhs != nullptr && rhs->is_object() && node(rhs).type == "List") {
        const json* items = field(*node(rhs).body, "items");
        if (items != nullptr) {
          std::vector<const json*> rows;
          for (const json& i : *items) rows.push_back(&i);
          if (node(lhs).type == "RowExpr" && row_keys(lhs, rows, scope)) return;
          if (column_ref(lhs, col)) {
            int t = lookup(col, scope);
            std::vector<Value> values;
            bool all_bound = true;
            for (const json* r : rows) {
              values.push_back(value_of(r));
              all_bound = all_bound && bound(values.back());
            }
            if (t >= 0 && all_bound) {
              add_key(t, col.column, KeyPredicate::Op::in, std::move(values));
              return;
            }
          }
        }
      }
      if (kind == "AEXPR_OP_ANY" && op == "=" && column_ref(lhs, col)) {
        int t = lookup(col, scope);
        std::vector<Value> values;
        Node arr = node(rhs);
        if (arr.type == "A_ArrayExpr") {
          if (const json* els = field(*arr.body, "elements"))
            for (const json& e : *els) values.push_back(value_of(&e));
        } else {
          values.push_back(value_of(rhs));
        }
        bool all_bound = !values.empty() &&
                         std::all_of(values.begin(), values.end(), [](const Value& v) { return bound(v); });
        if (t >= 0 && all_bound) {
          add_key(t, col.column, KeyPredicate::Op::any, std::move(values));
          return;
        }
      }
      if (kind == "AEXPR_OP" || kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE" || kind == "AEXPR_DISTINCT" ||
          kind == "AEXPR_NOT_DISTINCT") {
        std::string shown = kind == "AEXPR_LIKE"           ? (op == "~~" ? "LIKE" : "NOT LIKE")
                            : kind == "AEXPR_ILIKE"        ? (op == "~~*" ? "ILIKE" : "NOT ILIKE")
                            : kind == "AEXPR_DISTINCT"     ? "IS DISTINCT FROM"
                            : kind == "AEXPR_NOT_DISTINCT" ? "IS NOT DISTINCT FROM"
                                                           : op;
        ColRef lc, rc;
        bool lcol = column_ref(lhs, lc), rcol = column_ref(rhs, rc);
        if (lcol && rcol) {
          int lt = lookup(lc, scope), rt = lookup(rc, scope);
          if (lt >= 0) add_comparison(lt, lc.column, shown, value_of(rhs));
          if (rt >= 0 && rt != lt) add_comparison(rt, rc.column, flip(shown), value_of(lhs));
          if (shown == "=" && (lt >= 0 || rt >= 0)) return;  // a join condition
          residual(c, scope);
          return;
        }
        if (lcol || rcol) {
          const ColRef& cr = lcol ? lc : rc;
          Value v = value_of(lcol ? rhs : lhs);
          std::string o = lcol ? shown : flip(shown);
          int t = lookup(cr, scope);
          if (t >= 0 && (bound(v) || v.kind == Value::Kind::null)) {
            add_comparison(t, cr.column, o, v);
            if (o == "=" && bound(v)) {
              add_key(t, cr.column, KeyPredicate::Op::eq, {v});
              return;
            }
          }
        }
      }
      residual(c, scope);
      expressions(c, scope);
      return;
    }
    if (n.type == "NullTest" || n.type == "BooleanTest") {
      ColRef cr;
      if (column_ref(field(*b, "arg"), cr)) {
        int t = lookup(cr, scope);
        std::string type = str(field(*b, n.type == "NullTest" ? "nulltesttype" : "booltesttype"));
        std::string op = type;  // IS_NULL -> "IS NULL", IS_NOT_TRUE -> "IS NOT TRUE"
        std::replace(op.begin(), op.end(), '_', ' ');
        Value v;
        if (n.type == "NullTest") v.kind = Value::Kind::null;
        if (t >= 0) add_comparison(t, cr.column, op, v);
      }
      residual(c, scope);
      expressions(c, scope);
      return;
    }
    ColRef cr;
    if (column_ref(&c, cr)) {  // WHERE active
      int t = lookup(cr, scope);
      if (t >= 0) add_comparison(t, cr.column, "IS TRUE", Value{});
      residual(c, scope);
      return;
    }
    if (n.type == "BoolExpr" && str(field(*b, "boolop")) == "NOT_EXPR") {
      const json* args = field(*b, "args");
      if (args != nullptr && args->size() == 1 && column_ref(&(*args)[0], cr)) {  // WHERE NOT used
        int t = lookup(cr, scope);
        if (t >= 0) add_comparison(t, cr.column, "IS FALSE", Value{});
        residual(c, scope);
        return;
      }
    }
    residual(c, scope);
    expressions(c, scope);
  }

  void predicates(const json& where, Scope& scope) {
    std::vector<const json*> cs;
    flatten_and(where, cs);
    for (const json* c : cs) conjunct(*c, scope);
  }

  // ---- statements --------------------------------------------------------------

  void select(const json& s, Scope& scope, bool top) {
    DepthGuard g(depth_);
    std::string op = str(field(s, "op"));
    if (!op.empty() && op != "SETOP_NONE") {
      with_clause(field(s, "withClause"), scope);
      for (const char* side : {"larg", "rarg"}) {
        if (const json* arm = field(s, side)) {
          Scope inner;
          inner.parent = &scope;
          select(*arm, inner, false);
        }
      }
      if (top) st_.has_limit = limit_present(s);
      return;
    }
    with_clause(field(s, "withClause"), scope);
    scope.from_begin = static_cast<int>(st_.tables.size());
    if (const json* from = field(s, "fromClause"))
      for (const json& item : *from) from_item(item, scope);
    scope.from_end = static_cast<int>(st_.tables.size());
    if (const json* values = field(s, "valuesLists")) expressions(*values, scope);
    if (const json* targets = field(s, "targetList")) expressions(*targets, scope);
    if (const json* where = field(s, "whereClause")) predicates(*where, scope);
    for (const char* k : {"groupClause", "havingClause", "sortClause", "distinctClause", "windowClause"})
      if (const json* e = field(s, k)) expressions(*e, scope);
    if (const json* locking = field(s, "lockingClause")) lock_clause(*locking, scope);
    if (top) {
      st_.has_limit = limit_present(s);
      classify_select_list(s);
    }
  }

  static bool limit_present(const json& s) {
    const json* limit = field(s, "limitCount");
    if (limit == nullptr) return false;
    Node n = node(limit);
    return !(n.type == "A_Const" && boolean(field(*n.body, "isnull")));  // LIMIT ALL
  }

  bool aggregate_call(const json& j) {
    DepthGuard g(depth_);
    if (j.is_array()) {
      for (const json& e : j)
        if (aggregate_call(e)) return true;
      return false;
    }
    if (!j.is_object()) return false;
    Node n = node(&j);
    if (n.type == "SubLink") return false;
    if (n.type == "FuncCall" && field(*n.body, "over") == nullptr &&
        (boolean(field(*n.body, "agg_star")) || is_aggregate_function(last_name(field(*n.body, "funcname")))))
      return true;
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it->is_structured() && aggregate_call(*it)) return true;
    return false;
  }

  void classify_select_list(const json& s) {
    const json* targets = field(s, "targetList");
    if (targets == nullptr || targets->empty()) return;
    std::vector<const json*> vals;
    for (const json& t : *targets) {
      Node rt = node(&t);
      if (rt.type == "ResTarget") vals.push_back(field(*rt.body, "val"));
    }
    bool exists_sublink = vals.size() == 1 && node(vals[0]).type == "SubLink" &&
                          str(field(*node(vals[0]).body, "subLinkType")) == "EXISTS_SUBLINK";
    bool constants_only = !vals.empty() && std::all_of(vals.begin(), vals.end(), [](const json* v) {
      Node n = node(v);
      return n.type == "A_Const";
    });
    // SELECT EXISTS(...), or Rails/Django's `SELECT 1 AS one FROM t WHERE ... LIMIT 1`.
    if (exists_sublink || (constants_only && field(s, "fromClause") != nullptr && limit_present(s))) {
      st_.exists_check = true;
      st_.aggregate = true;
      return;
    }
    st_.aggregate = aggregate_call(*targets);
  }

  void lock_clause(const json& clauses, Scope& scope) {
    for (const json& c : clauses) {
      Node lc = node(&c);
      if (lc.type != "LockingClause") continue;
      RowLock strength = row_lock(str(field(*lc.body, "strength")));
      std::string wait = str(field(*lc.body, "waitPolicy"));
      std::vector<int> targets;
      const json* rels = field(*lc.body, "lockedRels");
      if (rels == nullptr || rels->empty()) {
        for (int i = scope.from_begin; i < scope.from_end; ++i) targets.push_back(i);
      } else {
        for (const json& r : *rels) {
          Node rv = node(&r);
          if (rv.type != "RangeVar") continue;
          ColRef name;
          std::string schema = str(field(*rv.body, "schemaname"));
          name.qualifier = schema.empty() ? str(field(*rv.body, "relname"))
                                          : schema + "." + str(field(*rv.body, "relname"));
          for (const auto& [alias, idx] : scope.names)
            if (alias == name.qualifier) targets.push_back(idx);
        }
      }
      for (int i : targets) {
        TableAccess& t = st_.tables[static_cast<std::size_t>(i)];
        if (strength > t.lock) t.lock = strength;
        t.nowait = t.nowait || wait == "LockWaitError";
        t.skip_locked = t.skip_locked || wait == "LockWaitSkip";
      }
    }
  }

  void returning(const json& b, Scope& scope) {
    if (const json* r = field(b, "returningList")) {
      if (!r->empty() && scope.parent == nullptr) st_.returning = true;
      expressions(*r, scope);
    }
  }

  SetItem set_item(const std::string& column, const json* val) {
    SetItem item;
    item.column = column;
    Value v = value_of(val);
    if (bound(v) || v.kind == Value::Kind::null) {
      item.kind = SetItem::Kind::absolute;
      item.value = v;
      return item;
    }
    Node n = node(val);
    if (n.type == "A_Expr" && str(field(*n.body, "kind")) == "AEXPR_OP") {
      std::string op = last_name(field(*n.body, "name"));
      const json* lhs = field(*n.body, "lexpr");
      const json* rhs = field(*n.body, "rexpr");
      ColRef lc, rc;
      bool self_left = column_ref(lhs, lc) && lc.column == column;
      bool self_right = (op == "+" || op == "*") && column_ref(rhs, rc) && rc.column == column;
      if (op.size() == 1 && std::strchr("+-*/", op[0]) != nullptr && (self_left || self_right)) {
        item.kind = SetItem::Kind::relative;
        item.op = op[0];
        item.value = value_of(self_left ? rhs : lhs);
        return item;
      }
    }
    item.value = v;  // a column (SET a = b, EXCLUDED.a) or other expression
    return item;
  }

  void set_list(const json& targets, Scope& scope, bool take) {
    std::vector<SetItem> items;
    for (const json& t : targets) {
      Node rt = node(&t);
      if (rt.type != "ResTarget") continue;
      std::string name = str(field(*rt.body, "name"));
      const json* val = field(*rt.body, "val");
      Node v = node(val);
      if (v.type == "MultiAssignRef") {
        const json* source = field(*v.body, "source");
        long long colno = integer(field(*v.body, "colno"));
        Node src = node(source);
        const json* args = src.type == "RowExpr" ? field(*src.body, "args") : nullptr;
        if (args != nullptr && colno >= 1 && static_cast<std::size_t>(colno) <= args->size()) {
          items.push_back(set_item(name, &(*args)[static_cast<std::size_t>(colno - 1)]));
        } else {
          SetItem other;
          other.column = name;
          items.push_back(other);
        }
        if (colno == 1 && source != nullptr) expressions(*source, scope);
        continue;
      }
      if (field(*rt.body, "indirection") != nullptr) {  // SET a[1] = .., SET c.f = ..
        SetItem other;
        other.column = name;
        items.push_back(other);
      } else {
        items.push_back(set_item(name, val));
      }
      if (val != nullptr) expressions(*val, scope);
    }
    if (take && !set_items_taken_) {
      st_.set_items = std::move(items);
      set_items_taken_ = true;
    }
  }

  void collect_guards(int target, bool from_update) {
    if (guards_taken_) return;
    guards_taken_ = true;
    const TableAccess& t = st_.tables[static_cast<std::size_t>(target)];
    for (const Comparison& c : t.comparisons) {
      bool assigned = from_update && std::any_of(st_.set_items.begin(), st_.set_items.end(),
                                                  [&](const SetItem& s) { return s.column == c.column; });
      if (assigned || is_guard_column(c.column)) st_.guards.push_back(c);
    }
  }

  void update(const json& b, Scope& scope) {
    with_clause(field(b, "withClause"), scope);
    const json* rel = field(b, "relation");
    if (rel == nullptr) return;
    int target = add_table(*rel, scope, false, true);
    scope.default_table = target;
    if (const json* from = field(b, "fromClause"))
      for (const json& item : *from) from_item(item, scope);
    if (const json* targets = field(b, "targetList")) set_list(*targets, scope, true);
    if (const json* where = field(b, "whereClause")) predicates(*where, scope);
    collect_guards(target, true);
    returning(b, scope);
  }

  void delete_(const json& b, Scope& scope) {
    with_clause(field(b, "withClause"), scope);
    const json* rel = field(b, "relation");
    if (rel == nullptr) return;
    int target = add_table(*rel, scope, false, true);
    scope.default_table = target;
    if (const json* using_ = field(b, "usingClause"))
      for (const json& item : *using_) from_item(item, scope);
    if (const json* where = field(b, "whereClause")) predicates(*where, scope);
    collect_guards(target, false);
    returning(b, scope);
  }

  static bool not_exists(const json& where) {
    std::vector<const json*> cs;
    std::vector<const json*> stack{&where};
    while (!stack.empty()) {
      const json* e = stack.back();
      stack.pop_back();
      Node n = node(e);
      if (n.type != "BoolExpr") continue;
      std::string op = str(field(*n.body, "boolop"));
      const json* args = field(*n.body, "args");
      if (args == nullptr) continue;
      if (op == "AND_EXPR") {
        for (const json& a : *args) stack.push_back(&a);
      } else if (op == "NOT_EXPR" && args->size() == 1) {
        Node sub = node(&(*args)[0]);
        if (sub.type == "SubLink" && str(field(*sub.body, "subLinkType")) == "EXISTS_SUBLINK") return true;
      }
    }
    return false;
  }

  void insert(const json& b, Scope& scope) {
    with_clause(field(b, "withClause"), scope);
    const json* rel = field(b, "relation");
    if (rel == nullptr) return;
    int target = add_table(*rel, scope, false, true);
    InsertInfo info;
    info.table = st_.tables[static_cast<std::size_t>(target)].name;
    if (const json* cols = field(b, "cols"))
      for (const json& c : *cols) {
        Node rt = node(&c);
        if (rt.type == "ResTarget") info.columns.push_back(str(field(*rt.body, "name")));
      }
    Node sel = node(field(b, "selectStmt"));
    if (sel.type == "SelectStmt") {
      const json& s = *sel.body;
      if (const json* rows = field(s, "valuesLists")) {
        for (const json& row : *rows) {
          Node list = node(&row);
          const json* items = list.type == "List" ? field(*list.body, "items") : nullptr;
          std::vector<Value> values;
          if (items != nullptr)
            for (const json& i : *items) values.push_back(value_of(&i));
          info.rows.push_back(std::move(values));
        }
        expressions(*rows, scope);
      } else {
        info.from_select = true;
        if (const json* where = field(s, "whereClause")) info.where_not_exists = not_exists(*where);
        // INSERT ... SELECT $1, $2 [WHERE NOT EXISTS ...]: the selected values are the row.
        const json* targets = field(s, "targetList");
        if (targets != nullptr && field(s, "fromClause") == nullptr) {
          std::vector<Value> values;
          for (const json& t : *targets) {
            Node rt = node(&t);
            if (rt.type == "ResTarget") values.push_back(value_of(field(*rt.body, "val")));
          }
          info.rows.push_back(std::move(values));
        }
        Scope inner;
        inner.parent = &scope;
        select(s, inner, false);
      }
    }
    Scope conflict_scope;
    conflict_scope.parent = &scope;
    conflict_scope.default_table = target;
    conflict_scope.tables.push_back(target);
    if (const json* oc = field(b, "onConflictClause")) {
      info.on_conflict = true;
      std::string action = str(field(*oc, "action"));
      info.conflict_action = action == "ONCONFLICT_UPDATE"    ? InsertInfo::ConflictAction::update
                             : action == "ONCONFLICT_NOTHING" ? InsertInfo::ConflictAction::nothing
                                                              : InsertInfo::ConflictAction::none;
      if (const json* infer = field(*oc, "infer")) {
        if (const json* elems = field(*infer, "indexElems"))
          for (const json& e : *elems) {
            Node ie = node(&e);
            if (ie.type != "IndexElem") continue;
            std::string name = str(field(*ie.body, "name"));
            info.conflict_target.push_back(name.empty() ? std::string("(expression)") : name);
          }
        info.conflict_constraint = str(field(*infer, "conname"));
      }
      if (const json* targets = field(*oc, "targetList")) set_list(*targets, conflict_scope, true);
      if (const json* where = field(*oc, "whereClause")) expressions(*where, conflict_scope);
    }
    if (!st_.insert) st_.insert = std::move(info);
    returning(b, scope);
  }

  void merge(const json& b, Scope& scope) {
    with_clause(field(b, "withClause"), scope);
    const json* rel = field(b, "relation");
    if (rel == nullptr) return;
    int target = add_table(*rel, scope, true, true);
    if (const json* src = field(b, "sourceRelation")) from_item(*src, scope);
    scope.default_table = target;
    if (const json* on = field(b, "joinCondition")) predicates(*on, scope);
    if (const json* whens = field(b, "mergeWhenClauses")) expressions(*whens, scope);
  }

  void copy(const json& b, Scope& scope) {
    if (const json* rel = field(b, "relation")) {
      bool from = boolean(field(b, "is_from"));
      add_table(*rel, scope, !from, from);
    }
    any_statement(field(b, "query"), scope);
  }

  void lock(const json& b) {
    st_.kind = Kind::lock;
    st_.lock_table_mode = lock_mode_name(integer(field(b, "mode")));
    Scope scope;
    if (const json* rels = field(b, "relations"))
      for (const json& r : *rels) {
        Node rv = node(&r);
        if (rv.type == "RangeVar") add_table(*rv.body, scope, false, false);
      }
  }

  // BEGIN/START/SET TRANSACTION options (transaction_isolation, transaction_read_only).
  void transaction_options(const json* options) {
    if (options == nullptr) return;
    for (const json& o : *options) {
      Node d = node(&o);
      if (d.type != "DefElem") continue;
      std::string name = str(field(*d.body, "defname"));
      Node arg = node(field(*d.body, "arg"));
      if (arg.type != "A_Const") continue;
      if (name == "transaction_isolation") {
        if (const json* sv = field(*arg.body, "sval")) st_.isolation = isolation_of(str(field(*sv, "sval")));
      } else if (name == "transaction_read_only") {
        const json* iv = field(*arg.body, "ival");
        st_.read_only = iv != nullptr && integer(field(*iv, "ival")) != 0;
      }
    }
  }

  void transaction(const json& b) {
    std::string kind = str(field(b, "kind"));
    if (kind == "TRANS_STMT_BEGIN" || kind == "TRANS_STMT_START") st_.kind = Kind::begin;
    else if (kind == "TRANS_STMT_COMMIT") st_.kind = Kind::commit;
    else if (kind == "TRANS_STMT_ROLLBACK") st_.kind = Kind::rollback;
    else if (kind == "TRANS_STMT_SAVEPOINT") st_.kind = Kind::savepoint;
    else if (kind == "TRANS_STMT_RELEASE") st_.kind = Kind::release;
    else if (kind == "TRANS_STMT_ROLLBACK_TO") st_.kind = Kind::rollback_to_savepoint;
    else if (kind == "TRANS_STMT_PREPARE") st_.kind = Kind::prepare_transaction;
    else if (kind == "TRANS_STMT_COMMIT_PREPARED") st_.kind = Kind::commit_prepared;
    else if (kind == "TRANS_STMT_ROLLBACK_PREPARED") st_.kind = Kind::rollback_prepared;
    else st_.kind = Kind::utility;
    st_.savepoint_name = str(field(b, "savepoint_name"));
    st_.transaction_gid = str(field(b, "gid"));
    transaction_options(field(b, "options"));
  }

  void variable_set(const json& b) {
    std::string kind = str(field(b, "kind"));
    std::string name = str(field(b, "name"));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    st_.setting = kind == "VAR_RESET_ALL" ? std::string("all") : name;
    st_.setting_local = boolean(field(b, "is_local"));
    const json* args = field(b, "args");
    if (kind == "VAR_SET_MULTI") {
      transaction_options(args);
      if (name == "session characteristics") st_.sets_session_default_isolation = true;
      return;
    }
    if (kind != "VAR_SET_VALUE" || args == nullptr || args->empty()) return;
    st_.setting_value = value_of(&(*args)[0]);
    Node arg = node(&(*args)[0]);
    std::string sval;
    if (arg.type == "A_Const") {
      if (const json* sv = field(*arg.body, "sval")) sval = str(field(*sv, "sval"));
    }
    std::string lowered = sval;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "transaction_isolation" || name == "default_transaction_isolation") {
      st_.isolation = isolation_of(sval);
      st_.sets_session_default_isolation = name == "default_transaction_isolation";
    } else if (name == "transaction_read_only" || name == "default_transaction_read_only") {
      bool on = lowered == "on" || lowered == "true" || lowered == "1" || lowered == "yes";
      if (arg.type == "A_Const") {
        if (const json* bv = field(*arg.body, "boolval")) on = boolean(field(*bv, "boolval"));
        if (const json* iv = field(*arg.body, "ival")) on = integer(field(*iv, "ival")) != 0;
      }
      st_.read_only = on;
      st_.sets_session_default_isolation = st_.sets_session_default_isolation ||
                                           name == "default_transaction_read_only";
    }
  }

  // Advisory lock calls anywhere in the statement.
  void scan_functions(const json& j, int depth) {
    if (depth > kMaxDepth) throw std::runtime_error("statement nested too deeply");
    if (j.is_array()) {
      for (const json& e : j) scan_functions(e, depth + 1);
      return;
    }
    if (!j.is_object()) return;
    Node n = node(&j);
    if (n.type == "FuncCall") {
      std::string name = last_name(field(*n.body, "funcname"));
      if (name.rfind("pg_", 0) == 0 && name.find("advisory") != std::string::npos) {
        AdvisoryLock lock;
        lock.function = name;
        lock.transaction_scoped = name.find("xact") != std::string::npos;
        if (const json* args = field(*n.body, "args"))
          for (const json& a : *args) lock.keys.push_back(value_of(&a));
        st_.advisory_locks.push_back(std::move(lock));
      }
    }
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it->is_structured()) scan_functions(*it, depth + 1);
  }
};

}  // namespace

void build_statements(std::string_view text, const lex::Lexed& lexed, std::uint32_t base,
                      std::uint32_t parsed_length, const std::string& json_text, std::vector<Statement>& out,
                      std::vector<std::pair<std::uint32_t, std::uint32_t>>& stmt_ranges) {
  jt::Document doc(json_text);
  const json& tree = doc.root();
  const json* stmts = field(tree, "stmts");
  if (stmts == nullptr) return;
  for (const json& raw : *stmts) {
    Statement st;
    std::uint32_t loc = base + static_cast<std::uint32_t>(integer(field(raw, "stmt_location")));
    std::uint32_t len = static_cast<std::uint32_t>(integer(field(raw, "stmt_len")));
    std::uint32_t end = len == 0 ? base + parsed_length : loc + len;
    stmt_ranges.emplace_back(loc, end);
    if (const json* s = field(raw, "stmt")) {
      Builder b(text, lexed, base, st);
      b.statement(*s);
    }
    out.push_back(std::move(st));
  }
}

}  // namespace pgsift::sql
