#include "cli/input/event_json.h"

#include <cstdio>

namespace pgsift::cli::input {
namespace {

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

void key(std::string& out, std::string_view k) {
  out += ",\"";
  out += k;
  out += "\":";
}

void str(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  append_json_string(out, v);
}

void num(std::string& out, std::string_view k, double v, bool null_if_negative = true) {
  key(out, k);
  if (null_if_negative && v < 0) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  out += buf;
}

void integer(std::string& out, std::string_view k, std::int64_t v) {
  key(out, k);
  out += std::to_string(v);
}

void boolean(std::string& out, std::string_view k, bool v) {
  key(out, k);
  out += v ? "true" : "false";
}

void pids(std::string& out, std::string_view k, const std::vector<std::int32_t>& v) {
  key(out, k);
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(v[i]);
  }
  out += ']';
}

bool mentions_password(std::string_view sql) {
  for (std::size_t i = 0; i + 8 <= sql.size(); ++i) {
    static constexpr std::string_view kWord = "password";
    std::size_t k = 0;
    while (k < 8 && (sql[i + k] | 0x20) == kWord[k]) ++k;
    if (k == 8) return true;
  }
  return false;
}

std::string sql_text(std::string_view sql, const EventJsonOptions& o) {
  if (o.show_values && !mentions_password(sql)) return std::string(sql);
  return mask_literals(sql);
}

const char* level_name(model::LogLevel l) {
  switch (l) {
    case model::LogLevel::debug: return "debug";
    case model::LogLevel::info: return "info";
    case model::LogLevel::notice: return "notice";
    case model::LogLevel::warning: return "warning";
    case model::LogLevel::log: return "log";
    case model::LogLevel::error: return "error";
    case model::LogLevel::fatal: return "fatal";
    case model::LogLevel::panic: return "panic";
    default: return "unknown";
  }
}

const char* phase_name(model::LockEvent::Phase p) {
  switch (p) {
    case model::LockEvent::Phase::still_waiting: return "still_waiting";
    case model::LockEvent::Phase::acquired: return "acquired";
    case model::LockEvent::Phase::avoided_deadlock: return "avoided_deadlock";
    case model::LockEvent::Phase::deadlock_detected: return "deadlock_detected";
    case model::LockEvent::Phase::failed_to_acquire: return "failed_to_acquire";
  }
  return "";
}

const char* timeout_name(model::TimeoutEvent::Kind k) {
  switch (k) {
    case model::TimeoutEvent::Kind::lock_timeout: return "lock_timeout";
    case model::TimeoutEvent::Kind::statement_timeout: return "statement_timeout";
    case model::TimeoutEvent::Kind::idle_in_transaction_timeout: return "idle_in_transaction_timeout";
    case model::TimeoutEvent::Kind::idle_session_timeout: return "idle_session_timeout";
    case model::TimeoutEvent::Kind::transaction_timeout: return "transaction_timeout";
  }
  return "";
}

struct BodyWriter {
  std::string& out;
  const EventJsonOptions& o;

  void operator()(const model::StatementEvent& s) const {
    str(out, "sql", sql_text(s.sql, o));
    num(out, "duration_ms", s.duration_ms);
    str(out, "start", format_timestamp(s.start));
    str(out, "protocol", s.protocol == model::StatementEvent::Protocol::simple ? "simple" : "extended");
    str(out, "prepared_name", s.prepared_name);
    boolean(out, "continues_portal", s.continues_portal);
    key(out, "parameters");
    out += '[';
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      if (i > 0) out += ',';
      if (!s.parameters[i]) out += "null";
      else if (o.show_values) append_json_string(out, *s.parameters[i]);
      else out += "\"?\"";
    }
    out += ']';
  }
  void operator()(const model::LockEvent& l) const {
    str(out, "phase", phase_name(l.phase));
    integer(out, "waiter_pid", l.waiter_pid);
    str(out, "mode", l.mode);
    str(out, "object", l.object);
    str(out, "object_kind", l.object_kind);
    integer(out, "relation_oid", static_cast<std::int64_t>(l.relation_oid));
    integer(out, "database_oid", static_cast<std::int64_t>(l.database_oid));
    integer(out, "transaction_id", static_cast<std::int64_t>(l.transaction_id));
    str(out, "tuple", l.tuple);
    str(out, "relation", l.relation_name);
    num(out, "elapsed_ms", l.elapsed_ms);
    pids(out, "holders", l.holders);
    pids(out, "wait_queue", l.wait_queue);
    str(out, "statement", sql_text(l.statement, o));
  }
  void operator()(const model::DeadlockEvent& d) const {
    key(out, "cycle");
    out += '[';
    for (std::size_t i = 0; i < d.cycle.size(); ++i) {
      const model::DeadlockParticipant& p = d.cycle[i];
      out += i > 0 ? ",{" : "{";
      out += "\"pid\":" + std::to_string(p.pid);
      str(out, "mode", p.waits_for_mode);
      str(out, "object", p.waits_for_object);
      integer(out, "transaction_id", static_cast<std::int64_t>(p.waits_for_transaction));
      integer(out, "blocked_by", p.blocked_by_pid);
      str(out, "statement", sql_text(p.statement, o));
      out += '}';
    }
    out += ']';
    str(out, "statement", sql_text(d.statement, o));
    str(out, "context", d.context);
  }
  void operator()(const model::TimeoutEvent& t) const {
    str(out, "timeout", timeout_name(t.kind));
    str(out, "statement", sql_text(t.statement, o));
    str(out, "context", t.context);
  }
  void operator()(const model::ErrorEvent& e) const {
    str(out, "sqlstate", e.sqlstate);
    str(out, "message", o.show_values ? std::string(e.message) : mask_literals(e.message));
    str(out, "detail", o.show_values ? std::string(e.detail) : mask_literals(e.detail));
    str(out, "statement", sql_text(e.statement, o));
  }
  void operator()(const model::ConnectionEvent& c) const {
    str(out, "connection", c.kind == model::ConnectionEvent::Kind::received     ? "received"
                           : c.kind == model::ConnectionEvent::Kind::authorized ? "authorized"
                                                                                : "disconnected");
    num(out, "session_seconds", c.session_seconds);
  }
  void operator()(const model::TempFileEvent& t) const {
    str(out, "path", t.path);
    integer(out, "bytes", static_cast<std::int64_t>(t.bytes));
    str(out, "statement", sql_text(t.statement, o));
  }
  void operator()(const model::OtherEvent&) const {}
};

constexpr const char* kKinds[] = {"statement", "lock",       "deadlock",  "timeout",
                                  "error",     "connection", "temp_file", "other"};

}  // namespace

std::string format_timestamp(model::Timestamp t) {
  if (t == model::kNoTime) return "";
  std::int64_t secs = t / model::kMicrosPerSecond;
  std::int64_t micros = t % model::kMicrosPerSecond;
  if (micros < 0) {
    micros += model::kMicrosPerSecond;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", y, m, d,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60), static_cast<int>(micros));
  return buf;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool ok = n > 0 && c <= 0xf4 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (ok && n == 3) {
      // No overlongs or surrogates.
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0)) ok = false;
    }
    if (ok && n == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)) ok = false;
    }
    if (!ok) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
}

std::string mask_literals(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto ident = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
  };
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'') {
      // A string literal ('' doubled); E'..' / B'..' prefixes were copied.
      ++i;
      while (i < s.size()) {
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          i += 2;
          continue;
        }
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;  // backslash escapes inside E'' strings
        } else if (s[i] == '\'') {
          break;
        }
        ++i;
      }
      ++i;
      out += "'?'";
      continue;
    }
    if (c == '"') {
      std::size_t end = s.find('"', i + 1);
      end = end == std::string_view::npos ? s.size() : end + 1;
      out.append(s.substr(i, end - i));
      i = end;
      continue;
    }
    if (c >= '0' && c <= '9' && (i == 0 || !ident(s[i - 1]))) {
      while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                              s[i] == 'E' || s[i] == 'x' || (s[i] >= 'a' && s[i] <= 'f')))
        ++i;
      out += '?';
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

void append_event_json(std::string& out, const model::Event& e, std::string_view path,
                       const EventJsonOptions& o) {
  const model::RecordHeader& h = e.header;
  out += "{\"kind\":\"";
  out += kKinds[e.body.index()];
  out += '"';
  str(out, "file", path);
  integer(out, "line", static_cast<std::int64_t>(h.where.line));
  str(out, "time", format_timestamp(h.time));
  str(out, "level", level_name(e.level));
  integer(out, "pid", h.pid);
  str(out, "session", h.session_id);
  integer(out, "session_line", static_cast<std::int64_t>(h.session_line));
  str(out, "user", h.user);
  str(out, "database", h.database);
  str(out, "application", h.application);
  str(out, "client", h.client);
  str(out, "vxid", h.virtual_xid);
  integer(out, "xid", static_cast<std::int64_t>(h.xid));
  str(out, "sqlstate", h.sqlstate);
  std::visit(BodyWriter{out, o}, e.body);
  out += '}';
}

}  // namespace pgsift::cli::input
