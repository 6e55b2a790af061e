// Small helpers shared by the SQL model tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "analyzers/sql/statement.h"

namespace pgsift::sql::testing {

inline const Statement& only(const Parsed& p) {
  REQUIRE(p.shape != nullptr);
  REQUIRE(p.shape->statements.size() == 1);
  return p.shape->statements.front();
}

/// The TableAccess named `name` (as written, schema-qualified) with the given
/// alias ("" matches any alias); fails the test when absent.
inline const TableAccess& table(const Statement& st, const std::string& name, const std::string& alias = "") {
  for (const TableAccess& t : st.tables)
    if (t.name == name && (alias.empty() || t.alias == alias)) return t;
  FAIL("no table " << name << " in statement " << st.normalized);
  throw std::logic_error("unreachable");
}

inline bool has_table(const Statement& st, const std::string& name) {
  for (const TableAccess& t : st.tables)
    if (t.name == name) return true;
  return false;
}

inline const KeyPredicate* key(const TableAccess& t, const std::string& column) {
  for (const KeyPredicate& k : t.keys)
    if (k.column == column) return &k;
  return nullptr;
}

/// Concrete text of a value of this execution ("<none>" when unresolved).
inline std::string text_of(const Parsed& p, const Value& v, const std::vector<std::optional<std::string>>& params = {}) {
  auto r = resolve(v, p.literals, params);
  return r ? *r : std::string("<none>");
}

}  // namespace pgsift::sql::testing
