// Robustness: every statement of PostgreSQL's regression SQL (as pg_query
// carries it, ../shared/corpus/pg-regress-sql/) through the SQL model. Each
// file is split with libpg_query's splitter; no statement may crash, leak
// (ASan) or throw, and literals never show in the normalized text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analyzers/sql/pg_query_adapter.h"
#include "analyzers/sql/statement.h"

using namespace pgsift::sql;

TEST_CASE("pg regression corpus through the SQL model", "[sql][corpus]") {
  const std::filesystem::path dir = std::filesystem::path(SHARED_DIR) / "corpus" / "pg-regress-sql";
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".sql") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() > 100);

  std::size_t statements = 0, parsed = 0, unknown = 0, unsplittable = 0, kinds_seen = 0;
  std::vector<bool> kind_seen(static_cast<std::size_t>(Kind::unknown) + 1);
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string script = ss.str();
    std::vector<pgq::StatementRange> ranges;
    std::string error;
    if (!pgq::split(script, ranges, error)) {
      ++unsplittable;
      continue;
    }
    for (const pgq::StatementRange& r : ranges) {
      if (r.location < 0 || static_cast<std::size_t>(r.location) >= script.size()) continue;
      std::string_view sql = std::string_view(script).substr(static_cast<std::size_t>(r.location),
                                                             static_cast<std::size_t>(r.length));
      Parsed p = parse(sql);
      ++statements;
      REQUIRE(p.shape != nullptr);
      REQUIRE_FALSE(p.shape->statements.empty());
      for (const Statement& st : p.shape->statements) {
        kind_seen[static_cast<std::size_t>(st.kind)] = true;
        if (st.kind == Kind::unknown) {
          ++unknown;
        } else {
          ++parsed;
          // Literals never leak into the normalized text.
          for (const std::string& lit : p.literals)
            if (lit.size() >= 6 && lit.find_first_of(" ()") == std::string::npos)
              CHECK(st.normalized.find("'" + lit + "'") == std::string::npos);
        }
        CHECK_FALSE(st.error.find("cannot analyze") == 0);
      }
    }
  }
  for (bool b : kind_seen) kinds_seen += b ? 1 : 0;
  WARN("pg-regress corpus: " << files.size() << " files (" << unsplittable << " unsplittable), " << statements
                             << " statements, " << parsed << " analyzed, " << unknown << " unknown, "
                             << kinds_seen << " kinds");
  CHECK(unsplittable <= 5);
  CHECK(statements > 20000);
  CHECK(parsed > statements * 9 / 10);
  CHECK(kinds_seen >= 20);
}

TEST_CASE("truncated and mangled statements never crash the model", "[sql][corpus]") {
  // track_activity_query_size truncation cuts statements anywhere, even
  // inside a string, a comment or a dollar quote.
  const std::string samples[] = {
      "SELECT * FROM t WHERE a = E'x\\'y' AND b = $q$ z $q$ /* c */ -- d\n AND c IN (1, 2.5e3, -4)",
      "INSERT INTO t (a, b) VALUES ($1, U&'d\\0061t'), (B'101', X'FF') ON CONFLICT (a) DO UPDATE SET b = 1",
      "WITH x AS (UPDATE t SET n = n - 1 WHERE id = 1 RETURNING *) SELECT pg_advisory_xact_lock(1) FROM x FOR UPDATE",
      "/*controller='a%2',action:'b*/ BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; COMMIT",
      "SELECT $$unterminated", "SELECT 'unterminated", "SELECT \"unterminated", "SELECT /* unterminated",
      "E'", "U&", "$", "$1$", "$a", "-", "- -5", "::", ":=", "'", "\"\"", "/**/", "--", ";;;", "(((", ")))",
      std::string("SELECT 1\0 FROM t", 16), "\xff\xfe SELECT \x80", "SELECT 1e", "SELECT .e5", "SELECT 1..2",
  };
  std::size_t parsed = 0;
  for (const std::string& s : samples) {
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
      Parsed p = parse(std::string_view(s).substr(0, cut));
      REQUIRE(p.shape != nullptr);
      REQUIRE_FALSE(p.shape->statements.empty());
      for (const Statement& st : p.shape->statements) {
        parsed += st.kind != Kind::unknown ? 1 : 0;
        // A literal's slot always indexes this text's literals.
        for (const TableAccess& t : st.tables)
          for (const KeyPredicate& k : t.keys)
            for (const Value& v : k.values)
              if (v.kind == Value::Kind::literal) CHECK(static_cast<std::size_t>(v.slot) < p.literals.size());
      }
    }
  }
  CHECK(parsed > 100);
}
