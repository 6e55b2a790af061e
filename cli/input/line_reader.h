// Splits a ByteSource into physical lines ('\n', a trailing '\r' dropped)
// with their 1-based numbers, without copying lines that fit in the buffer.
// A line longer than kMaxLineBytes is cut there (the rest is read and dropped,
// so memory stays bounded) and reported as truncated.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "cli/input/byte_source.h"

namespace pgsift::cli::input {

inline constexpr std::size_t kMaxLineBytes = std::size_t{32} << 20;

struct Line {
  std::string_view text;
  std::uint64_t number = 0;
  bool truncated = false;   // longer than kMaxLineBytes; text is the beginning
  bool unterminated = false;  // last line without '\n' (possibly half-written)
};

class LineReader {
 public:
  explicit LineReader(ByteSource& source, std::size_t max_line = kMaxLineBytes);

  /// Next line; false at the end. The view stays valid until the next call.
  bool next(Line& line);
  /// Lines at the start of the input, for format detection; does not consume.
  std::vector<std::string_view> peek(std::size_t max_lines);

  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool fill();  // reads more; false at end of input

  ByteSource& source_;
  std::size_t max_line_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0, scan_ = 0;
  bool eof_ = false;
  bool discarding_ = false;  // inside the dropped tail of an over-long line
  std::uint64_t number_ = 0;
  std::uint64_t bytes_read_ = 0;
};

}  // namespace pgsift::cli::input
