// The only door to libpg_query (PostgreSQL 15's parser as a library, Debian
// libpg-query-dev): pg_query.h is included by pg_query_adapter.cpp alone.
// Both functions are thread-safe (libpg_query keeps its memory context per
// thread) and never throw; pg_query_exit() is never called (it crashes
// Debian's build once threads have parsed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgsift::sql::pgq {

struct ParseOutput {
  bool ok = false;
  std::string json;          // libpg_query's JSON parse tree when ok
  std::string error;         // parser message otherwise
  int error_position = 0;    // 1-based cursor position of the error, 0 when none
};

/// Parses `text` (one or several statements) with the real parser.
ParseOutput parse_json(std::string_view text);

struct StatementRange {
  int location = 0;  // byte offset in the text
  int length = 0;    // bytes
};

/// Splits a script into statements with libpg_query's parser-based splitter,
/// falling back to its scanner-based splitter when the script does not parse
/// (psql meta-commands, syntax errors). Returns false when both fail.
bool split(std::string_view text, std::vector<StatementRange>& out, std::string& error);

}  // namespace pgsift::sql::pgq
