// Following a growing log file with `tail -F` semantics: appended bytes are
// returned as complete lines; when the file is renamed away and a new one
// appears under the same path (rotation) the rest of the old file is read
// first, then the new file from its start; when the file shrinks
// (truncation, copytruncate rotation) reading restarts at its start. A path
// that does not exist yet is waited for. Polling, no inotify: the caller
// decides the pace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pgsift::cli::input {

class FileFollower {
 public:
  /// `from_start`: read what the file holds already; else only what is
  /// appended after open().
  FileFollower(std::string path, bool from_start);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  /// Opens the file; "" on success, else a one-line error. A missing file
  /// is not an error when `wait_for_file` (it is then opened by poll()).
  std::string open(bool wait_for_file = false);

  /// Appends the complete lines (without '\n') that became available to
  /// `lines`; a final line without '\n' is held back until it is completed.
  /// Returns notices ("log rotated", "log truncated") for the user. At most
  /// about `max_bytes` are read per call (memory stays bounded on a big
  /// log); caught_up() then says whether more is already waiting.
  std::vector<std::string> poll(std::vector<std::string>& lines,
                                std::size_t max_bytes = static_cast<std::size_t>(-1));
  /// False when the last poll() stopped at `max_bytes` before the end.
  bool caught_up() const { return caught_up_; }
  /// Index in the last poll()'s `lines` where a new file began (rotation,
  /// truncation, the file appearing), or npos: line numbers restart there.
  std::size_t new_file_at() const { return new_file_at_; }

  /// The incomplete last line, if any (for a final flush at exit).
  std::string take_partial();

  const std::string& path() const { return path_; }
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t rotations() const { return rotations_; }
  std::uint64_t truncations() const { return truncations_; }

 private:
  bool open_current(bool at_end);
  /// Reads up to `max_bytes`; true when the end of the file was reached.
  bool read_available(std::vector<std::string>& lines, std::size_t max_bytes);

  std::string path_;
  bool from_start_;
  int fd_ = -1;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  off_t offset_ = 0;
  std::string partial_;
  std::uint64_t bytes_read_ = 0, rotations_ = 0, truncations_ = 0;
  bool caught_up_ = true;
  std::size_t new_file_at_ = static_cast<std::size_t>(-1);
};

}  // namespace pgsift::cli::input
