// Concrete set-based rewrites of an N+1 child query, from its normalized text
// and shape: `= ANY($1)`, GROUP BY for counts, DISTINCT ON or LATERAL when each
// parent keeps its own LIMIT (a plain `= ANY` would make the LIMIT global).
#pragma once

#include <string>

#include "analyzers/sql/statement.h"

namespace pgsift::analyzers {

struct Rewrite {
  std::string sql;     // the suggested query
  std::string advice;  // one sentence around it
};

/// `column` is the loop key of `table` in `child`; `parent_table` may be "".
Rewrite suggest_rewrite(const sql::Statement& child, const std::string& table,
                        const std::string& column, const std::string& parent_table);

/// Replaces the value of the first `column = $n` in `normalized` by what
/// `replace` returns for "$n"; returns "" when no such predicate is found.
std::string replace_key(const std::string& normalized, const std::string& column,
                        std::string (*replace)(const std::string& placeholder));

}  // namespace pgsift::analyzers
