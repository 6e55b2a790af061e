// Row footprints for check-then-act: which rows of which table one statement
// execution reads or writes, as the equality conjuncts of its WHERE resolved
// to concrete values (literals through their slots, $n through the bound
// parameters of that execution: by value, never by placeholder number).
// Built from model::Execution and its sql::Statement; pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/core/analyzer.h"
#include "analyzers/model/session.h"
#include "analyzers/sql/statement.h"

namespace pgsift::analyzers::cta {

/// Table name for matching: lowercase, "public." dropped.
std::string canonical_table(std::string_view name);

/// Normalizes a value for comparison: booleans to "true"/"false".
std::string canonical_value(std::string value);

/// The values one column is constrained to; `unknown` when at least one value
/// could not be resolved (parameters not logged, expressions).
struct ColumnValues {
  std::string column;
  std::vector<std::string> values;
  bool unknown = false;
};

struct Footprint {
  std::string table;
  std::vector<ColumnValues> columns;  // sorted by column name, one entry per column

  const ColumnValues* find(std::string_view column) const;
  std::vector<std::string> column_names() const;
  /// "id = 1, kind = 'x'" (values shown only by reporters with --show-values).
  std::vector<std::string> value_texts() const;
};

/// Footprint of one table access of `execution` (its KeyPredicates).
Footprint footprint_of(const model::Execution& execution, const sql::TableAccess& access);

/// Footprints of the rows an INSERT writes (one per VALUES row; a single
/// all-unknown footprint for INSERT ... SELECT).
std::vector<Footprint> insert_footprints(const model::Execution& execution,
                                         const sql::InsertInfo& insert);

/// How two footprints of the same table overlap.
///  none:    a shared column has disjoint known values, or no shared column
///  pattern: shared columns exist but some values are unknown (structural match)
///  value:   every shared column has intersecting known values
enum class Overlap { none, pattern, value };
Overlap overlap(const Footprint& a, const Footprint& b);

/// Whether `inserted` satisfies every equality conjunct of `read` (all of the
/// read's columns are inserted): value, pattern (unknowns) or none.
Overlap insert_matches(const Footprint& read, const Footprint& inserted);

/// Whether a unique key of `table` is covered by `columns` (all its columns
/// are among them). Without a known schema, a lone "id" column is assumed to
/// be the primary key. Returns the covering key, or nullopt.
std::optional<std::vector<std::string>> covering_unique_key(const core::Schema& schema,
                                                            const std::string& table,
                                                            const std::vector<std::string>& columns);

/// The normalized SQL of an execution's statement ($n placeholders).
std::string normalized_sql(const model::Execution& execution);
/// Literal and parameter values of an execution, as "$1=..." / literals.
std::vector<std::string> execution_values(const model::Execution& execution);

}  // namespace pgsift::analyzers::cta
