#include "cli/schema/schema_loader.h"

#include <fstream>
#include <sstream>

#include "analyzers/sql/schema_ddl.h"
#include <libpq-fe.h>

#include <memory>

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

namespace {

struct ConnectionCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using QueryResult = std::unique_ptr<PGresult, ResultClearer>;

// libpq messages end with a newline and may span lines; reports want one line.
std::string one_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Runs one catalog query; "" or the error.
std::string run(PGconn* conn, const char* sql, QueryResult& out) {
  out.reset(PQexec(conn, sql));
  if (PQresultStatus(out.get()) != PGRES_TUPLES_OK) return one_line(PQresultErrorMessage(out.get()));
  return "";
}

std::string cell(const QueryResult& r, int row, const char* column) {
  const int col = PQfnumber(r.get(), column);
  return col < 0 || PQgetisnull(r.get(), row, col) ? "" : PQgetvalue(r.get(), row, col);
}

}  // namespace

std::string load_schema_from_database(const std::string& conninfo, core::Schema& out) {
  // The user's conninfo first, then our settings, which win (expand_dbname):
  // a labelled, read-only session that cannot wait long on anything.
  const char* keywords[] = {"dbname", "application_name", "options", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), "pgsift",
                          "-c default_transaction_read_only=on -c statement_timeout=30s -c lock_timeout=1s", "10",
                          nullptr};
  Connection conn(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    // Never echo the conninfo: it may hold a password. libpq's reason does not.
    return "--schema-from: cannot connect: " + one_line(conn ? PQerrorMessage(conn.get()) : "out of memory");
  }
  QueryResult r;
  std::string error = run(conn.get(), kUniqueKeys, r);
  for (int row = 0; error.empty() && row < PQntuples(r.get()); ++row) {
    sql::add_unique_key(out, cell(r, row, "schema_name"), cell(r, row, "table_name"),
                        split_commas(cell(r, row, "columns")));
  }
  if (error.empty()) error = run(conn.get(), kChecks, r);
  for (int row = 0; error.empty() && row < PQntuples(r.get()); ++row) {
    sql::add_check(out, cell(r, row, "schema_name"), cell(r, row, "table_name"),
                   check_expression(cell(r, row, "definition")));
  }
  if (error.empty()) error = run(conn.get(), kForeignKeys, r);
  for (int row = 0; error.empty() && row < PQntuples(r.get()); ++row) {
    const std::string child = cell(r, row, "table_name") + "." + cell(r, row, "column_name");
    out.foreign_keys[child] = cell(r, row, "parent_table");
    out.foreign_keys[cell(r, row, "schema_name") + "." + child] =
        cell(r, row, "parent_schema") + "." + cell(r, row, "parent_table");
  }
  if (error.empty()) error = run(conn.get(), kRelations, r);
  for (int row = 0; error.empty() && row < PQntuples(r.get()); ++row) {
    const std::string oid = cell(r, row, "oid");
    if (!oid.empty()) {
      out.relation_names[std::stoull(oid)] = display_name(cell(r, row, "schema_name"), cell(r, row, "table_name"));
    }
  }
  if (!error.empty()) return "--schema-from: catalog query failed: " + error;
  out.known = true;
  return "";
}

}  // namespace pgsift::cli::schema
