#include "analyzers/n_plus_one/rewrite.h"

#include <cctype>

namespace pgsift::analyzers {

namespace {

bool is_ident(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '"';
}

bool equal_ci(const std::string& text, std::size_t at, const std::string& word) {
  if (at + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) !=
        std::tolower(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

std::size_t skip_spaces(const std::string& text, std::size_t at) {
  while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])) != 0) ++at;
  return at;
}

std::string as_any(const std::string& placeholder) { return "ANY(" + placeholder + ")"; }
std::string as_lateral_key(const std::string&) { return "p.key"; }

}  // namespace

std::string replace_key(const std::string& normalized, const std::string& column,
                        std::string (*replace)(const std::string& placeholder)) {
  for (std::size_t at = 0; at < normalized.size(); ++at) {
    std::size_t name = at;
    if (normalized[name] == '"') ++name;
    if (!equal_ci(normalized, name, column)) continue;
    if (at > 0 && (is_ident(normalized[at - 1]) && normalized[at - 1] != '"')) continue;
    std::size_t after = name + column.size();
    if (after < normalized.size() && normalized[after] == '"') ++after;
    if (after < normalized.size() && is_ident(normalized[after])) continue;
    std::size_t op = skip_spaces(normalized, after);
    if (op >= normalized.size() || normalized[op] != '=') continue;
    std::size_t value = skip_spaces(normalized, op + 1);
    if (value >= normalized.size() || normalized[value] != '$') continue;
    std::size_t end = value + 1;
    while (end < normalized.size() && std::isdigit(static_cast<unsigned char>(normalized[end])) != 0) ++end;
    if (end == value + 1) continue;
    const std::string placeholder = normalized.substr(value, end - value);
    return normalized.substr(0, value) + replace(placeholder) + normalized.substr(end);
  }
  return "";
}

Rewrite suggest_rewrite(const sql::Statement& child, const std::string& table,
                        const std::string& column, const std::string& parent_table) {
  Rewrite rewrite;
  const std::string batched = replace_key(child.normalized, column, &as_any);
  const std::string join_hint =
      parent_table.empty() ? std::string()
                           : " or join " + table + " to the parent query on " + parent_table +
                                 " (... JOIN " + table + " ON " + table + "." + column + " = " +
                                 parent_table + ".<key>)";
  if (child.has_limit) {
    // Each parent keeps its own LIMIT: a plain = ANY would limit the whole batch.
    const std::string lateral = replace_key(child.normalized, column, &as_lateral_key);
    rewrite.sql = "SELECT c.* FROM unnest($1::bigint[]) AS p(key) CROSS JOIN LATERAL (" +
                  (lateral.empty() ? child.normalized : lateral) + ") AS c";
    rewrite.advice = "fetch every parent's rows in one query that keeps the per-parent LIMIT: " +
                     rewrite.sql + " (for LIMIT 1: SELECT DISTINCT ON (" + column + ") ... WHERE " +
                     column + " = ANY($1) ORDER BY " + column + ", ...)";
    return rewrite;
  }
  if (child.aggregate && !child.exists_check) {
    rewrite.sql = "SELECT " + column + ", count(*) FROM " + table + " WHERE " + column +
                  " = ANY($1) GROUP BY " + column;
    rewrite.advice = "count for all keys at once: " + rewrite.sql +
                     " (keys with no rows are missing: default them to 0), or keep a counter column";
    return rewrite;
  }
  rewrite.sql = batched.empty() ? "... WHERE " + column + " = ANY($1)" : batched;
  rewrite.advice = "fetch the rows for all keys in one query, binding the keys as one array: " +
                   rewrite.sql + join_hint +
                   "; with an ORM, eager-load the association (Rails includes/preload, Django "
                   "select_related/prefetch_related, SQLAlchemy selectinload, JPA JOIN FETCH)";
  return rewrite;
}

}  // namespace pgsift::analyzers
