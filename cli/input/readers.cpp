// The format readers: stderr (any log_line_prefix), csvlog, jsonlog, syslog,
// Google Cloud SQL (textPayload) and CloudNativePG (record) envelopes.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli/input/byte_scan.h"
#include "cli/input/json_scan.h"
#include "cli/input/log_line_prefix.h"
#include "cli/input/reader.h"
#include "cli/input/text_assembler.h"
#include "cli/input/text_fields.h"
#include "cli/input/timestamp.h"

namespace pgsift::cli::input {
namespace {

constexpr std::size_t kMaxRecordBytes = kMaxLineBytes;

// Plain digits that cannot overflow (pids, line numbers, xids): summed here,
// cheaper than from_chars and with the same result.
template <typename T>
bool short_digits(std::string_view s, T& v) {
  if (s.empty() || s.size() >= static_cast<std::size_t>(std::numeric_limits<T>::digits10)) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = static_cast<T>(v * 10 + static_cast<T>(c - '0'));
  }
  return true;
}

template <typename T>
T to_number(std::string_view s) {
  T v{};
  if (short_digits(s, v)) return v;
  v = T{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// to_number with the common case (a few plain digits) inlined.
template <typename T>
inline T read_number(std::string_view s) {
  if (!s.empty() && s.size() < static_cast<std::size_t>(std::numeric_limits<T>::digits10)) {
    T v = 0;
    for (char c : s) {
      const unsigned d = static_cast<unsigned char>(c) - static_cast<unsigned>('0');
      if (d > 9) return to_number<T>(s);
      v = static_cast<T>(v * 10 + static_cast<T>(d));
    }
    return v;
  }
  return s.empty() ? T{} : to_number<T>(s);
}

// load8, load4, replace_text, same_text and set_text: cli/input/text_fields.h.

// a == b over n >= 16 bytes, 16 at a time, the last 16 first: the memos of
// readers compare texts that mostly differ there (session ids) if at all.
[[gnu::always_inline]] inline bool same_bytes(const char* a, const char* b, std::size_t n) {
#if defined(__SSE2__)
  auto diff16 = [](const char* x, const char* y) {
    const __m128i vx = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
    const __m128i vy = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y));
    return _mm_movemask_epi8(_mm_cmpeq_epi8(vx, vy)) != 0xFFFF;
  };
  if (diff16(a + n - 16, b + n - 16)) return false;
  for (std::size_t k = 0; k + 16 < n; k += 16) {
    if (diff16(a + k, b + k)) return false;
  }
  return true;
#else
  return std::memcmp(a, b, n) == 0;
#endif
}

// a == b over any n: same_bytes() from 16 bytes on, same_text() below.
[[gnu::always_inline]] inline bool same_any(const char* a, const char* b, std::size_t n) {
  return n >= 16 ? same_bytes(a, b, n) : same_text(a, b, n);
}

// The csvlog and jsonlog readers' per-session memo (their Session has a
// `head`, a `tail` and a `used` line count): the session of `sessions`
// whose head the text at s[i] starts with, else the least recently used
// one, its head and tail forgotten (its record stays as its last line left
// it). Heads are told apart by their last 16 bytes (the session id) before
// they are compared whole.
template <typename Session>
Session* session_by_head(Session* sessions, std::size_t count, const char* s, std::size_t n,
                         std::size_t i) {
  Session* oldest = &sessions[0];
  for (std::size_t k = 0; k < count; ++k) {
    Session& c = sessions[k];
    const std::size_t len = c.head.size();
    if (len >= 16 && i + len < n && same_bytes(s + i, c.head.data(), len)) return &c;
    if (c.used < oldest->used) oldest = &c;
  }
  oldest->head.clear();
  oldest->tail.clear();
  return oldest;
}

// Plain digits as in short_digits(), up to 8 of them at once when the 8 bytes
// from `s` are readable (`readable_end`): the "parse eight digits" SWAR steps.
template <typename T>
[[gnu::always_inline]] inline T read_number(std::string_view s, const char* readable_end) {
  const std::size_t n = s.size();
  if (n >= 1 && n <= 8 && s.data() + 8 <= readable_end) {
    // The digits at the top of the word, '0' bytes below: leading zeros.
    std::uint64_t w = load8(s.data());
    if (n < 8) w = (w << (8 * (8 - n))) | (0x3030303030303030ull >> (8 * n));
    if ((w & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull &&
        ((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull) {
      w -= 0x3030303030303030ull;
      w = (w * 10) + (w >> 8);  // pairs of digits
      w = (((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
           (((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
      return static_cast<T>(w);
    }
  }
  return read_number<T>(s);
}

// Parses csvlog/jsonlog timestamps, remembering the last one: consecutive
// records mostly share their millisecond, and comparing ~27 bytes is much
// cheaper than parsing them (the result is the same, parsing is pure).
class TimeCache {
 public:
  [[gnu::always_inline]] model::Timestamp parse(std::string_view s, bool& zone_known) {
    if (!valid_ || s.size() != text_.size() || !same_text(s.data(), text_.data(), s.size()))
      reparse(s);
    if (ok_) zone_known = zone_known_;
    return time_;
  }

 private:
  [[gnu::noinline]] void reparse(std::string_view s) {
    ParsedTime pt;
    ok_ = parse_sql_time(s, true, pt);
    time_ = ok_ ? pt.time : model::kNoTime;
    zone_known_ = pt.zone_known;
    text_.assign(s);
    valid_ = true;
  }

  std::string text_;
  model::Timestamp time_ = model::kNoTime;
  bool ok_ = false, zone_known_ = true, valid_ = false;
};

// The level of a severity word; LOG, most records' word, without the lookup.
inline model::LogLevel read_level(std::string_view word) {
  if (word.size() == 3 && word[0] == 'L' && word[1] == 'O' && word[2] == 'G') return model::LogLevel::log;
  bool localized = false;
  return level_from_word(word, localized);
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
constexpr int kMinCsvColumns = 22;  // before application_name (kApplication)

// The string member a csvlog column fills, or nullptr for the others.
std::string* string_column(model::LogRecord& r, int column) {
  switch (column) {
    case kUser: return &r.header.user;
    case kDatabase: return &r.header.database;
    case kConnectionFrom: return &r.header.client;
    case kSessionId: return &r.header.session_id;
    case kVxid: return &r.header.virtual_xid;
    case kSqlState: return &r.header.sqlstate;
    case kMessage: return &r.message;
    case kDetail: return &r.detail;
    case kHint: return &r.hint;
    case kInternalQuery: return &r.query;
    case kContext: return &r.context;
    case kQuery: return &r.statement;
    case kLocation: return &r.location;
    case kApplication: return &r.header.application;
    case kBackendType: return &r.header.backend_type;
    default: return nullptr;
  }
}

// The columns that fill a LogRecord field, as bits.
constexpr std::uint32_t kRecordColumns = [] {
  std::uint32_t bits = 0;
  for (int c : {kLogTime, kUser, kDatabase, kPid, kConnectionFrom, kSessionId, kSessionLine, kVxid,
                kXid, kSeverity, kSqlState, kMessage, kDetail, kHint, kInternalQuery, kContext,
                kQuery, kLocation, kApplication, kBackendType})
    bits |= std::uint32_t{1} << c;
  return bits;
}();

// The field of a column as clear_record() leaves it.
void reset_column(model::LogRecord& r, int column) {
  switch (column) {
    case kLogTime: r.header.time = model::kNoTime; break;
    case kPid: r.header.pid = 0; break;
    case kSessionLine: r.header.session_line = 0; break;
    case kXid: r.header.xid = 0; break;
    case kSeverity: r.level = model::LogLevel::unknown; break;
    default:
      if (std::string* s = string_column(r, column)) s->clear();
      break;
  }
}

// Fills the non-string fields (time, numbers, severity) from a csvlog column
// (also used for jsonlog and CloudNativePG, whose keys map to the columns).
void set_scalar_column(model::LogRecord& r, int column, std::string_view v, TimeCache& times,
                       bool& zone_known) {
  switch (column) {
    case kLogTime: r.header.time = times.parse(v, zone_known); break;
    case kPid: r.header.pid = to_number<std::int32_t>(v); break;
    case kSessionLine: r.header.session_line = to_number<std::uint64_t>(v); break;
    case kXid: r.header.xid = to_number<std::uint64_t>(v); break;
    case kSeverity: {
      bool localized = false;
      r.level = level_from_word(v, localized);
      break;
    }
    default: break;
  }
}

// Number of '"' in text, to know whether a record goes on after this line.
std::size_t count_quotes(std::string_view text) {
  std::size_t count = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* q = std::memchr(p, '"', static_cast<std::size_t>(end - p));
    if (q == nullptr) break;
    ++count;
    p = static_cast<const char*>(q) + 1;
  }
  return count;
}

class CsvReader final : public RecordReader {
 public:
  explicit CsvReader(ReaderContext& ctx) : ctx_(ctx) {}

  void line(const Line& l) override {
    if (pending_.empty() && !in_quote_) {
      if (l.text.empty()) return;
      // The common case: a whole record on one line, parsed in place. A
      // record whose fields are all well formed has an even number of quotes,
      // so it cannot continue on the next line.
      Parsed fast;
      if (parse_line_fast(l.text, fast)) {
        finish_record(fast, l.number, 1);
        return;
      }
      Parsed p = parse_fields(l.text);
      if (p.result == Fields::complete && !p.quote_in_bare) {
        finish_record(p, l.number, 1);
        return;
      }
    }
    bool quote = in_quote_ != ((count_quotes(l.text) & 1) != 0);
    if (pending_.empty() && !in_quote_ && !quote) {
      parse(l.text, l.number, 1);
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
  enum class Fields { complete, malformed };
  struct Parsed {
    Fields result = Fields::complete;
    int columns = 0;
    bool zone_known = true;
    bool quote_in_bare = false;  // a '"' inside an unquoted field
    model::LogRecord* record = nullptr;  // the record filled
  };

  // A record per session (kSessions of them, least recently used replaced)
  // with what its lines repeat, as written: columns 1-5 (user, database,
  // pid, connection, session id: the "head") and from application_name to
  // the end (the "tail"). Bytes equal to its session's head (tail), read from
  // the start of a field, would set the fields to what the record holds:
  // they are neither scanned nor read again. Lines the one-pass reading
  // turns away leave records untouched; the others write into the last one.
  struct Session {
    model::LogRecord record;
    std::string head, tail;  // "" when not known
    int tail_columns = 0;
    std::uint64_t used = 0;  // last line read into it, for replacement
  };
  static constexpr std::size_t kSessions = 8;
  model::LogRecord& general() { return sessions_[kSessions].record; }

  void reset() {
    pending_.clear();
    in_quote_ = false;
    lines_ = 0;
  }

  void parse(std::string_view text, std::uint64_t number, std::uint64_t lines) {
    Parsed p = parse_fields(text);
    if (p.result != Fields::complete) {
      ctx_.skip(number, lines);
      return;
    }
    finish_record(p, number, lines);
  }

  // Splits `text` into fields and fills record_ from them; no side effects
  // on the context, so the caller may still decide how to treat the text.
  Parsed parse_fields(std::string_view text) {
    clear_record(general());
    Parsed p;
    p.record = &general();
    const std::size_t n = text.size();
    std::size_t i = 0;
    int column = 0;
    while (true) {
      std::string_view value;
      if (i < n && text[i] == '"') {
        ++i;
        std::size_t q = find_either<'"', '"'>(text, i);
        if (q == n) {
          p.result = Fields::malformed;
          return p;
        }
        if (q + 1 < n && text[q + 1] == '"') {
          // Doubled quotes inside: unescape into the reused field buffer.
          field_.assign(text.data() + i, q - i);
          field_ += '"';
          i = q + 2;
          while (true) {
            q = text.find('"', i);
            if (q == std::string_view::npos) {
              p.result = Fields::malformed;
              return p;
            }
            field_.append(text.data() + i, q - i);
            i = q + 1;
            if (i < n && text[i] == '"') {
              field_ += '"';
              ++i;
              continue;
            }
            break;
          }
          value = field_;
        } else {
          value = std::string_view(text.data() + i, q - i);
          i = q + 1;
        }
      } else if (i < n && text[i] == ',') {
        // An empty field (most columns of most records): value stays empty.
      } else {
        std::size_t end = find_either<',', '"'>(text, i);
        if (end < n && text[end] == '"') {
          p.quote_in_bare = true;  // malformed, but read as before: up to the comma
          end = text.find(',', end);
          if (end == std::string_view::npos) end = n;
        }
        value = std::string_view(text.data() + i, end - i);
        i = end;
      }
      // Fields start cleared: an empty value leaves them as they are.
      if (column < kCsvColumns && !value.empty()) set_field(column, value, p.zone_known);
      ++column;
      if (i >= n) break;
      if (text[i] != ',') {
        p.result = Fields::malformed;
        return p;
      }
      ++i;
    }
    p.columns = column;
    return p;
  }

  // One pass over a one-line record with 64-byte masks of its commas and
  // quotes: the commas outside quotes (prefix_xor of the quotes) are the field
  // ends, walked bit by bit rather than byte by byte. False, with
  // record_ untouched, when a quote is out of place (in a bare field, text
  // after a closing quote, unbalanced): parse_fields() then reads the line as
  // before. Accepts exactly the lines where every field is bare without
  // quotes or '"' (text | '""')* '"', which parse_fields() reads the same way.
  bool parse_line_fast(std::string_view text, Parsed& p) {
    const char* s = text.data();
    const std::size_t n = text.size();
    // The time (a bare field) and the session its head names.
    Session* session = &sessions_[kSessions];
    std::size_t head_start = 0;
    bool head_hit = false;
    {
      const std::size_t t = find_either<',', '"'>(text, 0);
      if (t < n && s[t] == ',') {
        head_start = t + 1;
        session = session_by_head(sessions_, kSessions, s, n, head_start);
        head_hit = !session->head.empty();
      }
    }
    p.record = &session->record;
    std::uint64_t inside_carry = 0;  // all ones when a block starts inside quotes
    std::uint64_t close_carry = 0;   // 1 when the last block ended on a closing quote
    std::uint64_t start_carry = 1;   // 1 when a block's first byte starts a field
    std::uint64_t doubled = 0;       // any '""' in the line
    // starts_[c] is where field c starts (c <= kCsvColumns); columns after
    // that are only counted.
    std::size_t column = 0;
    // Masks of one block (bits past the end of the text are clear) to field
    // starts; false when a quote is out of place.
    auto block = [&](ByteMasks m, std::size_t base) __attribute__((always_inline)) {
      const std::uint64_t quotes = m.b;
      std::uint64_t seps = m.a;
      if ((quotes | inside_carry | close_carry) != 0) {
        const std::uint64_t inside = prefix_xor(quotes) ^ inside_carry;
        inside_carry = std::uint64_t{0} - (inside >> 63);
        seps &= ~inside;
        const std::uint64_t opening = quotes & inside, closing = quotes & ~inside;
        const std::uint64_t after_close = (closing << 1) | close_carry;
        close_carry = closing >> 63;
        const std::uint64_t starts = (seps << 1) | start_carry;
        // An opening quote starts a field or doubles a quote; a closing quote
        // is followed by a separator, the end of the line (no bit), or the
        // second quote of a pair.
        if (((opening & ~(starts | after_close)) | (after_close & ~(seps | opening) & m.valid)) != 0)
          return false;
        doubled |= opening & after_close;  // the second quote of each '""'
      }
      start_carry = seps >> 63;
      if (column + 64 <= kCsvColumns + kMaxSepsPerBlock) {
        // Stored unchecked: starts_ has room for a block's worth past the end.
        std::size_t* out = starts_ + column;
        const std::size_t after = base + 1;
        // Two at a time: half the loop steps (most blocks hold 5-8).
        while (seps != 0) {
          out[1] = after + static_cast<unsigned>(std::countr_zero(seps));
          seps &= seps - 1;
          if (seps == 0) {
            out += 1;
            break;
          }
          out[2] = after + static_cast<unsigned>(std::countr_zero(seps));
          seps &= seps - 1;
          out += 2;
        }
        column = static_cast<std::size_t>(out - starts_);
      } else {
        column += static_cast<std::size_t>(std::popcount(seps));  // only counted
      }
      return true;
    };
    // Scans s[from, end) where field `first` starts at `from`.
    auto scan = [&](std::size_t first, std::size_t from, std::size_t end) __attribute__((always_inline)) {
      inside_carry = close_carry = doubled = 0;
      start_carry = 1;
      column = first;
      starts_[first] = from;
      std::size_t base = from;
      for (; base + 64 <= end; base += 64) {
        if (!block(byte_masks64<',', '"'>(s + base), base)) return false;
      }
      if (base < end) {
        // The last bytes: the block that ends with them, shifted down to
        // `base`, when the line is that long (no copy), else a padded copy.
        ByteMasks m;
        if (end >= 64) {
          m = byte_masks64<',', '"'>(s + end - 64);
          const unsigned shift = static_cast<unsigned>(64 - (end - base));
          m.a >>= shift;
          m.b >>= shift;
          m.valid = ~std::uint64_t{0} >> shift;
        } else {
          m = byte_masks_tail<',', '"'>(s + base, end - base);
        }
        if (!block(m, base)) return false;
      }
      return true;
    };
    // After the head, up to the session's tail when the line ends with it
    // and the bytes before it end the field before application_name.
    const std::size_t head_end = head_hit ? head_start + session->head.size() : 0;
    bool tail_hit = false;
    if (head_hit) {
      const std::string& tail = session->tail;
      const std::size_t cut = n - tail.size();
      if (!tail.empty() && n > head_end + tail.size() && s[cut - 1] == ',' &&
          same_any(s + cut, tail.data(), tail.size())) {
        tail_hit = scan(kSessionLine, head_end, cut) && inside_carry == 0 &&
                   column == kApplication && starts_[kApplication] == cut;
      }
      if (!tail_hit && !scan(kSessionLine, head_end, n)) return false;
    } else if (!scan(0, 0, n)) {
      return false;
    }
    if (tail_hit) {
      p.columns = kApplication + session->tail_columns;
    } else {
      if (inside_carry != 0) return false;  // the record goes on on the next line
      ++column;
      if (column <= kCsvColumns) starts_[column] = n + 1;  // where the last field ends
      p.columns = static_cast<int>(std::min<std::size_t>(column, kCsvColumns + 1));
      if (column < kMinCsvColumns) return true;  // not a record (finish_record() skips it)
    }
    const int fields = tail_hit ? kApplication : static_cast<int>(std::min<std::size_t>(column, kCsvColumns));
    auto field = [&](int c) __attribute__((always_inline)) {
      // Columns this record does not have (older servers) are empty.
      if (c >= kMinCsvColumns && c >= fields) return std::string_view{};
      std::string_view v(s + starts_[c], starts_[c + 1] - 1 - starts_[c]);
      if (v.empty() || v.front() != '"') return v;
      v = std::string_view(v.data() + 1, v.size() - 2);  // a well-formed quoted field
      if (doubled != 0 && v.find('"') != std::string_view::npos) {
        field_.clear();
        for (std::size_t i = 0; i < v.size(); ++i) {
          field_ += v[i];
          if (v[i] == '"') ++i;  // the second quote of the pair
        }
        v = field_;
      }
      return v;
    };
    session->used = ++lines_read_;
    model::LogRecord& r = session->record;
    model::RecordHeader& h = r.header;
    std::string_view v = head_hit ? std::string_view(s, head_start - 1) : field(kLogTime);
    h.time = v.empty() ? model::kNoTime : times_.parse(v, p.zone_known);
    if (!head_hit) {
      set_text(h.user, field(kUser));
      set_text(h.database, field(kDatabase));
      h.pid = read_number<std::int32_t>(field(kPid), s + n);
      set_text(h.client, field(kConnectionFrom));
      set_text(h.session_id, field(kSessionId));
    }
    h.session_line = read_number<std::uint64_t>(field(kSessionLine), s + n);
    set_text(h.virtual_xid, field(kVxid));
    h.xid = read_number<std::uint64_t>(field(kXid), s + n);
    v = field(kSeverity);
    r.level = v.empty() ? model::LogLevel::unknown : read_level(v);
    set_text(h.sqlstate, field(kSqlState));
    v = field(kMessage);
    replace_text(r.message, v);
    set_text(r.detail, field(kDetail));
    if (starts_[kApplication] - starts_[kHint] == kApplication - kHint) {
      // hint to location all empty (most records): one byte each.
      r.hint.clear();
      r.query.clear();
      r.context.clear();
      r.statement.clear();
      r.location.clear();
    } else {
      set_text(r.hint, field(kHint));
      set_text(r.query, field(kInternalQuery));
      set_text(r.context, field(kContext));
      set_text(r.statement, field(kQuery));
      set_text(r.location, field(kLocation));
    }
    if (!tail_hit) {
      set_text(h.application, field(kApplication));
      set_text(h.backend_type, field(kBackendType));
    }
    if (session != &sessions_[kSessions]) {
      // What the next lines of the session may skip.
      if (!head_hit) {
        const std::size_t end = starts_[kSessionLine];
        if (end - head_start >= 16) session->head.assign(s + head_start, end - head_start);
      }
      if (!tail_hit) {
        if (fields > kApplication) {
          session->tail.assign(s + starts_[kApplication], n - starts_[kApplication]);
          session->tail_columns = p.columns - kApplication;
        } else {
          session->tail.clear();
        }
      }
    }
    return true;
  }

  // Fields are cleared before a record is parsed: strings are appended to,
  // which is cheaper than assign(). Unused columns cost nothing.
  void set_field(int column, std::string_view v, bool& zone_known) {
    model::LogRecord& r = general();
    switch (column) {
      case kUser: r.header.user.append(v.data(), v.size()); break;
      case kDatabase: r.header.database.append(v.data(), v.size()); break;
      case kConnectionFrom: r.header.client.append(v.data(), v.size()); break;
      case kSessionId: r.header.session_id.append(v.data(), v.size()); break;
      case kVxid: r.header.virtual_xid.append(v.data(), v.size()); break;
      case kSqlState: r.header.sqlstate.append(v.data(), v.size()); break;
      case kMessage: r.message.append(v.data(), v.size()); break;
      case kDetail: r.detail.append(v.data(), v.size()); break;
      case kHint: r.hint.append(v.data(), v.size()); break;
      case kInternalQuery: r.query.append(v.data(), v.size()); break;
      case kContext: r.context.append(v.data(), v.size()); break;
      case kQuery: r.statement.append(v.data(), v.size()); break;
      case kLocation: r.location.append(v.data(), v.size()); break;
      case kApplication: r.header.application.append(v.data(), v.size()); break;
      case kBackendType: r.header.backend_type.append(v.data(), v.size()); break;
      case kLogTime: case kPid: case kSessionLine: case kXid: case kSeverity:
        set_scalar_column(r, column, v, times_, zone_known);
        break;
      default: break;
    }
  }

  void finish_record(const Parsed& p, std::uint64_t number, std::uint64_t lines) {
    // 22 columns (before 9.0-style application_name) up to 26 (PG14+).
    model::LogRecord& r = *p.record;
    if (p.columns < kMinCsvColumns || p.columns > kCsvColumns || r.header.time == model::kNoTime ||
        (r.level == model::LogLevel::unknown)) {
      ctx_.skip(number, lines);
      return;
    }
    r.header.where = {ctx_.input, number};
    if (!p.zone_known) warn_zone();
    emit_record(ctx_, r);
  }

  void warn_zone() {
    if (warned_zone_) return;
    warned_zone_ = true;
    ctx_.warn("unknown time zone abbreviation in timestamps; they are taken as UTC");
  }

  ReaderContext& ctx_;
  Session sessions_[kSessions + 1];  // the last: the field-by-field reading's
  std::uint64_t lines_read_ = 0;
  TimeCache times_;
  std::string field_;
  // Field starts of parse_line_fast, with room for one block of separators
  // past the columns it keeps.
  static constexpr std::size_t kMaxSepsPerBlock = 64;
  std::size_t starts_[kCsvColumns + 1 + kMaxSepsPerBlock] = {};
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

constexpr int kNoColumn = -1, kRemotePort = -2;

// key == lit for a key whose length the caller has checked: fixed-size loads
// rather than a compare call.
template <std::size_t N>
[[gnu::always_inline]] constexpr bool key_is(std::string_view key, const char (&lit)[N]) {
  if (std::is_constant_evaluated()) return key == std::string_view(lit, N - 1);
  return same_text(key.data(), lit, N - 1);
}

// The column of a jsonlog key (kJsonKeys), kRemotePort, or kNoColumn. A
// switch on the length first: every line has ~15 keys, most of them used.
[[gnu::always_inline]] constexpr int jsonlog_column(std::string_view key) {
  switch (key.size()) {
    case 3: if (key_is(key, "pid")) return kPid; break;
    case 4:
      if (key_is(key, "user")) return kUser;
      if (key_is(key, "vxid")) return kVxid;
      if (key_is(key, "txid")) return kXid;
      if (key_is(key, "hint")) return kHint;
      break;
    case 6:
      if (key_is(key, "dbname")) return kDatabase;
      if (key_is(key, "detail")) return kDetail;
      break;
    case 7:
      if (key_is(key, "message")) return kMessage;
      if (key_is(key, "context")) return kContext;
      break;
    case 8: if (key_is(key, "line_num")) return kSessionLine; break;
    case 9:
      if (key_is(key, "timestamp")) return kLogTime;
      if (key_is(key, "statement")) return kQuery;
      break;
    case 10:
      if (key_is(key, "session_id")) return kSessionId;
      if (key_is(key, "state_code")) return kSqlState;
      break;
    case 11:
      if (key_is(key, "remote_host")) return kConnectionFrom;
      if (key_is(key, "remote_port")) return kRemotePort;
      break;
    case 12: if (key_is(key, "backend_type")) return kBackendType; break;
    case 14:
      if (key_is(key, "error_severity")) return kSeverity;
      if (key_is(key, "internal_query")) return kInternalQuery;
      break;
    case 16: if (key_is(key, "application_name")) return kApplication; break;
    default: break;
  }
  return kNoColumn;
}

constexpr bool jsonlog_columns_match_table() {
  for (const JsonKey& k : kJsonKeys) {
    if (jsonlog_column(k.jsonlog) != k.column) return false;
  }
  return jsonlog_column("remote_port") == kRemotePort && jsonlog_column("query_id") == kNoColumn;
}
static_assert(jsonlog_columns_match_table(), "jsonlog_column() disagrees with kJsonKeys");

// The keys of a jsonlog line in the order PostgreSQL 15-18 writes them
// (write_jsonlog(); absent ones are left out), each with what precedes its
// value: `"key":` and, for a string value, its opening quote. Members that
// come in this order are matched by one fixed-size compare each, without
// looking for the key's end or switching on it; anything else (another
// order, another key, a null, a string where a number was expected) leaves
// the rest of the line to the member-by-member loop.
struct OrderedKey {
  std::string_view lead;  // `"key":` or `"key":"`
  int column;             // a CsvColumn, kRemotePort or kNoColumn
};

constexpr OrderedKey kJsonlogOrder[] = {
    {R"("timestamp":")", kLogTime},       {R"("user":")", kUser},
    {R"("dbname":")", kDatabase},         {R"("pid":)", kPid},
    {R"("remote_host":")", kConnectionFrom}, {R"("remote_port":)", kRemotePort},
    {R"("session_id":")", kSessionId},    {R"("line_num":)", kSessionLine},
    {R"("ps":")", kNoColumn},             {R"("session_start":")", kNoColumn},
    {R"("vxid":")", kVxid},               {R"("txid":)", kXid},
    {R"("error_severity":")", kSeverity}, {R"("state_code":")", kSqlState},
    {R"("message":")", kMessage},         {R"("detail":")", kDetail},
    {R"("hint":")", kHint},               {R"("internal_query":")", kInternalQuery},
    {R"("internal_query_pos":)", kNoColumn}, {R"("context":")", kContext},
    {R"("statement":")", kQuery},         {R"("cursor_position":)", kNoColumn},
    {R"("func_name":")", kNoColumn},      {R"("file_name":")", kNoColumn},
    {R"("file_line_num":)", kNoColumn},   {R"("application_name":")", kApplication},
    {R"("backend_type":")", kBackendType}, {R"("leader_pid":)", kNoColumn},
    {R"("query_id":)", kNoColumn},
};
constexpr std::size_t kJsonlogKeys = std::size(kJsonlogOrder);

// The first 8 bytes of a text (fewer: zeros above) as load8() reads them.
constexpr std::uint64_t first_word(std::string_view text) {
  std::uint64_t w = 0;
  for (std::size_t b = 0; b < 8 && b < text.size(); ++b)
    w |= std::uint64_t{static_cast<unsigned char>(text[b])} << (8 * b);
  return w;
}

// Each lead names the column the member-by-member loop gives its key.
constexpr bool jsonlog_order_matches_columns() {
  for (const OrderedKey& k : kJsonlogOrder) {
    const bool string = k.lead.back() == '"';
    const std::string_view key = k.lead.substr(1, k.lead.size() - (string ? 4 : 3));
    if (k.lead.front() != '"' || k.lead[key.size() + 1] != '"' || k.lead[key.size() + 2] != ':')
      return false;
    if (jsonlog_column(key) != k.column) return false;
  }
  return true;
}
static_assert(jsonlog_order_matches_columns(), "kJsonlogOrder disagrees with jsonlog_column()");

int cnpg_column(std::string_view key) {
  for (const JsonKey& k : kJsonKeys) {
    if (k.csv == key) return k.column;
  }
  return kNoColumn;
}

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
    port_.clear();
    bool zone_known = true;
    bool is_record = kind_ == Kind::jsonlog;
    bool ok = true;
    Session* session = kind_ == Kind::jsonlog ? scan_jsonlog_fast(text, zone_known) : nullptr;
    if (session == nullptr) {
      // The general way, into the record no memo refers to.
      session = &sessions_[kSessions];
      model::LogRecord& r = session->record;
      session->filled = kRecordColumns;  // whatever the general way sets
      clear_record(r);
      port_.clear();
      zone_known = true;
      std::size_t pos = 0;
      if (kind_ == Kind::jsonlog) {
        ok = scan_json_object(text, pos, [&](std::string_view key, const JsonValue& v) {
          set_column(r, jsonlog_column(key), v, zone_known);
        });
      } else {
        ok = scan_json_object(text, pos, [&](std::string_view key, const JsonValue& v) {
          if (key == "record" && v.type == JsonValue::Type::object) {
            std::size_t inner = 0;
            is_record = scan_json_object(v.raw, inner, [&](std::string_view k, const JsonValue& iv) {
              set_column(r, cnpg_column(k), iv, zone_known);
            });
          }
        });
      }
    }
    model::LogRecord& record = session->record;
    record.header.where = {ctx_.input, l.number};
    if (!ok) {
      ctx_.skip(l.number);
      return;
    }
    if (!is_record) {
      ctx_.noise();  // CloudNativePG's own (operator) messages
      return;
    }
    if (record.header.time == model::kNoTime || record.level == model::LogLevel::unknown) {
      ctx_.skip(l.number);
      return;
    }
    if (!port_.empty()) {
      record.header.client += ':';
      record.header.client += port_;
      session->filled |= std::uint32_t{1} << kConnectionFrom;
    }
    if (!zone_known && !warned_zone_) {
      warned_zone_ = true;
      ctx_.warn("unknown time zone abbreviation in timestamps; they are taken as UTC");
    }
    emit_record(ctx_, record);
  }
  void finish() override {}

 private:
  // A record per session (kSessions of them, least recently used replaced)
  // with what its lines repeat: the members between the timestamp and
  // line_num (user, dbname, pid, remote_host, remote_port, session_id: the
  // "head") and from application_name to the end (the "tail"), as written.
  // A line whose head (tail) is its session's, byte for byte, would set the
  // same fields to the values the record holds: those members are skipped.
  // Only lines read wholly in the server's key order are remembered, and a
  // record is forgotten as soon as a line fails in it.
  struct Session {
    model::LogRecord record;
    std::string head, tail;  // "" when not known
    std::uint32_t head_seen = 0, tail_seen = 0;  // the columns they set
    std::uint32_t filled = kRecordColumns;  // columns record may hold a value of
    std::uint64_t used = 0;  // last line read into it, for replacement
    void forget() {
      head.clear();
      tail.clear();
      filled = kRecordColumns;
    }
  };
  static constexpr std::size_t kSessions = 8;
  static constexpr std::size_t kLineNumKey = 7, kMessageKey = 14, kTailKey = 25;  // in kJsonlogOrder
  static_assert(kJsonlogOrder[kLineNumKey].column == kSessionLine &&
                kJsonlogOrder[kMessageKey].column == kMessage &&
                kJsonlogOrder[kTailKey].column == kApplication);

  enum { kRunning, kDone, kMalformed };

  // What the ordered walk learnt of a line, for the memo.
  struct Walk {
    std::uint32_t seen = 0;         // bit per column
    std::size_t first = 1;          // the first key of kJsonlogOrder to try
    std::size_t head_start = 0;     // after the timestamp, when it comes first
    std::size_t head_end = 0;       // where line_num starts, when read in order
    std::uint32_t head_seen = 0;    // columns seen before it
    std::size_t tail_start = 0;     // where the tail starts, when reached in order
    std::uint32_t tail_before = 0;  // columns seen before it
    bool tail_hit = false;
  };

  // jsonlog as the server writes it, in one pass: no spaces between tokens, no
  // backslash anywhere in the line (so every '"' delimits a string), no
  // nested value. Quote positions come from 64-byte masks; the members are
  // then walked from quote to quote, first in the server's key order, then
  // one by one. Gives the record scan_json_object() and set_column() would
  // give, and its Session; else nullptr (port_ partly written, the session
  // used forgotten) and the caller reads the line the general way.
  Session* scan_jsonlog_fast(std::string_view text, bool& zone_known) {
    const char* s = text.data();
    const std::size_t n = text.size();
    const std::size_t words = (n + 63) / 64;
    if (quote_bits_.size() < words) quote_bits_.resize(words);
    std::uint64_t* q = quote_bits_.data();
    if (quote_masks_(s, n, q)) return nullptr;  // a backslash: the long way
    // The first '"' at or after `from` (< n), or n.
    auto quote_from = [&](std::size_t from) __attribute__((always_inline)) {
      std::size_t w = from / 64;
      std::uint64_t bits = q[w] >> (from % 64);
      if (bits != 0) [[likely]]
        return from + static_cast<unsigned>(std::countr_zero(bits));
      while (++w < words) {
        if (q[w] != 0) return w * 64 + static_cast<unsigned>(std::countr_zero(q[w]));
      }
      return n;
    };
    // The closing '}' at the end stops every step below before the end of
    // the text, so only the search for a closing quote needs a bound.
    if (n < 2 || s[1] == '}' || s[n - 1] != '}') return nullptr;
    std::size_t i = 1;  // after the '{'
    int state = kRunning;
    Walk walk;
    // The timestamp first: its session is known by the members after it.
    Session* session = &sessions_[kSessions];
    model::Timestamp time = model::kNoTime;
    constexpr std::string_view kTimeLead = kJsonlogOrder[0].lead;
    if (lead_matches<0>(s, n, i)) {
      const std::size_t v = i + kTimeLead.size(), end = quote_from(v);
      if (end >= n) return nullptr;
      time = times_.parse(std::string_view(s + v, end - v), zone_known);
      walk.seen = std::uint32_t{1} << kLogTime;
      i = end + 1;
      if (s[i] == ',') [[likely]] {
        ++i;
        walk.head_start = i;
        session = session_by_head(sessions_, kSessions, s, n, i);
        if (!session->head.empty()) {
          i += session->head.size();
          walk.seen |= session->head_seen;
          walk.first = kLineNumKey;
        }
      } else {
        state = s[i] == '}' ? kDone : kMalformed;
      }
    }
    session->used = ++lines_;
    model::LogRecord& r = session->record;
    if (walk.seen != 0) r.header.time = time;
    if (state == kMalformed) return forget(*session);
    // The members in the server's order first, then the others one by one.
    [&]<std::size_t... K>(std::index_sequence<K...>) __attribute__((always_inline)) {
      ((state = state == kRunning && K + 1 >= walk.first
                    ? ordered_member<K + 1>(*session, s, n, i, walk, zone_known, quote_from)
                    : state),
       ...);
    }(std::make_index_sequence<kJsonlogKeys - 1>{});
    if (state == kMalformed) return forget(*session);
    const bool in_order = state == kDone;
    std::uint32_t& seen = walk.seen;
    while (state == kRunning) {
      if (s[i] != '"') return forget(*session);
      const std::size_t key_end = quote_from(i + 1);
      if (key_end >= n || s[key_end + 1] != ':') return forget(*session);
      const std::string_view key(s + i + 1, key_end - i - 1);
      const std::size_t v = key_end + 2;
      std::string_view raw;
      bool is_null = false;
      if (s[v] == '"') [[likely]] {
        const std::size_t end = quote_from(v + 1);
        if (end >= n) return forget(*session);
        raw = std::string_view(s + v + 1, end - v - 1);
        i = end + 1;
      } else {
        if (s[v] == '{' || s[v] == '[') return forget(*session);
        std::size_t end = v;
        while (!json_detail::kLiteralEnd[static_cast<unsigned char>(s[end])]) ++end;
        if (end == v) return forget(*session);
        raw = std::string_view(s + v, end - v);
        is_null = raw.size() == 4 && std::memcmp(raw.data(), "null", 4) == 0;
        i = end;
      }
      const int column = jsonlog_column(key);
      if (column >= 0) {
        seen |= std::uint32_t{1} << column;
        set_value(r, column, is_null ? std::string_view{} : raw, s + n, zone_known);
      } else if (column == kRemotePort) {
        port_.assign(raw.data(), raw.size());
      }
      if (s[i] == ',') [[likely]] {
        ++i;
        continue;
      }
      if (s[i] != '}') return forget(*session);
      break;
    }
    // Keys the line does not have leave their fields empty (those that may
    // hold something: most lines have the same keys as the last one).
    for (std::uint32_t missing = session->filled & ~seen; missing != 0; missing &= missing - 1)
      reset_column(r, std::countr_zero(missing));
    session->filled = seen;
    if (session != &sessions_[kSessions]) remember(*session, s, n, walk, in_order);
    return session;
  }

  // Keeps the head and tail of a line read in order in its session, once
  // the record holds what they set (a hit keeps what it had).
  void remember(Session& session, const char* s, std::size_t n, const Walk& walk, bool in_order) {
    if (!in_order) {
      // Members out of order may have set any field: nothing is known.
      session.head.clear();
      session.tail.clear();
      return;
    }
    if (walk.first == 1) {
      if (walk.head_end != 0 && walk.head_end - walk.head_start >= 16) {
        session.head.assign(s + walk.head_start, walk.head_end - walk.head_start);
        session.head_seen = walk.head_seen & ~(std::uint32_t{1} << kLogTime);
        // The client gets ":port" appended once (by line()), not per line.
        if (!port_.empty()) session.head_seen |= std::uint32_t{1} << kConnectionFrom;
      } else {
        session.head.clear();
      }
    }
    if (walk.tail_hit) return;
    if (walk.tail_start != 0) {
      session.tail.assign(s + walk.tail_start, n - walk.tail_start);
      session.tail_seen = walk.seen & ~walk.tail_before;
    } else {
      session.tail.clear();
    }
  }

  Session* forget(Session& session) {
    session.forget();
    return nullptr;
  }

  // Whether s[i] starts with kJsonlogOrder[K].lead (and 8 bytes are
  // readable there): its first 8 bytes in one compare, which turns away the
  // keys a line leaves out.
  template <std::size_t K>
  [[gnu::always_inline]] static bool lead_matches(const char* s, std::size_t n, std::size_t i) {
    constexpr std::string_view lead = kJsonlogOrder[K].lead;
    constexpr std::size_t len = lead.size();
    constexpr std::uint64_t word = first_word(lead);
    constexpr std::uint64_t mask = len >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * len)) - 1;
    if (i + std::max<std::size_t>(len, 8) >= n) return false;
    if (((load8(s + i) ^ word) & mask) != 0) return false;
    if constexpr (len > 8) return same_text(s + i + 8, lead.data() + 8, len - 8);
    return true;
  }

  // The member at s[i] when it is kJsonlogOrder[K] (else kRunning with i
  // unchanged): its value set as the member-by-member loop sets it, i after
  // the ',' that follows (kRunning) or at the closing '}' (kDone).
  template <std::size_t K, typename QuoteFrom>
  [[gnu::always_inline]] int ordered_member(Session& session, const char* s, std::size_t n,
                                            std::size_t& i, Walk& walk, bool& zone_known,
                                            const QuoteFrom& quote_from) {
    constexpr OrderedKey key = kJsonlogOrder[K];
    constexpr std::size_t lead = key.lead.size();
    constexpr bool string = key.lead.back() == '"';
    if constexpr (K > kMessageKey && K <= kTailKey) {
      // The tail: the session's own (looked for from the key after the
      // message on: no key before application_name reads its first member,
      // so the keys in between would all be turned away), or where this
      // line's starts.
      const std::string& tail = session.tail;
      if (n - i == tail.size() && !tail.empty() && same_bytes(s + i, tail.data(), tail.size())) {
        walk.seen |= session.tail_seen;
        walk.tail_hit = true;
        i = n - 1;
        return kDone;
      }
      if constexpr (K == kTailKey) {
        walk.tail_start = i;
        walk.tail_before = walk.seen;
      }
    }
    if (!lead_matches<K>(s, n, i)) return kRunning;
    if constexpr (K == kLineNumKey) {
      walk.head_end = i;
      walk.head_seen = walk.seen;
    }
    const std::size_t v = i + lead;
    std::size_t end;
    if constexpr (string) {
      end = quote_from(v);
      if (end >= n) return kMalformed;
    } else {
      // Numbers only (a string, literal or nested value goes the long way).
      if (!((s[v] >= '0' && s[v] <= '9') || s[v] == '-')) return kRunning;
      end = v + 1;
      while (!json_detail::kLiteralEnd[static_cast<unsigned char>(s[end])]) ++end;
    }
    const std::string_view raw(s + v, end - v);
    if constexpr (key.column >= 0) {
      walk.seen |= std::uint32_t{1} << key.column;
      set_value(session.record, key.column, raw, s + n, zone_known);
    } else if constexpr (key.column == kRemotePort) {
      port_.assign(raw.data(), raw.size());
    }
    i = string ? end + 1 : end;
    if (s[i] == ',') [[likely]] {
      ++i;
      return kRunning;
    }
    return s[i] == '}' ? kDone : kMalformed;
  }

  // A column's value as set_column() sets it from unescaped text.
  // `end` is the end of the line, for read_number's 8-byte loads.
  [[gnu::always_inline]] void set_value(model::LogRecord& r, int column, std::string_view v,
                                        const char* end, bool& zone_known) {
    switch (column) {
      case kLogTime: r.header.time = times_.parse(v, zone_known); break;
      case kUser: set_text(r.header.user, v); break;
      case kDatabase: set_text(r.header.database, v); break;
      case kPid: r.header.pid = read_number<std::int32_t>(v, end); break;
      case kConnectionFrom: set_text(r.header.client, v); break;
      case kSessionId: set_text(r.header.session_id, v); break;
      case kSessionLine: r.header.session_line = read_number<std::uint64_t>(v, end); break;
      case kVxid: set_text(r.header.virtual_xid, v); break;
      case kXid: r.header.xid = read_number<std::uint64_t>(v, end); break;
      case kSeverity: r.level = read_level(v); break;
      case kSqlState: set_text(r.header.sqlstate, v); break;
      case kMessage: replace_text(r.message, v); break;
      case kDetail: set_text(r.detail, v); break;
      case kHint: set_text(r.hint, v); break;
      case kInternalQuery: set_text(r.query, v); break;
      case kContext: set_text(r.context, v); break;
      case kQuery: set_text(r.statement, v); break;
      case kLocation: set_text(r.location, v); break;
      case kApplication: set_text(r.header.application, v); break;
      case kBackendType: set_text(r.header.backend_type, v); break;
      default: break;
    }
  }

  // String fields are decoded straight into the record; the others are read
  // from the raw text unless it has escapes.
  void set_column(model::LogRecord& r, int column, const JsonValue& v, bool& zone_known) {
    if (column == kNoColumn) return;
    if (column == kRemotePort) {
      port_.assign(v.raw);
      return;
    }
    if (std::string* s = string_column(r, column)) {
      json_to_string(v, *s);
      return;
    }
    std::string_view text;
    if (v.escaped) {
      json_to_string(v, value_);
      text = value_;
    } else if (!v.is_null()) {
      text = v.raw;
    }
    set_scalar_column(r, column, text, times_, zone_known);
  }

  Kind kind_;
  ReaderContext& ctx_;
  Session sessions_[kSessions + 1];  // the last: lines no memo applies to
  std::uint64_t lines_ = 0;
  TimeCache times_;
  std::string value_, port_;
  std::vector<std::uint64_t> quote_bits_;  // scan_jsonlog_fast: '"' of each 64 bytes
  // Fills quote_bits_, and whether the line has a backslash; chosen for the CPU.
  const LineMasksFn quote_masks_ = best_line_masks<'"', '\\'>();
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
