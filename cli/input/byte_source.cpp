#include "cli/input/byte_source.h"

#include <archive.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pgsift::cli::input {
namespace {

constexpr std::size_t kArchiveBlock = 1 << 16;

class FdSource final : public ByteSource {
 public:
  FdSource(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  std::size_t read(char* buffer, std::size_t size) override {
    while (true) {
      ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      return 0;
    }
  }

 private:
  int fd_;
  bool owned_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  std::size_t read(char* buffer, std::size_t size) override {
    std::size_t n = std::min(size, data_.size());
    std::memcpy(buffer, data_.data(), n);
    data_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view data_;
};

// Decompresses any libarchive filter; the "raw" format treats the stream as
// one entry, so plain text goes through unchanged (used for stdin).
class ArchiveSource final : public ByteSource {
 public:
  ArchiveSource() : archive_(archive_read_new()) {
    archive_read_support_filter_all(archive_);
    archive_read_support_format_raw(archive_);
  }
  ~ArchiveSource() override {
    archive_read_free(archive_);
    if (owned_fd_ >= 0) ::close(owned_fd_);
  }

  bool open_fd(int fd, bool owned) {
    if (owned) owned_fd_ = fd;
    return finish_open(archive_read_open_fd(archive_, fd, kArchiveBlock));
  }
  bool open_memory(std::string_view data) {
    return finish_open(archive_read_open_memory(archive_, data.data(), data.size()));
  }

  std::size_t read(char* buffer, std::size_t size) override {
    if (done_) return 0;
    // Small reads: archive_read_data drops a partially filled buffer when the
    // stream turns out truncated, so ask for one block at a time.
    la_ssize_t n = archive_read_data(archive_, buffer, std::min(size, kArchiveBlock));
    if (n > 0) return static_cast<std::size_t>(n);
    done_ = true;
    if (n < 0) {
      const char* message = archive_error_string(archive_);
      error_ = message != nullptr ? message : "decompression failed";
      truncated_ = true;
    }
    return 0;
  }

 private:
  bool finish_open(int status) {
    if (status != ARCHIVE_OK) {
      set_error();
      return false;
    }
    archive_entry* entry = nullptr;
    int header = archive_read_next_header(archive_, &entry);
    if (header == ARCHIVE_EOF) {
      done_ = true;  // empty input
    } else if (header != ARCHIVE_OK && header != ARCHIVE_WARN) {
      set_error();
      return false;
    }
    const char* name = archive_filter_name(archive_, 0);
    std::string_view filter = name != nullptr ? name : "";
    if (filter != "none") compression_ = filter;
    return true;
  }
  void set_error() {
    const char* message = archive_error_string(archive_);
    error_ = message != nullptr ? message : "cannot read input";
  }

  archive* archive_;
  int owned_fd_ = -1;
  bool done_ = false;
};

}  // namespace

std::string_view compression_from_magic(std::string_view h) {
  auto starts = [&](std::string_view magic) { return h.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return "gzip";
  if (starts("BZh")) return "bzip2";
  if (starts(std::string_view("\xfd" "7zXZ\0", 6))) return "xz";
  if (starts("\x28\xb5\x2f\xfd")) return "zstd";
  return "";
}

std::unique_ptr<ByteSource> open_byte_source(const std::string& path, std::string& error) {
  if (path == "-") {
    auto source = std::make_unique<ArchiveSource>();
    if (!source->open_fd(STDIN_FILENO, false)) {
      error = "standard input: " + source->error();
      return nullptr;
    }
    return source;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = path + ": is a directory";
    return nullptr;
  }
  char head[8] = {};
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  std::string_view magic(head, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (compression_from_magic(magic).empty()) {
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return std::make_unique<FdSource>(fd, true);
  }
  auto source = std::make_unique<ArchiveSource>();
  if (!source->open_fd(fd, true)) {
    error = path + ": " + source->error();
    return nullptr;
  }
  return source;
}

std::unique_ptr<ByteSource> memory_byte_source(std::string_view data) {
  if (compression_from_magic(data).empty()) return std::make_unique<MemorySource>(data);
  auto source = std::make_unique<ArchiveSource>();
  if (!source->open_memory(data)) return std::make_unique<MemorySource>(std::string_view{});
  return source;
}

}  // namespace pgsift::cli::input
