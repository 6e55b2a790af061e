// The one place pgsift talks libpq. A Connection is a read-only, bounded,
// labelled monitoring session: application_name=pgsift,
// default_transaction_read_only=on, statement_timeout and lock_timeout set
// through the startup `options`, so no query of ours can queue behind, or
// block, the application. CONNINFO is a libpq URI or key/value string; the
// PG* environment, .pgpass and service files work as in psql because libpq
// resolves them. Every message that leaves this file is scrubbed of
// passwords and folded onto one line.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace pgsift::cli::live {

/// A failed query or a lost connection. what() is one scrubbed line.
class QueryError : public std::runtime_error {
 public:
  QueryError(std::string message, std::string sqlstate, bool connection_lost)
      : std::runtime_error(std::move(message)),
        sqlstate_(std::move(sqlstate)),
        connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool connection_lost() const { return connection_lost_; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

/// A query result in text format. Cells are addressed by row and column
/// name (looked up once per call; results are small).
class Result {
 public:
  explicit Result(pg_result* result);
  int rows() const;
  /// Index of column `name`, or -1 when the result has no such column.
  int column(std::string_view name) const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  /// Text of the named column ("" when NULL or absent).
  std::string text(int row, std::string_view name) const;
  std::optional<std::int64_t> integer(int row, std::string_view name) const;
  std::optional<double> number(int row, std::string_view name) const;
  bool boolean(int row, std::string_view name) const;
  /// A PostgreSQL array of integers ("{1,2}") as a vector.
  std::vector<std::int32_t> int_array(int row, std::string_view name) const;

 private:
  struct Deleter {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Deleter> result_;
};

/// Settings pgsift puts on every session it opens.
struct SessionSettings {
  std::string statement_timeout = "2s";
  std::string lock_timeout = "100ms";
  int connect_timeout_seconds = 10;  // used unless CONNINFO or PGCONNECT_TIMEOUT set one
};

class Connection {
 public:
  /// Connects; on failure returns nullptr and sets `error` to one scrubbed
  /// line ("cannot connect to ...: <libpq's reason>").
  static std::unique_ptr<Connection> open(const std::string& conninfo,
                                          const SessionSettings& settings, std::string& error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one statement with text parameters ($1..$n). Throws QueryError.
  Result query(std::string_view sql, const std::vector<std::string>& parameters = {});
  /// True while libpq considers the connection usable.
  bool is_alive() const;
  /// pid of this session's backend (to leave our own activity out).
  std::int32_t backend_pid() const;
  /// Server version as an integer (150004 for 15.4).
  int server_version() const;
  /// "host:port/dbname as user" for messages and reports; never a password.
  const std::string& description() const { return description_; }
  /// The database this session is connected to.
  std::string database() const;
  std::string user() const;
  /// Scrubs this connection's secrets (and password-looking text) from `text`.
  std::string scrub(std::string_view text) const;

 private:
  struct Deleter {
    void operator()(pg_conn* conn) const;
  };
  Connection(pg_conn* conn, std::vector<std::string> secrets);
  std::unique_ptr<pg_conn, Deleter> conn_;
  std::vector<std::string> secrets_;
  std::string description_;
};

/// Removes passwords from text meant for output: every occurrence of a known
/// secret, `password=<value>` pairs, and the password part of
/// `scheme://user:password@host` URIs. Folds newlines and tabs onto one line.
std::string scrub_secrets(std::string_view text, const std::vector<std::string>& secrets);

/// The secrets a conninfo string (plus PGPASSWORD) carries, for scrubbing.
std::vector<std::string> conninfo_secrets(const std::string& conninfo);

}  // namespace pgsift::cli::live
