#include "cli/schema/schema_loader.h"

#include <fstream>
#include <sstream>

#include "analyzers/sql/schema_ddl.h"
#include "cli/live/pg_connection.h"

namespace pgsift::cli::schema {

namespace {

// Unique and exclusion indexes over plain columns (no expressions, not
// partial): the column sets a duplicate insert would collide on.
constexpr const char* kUniqueKeys = R"SQL(
SELECT n.nspname AS schema_name, c.relname AS table_name,
       array_to_string(ARRAY(
         SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         ORDER BY k.ord), ',') AS columns
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE (i.indisunique OR i.indisexclusion) AND i.indpred IS NULL
  AND NOT (0 = ANY (i.indkey::int2[]))
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
)SQL";

constexpr const char* kChecks = R"SQL(
SELECT n.nspname AS schema_name, c.relname AS table_name, pg_catalog.pg_get_constraintdef(co.oid) AS definition
FROM pg_catalog.pg_constraint co
JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE co.contype = 'c' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
)SQL";

constexpr const char* kForeignKeys = R"SQL(
SELECT n.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name,
       pn.nspname AS parent_schema, pc.relname AS parent_table
FROM pg_catalog.pg_constraint co
JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = co.conkey[1]
JOIN pg_catalog.pg_class pc ON pc.oid = co.confrelid
JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
WHERE co.contype = 'f' AND array_length(co.conkey, 1) = 1
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
)SQL";

// Lock-wait lines name relations by OID ("relation 16384 of database 5").
constexpr const char* kRelations = R"SQL(
SELECT c.oid::int8 AS oid, n.nspname AS schema_name, c.relname AS table_name
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
)SQL";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// "CHECK ((balance >= 0))" -> "(balance >= 0)"
std::string check_expression(const std::string& definition) {
  const std::string prefix = "CHECK (";
  if (definition.rfind(prefix, 0) != 0) return definition;
  const auto end = definition.rfind(')');
  if (end == std::string::npos || end < prefix.size()) return definition;
  return definition.substr(prefix.size(), end - prefix.size());
}

std::string display_name(const std::string& schema_name, const std::string& table) {
  return schema_name == "public" ? table : schema_name + "." + table;
}

}  // namespace

std::string load_schema_files(const std::vector<std::string>& paths, core::Schema& out, std::ostream& err) {
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open schema file '" + path + "'";
    std::ostringstream text;
    text << in.rdbuf();
    const sql::SchemaDdlStats stats = sql::extract_schema(text.str(), out);
    if (stats.unparsable > 0) {
      err << "pgsift: warning: " << path << ": skipped " << stats.unparsable
          << " statement(s) the parser rejected (first at line " << stats.first_unparsable_line << ")\n";
    }
    if (stats.tables == 0 && stats.constraints == 0) {
      err << "pgsift: warning: " << path << ": no tables or constraints found\n";
    }
  }
  return "";
}

std::string load_schema_from_database(const std::string& conninfo, core::Schema& out) {
  live::SessionSettings settings;
  settings.statement_timeout = "30s";
  std::string error;
  auto connection = live::Connection::open(conninfo, settings, error);
  if (!connection) return "--schema-from: " + error;
  try {
    const live::Result keys = connection->query(kUniqueKeys);
    for (int row = 0; row < keys.rows(); ++row) {
      sql::add_unique_key(out, keys.text(row, "schema_name"), keys.text(row, "table_name"),
                          split_commas(keys.text(row, "columns")));
    }
    const live::Result checks = connection->query(kChecks);
    for (int row = 0; row < checks.rows(); ++row) {
      sql::add_check(out, checks.text(row, "schema_name"), checks.text(row, "table_name"),
                     check_expression(checks.text(row, "definition")));
    }
    const live::Result fks = connection->query(kForeignKeys);
    for (int row = 0; row < fks.rows(); ++row) {
      const std::string child = fks.text(row, "table_name") + "." + fks.text(row, "column_name");
      out.foreign_keys[child] = fks.text(row, "parent_table");
      out.foreign_keys[fks.text(row, "schema_name") + "." + child] =
          fks.text(row, "parent_schema") + "." + fks.text(row, "parent_table");
    }
    const live::Result relations = connection->query(kRelations);
    for (int row = 0; row < relations.rows(); ++row) {
      const auto oid = relations.integer(row, "oid");
      if (oid) {
        out.relation_names[static_cast<std::uint64_t>(*oid)] =
            display_name(relations.text(row, "schema_name"), relations.text(row, "table_name"));
      }
    }
  } catch (const live::QueryError& e) {
    return std::string("--schema-from: catalog query failed: ") + e.what();
  }
  out.known = true;
  return "";
}

}  // namespace pgsift::cli::schema
