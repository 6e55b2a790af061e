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
