// Fingerprints and normalized text: the equalities a report groups by and the
// inequalities it must keep (a batched lookup is not a point lookup).
#include <catch2/catch.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "analyzers/sql/fingerprint.h"
#include "analyzers/sql/lexer.h"
#include "analyzers/sql/statement.h"
#include "tests/analyzers/sql/sql_test_util.h"

using namespace pgsift::sql;
using namespace pgsift::sql::testing;

namespace {
std::uint64_t fp_of(const char* sql) { return only(parse(sql)).fingerprint; }
}  // namespace

TEST_CASE("fingerprint equalities", "[sql]") {
  struct Pair {
    const char* a;
    const char* b;
  };
  const Pair same[] = {
      // literal and parameter values
      {"SELECT * FROM users WHERE id = 1", "SELECT * FROM users WHERE id = 9999"},
      {"SELECT * FROM users WHERE id = 1", "SELECT * FROM users WHERE id = $1"},
      {"SELECT * FROM users WHERE name = 'bob'", "SELECT * FROM users WHERE name = E'al\\'ice'"},
      {"SELECT * FROM users WHERE name = 'bob'", "SELECT * FROM users WHERE name = $tag$x$tag$"},
      {"SELECT * FROM t WHERE a = -5", "SELECT * FROM t WHERE a = 5"},
      {"SELECT * FROM t WHERE flag = true", "SELECT * FROM t WHERE flag = FALSE"},
      {"SELECT * FROM t LIMIT 10 OFFSET 20", "SELECT * FROM t LIMIT $1 OFFSET $2"},
      // IN-list length (also parameters, casts, rows)
      {"SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (7)"},
      {"SELECT * FROM t WHERE id IN ($1, $2)", "SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5)"},
      {"SELECT * FROM t WHERE id IN ($1::uuid, $2::uuid)", "SELECT * FROM t WHERE id IN ($1::uuid)"},
      {"SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", "SELECT * FROM t WHERE (a, b) IN ((1, 2))"},
      {"SELECT * FROM t WHERE id = ANY(ARRAY[1, 2, 3])", "SELECT * FROM t WHERE id = ANY(ARRAY[$1])"},
      {"INSERT INTO t (a, b) VALUES (1, 2), (3, 4)", "INSERT INTO t (a, b) VALUES ($1, $2)"},
      // whitespace, keyword case, identifier quoting, comments
      {"SELECT *\n  FROM   users\tWHERE id=1", "select * from users where id = 2"},
      {R"(SELECT "users".* FROM "users")", "SELECT users.* FROM users"},
      {"SELECT 1 /* controller='a' */", "/* controller:b */ SELECT 2 -- trailing note"},
      {"SELECT 1;", "SELECT 1"},
  };
  for (const Pair& p : same) {
    INFO(p.a << "  vs  " << p.b);
    CHECK(fp_of(p.a) == fp_of(p.b));
  }
}

TEST_CASE("fingerprint inequalities", "[sql]") {
  struct Pair {
    const char* a;
    const char* b;
  };
  const Pair different[] = {
      // point lookup vs batched lookups (libpg_query's fingerprint merges these)
      {"SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id IN ($1)"},
      {"SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id IN ($1, $2, $3)"},
      {"SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = ANY($1)"},
      {"SELECT * FROM t WHERE id IN ($1, $2)", "SELECT * FROM t WHERE id = ANY($1)"},
      // identifiers are kept (Prosopite #6)
      {"SELECT * FROM users WHERE id = 1", "SELECT * FROM posts WHERE id = 1"},
      {"SELECT * FROM users WHERE id = 1", "SELECT * FROM users WHERE uid = 1"},
      {"SELECT * FROM users", "SELECT * FROM \"Users\""},
      {"SELECT * FROM app.users", "SELECT * FROM users"},
      // NULL changes meaning; so does the operator
      {"SELECT * FROM t WHERE a = $1", "SELECT * FROM t WHERE a IS NULL"},
      {"SELECT * FROM t WHERE a = $1", "SELECT * FROM t WHERE a >= $1"},
      {"SELECT * FROM t WHERE a = 1 FOR UPDATE", "SELECT * FROM t WHERE a = 1"},
      // different columns in a VALUES row
      {"INSERT INTO t (a, b) VALUES (1, 2)", "INSERT INTO t (a, b) VALUES (1, DEFAULT)"},
  };
  for (const Pair& p : different) {
    INFO(p.a << "  vs  " << p.b);
    CHECK(fp_of(p.a) != fp_of(p.b));
  }
}

TEST_CASE("fingerprints are stable across runs and releases", "[sql]") {
  // Pinned values: a change here breaks users' suppressions and baselines
  // (see FINGERPRINTS in pgsift(1)); only change with a release note.
  CHECK(fp_of("SELECT * FROM users WHERE id = $1") == fp_of("select * from users where id = 42"));
  const std::uint64_t pinned = fp_of("SELECT * FROM users WHERE id = $1");
  CHECK(pinned == UINT64_C(0x3d62aefa147986cd));
  const char canonical[] = "select * from users where id = ?";
  CHECK(pinned == XXH3_64bits(canonical, sizeof canonical - 1));
}

TEST_CASE("canonical token stream behind the fingerprint", "[sql]") {
  auto canon = [](std::string_view sql) {
    lex::Lexed lexed;
    lex::lex(sql, lexed);
    return fp::canonical(sql, lexed.tokens, 0, lexed.tokens.size());
  };
  CHECK(canon(R"(SELECT "Users".* FROM "Users" WHERE id IN (1, -2, $3) /* x */)") ==
        "select Users . * from Users where id in ( ? )");
  CHECK(canon("SELECT * FROM t WHERE id = ANY(ARRAY[1,2]) AND b = any($1)") ==
        "select * from t where id = any ( array [ ? ] ) and b = any ( ? )");
  CHECK(canon("INSERT INTO t VALUES (1, 'a'), (2, 'b') RETURNING id") == "insert into t values ( ? , ? ) returning id");
  CHECK(canon("INSERT INTO t VALUES (1, DEFAULT), (2, 'b')") ==
        "insert into t values ( ? , default ) , ( ? , ? )");
  CHECK(canon("SELECT a-1, x::int FROM t") == "select a - ? , x :: int from t");
}

TEST_CASE("normalized text", "[sql]") {
  struct Row {
    const char* sql;
    const char* normalized;
  };
  const Row rows[] = {
      {"SELECT * FROM users WHERE id = 5", "SELECT * FROM users WHERE id = $1"},
      {"SELECT *\n   FROM users  WHERE name = 'secret' /* c */ AND id = $1",
       "SELECT * FROM users WHERE name = $2 AND id = $1"},
      {"UPDATE acct SET balance = balance - 100.50 WHERE id = -1", "UPDATE acct SET balance = balance - $1 WHERE id = $2"},
      {"SELECT * FROM t WHERE id IN (1, 2) AND b = E'x\\'y' AND c = $q$z$q$ AND d = true",
       "SELECT * FROM t WHERE id IN ($1, $2) AND b = $3 AND c = $4 AND d = $5"},
      {"select 1 from Normalized_Probe;", "select $1 from Normalized_Probe"},
  };
  for (const Row& r : rows) {
    INFO(r.sql);
    CHECK(only(parse(r.sql)).normalized == r.normalized);
  }
}

TEST_CASE("literal slots and resolve", "[sql]") {
  Parsed p = parse(
      "SELECT * FROM t WHERE a = 'it''s' AND b = E'tab\\there' AND c = $$dollar$$ AND d = 1.5e3 AND e = "
      "B'101' AND f = X'1F' AND g = U&'d\\0061t' AND h = TRUE AND i = .5");
  REQUIRE(p.literals.size() == 9);
  CHECK(p.literals[0] == "it's");
  CHECK(p.literals[1] == "tab\there");
  CHECK(p.literals[2] == "dollar");
  CHECK(p.literals[3] == "1.5e3");
  CHECK(p.literals[4] == "101");
  CHECK(p.literals[5] == "1F");
  CHECK(p.literals[7] == "true");
  CHECK(p.literals[8] == ".5");
  const TableAccess& t = only(p).tables[0];
  CHECK(text_of(p, key(t, "a")->values[0]) == "it's");
  CHECK(text_of(p, key(t, "c")->values[0]) == "dollar");
  CHECK(text_of(p, key(t, "h")->values[0]) == "true");
  CHECK(text_of(p, key(t, "i")->values[0]) == ".5");

  // Same shape, other values: the cached shape resolves against this text.
  Parsed q = parse("SELECT * FROM users WHERE id = 1 AND name = 'a'");
  Parsed r = parse("SELECT * FROM users WHERE id = 2 AND name = 'b'");
  CHECK(q.shape == r.shape);
  CHECK(text_of(r, key(only(r).tables[0], "id")->values[0]) == "2");
  CHECK(text_of(r, key(only(r).tables[0], "name")->values[0]) == "b");

  Value param;
  param.kind = Value::Kind::parameter;
  param.param = 2;
  CHECK(resolve(param, {}, {std::string("a"), std::string("b")}) == std::optional<std::string>("b"));
  CHECK_FALSE(resolve(param, {}, {std::string("a")}).has_value());
  CHECK_FALSE(resolve(param, {}, {std::string("a"), std::nullopt}).has_value());
  Value null;
  null.kind = Value::Kind::null;
  CHECK_FALSE(resolve(null, {}, {}).has_value());
  Value lit;
  lit.kind = Value::Kind::literal;
  lit.slot = 3;
  CHECK_FALSE(resolve(lit, {"x"}, {}).has_value());
}

TEST_CASE("lexer edge cases", "[sql]") {
  auto kinds = [](std::string_view sql) {
    lex::Lexed lexed;
    lex::lex(sql, lexed);
    std::string out;
    for (const lex::Token& t : lexed.tokens) {
      static const char* names[] = {"w", "q", "s", "n", "b", "p", "o", "."};
      if (!out.empty()) out.push_back(' ');
      out += names[static_cast<int>(t.kind)];
      out += ":" + std::string(sql.substr(t.begin, t.end - t.begin));
    }
    return out;
  };
  CHECK(kinds("a$b $1 $$x$$ $t$y$t$") == "w:a$b p:$1 s:$$x$$ s:$t$y$t$");
  CHECK(kinds("x=-5") == "w:x o:= n:-5");
  CHECK(kinds("x-5") == "w:x o:- n:5");
  CHECK(kinds("(-1.5e-3)") == ".:( n:-1.5e-3 .:)");
  CHECK(kinds("a @- 5") == "w:a o:@- n:5");
  CHECK(kinds("a::int") == "w:a o::: w:int");
  CHECK(kinds("e'\\'' n'x' b'1' x'f' u&'a' U&\"b\"") == "s:e'\\'' s:n'x' s:b'1' s:x'f' s:u&'a' q:U&\"b\"");
  CHECK(kinds("'a''b' \"c\"\"d\"") == "s:'a''b' q:\"c\"\"d\"");
  CHECK(kinds("1/*c/*nested*/*/2--x\n3") == "n:1 n:2 n:3");
  CHECK(kinds("a<>b a!=b a>=-1") == "w:a o:<> w:b w:a o:!= w:b w:a o:>= n:-1");
  CHECK(kinds("TRUE false Null") == "b:TRUE b:false w:Null");
}
