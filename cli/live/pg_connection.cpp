#include "cli/live/pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace pgsift::cli::live {

namespace {

constexpr std::string_view kMask = "****";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Folds a multi-line libpq message ("...failed: Connection refused\n\tIs the
// server running...") onto one line with single spaces.
std::string fold_lines(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

void replace_all(std::string& text, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + with.size())) {
    text.replace(at, needle.size(), with);
  }
}

// password=value, password = 'a b', password=...& (URI query parameter).
void mask_password_pairs(std::string& text) {
  static constexpr std::string_view kKey = "password";
  std::size_t from = 0;
  while (true) {
    auto it = std::search(text.begin() + static_cast<std::ptrdiff_t>(from), text.end(), kKey.begin(),
                          kKey.end(), [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    if (it == text.end()) return;
    std::size_t at = static_cast<std::size_t>(it - text.begin()) + kKey.size();
    std::size_t eq = at;
    while (eq < text.size() && text[eq] == ' ') ++eq;
    if (eq >= text.size() || text[eq] != '=') {
      from = at;
      continue;
    }
    std::size_t start = eq + 1;
    while (start < text.size() && text[start] == ' ') ++start;
    std::size_t end = start;
    if (start < text.size() && text[start] == '\'') {
      end = start + 1;
      while (end < text.size() && text[end] != '\'') end += (text[end] == '\\') ? 2 : 1;
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && !is_space(text[end]) && text[end] != '&' && text[end] != '"')
        ++end;
    }
    text.replace(start, end - start, kMask);
    from = start + kMask.size();
  }
}

// scheme://user:password@host -> scheme://user:****@host
void mask_uri_passwords(std::string& text) {
  std::size_t from = 0;
  while (true) {
    std::size_t scheme = text.find("://", from);
    if (scheme == std::string::npos) return;
    std::size_t start = scheme + 3;
    std::size_t end = start;
    while (end < text.size() && !is_space(text[end]) && text[end] != '/' && text[end] != '@' &&
           text[end] != '"')
      ++end;
    from = start;
    if (end >= text.size() || text[end] != '@') continue;
    std::size_t colon = text.find(':', start);
    if (colon == std::string::npos || colon > end) continue;
    text.replace(colon + 1, end - colon - 1, kMask);
    from = colon + 1 + kMask.size();
  }
}

std::string option_value(PQconninfoOption* options, std::string_view key) {
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (key == o->keyword && o->val != nullptr) return o->val;
  }
  return {};
}

std::string getenv_string(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::string scrub_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  // Short secrets would mask ordinary words; the pattern rules below still
  // catch them where they appear as password=... or in a URI.
  for (const auto& secret : secrets) {
    if (secret.size() >= 3) replace_all(out, secret, kMask);
  }
  mask_password_pairs(out);
  mask_uri_passwords(out);
  return fold_lines(out);
}

std::vector<std::string> conninfo_secrets(const std::string& conninfo) {
  std::vector<std::string> secrets;
  if (std::string env = getenv_string("PGPASSWORD"); !env.empty()) secrets.push_back(env);
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (options != nullptr) {
    if (std::string password = option_value(options, "password"); !password.empty())
      secrets.push_back(password);
    PQconninfoFree(options);
  }
  return secrets;
}

// ---- Result ----

void Result::Deleter::operator()(pg_result* result) const { PQclear(result); }

Result::Result(pg_result* result) : result_(result) {}

int Result::rows() const { return PQntuples(result_.get()); }

int Result::column(std::string_view name) const {
  const int n = PQnfields(result_.get());
  for (int i = 0; i < n; ++i) {
    if (name == PQfname(result_.get(), i)) return i;
  }
  return -1;
}

bool Result::is_null(int row, int col) const {
  return col < 0 || PQgetisnull(result_.get(), row, col) != 0;
}

std::string Result::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::string Result::text(int row, std::string_view name) const { return text(row, column(name)); }

std::optional<std::int64_t> Result::integer(int row, std::string_view name) const {
  const int col = column(name);
  if (is_null(row, col)) return std::nullopt;
  char* end = nullptr;
  const char* value = PQgetvalue(result_.get(), row, col);
  const long long parsed = std::strtoll(value, &end, 10);
  if (end == value) return std::nullopt;
  return static_cast<std::int64_t>(parsed);
}

std::optional<double> Result::number(int row, std::string_view name) const {
  const int col = column(name);
  if (is_null(row, col)) return std::nullopt;
  char* end = nullptr;
  const char* value = PQgetvalue(result_.get(), row, col);
  const double parsed = std::strtod(value, &end);
  if (end == value) return std::nullopt;
  return parsed;
}

bool Result::boolean(int row, std::string_view name) const {
  const int col = column(name);
  return !is_null(row, col) && PQgetvalue(result_.get(), row, col)[0] == 't';
}

std::vector<std::int32_t> Result::int_array(int row, std::string_view name) const {
  std::vector<std::int32_t> values;
  const std::string text_value = text(row, name);
  const char* p = text_value.c_str();
  while (*p != '\0') {
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
      char* end = nullptr;
      values.push_back(static_cast<std::int32_t>(std::strtol(p, &end, 10)));
      p = end;
    } else {
      ++p;
    }
  }
  return values;
}

// ---- Connection ----

void Connection::Deleter::operator()(pg_conn* conn) const { PQfinish(conn); }

Connection::Connection(pg_conn* conn, std::vector<std::string> secrets)
    : conn_(conn), secrets_(std::move(secrets)) {
  const char* host = PQhost(conn);
  std::string where = (host != nullptr && host[0] != '\0' && host[0] != '/')
                          ? std::string(host)
                          : std::string("local socket");
  description_ = where + ":" + PQport(conn) + "/" + PQdb(conn) + " as " + PQuser(conn);
}

Connection::~Connection() = default;

std::unique_ptr<Connection> Connection::open(const std::string& conninfo,
                                             const SessionSettings& settings, std::string& error) {
  std::vector<std::string> secrets = conninfo_secrets(conninfo);

  // Keep the caller's own startup options (CONNINFO options= or PGOPTIONS)
  // and append ours; a later -c wins, so ours take effect.
  std::string user_options = getenv_string("PGOPTIONS");
  std::string user_timeout = getenv_string("PGCONNECT_TIMEOUT");
  char* parse_error = nullptr;
  if (PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error)) {
    if (std::string o = option_value(parsed, "options"); !o.empty()) user_options = o;
    if (std::string t = option_value(parsed, "connect_timeout"); !t.empty()) user_timeout = t;
    PQconninfoFree(parsed);
  }
  if (parse_error != nullptr) {
    error = "invalid connection string: " + scrub_secrets(parse_error, secrets);
    PQfreemem(parse_error);
    return nullptr;
  }
  std::string options = user_options;
  if (!options.empty()) options += ' ';
  options += "-c default_transaction_read_only=on -c statement_timeout=" +
             settings.statement_timeout + " -c lock_timeout=" + settings.lock_timeout;
  const std::string timeout =
      user_timeout.empty() ? std::to_string(settings.connect_timeout_seconds) : user_timeout;

  // Order matters: keywords after the expanded dbname override what CONNINFO
  // says; connect_timeout comes first so CONNINFO can still override it.
  const char* keywords[] = {"connect_timeout", "dbname", "application_name", "options", nullptr};
  const char* values[] = {timeout.c_str(), conninfo.empty() ? nullptr : conninfo.c_str(), "pgsift",
                          options.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    error = "cannot connect: out of memory";
    return nullptr;
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    error = "cannot connect: " + scrub_secrets(PQerrorMessage(conn), secrets);
    PQfinish(conn);
    return nullptr;
  }
  // Remove the password libpq actually used (from .pgpass, say) as well.
  if (const char* used = PQpass(conn); used != nullptr && used[0] != '\0') secrets.push_back(used);
  return std::unique_ptr<Connection>(new Connection(conn, std::move(secrets)));
}

Result Connection::query(std::string_view sql, const std::vector<std::string>& parameters) {
  std::vector<const char*> values;
  values.reserve(parameters.size());
  for (const auto& p : parameters) values.push_back(p.c_str());
  const std::string text(sql);
  pg_result* raw = PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0);
  Result result(raw);
  const ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;
  const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
  std::string message = raw != nullptr ? PQresultErrorMessage(raw) : PQerrorMessage(conn_.get());
  if (message.empty()) message = PQerrorMessage(conn_.get());
  const char* state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  std::string line = scrub(message);
  if (line.rfind("ERROR: ", 0) == 0) line.erase(0, 7);
  throw QueryError(line.empty() ? std::string("connection lost") : line,
                   state != nullptr ? state : "", lost);
}

bool Connection::is_alive() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

std::int32_t Connection::backend_pid() const { return PQbackendPID(conn_.get()); }

int Connection::server_version() const { return PQserverVersion(conn_.get()); }

std::string Connection::database() const { return PQdb(conn_.get()); }

std::string Connection::user() const { return PQuser(conn_.get()); }

std::string Connection::scrub(std::string_view text) const { return scrub_secrets(text, secrets_); }

}  // namespace pgsift::cli::live
