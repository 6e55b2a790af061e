#include "cli/input/line_reader.h"

#include <cstring>

namespace pgsift::cli::input {
namespace {
constexpr std::size_t kChunk = std::size_t{1} << 17;
}

LineReader::LineReader(ByteSource& source, std::size_t max_line)
    : source_(source), max_line_(max_line), buffer_(kChunk + 1) {}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0 && (buffer_.size() - end_ < kChunk / 4 || begin_ == end_)) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kChunk / 4) {
    buffer_.resize(std::max(buffer_.size() * 2, end_ + kChunk));
  }
  std::size_t n = source_.read(buffer_.data() + end_, buffer_.size() - end_);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  bytes_read_ += n;
  return true;
}

bool LineReader::next(Line& line) {
  while (true) {
    const char* base = buffer_.data();
    const void* nl = scan_ < end_ ? std::memchr(base + scan_, '\n', end_ - scan_) : nullptr;
    if (nl != nullptr) {
      std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      if (discarding_) {
        // End of an over-long line whose beginning was already returned.
        discarding_ = false;
        begin_ = scan_ = pos + 1;
        continue;
      }
      std::size_t len = pos - begin_;
      if (len > 0 && base[pos - 1] == '\r') --len;
      line.text = std::string_view(base + begin_, len);
      line.number = ++number_;
      line.truncated = false;
      line.unterminated = false;
      begin_ = scan_ = pos + 1;
      return true;
    }
    scan_ = end_;
    if (discarding_) {
      begin_ = scan_ = end_ = 0;
      if (!fill()) return false;
      continue;
    }
    if (end_ - begin_ >= max_line_) {
      line.text = std::string_view(base + begin_, max_line_);
      line.number = ++number_;
      line.truncated = true;
      line.unterminated = false;
      discarding_ = true;
      begin_ = scan_ = end_;  // drop the buffered tail, keep reading until '\n'
      return true;
    }
    if (!fill()) {
      if (begin_ == end_) return false;
      line.text = std::string_view(buffer_.data() + begin_, end_ - begin_);
      line.number = ++number_;
      line.truncated = false;
      line.unterminated = true;
      begin_ = scan_ = end_;
      return true;
    }
  }
}

std::vector<std::string_view> LineReader::peek(std::size_t max_lines) {
  while (end_ - begin_ < kChunk && fill()) {
  }
  std::vector<std::string_view> lines;
  std::size_t pos = begin_;
  while (lines.size() < max_lines && pos < end_) {
    const void* nl = std::memchr(buffer_.data() + pos, '\n', end_ - pos);
    std::size_t stop = nl != nullptr
                           ? static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data())
                           : end_;
    std::size_t len = stop - pos;
    if (len > 0 && buffer_[stop - 1] == '\r') --len;
    lines.emplace_back(buffer_.data() + pos, len);
    pos = stop + 1;
    if (nl == nullptr) break;
  }
  return lines;
}

}  // namespace pgsift::cli::input
