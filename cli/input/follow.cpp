#include "cli/input/follow.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgsift::cli::input {

namespace {
constexpr std::size_t kChunk = 1 << 16;
// A line longer than this without '\n' is cut, so a binary file cannot make
// memory grow without bound.
constexpr std::size_t kMaxLine = 16 << 20;
}  // namespace

FileFollower::FileFollower(std::string path, bool from_start)
    : path_(std::move(path)), from_start_(from_start) {}

FileFollower::~FileFollower() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileFollower::open_current(bool at_end) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  device_ = st.st_dev;
  inode_ = st.st_ino;
  offset_ = at_end ? st.st_size : 0;
  return true;
}

std::string FileFollower::open(bool wait_for_file) {
  if (open_current(!from_start_)) return {};
  const int error = errno;
  if (wait_for_file && error == ENOENT) return {};
  return "cannot open " + path_ + ": " + std::strerror(error);
}

bool FileFollower::read_available(std::vector<std::string>& lines, std::size_t max_bytes) {
  char buffer[kChunk];
  std::size_t read = 0;
  while (true) {
    if (read >= max_bytes) return false;
    const ssize_t n = ::pread(fd_, buffer, sizeof buffer, offset_);
    if (n <= 0) return true;
    read += static_cast<std::size_t>(n);
    offset_ += n;
    bytes_read_ += static_cast<std::uint64_t>(n);
    std::size_t start = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      if (buffer[i] != '\n') continue;
      partial_.append(buffer + start, i - start);
      lines.push_back(std::move(partial_));
      partial_.clear();
      start = i + 1;
    }
    partial_.append(buffer + start, static_cast<std::size_t>(n) - start);
    if (partial_.size() > kMaxLine) {
      lines.push_back(std::move(partial_));
      partial_.clear();
    }
  }
}

std::vector<std::string> FileFollower::poll(std::vector<std::string>& lines,
                                            std::size_t max_bytes) {
  std::vector<std::string> notices;
  caught_up_ = true;
  new_file_at_ = static_cast<std::size_t>(-1);
  if (fd_ < 0) {
    // Waiting for the file to appear: read it whole once it does.
    if (open_current(false)) {
      notices.push_back(path_ + " appeared; following it");
      new_file_at_ = lines.size();
    }
    if (fd_ < 0) return notices;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size < offset_) {
    // Truncated in place (copytruncate, or `> file`): start over.
    ++truncations_;
    notices.push_back(path_ + " was truncated; reading it from the start");
    offset_ = 0;
    partial_.clear();
    new_file_at_ = lines.size();
  }
  if (!read_available(lines, max_bytes)) {
    caught_up_ = false;  // the rest next time; rotation is looked at once drained
    return notices;
  }
  struct stat by_path {};
  if (::stat(path_.c_str(), &by_path) == 0 &&
      (by_path.st_dev != device_ || by_path.st_ino != inode_)) {
    // Rotated: the old file is finished; what its writer added since the
    // read above is drained first, then the new file under the same name is
    // read from its start.
    if (!read_available(lines, max_bytes)) {
      caught_up_ = false;
      return notices;
    }
    if (!partial_.empty()) {
      lines.push_back(std::move(partial_));
      partial_.clear();
    }
    if (open_current(false)) {
      new_file_at_ = lines.size();
      ++rotations_;
      notices.push_back(path_ + " was rotated; following the new file");
      caught_up_ = read_available(lines, max_bytes);
    }
  }
  return notices;
}

std::string FileFollower::take_partial() {
  std::string out = std::move(partial_);
  partial_.clear();
  return out;
}

}  // namespace pgsift::cli::input
