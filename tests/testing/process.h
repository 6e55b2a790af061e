// Child processes for the test harness: run a program to completion with its
// output captured (initdb, pg_ctl, pgbench -i), or keep one running in the
// background (a pgbench load). Programs that refuse to run as root are wrapped
// by the caller with as_postgres_user().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pgsift::testing {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or -(signal number) when killed
  std::string output;  // stdout and stderr interleaved
  bool timed_out = false;
};

/// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, waits at
/// most `timeout` (then SIGKILLs it) and returns its exit status and output.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(120));

/// Prefixes argv with `runuser -u postgres --` when this process runs as root
/// (initdb, pg_ctl and postgres refuse root); returns it unchanged otherwise.
std::vector<std::string> as_postgres_user(std::vector<std::string> argv);

/// A program running in the background, its stdout+stderr going to a file.
/// The destructor stops it (SIGINT, then SIGKILL after 5 s) and reaps it.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, std::filesystem::path output_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// Exit status once it ended within `timeout`, nullopt if still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  /// Sends `signal` unless it already ended.
  void send_signal(int signal);
  /// What it wrote so far.
  std::string output() const;
  const std::filesystem::path& output_path() const { return output_path_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path output_path_;
};

/// True while process `pid` runs (a zombie waiting to be reaped counts as
/// ended: a server whose parent is a container init may stay one).
bool process_is_running(pid_t pid);

/// Reads a whole file; "" when it does not exist.
std::string read_file(const std::filesystem::path& path);

}  // namespace pgsift::testing
