// Live-mode pieces that need no server: secret scrubbing, durations, the
// blocking-tree builder, pg_stat_statements deltas and the N+1 pairing on
// counter snapshots, and the tail -F follower on real files.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "cli/input/follow.h"
#include "cli/live/activity.h"
#include "cli/live/live_common.h"
#include "cli/live/pg_connection.h"
#include "cli/live/statements.h"

namespace live = pgsift::cli::live;
namespace fs = std::filesystem;

TEST_CASE("live: scrub_secrets removes passwords in every spelling", "[live]") {
  const std::vector<std::string> secrets{"hunter2-secret"};
  CHECK(live::scrub_secrets("auth failed for hunter2-secret", secrets) == "auth failed for ****");
  CHECK(live::scrub_secrets("host=h password=abc user=u", {}) == "host=h password=**** user=u");
  CHECK(live::scrub_secrets("host=h password = 'a b\\'c' user=u", {}) == "host=h password = **** user=u");
  CHECK(live::scrub_secrets("postgresql://bob:pw1@db:5432/x", {}) == "postgresql://bob:****@db:5432/x");
  CHECK(live::scrub_secrets("postgresql://db/x?user=a&password=zz&sslmode=require", {}) ==
        "postgresql://db/x?user=a&password=****&sslmode=require");
  CHECK(live::scrub_secrets("line one\n\tline two\n", {}) == "line one line two");
  CHECK(live::scrub_secrets("postgresql://bob@db/x", {}) == "postgresql://bob@db/x");
}

TEST_CASE("live: conninfo_secrets finds the password of URIs and key/value strings", "[live]") {
  ::unsetenv("PGPASSWORD");
  CHECK(live::conninfo_secrets("host=h password=abc123") == std::vector<std::string>{"abc123"});
  CHECK(live::conninfo_secrets("postgresql://u:p%40ss@h/db") == std::vector<std::string>{"p@ss"});
  CHECK(live::conninfo_secrets("host=h").empty());
}

TEST_CASE("live: durations", "[live]") {
  CHECK(live::parse_duration("250ms")->count() == 250000);
  CHECK(live::parse_duration("2s")->count() == 2000000);
  CHECK(live::parse_duration("1.5")->count() == 1500000);
  CHECK(live::parse_duration("1m")->count() == 60000000);
  CHECK_FALSE(live::parse_duration("fast"));
  CHECK_FALSE(live::parse_duration("10 parsecs"));
  CHECK_FALSE(live::parse_duration(""));
  CHECK(live::check_duration("x").find("expected a duration") == 0);
}

namespace {
live::Backend backend(std::int32_t pid, std::vector<std::int32_t> blocked_by,
                      std::string state = "active") {
  live::Backend b;
  b.pid = pid;
  b.state = std::move(state);
  b.blocked_by = std::move(blocked_by);
  return b;
}
}  // namespace

TEST_CASE("live: blocking trees root at the blocker that waits for nobody", "[live]") {
  live::ActivitySample s;
  s.backends = {backend(10, {}, "idle in transaction"), backend(11, {10}), backend(12, {11}),
                backend(13, {10}), backend(14, {11, 13}), backend(20, {})};
  const auto trees = live::blocking_trees(s);
  REQUIRE(trees.size() == 1);
  const auto& t = trees[0];
  CHECK(t.root == 10);
  CHECK(t.depth == 2);
  CHECK(t.waiters() == 4);
  CHECK(t.nodes[0].descendants == 4);
  // 14 has two blockers and is shown once, under the first reached.
  int seen14 = 0;
  for (const auto& n : t.nodes) seen14 += n.pid == 14 ? 1 : 0;
  CHECK(seen14 == 1);
  for (const auto& n : t.nodes) {
    if (n.pid == 12) CHECK((n.parent == 11 && n.depth == 2));
  }
}

TEST_CASE("live: a waiting cycle becomes one tree rooted at its lowest pid", "[live]") {
  live::ActivitySample s;
  s.backends = {backend(7, {5}), backend(5, {7})};
  const auto trees = live::blocking_trees(s);
  REQUIRE(trees.size() == 1);
  CHECK(trees[0].root == 5);
  CHECK(trees[0].nodes.size() == 2);
}

namespace {
live::StatementsSnapshot snapshot(std::int64_t t, std::vector<std::tuple<std::string, std::string,
                                                                          std::int64_t, std::int64_t>>
                                                       rows,
                                  std::int64_t reset = 1, std::int64_t dealloc = 0) {
  live::StatementsSnapshot s;
  s.time = t;
  s.stats_reset = reset;
  s.dealloc = dealloc;
  for (auto& [id, query, calls, nrows] : rows) {
    live::StatementCounters c;
    c.query = query;
    c.database = "shop";
    c.user = "app";
    c.calls = calls;
    c.rows = nrows;
    c.total_ms = 0.1 * static_cast<double>(calls);
    s.entries[{"10", "5", id, true}] = c;
  }
  return s;
}
}  // namespace

TEST_CASE("live: pg_stat_statements deltas handle new, reset and evicted entries", "[live]") {
  const auto a = snapshot(0, {{"1", "SELECT 1", 100, 100}, {"2", "SELECT 2", 50, 50}, {"3", "SELECT 3", 7, 7}});
  const auto b = snapshot(2000000, {{"1", "SELECT 1", 160, 170}, {"2", "SELECT 2", 20, 20}, {"4", "SELECT 4", 9, 9}},
                          1, 3);
  const auto d = live::diff(a, b);
  CHECK_FALSE(d.reset);
  CHECK(d.seconds() == Approx(2.0));
  CHECK(d.evictions == 3);
  CHECK(d.vanished == 1);
  std::map<std::string, const live::StatementDelta*> by_id;
  for (const auto& x : d.deltas) by_id[x.key.queryid] = &x;
  REQUIRE(by_id.size() == 3);
  CHECK(by_id["1"]->calls == 60);
  CHECK(by_id["1"]->rows == 70);
  CHECK_FALSE(by_id["1"]->is_new);
  CHECK(by_id["2"]->calls == 20);  // counter went down: entry re-created
  CHECK(by_id["2"]->is_new);
  CHECK(by_id["4"]->is_new);
  const auto c = snapshot(3000000, {{"1", "SELECT 1", 5, 5}}, 2);
  CHECK(live::diff(b, c).reset);
  CHECK(live::diff(b, c).deltas.empty());
}

TEST_CASE("live: correlation", "[live]") {
  CHECK(*live::correlation({{1, 2}, {2, 4}, {3, 6}}) == Approx(1.0));
  CHECK(*live::correlation({{1, 6}, {2, 4}, {3, 2}}) == Approx(-1.0));
  CHECK_FALSE(live::correlation({{1, 1}, {1, 1}}));
}

TEST_CASE("live: the N+1 pairing needs a parent whose rows the child calls track", "[live]") {
  const std::string parent = "SELECT id FROM posts WHERE user_id = $1";
  const std::string child = "SELECT * FROM comments WHERE post_id = $1";
  std::vector<live::ForeignKey> fks{{"comments", "post_id", "posts", "id"}};
  live::StatementsNPlusOne detector({}, fks, "5");
  const auto a = snapshot(0, {{"p", parent, 0, 0}, {"c", child, 0, 0}});
  const auto b = snapshot(3000000, {{"p", parent, 30, 600}, {"c", child, 600, 1800}});
  const auto findings = detector.observe(live::diff(a, b));
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].rule == "n-plus-one");
  CHECK(findings[0].details["confidence"] == "possible");
  CHECK(findings[0].details["foreign_key"] == "comments.post_id -> posts.id");
  CHECK(findings[0].evidence.size() == 2);

  // Same counters without a foreign key and without history: nothing.
  live::StatementsNPlusOne no_fk({}, {}, "5");
  CHECK(no_fk.observe(live::diff(a, b)).empty());
  // The child calls are far below the parent rows: not a loop over them.
  const auto c = snapshot(3000000, {{"p", parent, 30, 6000}, {"c", child, 600, 1800}});
  CHECK(live::StatementsNPlusOne({}, fks, "5").observe(live::diff(a, c)).empty());
}

TEST_CASE("live: five tracking intervals with a foreign key make it likely", "[live]") {
  const std::string parent = "SELECT id FROM posts WHERE user_id = $1";
  const std::string child = "SELECT * FROM comments WHERE post_id = $1";
  live::StatementsNPlusOne detector({}, {{"comments", "post_id", "posts", "id"}}, "5");
  std::int64_t pc = 0, pr = 0, cc = 0;
  std::vector<pgsift::core::Finding> last;
  auto before = snapshot(0, {{"p", parent, 0, 0}, {"c", child, 0, 0}});
  for (int i = 1; i <= 6; ++i) {
    pc += 30 + i;
    pr += 20 * (30 + i) * i;
    cc += 20 * (30 + i) * i;
    auto after = snapshot(i * 3000000, {{"p", parent, pc, pr}, {"c", child, cc, cc}});
    last = detector.observe(live::diff(before, after));
    before = after;
  }
  REQUIRE(last.size() == 1);
  CHECK(last[0].details["confidence"] == "likely");
  CHECK(last[0].details["correlation"].get<double>() > 0.99);
  CHECK(last[0].severity == pgsift::core::Severity::warning);
}

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/pgsift-follow-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};
void append(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::app) << text;
}
}  // namespace

TEST_CASE("live: the follower returns appended lines and holds partial ones", "[live]") {
  TempDir dir;
  const fs::path log = dir.path / "pg.log";
  append(log, "old line\n");
  pgsift::cli::input::FileFollower follow(log.string(), false);
  REQUIRE(follow.open().empty());
  std::vector<std::string> lines;
  follow.poll(lines);
  CHECK(lines.empty());  // started at the end
  append(log, "one\ntw");
  follow.poll(lines);
  CHECK(lines == std::vector<std::string>{"one"});
  append(log, "o\n");
  follow.poll(lines);
  CHECK(lines == std::vector<std::string>{"one", "two"});
}

TEST_CASE("live: the follower survives rotation and truncation like tail -F", "[live]") {
  TempDir dir;
  const fs::path log = dir.path / "pg.log";
  append(log, "a\n");
  pgsift::cli::input::FileFollower follow(log.string(), true);
  REQUIRE(follow.open().empty());
  std::vector<std::string> lines;
  follow.poll(lines);
  CHECK(lines == std::vector<std::string>{"a"});

  // Rotation: the last lines of the old file, then the new file from its start.
  append(log, "b\n");
  fs::rename(log, dir.path / "pg.log.1");
  append(log, "c\n");
  auto notices = follow.poll(lines);
  CHECK(lines == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].find("rotated") != std::string::npos);
  CHECK(follow.rotations() == 1);

  // Truncation in place (copytruncate): read again from the start.
  { std::ofstream truncate(log, std::ios::trunc); }
  notices = follow.poll(lines);
  CHECK(follow.truncations() == 1);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].find("truncated") != std::string::npos);
  append(log, "d\n");
  follow.poll(lines);
  CHECK(lines == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("live: the follower waits for a log that does not exist yet", "[live]") {
  TempDir dir;
  const fs::path log = dir.path / "later.log";
  pgsift::cli::input::FileFollower follow(log.string(), false);
  CHECK(follow.open(false).find("cannot open") == 0);
  REQUIRE(follow.open(true).empty());
  std::vector<std::string> lines;
  follow.poll(lines);
  CHECK(lines.empty());
  append(log, "first\n");
  follow.poll(lines);
  CHECK(lines == std::vector<std::string>{"first"});
}
