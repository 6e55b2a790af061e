// Raw bytes of one input: a file, standard input ("-") or memory. Compressed
// input (gzip, bzip2, xz, zstd) is recognised from its first bytes, never its
// name, and decompressed with libarchive; a truncated stream yields what could
// be read and sets truncated().
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace pgsift::cli::input {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to `size` bytes; 0 at the end of input or after an error.
  virtual std::size_t read(char* buffer, std::size_t size) = 0;

  const std::string& compression() const { return compression_; }
  bool truncated() const { return truncated_; }
  /// Set when reading stopped on an error (e.g. "truncated gzip input").
  const std::string& error() const { return error_; }

 protected:
  std::string compression_;
  bool truncated_ = false;
  std::string error_;
};

/// Opens `path` ("-" = stdin). On failure returns null and sets `error`.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path, std::string& error);
/// Reads from memory (tests, fuzzers); compressed buffers are decompressed.
std::unique_ptr<ByteSource> memory_byte_source(std::string_view data);

/// "gzip", "bzip2", "xz", "zstd" or "" from the first bytes of a stream.
std::string_view compression_from_magic(std::string_view head);

}  // namespace pgsift::cli::input
