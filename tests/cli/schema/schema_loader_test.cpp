// --schema FILE and --schema-from CONNINFO against a real PostgreSQL 15.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli/schema/schema_loader.h"
#include "tests/analyzers/concurrency_scenarios.h"
#include "tests/testing/pg_cluster.h"

using pgsift::core::Schema;

namespace {

bool has_key(const Schema& s, const std::string& table, std::vector<std::string> columns) {
  auto it = s.unique_keys.find(table);
  return it != s.unique_keys.end() && std::find(it->second.begin(), it->second.end(), columns) != it->second.end();
}

}  // namespace

TEST_CASE("schema: --schema-from reads keys, checks, foreign keys and relation OIDs from the catalog",
          "[schema][pg]") {
  pgsift::testing::PgCluster pg;
  auto s = pg.connect();
  s.exec(pgsift::testing::concurrency::kSetup);
  s.exec("CREATE UNIQUE INDEX signup_email ON signup (email);"
         "CREATE UNIQUE INDEX signup_partial ON signup (name) WHERE email IS NULL;"
         "ALTER TABLE acct ADD CONSTRAINT nonnegative CHECK (balance >= 0);"
         "CREATE TABLE payment (id int PRIMARY KEY, acct_id int REFERENCES acct(id));");
  const std::string oid = s.exec("SELECT 'acct'::regclass::oid").value();
  Schema schema;
  REQUIRE(pgsift::cli::schema::load_schema_from_database(pg.conninfo(), schema) == "");
  CHECK(schema.known);
  CHECK(has_key(schema, "acct", {"id"}));
  CHECK(has_key(schema, "public.coupon", {"code"}));
  CHECK(has_key(schema, "signup", {"email"}));
  CHECK_FALSE(has_key(schema, "signup", {"name"}));
  CHECK(schema.checks["acct"] == std::vector<std::string>{"(balance >= 0)"});
  CHECK(schema.foreign_keys["payment.acct_id"] == "acct");
  CHECK(schema.relation_names[std::stoull(oid)] == "acct");
}

TEST_CASE("schema: --schema-from failures are one line without the password", "[schema][pg]") {
  pgsift::testing::PgCluster pg;
  Schema schema;
  const std::string error = pgsift::cli::schema::load_schema_from_database(
      "host=127.0.0.1 port=" + std::to_string(pg.port()) + " dbname=nosuchdb password=sekrit", schema);
  CHECK(error.rfind("--schema-from: cannot connect: ", 0) == 0);
  CHECK(error.find("sekrit") == std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
}

TEST_CASE("schema: --schema reads DDL files and names a missing one", "[schema]") {
  const auto path = std::filesystem::temp_directory_path() / "pgsift_schema_test.sql";
  std::ofstream(path) << pgsift::testing::concurrency::kSchemaDdl;
  Schema schema;
  std::ostringstream err;
  CHECK(pgsift::cli::schema::load_schema_files({path.string()}, schema, err) == "");
  CHECK(err.str().empty());
  CHECK(has_key(schema, "coupon", {"code"}));
  CHECK_FALSE(has_key(schema, "booking", {"slot_id"}));
  CHECK(pgsift::cli::schema::load_schema_files({"/nonexistent/schema.sql"}, schema, err) ==
        "cannot open schema file '/nonexistent/schema.sql'");
  std::filesystem::remove(path);
}
