#include "tests/testing/pg_session.h"

#include <libpq-fe.h>

#include "tests/testing/wait.h"

namespace pgsift::testing {

const std::string& QueryResult::value(std::size_t row, std::size_t column) const {
  if (row >= rows.size() || column >= rows[row].size()) {
    throw std::out_of_range("no value at row " + std::to_string(row) + ", column " +
                            std::to_string(column) + " (" + command_status + ")");
  }
  if (!rows[row][column]) throw std::runtime_error("value is NULL");
  return *rows[row][column];
}

long QueryResult::affected() const {
  auto space = command_status.rfind(' ');
  if (space == std::string::npos) return 0;
  return std::stol(command_status.substr(space + 1));
}

struct PgSession::NoticeSink {
  mutable std::mutex mutex;
  std::vector<std::string> messages;
};

namespace {

void collect_notice(void* arg, const PGresult* result) {
  auto* sink = static_cast<std::vector<std::string>*>(arg);
  const char* message = PQresultErrorMessage(result);
  sink->push_back(message ? message : "");
}

// Converts one result; throws PgError for a failed statement.
QueryResult take_result(PGresult* result, pg_conn* conn) {
  struct Clear {
    PGresult* r;
    ~Clear() { PQclear(r); }
  } clear{result};
  if (result == nullptr) throw PgError("", PQerrorMessage(conn));
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    throw PgError(sqlstate ? sqlstate : "", PQresultErrorMessage(result));
  }
  QueryResult out;
  out.command_status = PQcmdStatus(result);
  const int columns = PQnfields(result);
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result, c));
  const int rows = PQntuples(result);
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<Param> row;
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result, r, c),
                                     static_cast<std::size_t>(PQgetlength(result, r, c))));
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::vector<const char*> param_pointers(const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

PgSession::PgSession(const std::string& conninfo)
    : conninfo_(conninfo), notices_(std::make_unique<NoticeSink>()) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw std::runtime_error("cannot connect (" + conninfo + "): " + message);
  }
  PQsetNoticeReceiver(
      conn_,
      [](void* arg, const PGresult* result) {
        auto* sink = static_cast<NoticeSink*>(arg);
        std::lock_guard lock(sink->mutex);
        collect_notice(&sink->messages, result);
      },
      notices_.get());
}

PgSession::~PgSession() {
  if (conn_ != nullptr) PQfinish(conn_);
}

PgSession::PgSession(PgSession&& other) noexcept
    : conn_(other.conn_),
      conninfo_(std::move(other.conninfo_)),
      notices_(std::move(other.notices_)) {
  other.conn_ = nullptr;
}

PgSession& PgSession::operator=(PgSession&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = other.conn_;
    conninfo_ = std::move(other.conninfo_);
    notices_ = std::move(other.notices_);
    other.conn_ = nullptr;
  }
  return *this;
}

QueryResult PgSession::exec(const std::string& sql) {
  return take_result(PQexec(conn_, sql.c_str()), conn_);
}

QueryResult PgSession::exec_params(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values = param_pointers(params);
  return take_result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0),
                     conn_);
}

void PgSession::prepare(const std::string& name, const std::string& sql) {
  take_result(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), conn_);
}

QueryResult PgSession::exec_prepared(const std::string& name, const std::vector<Param>& params) {
  std::vector<const char*> values = param_pointers(params);
  return take_result(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                    values.data(), nullptr, nullptr, 0),
                     conn_);
}

PgError PgSession::expect_error(const std::string& sql) {
  try {
    exec(sql);
  } catch (const PgError& e) {
    return e;
  }
  throw std::runtime_error("statement was expected to fail but succeeded: " + sql);
}

PgError PgSession::expect_error_params(const std::string& sql, const std::vector<Param>& params) {
  try {
    exec_params(sql, params);
  } catch (const PgError& e) {
    return e;
  }
  throw std::runtime_error("statement was expected to fail but succeeded: " + sql);
}

void PgSession::cancel() {
  PGcancel* handle = PQgetCancel(conn_);
  if (handle == nullptr) return;
  char message[256];
  PQcancel(handle, message, sizeof message);
  PQfreeCancel(handle);
}

int PgSession::backend_pid() const { return PQbackendPID(conn_); }

std::vector<std::string> PgSession::notices() const {
  std::lock_guard lock(notices_->mutex);
  return notices_->messages;
}

BackgroundStatement::BackgroundStatement(PgSession& session, std::string sql,
                                         std::optional<std::vector<Param>> params)
    : session_(session), backend_pid_(session.backend_pid()) {
  thread_ = std::thread([this, sql = std::move(sql), params = std::move(params)] {
    BackgroundOutcome outcome;
    try {
      outcome.result = params ? session_.exec_params(sql, *params) : session_.exec(sql);
    } catch (const PgError& e) {
      outcome.error = e;
    } catch (const std::exception& e) {
      outcome.error = PgError("", e.what());
    }
    std::lock_guard lock(mutex_);
    outcome_ = std::move(outcome);
    done_ = true;
    finished_.notify_all();
  });
}

BackgroundStatement::~BackgroundStatement() {
  // A statement still blocked (the test failed before releasing its lock) is
  // cancelled so that the thread can end.
  if (!done()) session_.cancel();
  if (thread_.joinable()) thread_.join();
}

bool BackgroundStatement::wait_until_lock_wait(PgSession& observer,
                                               std::chrono::milliseconds timeout) {
  const std::string pid = std::to_string(backend_pid_);
  return wait_until(
      [&] {
        if (done()) return false;
        QueryResult r = observer.exec_params(
            "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", {pid});
        return !r.rows.empty();
      },
      timeout);
}

bool BackgroundStatement::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

BackgroundOutcome BackgroundStatement::join(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!finished_.wait_for(lock, timeout, [this] { return done_; })) {
    throw std::runtime_error("background statement did not finish in time");
  }
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  return outcome_;
}

}  // namespace pgsift::testing
