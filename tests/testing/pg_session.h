// A libpq session for tests: statements in the simple protocol (PQexec) or
// the extended protocol with parameters (PQexecParams, PQprepare +
// PQexecPrepared), errors as exceptions carrying the SQLSTATE, and
// statements run on a background thread for scenarios where one session
// blocks another (lock waits, deadlocks, lock timeouts).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct pg_conn;

namespace pgsift::testing {

using Param = std::optional<std::string>;  // nullopt = SQL NULL

/// A statement the server rejected.
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

/// Rows in text format.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Param>> rows;
  std::string command_status;  // "UPDATE 1", "SELECT 3", ...

  /// The value at (row, column); throws when out of range or NULL.
  const std::string& value(std::size_t row = 0, std::size_t column = 0) const;
  /// Rows affected (UPDATE/DELETE/INSERT) or returned (SELECT).
  long affected() const;
};

class PgSession {
 public:
  /// Connects; throws std::runtime_error with libpq's message on failure.
  explicit PgSession(const std::string& conninfo);
  ~PgSession();
  PgSession(PgSession&& other) noexcept;
  PgSession& operator=(PgSession&& other) noexcept;
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  /// Simple protocol (one Query message; may hold several statements, the
  /// last one's result is returned). Throws PgError.
  QueryResult exec(const std::string& sql);
  /// Extended protocol with text parameters $1..$n (unnamed statement).
  QueryResult exec_params(const std::string& sql, const std::vector<Param>& params);
  /// Extended protocol, named prepared statement.
  void prepare(const std::string& name, const std::string& sql);
  QueryResult exec_prepared(const std::string& name, const std::vector<Param>& params);

  /// Runs `sql` and returns the error it must fail with; throws
  /// std::runtime_error if it succeeds.
  PgError expect_error(const std::string& sql);
  PgError expect_error_params(const std::string& sql, const std::vector<Param>& params);

  /// Asks the server to cancel the running statement (safe from any thread).
  void cancel();
  int backend_pid() const;
  const std::string& conninfo() const { return conninfo_; }
  /// Notices and warnings the server sent to this session.
  std::vector<std::string> notices() const;
  pg_conn* raw() { return conn_; }

 private:
  pg_conn* conn_ = nullptr;
  std::string conninfo_;
  struct NoticeSink;
  std::unique_ptr<NoticeSink> notices_;
};

/// What a background statement ended with: a result or an error.
struct BackgroundOutcome {
  std::optional<QueryResult> result;
  std::optional<PgError> error;
  bool ok() const { return result.has_value(); }
  std::string sqlstate() const { return error ? error->sqlstate() : ""; }
};

/// Runs one statement on `session` in a new thread, so that the test can go
/// on while it blocks. The session must outlive this object and must not be
/// used by the test until join() returned. The destructor cancels a
/// statement still running and joins.
class BackgroundStatement {
 public:
  /// Simple protocol when `params` is nullopt, extended otherwise.
  BackgroundStatement(PgSession& session, std::string sql,
                      std::optional<std::vector<Param>> params = std::nullopt);
  ~BackgroundStatement();
  BackgroundStatement(const BackgroundStatement&) = delete;
  BackgroundStatement& operator=(const BackgroundStatement&) = delete;

  /// Polls pg_stat_activity through `observer` until the statement's backend
  /// waits on a heavyweight lock (wait_event_type = 'Lock'). False on timeout.
  bool wait_until_lock_wait(PgSession& observer,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// True once the statement ended.
  bool done() const;
  /// Waits for the statement to end; throws std::runtime_error after `timeout`.
  BackgroundOutcome join(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  PgSession& session_;
  int backend_pid_;
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  bool done_ = false;
  BackgroundOutcome outcome_;
  std::thread thread_;
};

}  // namespace pgsift::testing
