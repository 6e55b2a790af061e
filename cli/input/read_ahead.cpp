#include "cli/input/read_ahead.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace pgsift::cli::input {

class ReadAhead::Source final : public ByteSource {
 public:
  Source(ReadAhead& owner, std::unique_ptr<ByteSource> inner) : owner_(owner), inner_(std::move(inner)) {
    compression_ = inner_->compression();
    std::lock_guard<std::mutex> lock(owner_.mu_);
    owner_.current_ = this;
    owner_.open_.store(compression_.empty(), std::memory_order_relaxed);
  }
  ~Source() override {
    std::lock_guard<std::mutex> lock(owner_.mu_);
    owner_.current_ = nullptr;
    owner_.open_.store(false, std::memory_order_relaxed);
    // Blocks of an input left unread (it was given up) are dropped.
    owner_.consumed_.store(owner_.produced_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }

  std::size_t read(char* buffer, std::size_t size) override {
    while (true) {
      const std::size_t next = owner_.consumed_.load(std::memory_order_relaxed);  // only this thread writes it
      if (next != owner_.produced_.load(std::memory_order_acquire)) {
        const Block& block = owner_.blocks_[next % kBlocks];
        const std::size_t n = std::min(size, block.size - offset_);
        std::memcpy(buffer, block.data.get() + offset_, n);
        offset_ += n;
        if (offset_ == block.size) {
          offset_ = 0;
          owner_.consumed_.store(next + 1, std::memory_order_release);
          owner_.helped_.fetch_add(1, std::memory_order_relaxed);
        }
        return n;
      }
      std::lock_guard<std::mutex> lock(owner_.mu_);
      if (next != owner_.produced_.load(std::memory_order_relaxed)) continue;  // a block just came in
      if (eof_) return 0;
      const std::size_t n = inner_->read(buffer, size);
      if (n == 0) finish_locked();
      return n;
    }
  }

  // The input is exhausted: its error, if any, becomes this source's. mu_ held.
  void finish_locked() {
    eof_ = true;
    owner_.open_.store(false, std::memory_order_relaxed);
    error_ = inner_->error();
    truncated_ = inner_->truncated();
  }

  ReadAhead& owner_;
  std::unique_ptr<ByteSource> inner_;
  bool eof_ = false;        // guarded by owner_.mu_
  std::size_t offset_ = 0;  // into the oldest block (parsing thread only)
};

ReadAhead::ReadAhead() {
  for (Block& block : blocks_) block.data = std::make_unique_for_overwrite<char[]>(kBlock);
}

ReadAhead::~ReadAhead() = default;

std::unique_ptr<ByteSource> ReadAhead::wrap(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<Source>(*this, std::move(inner));
}

bool ReadAhead::help() {
  // Unlocked looks first (fill_locked() looks again under the lock).
  if (!open_.load(std::memory_order_relaxed) ||
      produced_.load(std::memory_order_relaxed) - consumed_.load(std::memory_order_relaxed) >= kBlocks) {
    return false;
  }
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || !open_.load(std::memory_order_relaxed)) return false;
  return fill_locked();
}

bool ReadAhead::fill_locked() {
  Source& source = *current_;
  const std::size_t at = produced_.load(std::memory_order_relaxed);
  if (at - consumed_.load(std::memory_order_acquire) >= kBlocks) return false;
  // A whole block (read() may return less): the fewer blocks, the fewer
  // times the parsing thread finds the ring empty.
  Block& block = blocks_[at % kBlocks];
  block.size = 0;
  while (block.size < kBlock) {
    const std::size_t n = source.inner_->read(block.data.get() + block.size, kBlock - block.size);
    if (n == 0) {
      source.finish_locked();
      break;
    }
    block.size += n;
  }
  if (block.size != 0) produced_.store(at + 1, std::memory_order_release);
  return true;
}

}  // namespace pgsift::cli::input
