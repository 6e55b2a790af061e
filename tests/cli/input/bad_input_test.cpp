// Bad and unusual input: binary garbage, a half-written last line, a 100 MB
// statement (generated here), invalid UTF-8, a file ending inside a CSV quote,
// a wrong --prefix, compressed and truncated files, directories, stdin.
// pgsift never crashes or hangs; it counts what it skips and says where.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "cli/input/log_source.h"

namespace {

using namespace pgsift;
namespace fs = std::filesystem;

// Copies of reference/samples/scenario.{log,csv,json} (real PG15 output).
const std::string kSamples = std::string(FIXTURES_DIR) + "/logs/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Result {
  std::string error, err;
  cli::input::InputSummary summary;
  long statements = 0, events = 0;
  std::vector<model::StatementEvent> statement_events;
};

Result read_buffer(std::string_view data, cli::input::InputOptions options = {}) {
  Result r;
  std::ostringstream err;
  r.error = cli::input::read_log_buffer(
      data, options,
      [&](const model::Event& e) {
        ++r.events;
        if (auto* s = std::get_if<model::StatementEvent>(&e.body)) {
          ++r.statements;
          if (r.statement_events.size() < 16) r.statement_events.push_back(*s);
        }
      },
      r.summary, err);
  r.err = err.str();
  return r;
}

Result read_paths(const std::vector<std::string>& paths, cli::input::InputOptions options = {}) {
  Result r;
  std::ostringstream err;
  std::vector<cli::input::InputSummary> summaries;
  r.error = cli::input::read_logs(
      paths, options,
      [&](const model::Event& e) {
        ++r.events;
        if (std::holds_alternative<model::StatementEvent>(e.body)) ++r.statements;
      },
      summaries, err);
  r.err = err.str();
  if (!summaries.empty()) r.summary = summaries[0];
  return r;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pgsift-ingest-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string run_shell(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

const std::string kLine = "2026-11-26 12:18:58.177 UTC [17975] postgres@postgres/psql 0 ";

}  // namespace

TEST_CASE("bad input: binary garbage is skipped and counted, never a crash", "[ingest]") {
  std::mt19937 rng(42);
  std::string garbage(1 << 20, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  for (const char* format : {"", "stderr", "csvlog", "jsonlog", "syslog", "cloudsql", "cnpg"}) {
    cli::input::InputOptions o;
    o.format = format;
    o.prefix = "%m [%p] ";
    Result r = read_buffer(garbage, o);
    INFO(format);
    CHECK_FALSE(r.error.empty());  // nothing readable: an error naming line 1
    CHECK(r.summary.records == 0);
    CHECK(r.summary.skipped_lines + r.summary.noise_lines > 0);
  }
  // Garbage in the middle of a good log: the log is read, the garbage counted.
  std::string log = slurp(kSamples + "stderr/pg15-scenario.log");
  std::string mixed = log.substr(0, 3000) + "\n" + garbage.substr(0, 5000) + "\n" + log.substr(3000);
  Result r = read_buffer(mixed);
  CHECK(r.error.empty());
  CHECK(r.summary.skipped_lines > 0);
  CHECK(r.summary.first_skipped_line > 10);
  CHECK(r.err.find("unreadable line(s) skipped") != std::string::npos);
}

TEST_CASE("bad input: a half-written last line is read as far as it goes", "[ingest]") {
  std::string log = slurp(kSamples + "stderr/pg15-scenario.log");
  Result whole = read_buffer(log);
  REQUIRE(whole.error.empty());
  // Cut inside the last duration line of the pg_sleep(1) statement.
  std::size_t cut = log.find("duration: 0.309 ms");
  REQUIRE(cut != std::string::npos);
  Result r = read_buffer(log.substr(0, cut + 14));
  CHECK(r.error.empty());
  CHECK(r.summary.skipped_lines == 0);
  CHECK(r.statements > 30);
  CHECK(r.statements < whole.statements);
  // Cut inside a prefix: that line is noise-free garbage text, counted.
  Result r2 = read_buffer(log.substr(0, cut - 60));
  CHECK(r2.error.empty());
}

TEST_CASE("bad input: a 100 MB statement is cut to a bounded size, not a crash", "[ingest]") {
  std::string big = kLine + "LOG:  duration: 1.000 ms  statement: SELECT '";
  big.append(100u << 20, 'x');
  big += "'\n" + kLine + "LOG:  duration: 2.000 ms  statement: SELECT 2\n";
  cli::input::InputOptions o;
  o.prefix = "%m [%p] %q%u@%d/%a %x ";
  Result r = read_buffer(big, o);
  CHECK(r.error.empty());
  CHECK(r.statements == 2);
  CHECK(r.err.find("longer than") != std::string::npos);
  REQUIRE(r.statement_events.size() == 2);
  CHECK(r.statement_events[0].sql.size() < (40u << 20));
  CHECK(r.statement_events[1].sql == "SELECT 2");
}

TEST_CASE("bad input: invalid UTF-8 stays in the record; JSON output is valid", "[ingest]") {
  TempDir dir;
  std::string path = (dir.path / "bad-utf8.log").string();
  std::ofstream(path) << kLine << "LOG:  duration: 1.000 ms  statement: SELECT '\xff\xfe\xc3('\n";
  int status = 0;
  std::string out = run_shell(std::string(PGSIFT_BINARY) + " events --show-values " + path +
                                  " 2>/dev/null",
                              status);
  CHECK(status == 0);
  nlohmann::json j = nlohmann::json::parse(out.substr(0, out.find('\n')));
  CHECK(j["kind"] == "statement");
  CHECK(j["sql"] == "SELECT '\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd('");
}

TEST_CASE("bad input: a csvlog ending inside a quoted field", "[ingest]") {
  std::string csv = slurp(kSamples + "csvlog/pg15-scenario.csv");
  std::string cut = csv + "2026-11-26 12:19:11.000 UTC,\"postgres\",\"postgres\",1,\"[local]\","
                          "6b0823b2.1,1,\"SELECT\",2026-11-26 12:18:58 UTC,3/1,0,LOG,00000,"
                          "\"duration: 1.000 ms  statement: SELECT 'never\nclosed";
  Result whole = read_buffer(csv);
  Result r = read_buffer(cut);
  CHECK(r.error.empty());
  CHECK(r.statements == whole.statements);
  CHECK(r.summary.skipped_lines == 2);
  CHECK(r.err.find("ends inside a quoted csvlog field") != std::string::npos);
}

TEST_CASE("bad input: a wrong --prefix fails with the first line; --strict", "[ingest]") {
  cli::input::InputOptions o;
  o.prefix = "%t [%p-%l] %q%u@%d ";
  Result r = read_buffer(slurp(kSamples + "stderr/pg15-scenario.log"), o);
  CHECK(r.error.find("no line matches the log_line_prefix") != std::string::npos);
  CHECK(r.error.find("first line: '2026-11-26 12:18:57.152 UTC [17956]") != std::string::npos);
  CHECK(r.summary.noise_lines > 100);
  // Undetectable prefix: ask for --prefix.
  Result u = read_buffer("<<12:00>> pid 5 ## LOG:  duration: 1 ms  statement: SELECT 1\n");
  CHECK(u.error.find("--prefix") != std::string::npos);
  // --strict turns skipped lines into a failure.
  std::string log = slurp(kSamples + "stderr/pg15-scenario.log");
  std::string with_orphan = "2026-11-26 12:18:57.100 UTC [1] x@y/z 0 DETAIL:  orphan\n" + log;
  cli::input::InputOptions strict;
  strict.strict = true;
  TempDir dir;
  std::string path = (dir.path / "orphan.log").string();
  std::ofstream(path) << with_orphan;
  CHECK(read_paths({path}).error.empty());
  Result s = read_paths({path}, strict);
  CHECK(s.error.find("orphan.log:1:") != std::string::npos);
}

TEST_CASE("bad input: non-English messages give one warning", "[ingest]") {
  std::string log = "2026-01-01 00:00:00.000 UTC [5] FEHLER:  Relation »x« existiert nicht\n"
                    "2026-01-01 00:00:00.000 UTC [5] ANWEISUNG:  SELECT * FROM x\n"
                    "2026-01-01 00:00:01.000 UTC [6] FEHLER:  Syntaxfehler\n";
  cli::input::InputOptions o;
  o.prefix = "%m [%p] ";
  Result r = read_buffer(log, o);
  CHECK(r.err.find("lc_messages = 'C'") != std::string::npos);
  std::size_t first = r.err.find("translated");
  REQUIRE(first != std::string::npos);
  CHECK(r.err.find("translated", first + 1) == std::string::npos);
}

TEST_CASE("inputs: gzip, bzip2, xz and zstd are recognised from their bytes", "[ingest]") {
  TempDir dir;
  // Large enough that a cut lands past libarchive's first 64 KB block; a
  // smaller truncated file fails as a whole ("truncated gzip input").
  std::string plain = (dir.path / "pg.log").string();
  {
    // Random tails keep the copies from compressing to nothing (xz, zstd).
    std::string one = slurp(kSamples + "stderr/pg15-scenario.log");
    std::ofstream o(plain);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 40; ++i) {
      std::istringstream lines(one);
      std::string line;
      while (std::getline(lines, line)) o << line << " /* " << std::hex << rng() << " */\n";
    }
  }
  Result base = read_paths({plain});
  REQUIRE(base.error.empty());
  struct Tool {
    const char* command;
    const char* name;
  };
  for (Tool t : {Tool{"gzip -c", "gzip"}, Tool{"bzip2 -1 -c", "bzip2"}, Tool{"xz -c", "xz"},
                 Tool{"zstd -q -c", "zstd"}}) {
    // A misleading name: detection is by content.
    std::string out = (dir.path / (std::string("renamed-") + t.name + ".txt")).string();
    int status = 0;
    run_shell(std::string(t.command) + " " + plain + " > " + out, status);
    REQUIRE(status == 0);
    Result r = read_paths({out});
    INFO(t.name);
    CHECK(r.error.empty());
    CHECK(r.summary.compression == t.name);
    CHECK(r.statements == base.statements);
    CHECK_FALSE(r.summary.truncated);
    // Truncated: what could be read, plus a warning.
    std::string bytes = slurp(out);
    std::string cut = (dir.path / (std::string("cut-") + t.name)).string();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
    Result c = read_paths({cut});
    CHECK(c.summary.truncated);
    CHECK(c.err.find("ends early") != std::string::npos);
    CHECK(c.statements < base.statements);
    CHECK(c.statements > base.statements / 4);
  }
  // A tiny truncated file: libarchive fails while opening it; a clear error.
  std::string tiny = (dir.path / "tiny.gz").string();
  int status = 0;
  run_shell("gzip -c " + kSamples + "stderr/pg15-scenario.log | head -c 1500 > " + tiny, status);
  Result t = read_paths({tiny});
  CHECK(t.error.find("tiny.gz: truncated gzip input") != std::string::npos);
}

TEST_CASE("inputs: a directory is read in time order as one stream; stdin", "[ingest]") {
  TempDir dir;
  std::string log = slurp(kSamples + "stderr/pg15-scenario.log");
  // Split at a line boundary inside a log_statement/log_duration pair, so the
  // pair is joined only if the files are read in order as one stream.
  std::size_t split = log.find("\n", log.find("statement: SELECT count(*) FROM acct;")) + 1;
  fs::create_directory(dir.path / "logs");
  std::string older = (dir.path / "logs" / "postgresql-b.log").string();
  std::string newer = (dir.path / "logs" / "postgresql-a.log").string();
  std::ofstream(older) << log.substr(0, split);
  std::ofstream(newer) << log.substr(split);
  auto now = fs::file_time_type::clock::now();
  fs::last_write_time(older, now - std::chrono::hours(2));
  fs::last_write_time(newer, now - std::chrono::hours(1));
  std::ofstream(dir.path / "logs" / ".hidden.log") << "garbage\n";
  Result whole = read_buffer(log);
  Result r = read_paths({(dir.path / "logs").string()});
  CHECK(r.error.empty());
  CHECK(r.statements == whole.statements);
  CHECK(r.summary.path == older);

  int status = 0;
  std::string out = run_shell("cat " + kSamples + "stderr/pg15-scenario.log | " + PGSIFT_BINARY +
                                  " events --stats - 2>/dev/null",
                              status);
  CHECK(status == 0);
  CHECK(out.find("statements: " + std::to_string(whole.statements)) != std::string::npos);
  out = run_shell("gzip -c " + kSamples + "csvlog/pg15-scenario.csv | " + PGSIFT_BINARY +
                      " events --stats - 2>/dev/null",
                  status);
  CHECK(status == 0);
  CHECK(out.find("format csvlog, compression gzip") != std::string::npos);
}

TEST_CASE("inputs: files of a rotated series given in any order are read oldest first",
          "[ingest]") {
  std::vector<cli::input::InputSummary> summaries;
  std::ostringstream err;
  std::string error = cli::input::read_logs(
      {kSamples + "stderr/pg15-scenario.log", kSamples + "rds/rds-pg12.log"}, {},
      [](const model::Event&) {}, summaries, err);
  CHECK(error.empty());
  REQUIRE(summaries.size() == 2);
  CHECK(summaries[0].path == kSamples + "rds/rds-pg12.log");  // 2020 before 2026
  CHECK(summaries[1].path == kSamples + "stderr/pg15-scenario.log");
}
