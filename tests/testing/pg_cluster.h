// A throwaway PostgreSQL 15 cluster for tests tagged [pg].
//
// PgCluster runs initdb (/usr/lib/postgresql/15/bin; the result is cached as
// a template under /tmp and copied, so a start takes well under a second),
// listens on a free port on 127.0.0.1 and on a unix socket in its own temp
// dir, and logs everything pgsift reads: every statement with its duration
// (log_min_duration_statement = 0), lock waits (deadlock_timeout = 200ms),
// connections and disconnections, in stderr, csvlog and jsonlog files at
// fixed names (log_paths()). When the tests run as root, the server runs as
// the `postgres` OS user. The destructor stops the server and deletes the
// directory, also when a test fails; SIGINT/SIGTERM/SIGHUP/SIGABRT stop and
// delete all live clusters of the process, and clusters left behind by a
// killed test process are removed by the next PgCluster start.
//
//   pgsift::testing::PgCluster pg;                  // default options
//   pgsift::testing::PgSession s(pg.conninfo());
//   s.exec_params("SELECT $1::int", {"1"});
//   pg.sync_logs();
//   CHECK(pg.read_log(LogKind::jsonlog).find("SELECT $1::int") != npos);
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/testing/pg_session.h"
#include "tests/testing/pgbench.h"
#include "tests/testing/wait.h"

namespace pgsift::testing {

/// The prefix tests get unless they choose one: pgsift's recommended prefix
/// (reference/logs.md 1.1, first in the reader's detection list): timestamp,
/// pid, then for session processes only (%q) session id, session line,
/// virtual transaction id, transaction id, user@database/application, client
/// address and query id.
inline constexpr const char* kDefaultLogLinePrefix = "%m [%p] %q%c %l %v %x %u@%d/%a %r %Q ";
/// Debian's packaged default, for tests of the most common real-world prefix.
inline constexpr const char* kDebianLogLinePrefix = "%m [%p] %q%u@%d ";

struct PgClusterOptions {
  std::string log_line_prefix = kDefaultLogLinePrefix;
  int log_min_duration_statement_ms = 0;  // -1 turns statement logging off
  std::string log_destination = "stderr,csvlog,jsonlog";
  /// Base name of the log files; PostgreSQL derives the csvlog (.csv) and
  /// jsonlog (.json) names from it.
  std::string log_filename = "pg.log";
  /// More postgresql.conf settings, written last (so they override the
  /// defaults above) as name = 'value'; the value is quoted for you.
  std::vector<std::pair<std::string, std::string>> settings;
};

enum class LogKind { stderr_log, csvlog, jsonlog };

struct LogPaths {
  std::filesystem::path directory;
  std::filesystem::path stderr_log;
  std::filesystem::path csvlog;
  std::filesystem::path jsonlog;
};

/// Byte offsets into the log files, to read only what a test produced.
struct LogPosition {
  std::uintmax_t stderr_log = 0, csvlog = 0, jsonlog = 0;
};

class PgCluster {
 public:
  /// Starts the cluster; throws std::runtime_error with the server's output
  /// when it cannot.
  explicit PgCluster(PgClusterOptions options = {});
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  int port() const { return port_; }
  const std::filesystem::path& directory() const { return directory_; }
  std::filesystem::path data_directory() const { return directory_ / "data"; }
  const PgClusterOptions& options() const { return options_; }

  /// libpq connection string over TCP to 127.0.0.1 (trust auth unless the
  /// user was created with a password).
  std::string conninfo(std::string_view database = "postgres",
                       std::string_view user = "postgres") const;
  /// The same over the unix socket in directory().
  std::string socket_conninfo(std::string_view database = "postgres",
                              std::string_view user = "postgres") const;
  /// Opens a session (simple helper over PgSession(conninfo(...))).
  PgSession connect(std::string_view database = "postgres",
                    std::string_view user = "postgres") const;
  /// A superuser session whose own statements are not logged, for polling
  /// pg_stat_activity/pg_locks without adding lines to the logs under test.
  PgSession& observer();

  void create_database(const std::string& name);
  /// Creates a login role. With a password, TCP logins of that user need it
  /// (scram-sha-256 in pg_hba.conf); without, the role uses trust like all.
  void create_role(const std::string& name, std::optional<std::string> password = std::nullopt);

  const LogPaths& log_paths() const { return log_paths_; }
  const std::filesystem::path& log_path(LogKind kind) const;
  /// The whole log file of that kind (or from `from` on).
  std::string read_log(LogKind kind = LogKind::stderr_log) const;
  std::string read_log(LogKind kind, const LogPosition& from) const;
  /// Makes sure everything logged so far reached all log files (the logging
  /// collector writes asynchronously): logs a marker and waits for it in
  /// each destination. Throws if it does not show up within 10 s.
  void sync_logs();
  /// sync_logs(), then the current end of each file.
  LogPosition log_position();
  /// Waits until the log of that kind contains `needle` (or satisfies
  /// `predicate`); false on timeout.
  bool wait_for_log(std::string_view needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                    LogKind kind = LogKind::stderr_log) const;
  bool wait_for_log(const std::function<bool(const std::string& log)>& predicate,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                    LogKind kind = LogKind::stderr_log) const;
  /// SELECT pg_rotate_logfile(): with a strftime pattern in log_filename
  /// this starts new files; with the default fixed name the same files are
  /// reopened (appended to).
  void rotate_logs();
  /// Applies changed settings: ALTER SYSTEM SET name = value, then reload.
  /// New sessions see the value; already open ones after their next command.
  void set_config(const std::string& name, const std::string& value);

  /// Stops the server (fast shutdown, so the shutdown is logged); idempotent.
  /// The destructor calls it and then deletes directory().
  void stop();

 private:
  void prepare_directory();
  void write_config();
  void write_hba();
  void start_server();
  std::string server_output() const;

  PgClusterOptions options_;
  std::filesystem::path directory_;
  LogPaths log_paths_;
  int port_ = 0;
  int postmaster_pid_ = 0;
  int registry_slot_ = -1;
  bool running_ = false;
  std::vector<std::string> password_users_;
  std::unique_ptr<PgSession> observer_;
  std::mutex observer_mutex_;
  int sync_counter_ = 0;
};

}  // namespace pgsift::testing
