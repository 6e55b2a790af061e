// The format readers: stderr (any log_line_prefix), csvlog, jsonlog, syslog,
// Google Cloud SQL (textPayload) and CloudNativePG (record) envelopes.
#include <charconv>
#include <cstring>
#include <ctime>

#include "cli/input/json_scan.h"
#include "cli/input/log_line_prefix.h"
#include "cli/input/reader.h"
#include "cli/input/text_assembler.h"
#include "cli/input/timestamp.h"

namespace pgsift::cli::input {
namespace {

constexpr std::size_t kMaxRecordBytes = kMaxLineBytes;

template <typename T>
T to_number(std::string_view s) {
  T v{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

model::Timestamp sql_time(std::string_view s, bool& zone_known) {
  ParsedTime pt;
  if (!parse_sql_time(s, true, pt)) return model::kNoTime;
  zone_known = pt.zone_known;
  return pt.time;
}

// Removes " at character N" that stderr appends to error messages (csvlog and
// jsonlog keep the position in its own field), so every format says the same.
void strip_cursor_position(std::string& message) {
  std::size_t at = message.rfind(" at character ");
  if (at == std::string::npos) return;
  std::size_t digits = at + 14;
  if (digits == message.size()) return;
  for (std::size_t i = digits; i < message.size(); ++i) {
    if (message[i] < '0' || message[i] > '9') return;
  }
  message.resize(at);
}

void clear_record(model::LogRecord& r) {
  r.header.session_id.clear(); r.header.user.clear(); r.header.database.clear();
  r.header.application.clear(); r.header.client.clear(); r.header.virtual_xid.clear();
  r.header.backend_type.clear(); r.header.sqlstate.clear();
  r.header.time = model::kNoTime; r.header.pid = 0; r.header.session_line = 0; r.header.xid = 0;
  r.level = model::LogLevel::unknown;
  r.message.clear(); r.detail.clear(); r.hint.clear(); r.context.clear();
  r.query.clear(); r.statement.clear(); r.location.clear();
}

// Emits through the context after the fix-ups common to every format.
void emit_record(ReaderContext& ctx, model::LogRecord& r) {
  if (r.level == model::LogLevel::error || r.level == model::LogLevel::fatal ||
      r.level == model::LogLevel::panic || r.level == model::LogLevel::warning ||
      r.level == model::LogLevel::notice) {
    strip_cursor_position(r.message);
  }
  ctx.count_record();
  ctx.emit(r);
}

// ---------------------------------------------------------------- stderr
class StderrReader final : public RecordReader {
 public:
  StderrReader(const std::string& prefix, ReaderContext& ctx)
      : prefix_(prefix), ctx_(ctx), forward_(ctx), assembler_(prefix_, forward_) {
    forward_.emit = [this](model::LogRecord& r) { emit_record(ctx_, r); };
  }
  void line(const Line& l) override {
    if (l.truncated) ctx_.warn("line " + std::to_string(l.number) + " is longer than " +
                               std::to_string(kMaxLineBytes >> 20) + " MiB; its end was dropped");
    assembler_.line(l.text, l.number);
  }
  void finish() override { assembler_.finish(); }

 private:
  LogLinePrefix prefix_;
  ReaderContext& ctx_;
  ReaderContext forward_;
  TextAssembler assembler_;
};

// ---------------------------------------------------------------- csvlog
// Column order of PostgreSQL 13-18 (23, 24 or 26 columns, see logs.md §1.2).
enum CsvColumn {
  kLogTime, kUser, kDatabase, kPid, kConnectionFrom, kSessionId, kSessionLine, kCommandTag,
  kSessionStart, kVxid, kXid, kSeverity, kSqlState, kMessage, kDetail, kHint, kInternalQuery,
  kInternalQueryPos, kContext, kQuery, kQueryPos, kLocation, kApplication, kBackendType,
  kLeaderPid, kQueryId, kCsvColumns
};

// Fills one record field from a csvlog column (also used for CloudNativePG,
// whose record keys are the csvlog column names).
void set_csv_column(model::LogRecord& r, int column, std::string_view v, bool& zone_known) {
  switch (column) {
    case kLogTime: r.header.time = sql_time(v, zone_known); break;
    case kUser: r.header.user.assign(v); break;
    case kDatabase: r.header.database.assign(v); break;
    case kPid: r.header.pid = to_number<std::int32_t>(v); break;
    case kConnectionFrom: r.header.client.assign(v); break;
    case kSessionId: r.header.session_id.assign(v); break;
    case kSessionLine: r.header.session_line = to_number<std::uint64_t>(v); break;
    case kVxid: r.header.virtual_xid.assign(v); break;
    case kXid: r.header.xid = to_number<std::uint64_t>(v); break;
    case kSeverity: {
      bool localized = false;
      r.level = level_from_word(v, localized);
      break;
    }
    case kSqlState: r.header.sqlstate.assign(v); break;
    case kMessage: r.message.assign(v); break;
    case kDetail: r.detail.assign(v); break;
    case kHint: r.hint.assign(v); break;
    case kInternalQuery: r.query.assign(v); break;
    case kContext: r.context.assign(v); break;
    case kQuery: r.statement.assign(v); break;
    case kLocation: r.location.assign(v); break;
    case kApplication: r.header.application.assign(v); break;
    case kBackendType: r.header.backend_type.assign(v); break;
    default: break;
  }
}

class CsvReader final : public RecordReader {
 public:
  explicit CsvReader(ReaderContext& ctx) : ctx_(ctx) {}

  void line(const Line& l) override {
    if (pending_.empty() && !in_quote_ && l.text.empty()) return;
    bool quote = in_quote_;
    for (char c : l.text) {
      if (c == '"') quote = !quote;
    }
    if (pending_.empty() && !in_quote_ && !quote) {
      parse(l.text, l.number, 1);  // the common case: a record on one line, no copy
      return;
    }
    if (pending_.empty() && !in_quote_) {
      first_line_ = l.number;
      lines_ = 0;
    } else {
      pending_ += '\n';
    }
    pending_.append(l.text);
    ++lines_;
    in_quote_ = quote;
    if (pending_.size() > kMaxRecordBytes) {
      ctx_.warn("line " + std::to_string(first_line_) + ": a csvlog record is longer than " +
                std::to_string(kMaxRecordBytes >> 20) + " MiB; skipped");
      ctx_.skip(first_line_, lines_);
      reset();
      return;
    }
    if (!in_quote_) {
      parse(pending_, first_line_, lines_);
      reset();
    }
  }

  void finish() override {
    if (!pending_.empty()) {
      ctx_.warn("line " + std::to_string(first_line_) +
                ": the input ends inside a quoted csvlog field; the last record was skipped");
      ctx_.skip(first_line_, lines_);
      reset();
    }
  }

 private:
  void reset() {
    pending_.clear();
    in_quote_ = false;
    lines_ = 0;
  }

  void parse(std::string_view text, std::uint64_t number, std::uint64_t lines) {
    clear_record(record_);
    record_.header.where = {ctx_.input, number};
    std::size_t i = 0;
    int column = 0;
    bool zone_known = true;
    while (true) {
      std::string_view value;
      if (i < text.size() && text[i] == '"') {
        field_.clear();
        ++i;
        while (true) {
          std::size_t q = text.find('"', i);
          if (q == std::string_view::npos) {
            ctx_.skip(number, lines);
            return;
          }
          field_.append(text.substr(i, q - i));
          i = q + 1;
          if (i < text.size() && text[i] == '"') {
            field_ += '"';
            ++i;
            continue;
          }
          break;
        }
        value = field_;
      } else {
        std::size_t comma = text.find(',', i);
        if (comma == std::string_view::npos) comma = text.size();
        value = text.substr(i, comma - i);
        i = comma;
      }
      if (column < kCsvColumns) set_csv_column(record_, column, value, zone_known);
      ++column;
      if (i >= text.size()) break;
      if (text[i] != ',') {
        ctx_.skip(number, lines);
        return;
      }
      ++i;
    }
    // 22 columns (before 9.0-style application_name) up to 26 (PG14+).
    if (column < 22 || column > kCsvColumns || record_.header.time == model::kNoTime ||
        (record_.level == model::LogLevel::unknown)) {
      ctx_.skip(number, lines);
      return;
    }
    if (!zone_known) warn_zone();
    emit_record(ctx_, record_);
  }

  void warn_zone() {
    if (warned_zone_) return;
    warned_zone_ = true;
    ctx_.warn("unknown time zone abbreviation in timestamps; they are taken as UTC");
  }

  ReaderContext& ctx_;
  model::LogRecord record_;
  std::string field_;
  std::string pending_;
  bool in_quote_ = false;
  std::uint64_t first_line_ = 0, lines_ = 0;
  bool warned_zone_ = false;
};

// ---------------------------------------------------------------- jsonlog
struct JsonKey {
  std::string_view jsonlog, csv;  // jsonlog key, csvlog/CloudNativePG key
  int column;
};

constexpr JsonKey kJsonKeys[] = {
    {"timestamp", "log_time", kLogTime},
    {"user", "user_name", kUser},
    {"dbname", "database_name", kDatabase},
    {"pid", "process_id", kPid},
    {"session_id", "session_id", kSessionId},
    {"line_num", "session_line_num", kSessionLine},
    {"vxid", "virtual_transaction_id", kVxid},
    {"txid", "transaction_id", kXid},
    {"error_severity", "error_severity", kSeverity},
    {"state_code", "sql_state_code", kSqlState},
    {"message", "message", kMessage},
    {"detail", "detail", kDetail},
    {"hint", "hint", kHint},
    {"internal_query", "internal_query", kInternalQuery},
    {"context", "context", kContext},
    {"statement", "query", kQuery},
    {"application_name", "application_name", kApplication},
    {"backend_type", "backend_type", kBackendType},
    {"remote_host", "connection_from", kConnectionFrom},
};

class JsonReader final : public RecordReader {
 public:
  enum class Kind { jsonlog, cnpg };
  JsonReader(Kind kind, ReaderContext& ctx) : kind_(kind), ctx_(ctx) {}

  void line(const Line& l) override {
    std::string_view text = l.text;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    if (text.empty()) return;
    if (text.front() != '{') {
      if (is_text_line(text)) ctx_.noise(); else ctx_.skip(l.number);
      return;
    }
    clear_record(record_);
    record_.header.where = {ctx_.input, l.number};
    port_.clear();
    bool zone_known = true;
    bool is_record = kind_ == Kind::jsonlog;
    std::size_t pos = 0;
    bool ok = scan_json_object(text, pos, [&](std::string_view key, const JsonValue& v) {
      if (kind_ == Kind::cnpg) {
        if (key == "record" && v.type == JsonValue::Type::object) {
          std::size_t inner = 0;
          is_record = scan_json_object(v.raw, inner, [&](std::string_view k, const JsonValue& iv) {
            member(k, iv, true, zone_known);
          });
        }
        return;
      }
      member(key, v, false, zone_known);
    });
    if (!ok) {
      ctx_.skip(l.number);
      return;
    }
    if (!is_record) {
      ctx_.noise();  // CloudNativePG's own (operator) messages
      return;
    }
    if (record_.header.time == model::kNoTime || record_.level == model::LogLevel::unknown) {
      ctx_.skip(l.number);
      return;
    }
    if (!port_.empty()) {
      record_.header.client += ':';
      record_.header.client += port_;
    }
    if (!zone_known && !warned_zone_) {
      warned_zone_ = true;
      ctx_.warn("unknown time zone abbreviation in timestamps; they are taken as UTC");
    }
    emit_record(ctx_, record_);
  }
  void finish() override {}

 private:
  void member(std::string_view key, const JsonValue& v, bool csv_names, bool& zone_known) {
    if (!csv_names && key == "remote_port") {
      port_.assign(v.raw);
      return;
    }
    for (const JsonKey& k : kJsonKeys) {
      if ((csv_names ? k.csv : k.jsonlog) == key) {
        json_to_string(v, value_);
        set_csv_column(record_, k.column, value_, zone_known);
        return;
      }
    }
  }

  Kind kind_;
  ReaderContext& ctx_;
  model::LogRecord record_;
  std::string value_, port_;
  bool warned_zone_ = false;
};

// ---------------------------------------------------------------- Cloud SQL
// Google Cloud Logging entries: the server's stderr line is in textPayload.
class CloudSqlReader final : public RecordReader {
 public:
  CloudSqlReader(const std::string& prefix, ReaderContext& ctx)
      : prefix_(prefix), ctx_(ctx), forward_(ctx), assembler_(prefix_, forward_) {
    forward_.emit = [this](model::LogRecord& r) { emit_record(ctx_, r); };
  }
  void line(const Line& l) override {
    if (l.text.empty()) return;
    Envelope env;
    bool have_payload = false;
    std::size_t pos = 0;
    bool ok = scan_json_object(l.text, pos, [&](std::string_view key, const JsonValue& v) {
      if (key == "textPayload") {
        json_to_string(v, payload_);
        have_payload = true;
      } else if (key == "timestamp" && v.type == JsonValue::Type::string) {
        ParsedTime pt;
        if (parse_sql_time(v.raw, true, pt)) env.time = pt.time;
      }
    });
    if (!ok) {
      if (is_text_line(l.text)) ctx_.noise(); else ctx_.skip(l.number);
      return;
    }
    if (!have_payload) {
      ctx_.noise();
      return;
    }
    // Continuation lines arrive as their own entries, starting with a TAB.
    assembler_.line(payload_, l.number, &env);
  }
  void finish() override { assembler_.finish(); }

 private:
  LogLinePrefix prefix_;
  ReaderContext& ctx_;
  ReaderContext forward_;
  TextAssembler assembler_;
  std::string payload_;
};

// ---------------------------------------------------------------- syslog
int current_year() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return tm.tm_year + 1900;
}

class SyslogReader final : public RecordReader {
 public:
  SyslogReader(const std::string& prefix, ReaderContext& ctx)
      : prefix_(prefix), ctx_(ctx), forward_(ctx), assembler_(prefix_, forward_),
        year_(current_year()) {
    forward_.emit = [this](model::LogRecord& r) { emit_record(ctx_, r); };
  }

  void line(const Line& l) override {
    SyslogLine s;
    if (!parse_syslog_line(l.text, year_, s)) {
      if (l.text.empty()) return;
      if (is_text_line(l.text)) ctx_.noise(); else ctx_.skip(l.number);
      return;
    }
    std::string_view rest = s.rest;
    if (rest.find("#011") != std::string_view::npos) {
      // rsyslog escapes control characters: #011 is a TAB.
      unescaped_.clear();
      for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest.compare(i, 4, "#011") == 0) {
          unescaped_ += '\t';
          i += 3;
        } else {
          unescaped_ += rest[i];
        }
      }
      rest = unescaped_;
    }
    Envelope env{s.time, s.pid};
    if (s.chunk > 1) {
      if (!rest.empty() && rest.front() == '\t') {
        if (!assembler_.continue_record(s.pid, rest.substr(1), true)) ctx_.skip(l.number);
        return;
      }
      if (!assembler_.matches(rest)) {
        // A long message split at a space: the chunk continues the text.
        if (!assembler_.continue_record(s.pid, rest, false)) ctx_.skip(l.number);
        return;
      }
    }
    assembler_.line(rest, l.number, &env);
  }
  void finish() override { assembler_.finish(); }

  struct SyslogLine {
    model::Timestamp time = model::kNoTime;
    std::int32_t pid = 0;
    int chunk = 0;
    std::string_view rest;
  };

  // "Feb 11 13:15:39 host postgres[10808]: [3-1] rest" or ISO time, or
  // Heroku "2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1] rest".
  static bool parse_syslog_line(std::string_view text, int year, SyslogLine& out) {
    ParsedTime pt;
    std::size_t i = 0;
    if (parse_bsd_time(text, year, pt)) {
      i = pt.length;
    } else if (text.size() > 20 && text[10] == 'T' && parse_sql_time(text, true, pt)) {
      i = pt.length;
    } else {
      return false;
    }
    out.time = pt.time;
    // Up to four tokens (host, ident[pid]:) before the program's text.
    for (int token = 0; token < 4 && i < text.size(); ++token) {
      while (i < text.size() && text[i] == ' ') ++i;
      std::size_t end = text.find(' ', i);
      if (end == std::string_view::npos) end = text.size();
      std::string_view word = text.substr(i, end - i);
      i = end;
      if (word.empty()) return false;
      std::size_t open = word.find('[');
      if (open == std::string_view::npos || open == 0) continue;
      std::size_t close = word.find(']', open);
      if (close == std::string_view::npos) continue;
      std::string_view inside = word.substr(open + 1, close - open - 1);
      std::size_t dot = inside.rfind('.');
      if (dot != std::string_view::npos) inside.remove_prefix(dot + 1);  // app[postgres.4882]
      if (inside.empty() || inside.find_first_not_of("0123456789") != std::string_view::npos)
        continue;
      out.pid = to_number<std::int32_t>(inside);
      // Optional " [COLOR]" (Heroku), then "[seq-chunk] ".
      std::size_t p = i;
      while (p < text.size() && text[p] == ' ') ++p;
      if (p < text.size() && text[p] == '[') {
        std::size_t c = text.find(']', p);
        std::string_view tag = c == std::string_view::npos ? std::string_view{}
                                                           : text.substr(p + 1, c - p - 1);
        if (!tag.empty() && tag.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") ==
                                std::string_view::npos) {
          p = c + 1;
          while (p < text.size() && text[p] == ' ') ++p;
        }
      }
      out.chunk = 1;
      if (p < text.size() && text[p] == '[') {
        std::size_t c = text.find(']', p);
        if (c != std::string_view::npos) {
          std::string_view marker = text.substr(p + 1, c - p - 1);
          std::size_t dash = marker.find('-');
          if (marker.find_first_not_of("0123456789-") == std::string_view::npos &&
              !marker.empty()) {
            if (dash != std::string_view::npos) out.chunk = to_number<int>(marker.substr(dash + 1));
            p = c + 1;
            if (p < text.size() && text[p] == ' ') ++p;
          }
        }
      }
      out.rest = text.substr(p);
      return true;
    }
    return false;
  }

 private:
  LogLinePrefix prefix_;
  ReaderContext& ctx_;
  ReaderContext forward_;
  TextAssembler assembler_;
  int year_;
  std::string unescaped_;
};

}  // namespace

bool parse_syslog_header(std::string_view text, model::Timestamp& time, std::int32_t& pid,
                         std::string_view& rest) {
  SyslogReader::SyslogLine s;
  if (!SyslogReader::parse_syslog_line(text, current_year(), s)) return false;
  time = s.time;
  pid = s.pid;
  rest = s.rest;
  return true;
}

bool cloudsql_payload(std::string_view text, std::string& payload) {
  bool have = false;
  std::size_t pos = 0;
  bool ok = scan_json_object(text, pos, [&](std::string_view key, const JsonValue& v) {
    if (key == "textPayload") {
      json_to_string(v, payload);
      have = true;
    }
  });
  return ok && have;
}

std::unique_ptr<RecordReader> make_reader(std::string_view format, const std::string& prefix,
                                          ReaderContext& context) {
  if (format == "csvlog") return std::make_unique<CsvReader>(context);
  if (format == "jsonlog") return std::make_unique<JsonReader>(JsonReader::Kind::jsonlog, context);
  if (format == "cnpg") return std::make_unique<JsonReader>(JsonReader::Kind::cnpg, context);
  if (format == "cloudsql") return std::make_unique<CloudSqlReader>(prefix, context);
  if (format == "syslog") return std::make_unique<SyslogReader>(prefix, context);
  if (format == "stderr") return std::make_unique<StderrReader>(prefix, context);
  return nullptr;
}

}  // namespace pgsift::cli::input
