#include "analyzers/sql/schema_ddl.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzers/sql/pg_query_adapter.h"

namespace pgsift::sql {

namespace {

using nlohmann::json;

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A String node: {"String":{"sval":"x"}} (PG 15) or {"String":{"str":"x"}} (older).
std::string string_of(const json& node) {
  if (!node.is_object() || !node.contains("String")) return "";
  const json& s = node["String"];
  if (s.contains("sval")) return s["sval"].get<std::string>();
  if (s.contains("str")) return s["str"].get<std::string>();
  return "";
}

std::vector<std::string> strings_of(const json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& item : list) out.push_back(lowercase(string_of(item)));
  return out;
}

struct Relation {
  std::string schema;
  std::string name;
};

Relation relation_of(const json& range_var) {
  return {lowercase(range_var.value("schemaname", "")), lowercase(range_var.value("relname", ""))};
}

std::string qualified(const Relation& r) { return (r.schema.empty() ? "public" : r.schema) + "." + r.name; }

// The parenthesized expression after CHECK at `location` in `text`.
std::string check_text(std::string_view text, int location) {
  if (location < 0 || static_cast<std::size_t>(location) >= text.size()) return "";
  std::size_t open = text.find('(', static_cast<std::size_t>(location));
  if (open == std::string_view::npos) return "";
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) return std::string(text.substr(open + 1, i - open - 1));
  }
  return "";
}

class Extractor {
 public:
  Extractor(core::Schema& schema, SchemaDdlStats& stats) : schema_(schema), stats_(stats) {}

  void statement(const json& stmt, std::string_view text) {
    if (stmt.contains("CreateStmt")) create_table(stmt["CreateStmt"], text);
    else if (stmt.contains("IndexStmt")) create_index(stmt["IndexStmt"]);
    else if (stmt.contains("AlterTableStmt")) alter_table(stmt["AlterTableStmt"], text);
  }

 private:
  void create_table(const json& create, std::string_view text) {
    ++stats_.tables;
    const Relation rel = relation_of(create.value("relation", json::object()));
    for (const auto& element : create.value("tableElts", json::array())) {
      if (element.contains("ColumnDef")) {
        const json& column = element["ColumnDef"];
        const std::string name = lowercase(column.value("colname", ""));
        for (const auto& c : column.value("constraints", json::array())) {
          if (c.contains("Constraint")) constraint(rel, c["Constraint"], text, name);
        }
      } else if (element.contains("Constraint")) {
        constraint(rel, element["Constraint"], text, "");
      }
    }
  }

  void create_index(const json& index) {
    // A partial unique index (WHERE ...) does not make the whole column set unique.
    if (!index.value("unique", false) || index.contains("whereClause")) return;
    std::vector<std::string> columns;
    for (const auto& param : index.value("indexParams", json::array())) {
      const json& elem = param.value("IndexElem", json::object());
      if (!elem.contains("name")) return;  // expression index: not a plain column set
      columns.push_back(lowercase(elem["name"].get<std::string>()));
    }
    const Relation rel = relation_of(index.value("relation", json::object()));
    add_unique_key(schema_, rel.schema, rel.name, std::move(columns));
    ++stats_.constraints;
  }

  void alter_table(const json& alter, std::string_view text) {
    const Relation rel = relation_of(alter.value("relation", json::object()));
    for (const auto& cmd : alter.value("cmds", json::array())) {
      const json& c = cmd.value("AlterTableCmd", json::object());
      if (c.value("subtype", "") != "AT_AddConstraint") continue;
      const json& def = c.value("def", json::object());
      if (def.contains("Constraint")) constraint(rel, def["Constraint"], text, "");
    }
  }

  void constraint(const Relation& rel, const json& c, std::string_view text, const std::string& column) {
    const std::string type = c.value("contype", "");
    if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE") {
      std::vector<std::string> keys = strings_of(c.value("keys", json::array()));
      if (keys.empty() && !column.empty()) keys.push_back(column);
      if (keys.empty()) return;
      add_unique_key(schema_, rel.schema, rel.name, std::move(keys));
    } else if (type == "CONSTR_EXCLUSION") {
      std::vector<std::string> keys;
      for (const auto& pair : c.value("exclusions", json::array())) {
        const json& items = pair.value("List", json::object()).value("items", json::array());
        if (items.empty()) continue;
        const json& elem = items[0].value("IndexElem", json::object());
        if (!elem.contains("name")) return;
        keys.push_back(lowercase(elem["name"].get<std::string>()));
      }
      if (keys.empty()) return;
      add_unique_key(schema_, rel.schema, rel.name, std::move(keys));
    } else if (type == "CONSTR_CHECK") {
      std::string expression = check_text(text, c.value("location", -1));
      if (expression.empty()) return;
      add_check(schema_, rel.schema, rel.name, std::move(expression));
    } else if (type == "CONSTR_FOREIGN") {
      std::vector<std::string> columns = strings_of(c.value("fk_attrs", json::array()));
      if (columns.empty() && !column.empty()) columns.push_back(column);
      if (columns.size() != 1) return;
      const Relation parent = relation_of(c.value("pktable", json::object()));
      schema_.foreign_keys[rel.name + "." + columns[0]] = parent.name;
      schema_.foreign_keys[qualified(rel) + "." + columns[0]] = qualified(parent);
    } else {
      return;
    }
    ++stats_.constraints;
  }

  core::Schema& schema_;
  SchemaDdlStats& stats_;
};

std::uint64_t line_at(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<long>(std::min(offset, text.size())), '\n'));
}

}  // namespace

void add_unique_key(core::Schema& schema, std::string_view schema_name, std::string_view table,
                    std::vector<std::string> columns) {
  for (auto& c : columns) c = lowercase(c);
  const std::string name = lowercase(table);
  const std::string full = (schema_name.empty() ? std::string("public") : lowercase(schema_name)) + "." + name;
  for (const std::string& key : {name, full}) {
    auto& keys = schema.unique_keys[key];
    if (std::find(keys.begin(), keys.end(), columns) == keys.end()) keys.push_back(columns);
  }
  schema.known = true;
}

void add_check(core::Schema& schema, std::string_view schema_name, std::string_view table, std::string expression) {
  const std::string name = lowercase(table);
  const std::string full = (schema_name.empty() ? std::string("public") : lowercase(schema_name)) + "." + name;
  for (const std::string& key : {name, full}) {
    auto& checks = schema.checks[key];
    if (std::find(checks.begin(), checks.end(), expression) == checks.end()) checks.push_back(expression);
  }
  schema.known = true;
}

SchemaDdlStats extract_schema(std::string_view input, core::Schema& schema) {
  SchemaDdlStats stats;
  schema.known = true;
  // psql meta-commands (\connect, \restrict in newer pg_dump output) are not
  // SQL: blank them out, keeping offsets, and count them as skipped.
  std::string text(input);
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text[start] == '\\') {
      if (stats.unparsable++ == 0) stats.first_unparsable_line = line_at(text, start);
      std::fill(text.begin() + static_cast<long>(start), text.begin() + static_cast<long>(end), ' ');
    }
    start = end + 1;
  }
  const std::string_view ddl = text;
  std::vector<pgq::StatementRange> ranges;
  std::string error;
  if (!pgq::split(ddl, ranges, error)) {
    ranges.clear();
    ranges.push_back({0, static_cast<int>(ddl.size())});
  }
  Extractor extractor(schema, stats);
  for (const auto& range : ranges) {
    if (range.location < 0 || range.length <= 0 ||
        static_cast<std::size_t>(range.location) + static_cast<std::size_t>(range.length) > ddl.size()) {
      continue;
    }
    const std::string_view text = ddl.substr(static_cast<std::size_t>(range.location),
                                             static_cast<std::size_t>(range.length));
    ++stats.statements;
    const pgq::ParseOutput parsed = pgq::parse_json(text);
    if (!parsed.ok) {
      if (stats.unparsable++ == 0) stats.first_unparsable_line = line_at(ddl, static_cast<std::size_t>(range.location));
      continue;
    }
    const json tree = json::parse(parsed.json, nullptr, false);
    if (tree.is_discarded()) continue;
    try {
      for (const auto& raw : tree.value("stmts", json::array())) {
        if (raw.contains("stmt")) extractor.statement(raw["stmt"], text);
      }
    } catch (const json::exception&) {
      // A tree of an unexpected shape (another libpg_query version): skip the statement.
      if (stats.unparsable++ == 0) stats.first_unparsable_line = line_at(ddl, static_cast<std::size_t>(range.location));
    }
  }
  return stats;
}

}  // namespace pgsift::sql
