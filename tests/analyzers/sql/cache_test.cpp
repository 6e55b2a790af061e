// The statement cache: hits share one shape, capacity is honoured, and
// concurrent parsing from several threads is safe (run under ASan/UBSan, and
// TSan-clean by construction: one mutex per shard).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "analyzers/sql/statement.h"
#include "tests/analyzers/sql/sql_test_util.h"

using namespace pgsift::sql;
using namespace pgsift::sql::testing;

TEST_CASE("cache hits share one shape and count", "[sql]") {
  const std::string base = "SELECT * FROM cache_hit_probe WHERE id = ";
  CacheStats before = cache_stats();
  Parsed first = parse(base + "1");
  Parsed second = parse(base + "2");
  Parsed third = parse("select *   from CACHE_HIT_PROBE where ID = 3");
  CacheStats after = cache_stats();
  CHECK(first.shape == second.shape);
  CHECK(first.shape == third.shape);  // case and whitespace do not matter
  CHECK(after.misses - before.misses == 1);
  CHECK(after.hits - before.hits == 2);
  CHECK(first.literals == std::vector<std::string>{"1"});
  CHECK(second.literals == std::vector<std::string>{"2"});
  Parsed other = parse(base + "'1'");  // a string literal is another shape
  CHECK(other.shape != first.shape);
}

TEST_CASE("cache capacity bounds the entries", "[sql]") {
  set_cache_capacity(64);
  for (int i = 0; i < 500; ++i) parse("SELECT c" + std::to_string(i) + " FROM capacity_probe");
  CacheStats s = cache_stats();
  CHECK(s.entries <= 64);
  CHECK(s.entries > 0);
  // Evicted shapes are parsed again, correctly.
  Parsed again = parse("SELECT c0 FROM capacity_probe");
  CHECK(only(again).tables.at(0).name == "capacity_probe");
  set_cache_capacity(20000);
}

TEST_CASE("parsing from several threads", "[sql]") {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 300; ++i) {
        std::string sql = "UPDATE thread_probe_" + std::to_string(i % 17) + " SET n = n + " + std::to_string(t) +
                          " WHERE id = " + std::to_string(i) + " /*traceparent='00-" + std::to_string(i) + "-01'*/";
        Parsed p = parse(sql);
        const Statement& st = p.shape->statements.at(0);
        auto id = resolve(st.tables.at(0).keys.at(0).values.at(0), p.literals, {});
        if (st.kind != Kind::update || !id || *id != std::to_string(i) ||
            st.tags.at("traceparent") != "00-" + std::to_string(i) + "-01")
          ++wrong;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(wrong == 0);
}

TEST_CASE("texts repeated byte for byte are answered whole by the exact-text cache", "[sql]") {
  // Extended protocol: the values are $n parameters, the text repeats exactly.
  const std::string text = "SELECT * FROM exact_probe WHERE a = $1 AND b = 'x' LIMIT 5 /*controller='probe'*/";
  Parsed first = parse(text);
  CacheStats before = cache_stats();
  Parsed again = parse(text);
  CacheStats after = cache_stats();
  CHECK(again.shape == first.shape);
  CHECK(again.literals == std::vector<std::string>{"x", "5"});
  CHECK(only(again).tags.at("controller") == "probe");
  CHECK(after.hits - before.hits == 1);
  CHECK(after.misses == before.misses);

  // Simple protocol: inline values are never taken from another text.
  CHECK(parse("SELECT * FROM exact_probe WHERE a = 1").literals == std::vector<std::string>{"1"});
  CHECK(parse("SELECT * FROM exact_probe WHERE a = 2").literals == std::vector<std::string>{"2"});
  CHECK(parse("SELECT * FROM exact_probe WHERE a = 1").literals == std::vector<std::string>{"1"});

  // Many distinct texts share the slots; each still gets its own result.
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 3000; ++i) {
      Parsed p = parse("SELECT c" + std::to_string(i) + " FROM exact_probe WHERE id = $1 LIMIT " + std::to_string(i));
      REQUIRE(p.literals == std::vector<std::string>{std::to_string(i)});
      REQUIRE(only(p).normalized == "SELECT c" + std::to_string(i) + " FROM exact_probe WHERE id = $1 LIMIT $2");
    }

  // A repeated text that does not parse is counted as a parse error each time.
  const std::string bad = "SELECT * FROM exact_probe WHERE a = $1 AND";
  parse(bad);
  before = cache_stats();
  CHECK_FALSE(only(parse(bad)).error.empty());
  after = cache_stats();
  CHECK(after.parse_errors - before.parse_errors == 1);
}
