// sql_bench: nanoseconds per statement through pgsift::sql::parse() on cache
// hits (the same shapes with fresh literal values, as in a real log), on
// exact repeats (extended-protocol texts with $n parameters, answered by the
// exact-text cache without lexing) and on misses (new shapes, full
// libpg_query parse + tree walk).
//   build/bench/bench/sql_bench [iterations]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "analyzers/sql/statement.h"

namespace {

using Clock = std::chrono::steady_clock;

// Realistic shapes: Rails, Django, Hibernate, Sequelize, pgbench, races.
std::vector<std::string> shapes(int i) {
  const std::string n = std::to_string(i);
  return {
      R"(SELECT "users".* FROM "users" WHERE "users"."id" = )" + n + " LIMIT 1",
      R"(SELECT "blog_entry"."id", "blog_entry"."headline" FROM "blog_entry" INNER JOIN "blog_blog" ON )"
      R"(("blog_entry"."blog_id" = "blog_blog"."id") WHERE "blog_blog"."name" = 'name)" + n + "'",
      "select user0_.id as id1_0_, user0_.email as email2_0_ from users user0_ where user0_.id=" + n,
      R"(SELECT "id", "title" FROM "Posts" AS "Post" WHERE "Post"."userId" IN ()" + n + ", " + n + "1, " + n +
          "2);",
      "UPDATE pgbench_accounts SET abalance = abalance + " + n + " WHERE aid = " + n + ";",
      "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + n + ", 1, " + n + ", -" + n +
          ", CURRENT_TIMESTAMP);",
      "UPDATE stock SET qty = qty - 1 WHERE id = " + n + " AND qty >= 1",
      "SELECT count(*) FROM booking WHERE slot_id = " + n,
      R"(SELECT "orders".* FROM "orders" WHERE "orders"."user_id" = $1 /*controller='orders',action='index',)"
      "traceparent='00-" + n + "-01'*/",
      "BEGIN",
      "COMMIT",
  };
}

// CPU time of the calling thread: the machine may be shared, wall time lies.
double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double per_statement_ns(Clock::duration d, long count) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
         static_cast<double>(count);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  pgsift::sql::set_cache_capacity(1000000);

  // Prebuild texts so string building is not measured.
  std::vector<std::string> hit_texts;
  for (int i = 0; i < iterations; ++i)
    for (std::string& s : shapes(i)) hit_texts.push_back(std::move(s));
  for (const std::string& s : shapes(-1)) pgsift::sql::parse(s);  // warm the cache

  auto t0 = Clock::now();
  double c0 = cpu_ns();
  std::size_t sink = 0;
  for (const std::string& s : hit_texts) sink += pgsift::sql::parse(s).literals.size();
  auto hit = Clock::now() - t0;
  double hit_cpu = cpu_ns() - c0;

  // Hits on the untagged shapes only (a tagged text copies its shape to attach its tags).
  std::size_t untagged = 0;
  c0 = cpu_ns();
  for (const std::string& s : hit_texts)
    if (s.find("/*") == std::string::npos) {
      sink += pgsift::sql::parse(s).literals.size();
      ++untagged;
    }
  double untagged_cpu = cpu_ns() - c0;

  // Extended protocol: the same few texts over and over, values in $n.
  const std::vector<std::string> prepared = {
      "SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
      "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
      "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);",
      "SELECT id FROM orders WHERE customer_id = $1 ORDER BY id LIMIT 8;",
      "BEGIN;",
      "END;",
  };
  c0 = cpu_ns();
  std::size_t exact_count = 0;
  for (int i = 0; i < iterations; ++i)
    for (const std::string& s : prepared) {
      sink += pgsift::sql::parse(s).literals.size();
      ++exact_count;
    }
  double exact_cpu = cpu_ns() - c0;

  // Misses: every text a new shape (the table name changes).
  std::vector<std::string> miss_texts;
  const int miss_count = iterations / 10 + 1;
  for (int i = 0; i < miss_count; ++i) {
    std::vector<std::string> v = shapes(i);
    for (std::size_t k = 0; k < v.size(); ++k)
      if (v[k] != "BEGIN" && v[k] != "COMMIT")
        miss_texts.push_back(v[k] + " -- probe\n; SELECT 1 FROM miss_probe_" + std::to_string(i) + "_" +
                             std::to_string(k));
  }
  pgsift::sql::CacheStats before = pgsift::sql::cache_stats();
  t0 = Clock::now();
  c0 = cpu_ns();
  for (const std::string& s : miss_texts) sink += pgsift::sql::parse(s).shape->statements.size();
  auto miss = Clock::now() - t0;
  double miss_cpu = cpu_ns() - c0;
  pgsift::sql::CacheStats after = pgsift::sql::cache_stats();

  // Hits from two threads at once (the engine may parse in parallel).
  t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&hit_texts, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < hit_texts.size(); i += 2) pgsift::sql::parse(hit_texts[i]);
    });
  for (std::thread& th : threads) th.join();
  auto parallel = Clock::now() - t0;

  std::printf("sql_bench: %zu hit statements, %zu miss texts (2 statements each)\n", hit_texts.size(),
              miss_texts.size());
  std::printf("hit:            %8.0f ns/statement CPU (%.0f wall)\n", hit_cpu / static_cast<double>(hit_texts.size()),
              per_statement_ns(hit, static_cast<long>(hit_texts.size())));
  std::printf("hit, untagged:  %8.0f ns/statement CPU\n", untagged_cpu / static_cast<double>(untagged));
  std::printf("exact repeat:   %8.0f ns/statement CPU\n", exact_cpu / static_cast<double>(exact_count));
  std::printf("miss:           %8.0f ns/text CPU (%.0f wall)\n", miss_cpu / static_cast<double>(miss_texts.size()),
              per_statement_ns(miss, static_cast<long>(miss_texts.size())));
  std::printf("hit, 2 threads: %7.0f ns/statement (wall)\n",
              per_statement_ns(parallel, static_cast<long>(hit_texts.size())));
  std::printf("misses counted: %llu, cache entries: %llu (checksum %zu)\n",
              static_cast<unsigned long long>(after.misses - before.misses),
              static_cast<unsigned long long>(after.entries), sink);
  return 0;
}
