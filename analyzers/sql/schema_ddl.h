// Schema knowledge from DDL text (a `pg_dump --schema-only` file or
// migrations): primary keys, unique constraints and indexes, exclusion
// constraints, CHECK constraints and single-column foreign keys, read with
// PostgreSQL's own parser (libpg_query, through pg_query_adapter). Used by
// `pgsift analyze --schema`. Pure; never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzers/core/analyzer.h"

namespace pgsift::sql {

struct SchemaDdlStats {
  std::uint64_t statements = 0;     // statements read
  std::uint64_t unparsable = 0;     // statements the parser rejected (skipped)
  std::uint64_t first_unparsable_line = 0;  // 1-based line of the first one
  std::uint64_t tables = 0;         // CREATE TABLE statements
  std::uint64_t constraints = 0;    // keys, checks and foreign keys recorded
};

/// Adds what `ddl` declares to `schema` (sets schema.known). Statements that
/// do not parse (psql meta-commands, other dialects) are skipped and counted.
SchemaDdlStats extract_schema(std::string_view ddl, core::Schema& schema);

/// Records one unique key of `table` ("name" or "schema.name") under both
/// spellings, lowercased, without duplicates. Shared with --schema-from.
void add_unique_key(core::Schema& schema, std::string_view schema_name, std::string_view table,
                    std::vector<std::string> columns);
void add_check(core::Schema& schema, std::string_view schema_name, std::string_view table, std::string expression);

}  // namespace pgsift::sql
