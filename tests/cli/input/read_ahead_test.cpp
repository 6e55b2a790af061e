// ReadAhead (cli/input/read_ahead.h): another thread may read an input's
// next blocks while the parsing thread is busy. Whoever reads them, the
// parsing thread must get every byte once, in order, and the input's end,
// compression and truncation as if it had read the input itself.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/input/byte_source.h"
#include "cli/input/line_reader.h"
#include "cli/input/read_ahead.h"

namespace {

namespace fs = std::filesystem;
using pgsift::cli::input::ByteSource;
using pgsift::cli::input::ReadAhead;

// Numbered lines of about 60 bytes (2.4 MB for 40,000: more than the ring
// holds, 16 x 128 KB), no two alike, so a block out of place or twice cannot
// go unnoticed.
std::string numbered_lines(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += "2026-12-06 19:00:00 UTC [" + std::to_string(i) + "] LOG:  statement: SELECT " +
            std::to_string(i * 7) + "\n";
  }
  return text;
}

// Reads `source` to its end in pieces of random size, calling help() 0-3
// times before each piece (as the analysis thread does while it waits).
std::string read_all(ByteSource& source, ReadAhead& ahead, std::mt19937& rng) {
  std::string out;
  std::vector<char> buffer(300 << 10);
  while (true) {
    for (unsigned k = rng() % 4; k > 0; --k) ahead.help();
    const std::size_t n = source.read(buffer.data(), 1 + rng() % buffer.size());
    if (n == 0) return out;
    out.append(buffer.data(), n);
  }
}

std::string gzip(const std::string& text, const std::string& name) {
  const fs::path dir = fs::temp_directory_path();
  const fs::path plain = dir / (name + "-" + std::to_string(::getpid()));
  { std::ofstream(plain, std::ios::binary) << text; }
  const std::string command = "gzip -1 -c " + plain.string() + " > " + plain.string() + ".gz";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream in(plain.string() + ".gz", std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  fs::remove(plain);
  fs::remove(plain.string() + ".gz");
  return bytes.str();
}

}  // namespace

TEST_CASE("read-ahead: every byte once and in order, whichever side reads it", "[ingest][jobs]") {
  const std::string text = numbered_lines(40000);
  REQUIRE(text.size() > (16 << 17));
  for (unsigned seed = 1; seed <= 4; ++seed) {
    ReadAhead ahead;
    std::unique_ptr<ByteSource> source = ahead.wrap(pgsift::cli::input::memory_byte_source(text));
    std::mt19937 rng(seed);
    INFO("seed " << seed);
    CHECK(read_all(*source, ahead, rng) == text);
    CHECK(ahead.blocks_helped() > 0);
    CHECK(source->read(nullptr, 0) == 0);  // stays at the end
    CHECK_FALSE(ahead.help());
    CHECK(source->error().empty());
  }
}

TEST_CASE("read-ahead: the ring holds 16 blocks, then waits for the parsing thread", "[ingest][jobs]") {
  const std::string text = numbered_lines(40000);
  ReadAhead ahead;
  CHECK_FALSE(ahead.help());  // no input yet
  std::unique_ptr<ByteSource> source = ahead.wrap(pgsift::cli::input::memory_byte_source(text));
  for (int i = 0; i < 16; ++i) CHECK(ahead.help());
  CHECK_FALSE(ahead.help());  // full
  // Taking one whole block (128 KB) makes room for one more.
  std::vector<char> buffer(1 << 17);
  CHECK(source->read(buffer.data(), buffer.size()) == buffer.size());
  CHECK(std::string(buffer.data(), buffer.size()) == text.substr(0, buffer.size()));
  CHECK(ahead.help());
  CHECK_FALSE(ahead.help());
  CHECK(ahead.blocks_helped() == 1);
}

TEST_CASE("read-ahead: an input given up early leaves nothing for the next one", "[ingest][jobs]") {
  const std::string first = numbered_lines(20000), second = "second input\n" + numbered_lines(30000);
  ReadAhead ahead;
  {
    std::unique_ptr<ByteSource> source = ahead.wrap(pgsift::cli::input::memory_byte_source(first));
    for (int i = 0; i < 5; ++i) ahead.help();
    char head[10];
    REQUIRE(source->read(head, sizeof head) == sizeof head);
  }
  CHECK_FALSE(ahead.help());  // between inputs
  std::unique_ptr<ByteSource> source = ahead.wrap(pgsift::cli::input::memory_byte_source(second));
  std::mt19937 rng(11);
  CHECK(read_all(*source, ahead, rng) == second);
}

TEST_CASE("read-ahead: compressed input is left to the parsing thread", "[ingest][jobs]") {
  // Its decompressor's state would move between the cores with every block.
  const std::string text = numbered_lines(60000);
  const std::string packed = gzip(text, "pgsift-read-ahead");
  ReadAhead ahead;
  std::unique_ptr<ByteSource> source = ahead.wrap(pgsift::cli::input::memory_byte_source(packed));
  CHECK(source->compression() == "gzip");
  CHECK_FALSE(ahead.help());
  std::mt19937 rng(3);
  CHECK(read_all(*source, ahead, rng) == text);
  CHECK(ahead.blocks_helped() == 0);
  CHECK_FALSE(source->truncated());
  // Cut short: the end and the truncation come through.
  const std::string cut = packed.substr(0, packed.size() * 2 / 3);
  std::unique_ptr<ByteSource> short_source;
  source.reset();
  short_source = ahead.wrap(pgsift::cli::input::memory_byte_source(cut));
  const std::string out = read_all(*short_source, ahead, rng);
  CHECK(short_source->truncated());
  CHECK_FALSE(short_source->error().empty());
  CHECK(out.size() > text.size() / 3);
  CHECK(out.size() < text.size());
  CHECK(text.compare(0, out.size(), out) == 0);
}

TEST_CASE("read-ahead: a second thread reading ahead while lines are split", "[ingest][jobs]") {
  const std::string text = numbered_lines(80000);
  ReadAhead ahead;
  std::atomic<bool> done{false};
  std::thread helper([&] {
    while (!done.load()) {
      if (!ahead.help()) std::this_thread::yield();
    }
  });
  std::unique_ptr<ByteSource> source = ahead.wrap(pgsift::cli::input::memory_byte_source(text));
  pgsift::cli::input::LineReader lines(*source);
  pgsift::cli::input::Line line;
  std::uint64_t count = 0;
  bool in_order = true;
  while (lines.next(line)) {
    const std::string expected = "[" + std::to_string(count) + "]";
    if (line.text.find(expected) == std::string_view::npos) in_order = false;
    ++count;
  }
  done.store(true);
  helper.join();
  CHECK(in_order);
  CHECK(count == 80000);
}
