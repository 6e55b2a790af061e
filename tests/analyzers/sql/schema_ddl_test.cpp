// Schema from DDL (--schema): keys, checks and foreign keys as a pg_dump or a
// migration declares them, read with the real parser.
#include <algorithm>

#include <catch2/catch.hpp>

#include "analyzers/sql/schema_ddl.h"

using pgsift::core::Schema;

namespace {

bool has_key(const Schema& s, const std::string& table, std::vector<std::string> columns) {
  auto it = s.unique_keys.find(table);
  return it != s.unique_keys.end() && std::find(it->second.begin(), it->second.end(), columns) != it->second.end();
}

}  // namespace

TEST_CASE("schema: CREATE TABLE column and table constraints", "[schema]") {
  Schema s;
  auto stats = pgsift::sql::extract_schema(
      "SET client_encoding = 'UTF8';\n"
      "CREATE TABLE Acct (id int PRIMARY KEY, code text UNIQUE, balance int CHECK (balance >= 0),\n"
      "  parent int REFERENCES parent(id), CONSTRAINT two UNIQUE (code, parent),\n"
      "  EXCLUDE USING gist (parent WITH =));\n",
      s);
  CHECK(s.known);
  CHECK(stats.tables == 1);
  CHECK(stats.unparsable == 0);
  CHECK(has_key(s, "acct", {"id"}));
  CHECK(has_key(s, "public.acct", {"id"}));
  CHECK(has_key(s, "acct", {"code"}));
  CHECK(has_key(s, "acct", {"code", "parent"}));
  CHECK(has_key(s, "acct", {"parent"}));
  REQUIRE(s.checks["acct"].size() == 1);
  CHECK(s.checks["acct"][0] == "balance >= 0");
  CHECK(s.foreign_keys["acct.parent"] == "parent");
}

TEST_CASE("schema: pg_dump style ALTER TABLE keys and unique indexes; partial ones are not keys", "[schema]") {
  Schema s;
  auto stats = pgsift::sql::extract_schema(
      "CREATE TABLE public.signup (email text NOT NULL, name text);\n"
      "ALTER TABLE ONLY public.signup ADD CONSTRAINT signup_pkey PRIMARY KEY (name);\n"
      "CREATE UNIQUE INDEX signup_email ON public.signup USING btree (email);\n"
      "CREATE UNIQUE INDEX signup_live ON public.signup USING btree (name) WHERE (email IS NOT NULL);\n"
      "CREATE UNIQUE INDEX signup_lower ON public.signup USING btree (lower(email));\n"
      "\\connect shop\n",
      s);
  CHECK(has_key(s, "signup", {"name"}));
  CHECK(has_key(s, "public.signup", {"email"}));
  CHECK(s.unique_keys["signup"].size() == 2);
  CHECK(stats.unparsable == 1);
  CHECK(stats.first_unparsable_line == 6);
}
