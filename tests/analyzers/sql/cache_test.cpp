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
