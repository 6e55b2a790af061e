// Schema knowledge for the concurrency rules, loaded once before a run:
// `--schema FILE` (DDL: pg_dump --schema-only output or migrations, parsed by
// analyzers/sql/schema_ddl) and `--schema-from CONNINFO` (read-only catalog
// queries over libpq: application_name=pgsift, read-only transactions,
// statement and lock timeouts).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "analyzers/core/analyzer.h"

namespace pgsift::cli::schema {

/// Adds the DDL of each file to `out`. Returns "" or a one-line error naming
/// the file; statements that do not parse are skipped with one warning on `err`.
std::string load_schema_files(const std::vector<std::string>& paths, core::Schema& out, std::ostream& err);

/// Adds keys, checks, foreign keys and relation OIDs of the database at
/// `conninfo` to `out`. Returns "" or a one-line error (never a password).
std::string load_schema_from_database(const std::string& conninfo, core::Schema& out);

}  // namespace pgsift::cli::schema
