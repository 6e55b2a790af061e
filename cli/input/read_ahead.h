// Reading an input ahead on a thread other than the one that parses it, for
// the two-thread pipeline (cli/analysis/threaded_reader): when the parsing
// thread is the slower stage, the analysis thread would otherwise wait idle
// for its records, so while it waits it reads the next blocks of the input
// into a small ring, and the parsing thread copies them instead of making
// the system calls itself. When the analysis is the slower stage it never
// waits, and the parsing thread reads as it always did. This is the one
// piece of the reader's work that can move to the other thread: parsing
// ahead (model::ParsedAhead) moves work the other way.
//
// Measured with two threads, alternating builds, the median of 25 rounds'
// ratios: jsonlog (171 MB, the most bytes per record) 4.4% less time,
// csvlog 1.7%, stderr none; the gain is in the minutes when this VM runs
// the reader's vCPU slower than the other.
//
// Compressed input is not read ahead: the decompressor's state (its window:
// 32 KB for gzip, up to megabytes for zstd) would then move between the two
// cores with every block. When it was (bench/ab, 9 rounds, bench.log): .gz
// 143 -> 156 ms, .zst 128 -> 145 ms.
//
// The bytes reach the parsing thread in file order, each exactly once: every
// read from the input, by either thread, happens under one lock, blocks in
// the ring are taken in the order they were read, and the parsing thread
// reads the input itself only when the ring is empty.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

#include "cli/input/byte_source.h"

namespace pgsift::cli::input {

class ReadAhead {
 public:
  ReadAhead();
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// The parsing thread: `inner` read through the ring while the returned
  /// source lives (one input at a time).
  std::unique_ptr<ByteSource> wrap(std::unique_ptr<ByteSource> inner);

  /// Any other thread: reads the input's next block into the ring when it
  /// has room, no one else is reading and the input is not compressed. True
  /// if it read something (or reached the end), false if there was nothing
  /// to do.
  bool help();

  /// Blocks the parsing thread got from the ring rather than read itself.
  std::size_t blocks_helped() const { return helped_.load(std::memory_order_relaxed); }

 private:
  class Source;
  friend class Source;
  static constexpr std::size_t kBlock = std::size_t{1} << 17;  // the LineReader's chunk
  static constexpr std::size_t kBlocks = 16;

  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
  };
  // Reads the next block into the ring; mu_ held, open_ set.
  bool fill_locked();

  std::mutex mu_;              // serialises every read from the input
  Source* current_ = nullptr;  // the input being read (guarded by mu_)
  // current_ is set, uncompressed and not at its end: what help() needs.
  // Written under mu_; help() looks here and at the ring before it touches
  // the lock (it is called again and again while the other thread waits),
  // and again once it holds it.
  std::atomic<bool> open_{false};
  Block blocks_[kBlocks];
  // Single producer (whoever holds mu_), single consumer (the parsing thread).
  std::atomic<std::size_t> produced_{0};
  std::atomic<std::size_t> consumed_{0};
  std::atomic<std::size_t> helped_{0};
};

}  // namespace pgsift::cli::input
