// Thin C++ wrapper over libpg_query's C API; see pg_query_adapter.h.
#include "analyzers/sql/pg_query_adapter.h"

#include <pg_query.h>

namespace pgsift::sql::pgq {

ParseOutput parse_json(std::string_view text) {
  ParseOutput out;
  const std::string input(text);  // libpg_query wants a NUL-terminated string
  PgQueryParseResult r = pg_query_parse(input.c_str());
  if (r.error != nullptr) {
    out.error = r.error->message != nullptr ? r.error->message : "syntax error";
    out.error_position = r.error->cursorpos;
  } else if (r.parse_tree != nullptr) {
    out.ok = true;
    out.json = r.parse_tree;
  } else {
    out.error = "parser returned no tree";
  }
  pg_query_free_parse_result(r);
  return out;
}

namespace {

bool collect(PgQuerySplitResult r, std::vector<StatementRange>& out, std::string& error) {
  bool ok = r.error == nullptr;
  if (ok) {
    for (int i = 0; i < r.n_stmts; ++i)
      out.push_back({r.stmts[i]->stmt_location, r.stmts[i]->stmt_len});
  } else {
    error = r.error->message != nullptr ? r.error->message : "cannot split";
  }
  pg_query_free_split_result(r);
  return ok;
}

}  // namespace

bool split(std::string_view text, std::vector<StatementRange>& out, std::string& error) {
  const std::string input(text);
  out.clear();
  if (collect(pg_query_split_with_parser(input.c_str()), out, error)) return true;
  out.clear();
  return collect(pg_query_split_with_scanner(input.c_str()), out, error);
}

}  // namespace pgsift::sql::pgq
