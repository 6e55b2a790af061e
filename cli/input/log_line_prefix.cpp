// The matcher walks the compiled tokens left to right. Escapes with a fixed
// shape (%p %m %c ...) are parsed in place; free-text escapes (%u %d %a %h %r
// %b %i %L) try each occurrence of the literal that follows them, so a name
// may contain that literal (spaces, '@', ','). A step budget bounds the
// backtracking so that a hostile line cannot make matching slow.
//
// Most lines match on the first path that backtracking would try (each name
// ends at the first occurrence of its literal, %q does not stop the prefix):
// match() walks that path first in one loop, without saving state for
// backtracking, and runs the backtracking matcher only when it fails. The
// first path is the first leaf of the backtracking search, so the result is
// the same.
#include "cli/input/log_line_prefix.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "cli/input/timestamp.h"

namespace pgsift::cli::input {
namespace {

constexpr int kStepBudget = 400;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// Severity words of translated server messages (lc_messages other than C/en).
constexpr std::array<std::string_view, 40> kLocalizedTags{{
    "FEHLER",      "WARNUNG",     "ANWEISUNG",  "ZUSAMMENHANG", "TIPP",        "PANIK",
    "ERREUR",      "ATTENTION",   "DÉTAIL",     "ASTUCE",       "CONTEXTE",    "INSTRUCTION",
    "ERRORE",      "ATTENZIONE",  "DETTAGLI",   "SUGGERIMENTO", "CONTESTO",    "ISTRUZIONE",
    "ADVERTENCIA", "DETALLE",     "SUGERENCIA", "CONTEXTO",     "SENTENCIA",   "PÁNICO",
    "ERRO",        "AVISO",       "DETALHE",    "DICA",         "COMANDO",     "ОШИБКА",
    "ВАЖНО",       "ПОДРОБНОСТИ", "ПОДСКАЗКА",  "КОНТЕКСТ",     "ОПЕРАТОР",    "СООБЩЕНИЕ",
    "ПРЕДУПРЕЖДЕНИЕ", "BŁĄD",     "FOUT",       "HATA",
}};

// The digits at `pos` (at most what fits: callers bound the count):
// their value, and the offset after them.
inline std::size_t read_digits(std::string_view s, std::size_t pos, std::uint64_t& value) {
  if (s.size() - pos >= 8) {
    // Up to seven digits (pids, line numbers, most xids) from one word: a
    // byte is a digit when (byte ^ '0') <= 9; the digits, moved to the top
    // of the word (the first one most significant), combine in pairs, fours
    // and eights.
    std::uint64_t x;
    std::memcpy(&x, s.data() + pos, 8);
    const std::uint64_t a = x ^ 0x3030303030303030ull;
    const std::uint64_t other = ((a + 0x7676767676767676ull) | a) & 0x8080808080808080ull;
    if (other != 0) {
      const unsigned n = static_cast<unsigned>(__builtin_ctzll(other)) / 8;
      if (n == 0) {
        value = 0;
        return pos;
      }
      std::uint64_t v = a << (8 * (8 - n));
      v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffull;
      v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffull;
      v = (v * 10000 + (v >> 32)) & 0xffffffffull;
      value = v;
      return pos + n;
    }
  }
  const char* p = s.data() + pos;
  const char* const end = s.data() + s.size();
  std::uint64_t v = 0;
  while (p < end && static_cast<unsigned char>(*p - '0') < 10) v = v * 10 + static_cast<std::uint64_t>(*p++ - '0');
  value = v;
  return static_cast<std::size_t>(p - s.data());
}

// The end of the digits at `pos`, eight bytes at a time: a byte is a digit
// when (byte ^ '0') <= 9, i.e. adding 0x76 leaves its high bit clear. A carry
// out of a byte only reaches bytes after the first non-digit.
inline std::size_t skip_digits_fast(std::string_view s, std::size_t pos) {
  while (s.size() - pos >= 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + pos, 8);
    const std::uint64_t a = x ^ 0x3030303030303030ull;
    const std::uint64_t other = ((a + 0x7676767676767676ull) | a) & 0x8080808080808080ull;
    if (other != 0) return pos + static_cast<std::size_t>(__builtin_ctzll(other)) / 8;
    pos += 8;
  }
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  return pos;
}

// %v at `p`: "backend/local" or nothing (processes without a backend id);
// returns the offset after it.
inline std::size_t scan_virtual_xid(std::string_view line, std::size_t p, PrefixFields& f) {
  const std::size_t end = skip_digits_fast(line, p);
  if (end > p && end < line.size() && line[end] == '/') {
    const std::size_t d = skip_digits_fast(line, end + 1);
    if (d > end + 1) {
      f.virtual_xid = std::string_view(line.data() + p, d - p);
      return d;
    }
  }
  return p;
}

// %Q at `p`: an optional '-' and digits, or nothing; returns the offset after it.
inline std::size_t scan_query_id(std::string_view line, std::size_t p, PrefixFields& f) {
  std::size_t end = p;
  if (end < line.size() && line[end] == '-') ++end;
  const std::size_t d = skip_digits_fast(line, end);
  end = d == end ? p : d;
  f.query_id = std::string_view(line.data() + p, end - p);
  return end;
}

// %p, %l or %x at `pos`: 1-18 digits into their field; advances `pos`.
inline bool read_number(char escape, std::string_view line, std::size_t& pos, PrefixFields& f) {
  std::uint64_t v;
  const std::size_t end = read_digits(line, pos, v);
  if (end == pos || end - pos > 18) return false;
  if (escape == 'p') {
    f.pid = static_cast<std::int32_t>(v);
  } else if (escape == 'l') {
    f.session_line = v;
  } else {
    f.xid = v;
  }
  pos = end;
  return true;
}

bool is_free_escape(char e) {
  switch (e) {
    case 'a': case 'u': case 'd': case 'h': case 'r': case 'b': case 'i': case 'L':
      return true;
    default:
      return false;
  }
}

void set_free(char e, std::string_view value, PrefixFields& f) {
  switch (e) {
    case 'a': f.application = value; break;
    case 'u': f.user = value; break;
    case 'd': f.database = value; break;
    case 'h': if (f.client.empty()) f.client = value; break;
    case 'r': f.client = value; break;
    case 'b': f.backend_type = value; break;
    case 'i': f.ps_display = value; break;
    default: break;  // %L: local address, not kept
  }
}

std::string_view trim_spaces(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

// Bytes that can continue a zone word, as a table: same_zone asks once per
// line, and the chain of range tests cost more than the lookup.
constexpr std::array<bool, 256> kZoneChars = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<std::size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                     (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                                     c == '/' || c == '_';
  }
  return t;
}();

bool is_zone_char(char c) { return kZoneChars[static_cast<unsigned char>(c)]; }

// %m / %t timestamps of consecutive lines share their minute and zone: the
// last "YYYY-MM-DD HH:MM" and " ZONE" parsed by parse_sql_time (per thread),
// with the epoch microseconds of that minute in that zone. A line with the
// same minute and zone text only needs its seconds and fraction read; any
// other line goes through parse_sql_time, which refills the cache.
struct PrefixTimeCache {
  char minute[16] = {};
  char zone[16] = {};  // " CET": the space and the whole zone word
  std::size_t zone_size = 0;
  std::uint64_t zone_mask = 0;  // 0xff for each byte of `zone` when it fits in 8
  model::Timestamp minute_micros = 0;
  bool zone_known = true;
  bool valid = false;
};
thread_local PrefixTimeCache prefix_time_cache;

// Seconds "SS" at 17 and an optional fraction, as parse_sql_time reads them;
// returns the offset after them, or 0 when they are not there.
std::size_t seconds_and_fraction(std::string_view s, model::Timestamp& micros_in_minute) {
  if (s.size() < 19 || s[16] != ':' || !is_digit(s[17]) || !is_digit(s[18])) return 0;
  const int second = (s[17] - '0') * 10 + (s[18] - '0');
  if (second > 60) return 0;
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (s.size() > 23 && s[19] == '.' && is_digit(s[20]) && is_digit(s[21]) && is_digit(s[22]) &&
      !is_digit(s[23])) {
    // %m: milliseconds.
    micros = ((s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0')) * 1000;
    i = 23;
  } else if (i < s.size() && s[i] == '.' && parse_fraction(s, i, micros, i) == 0) {
    return 0;
  }
  micros_in_minute = second * model::kMicrosPerSecond + micros;
  return i;
}

// The cached zone text at `i`, ended by a character that cannot extend it.
// Always inlined, as cached_prefix_time is: out of line it cost a call per line.
[[gnu::always_inline]] inline bool same_zone(const PrefixTimeCache& c, std::string_view s,
                                             std::size_t i) {
  const std::size_t end = i + c.zone_size;
  if (end > s.size()) return false;
  if (c.zone_mask != 0 && s.size() - i >= sizeof c.zone_mask) {
    std::uint64_t w, z;
    std::memcpy(&w, s.data() + i, sizeof w);
    std::memcpy(&z, c.zone, sizeof z);
    if ((w & c.zone_mask) != z) return false;
  } else if (std::memcmp(s.data() + i, c.zone, c.zone_size) != 0) {
    return false;
  }
  return end == s.size() || !is_zone_char(s[end]);
}

// %m's ":SS.mmm" at 16 and no digit after it, read as one word: the
// micros within the minute, or -1 for any other shape (a fraction of another
// length, %t without one, a second past 60), which seconds_and_fraction reads.
inline model::Timestamp seconds_and_millis(const char* at16) {
  std::uint64_t w;
  std::memcpy(&w, at16, sizeof w);
  // ':' '0'-'9' '0'-'9' '.' then three digits: XOR leaves 0-9 in the digit
  // bytes and 0 in the separators.
  const std::uint64_t a = (w ^ 0x003030302e30303aull) & 0x00ffffffffffffffull;
  const std::uint64_t not_digit = ((a + 0x0076767676767676ull) | a) & 0x0080808080808080ull;
  if ((not_digit | (a & 0x00000000ff0000ffull)) != 0) return -1;
  if (static_cast<unsigned char>(at16[7] - '0') < 10) return -1;  // a longer fraction
  const auto byte = [a](int k) { return static_cast<std::int64_t>((a >> (8 * k)) & 0xff); };
  const std::int64_t second = byte(1) * 10 + byte(2);
  if (second > 60) return -1;
  return second * model::kMicrosPerSecond + (byte(4) * 100 + byte(5) * 10 + byte(6)) * 1000;
}

// The cached minute and zone at the start of `s` (most lines): inlined into
// match(), which reads every line's time, where a call cost about a fifth
// of the whole read.
[[gnu::always_inline]] inline bool cached_prefix_time(std::string_view s, ParsedTime& out) {
  const PrefixTimeCache& c = prefix_time_cache;
  if (!c.valid || s.size() < 19 || std::memcmp(s.data(), c.minute, sizeof c.minute) != 0) {
    return false;
  }
  // %m's shape in one word, any other through seconds_and_fraction.
  model::Timestamp in_minute = 0;
  std::size_t i = 0;
  if (s.size() >= 24 && (in_minute = seconds_and_millis(s.data() + 16)) >= 0) {
    i = 23;
  } else {
    i = seconds_and_fraction(s, in_minute);
  }
  if (i == 0 || !same_zone(c, s, i)) return false;
  out.time = c.minute_micros + in_minute;
  out.length = i + c.zone_size;
  out.zone_known = c.zone_known;
  return true;
}

bool parse_prefix_time(std::string_view s, ParsedTime& out) {
  if (cached_prefix_time(s, out)) return true;
  PrefixTimeCache& c = prefix_time_cache;
  model::Timestamp in_minute = 0;
  if (!parse_sql_time(s, true, out)) return false;
  // Cache only the common shape: a space and a zone word after the time.
  const std::size_t i = seconds_and_fraction(s, in_minute);
  if (i != 0 && i + 1 < out.length && out.length - i <= sizeof c.zone && s[i] == ' ') {
    std::memcpy(c.minute, s.data(), sizeof c.minute);
    c.zone_size = out.length - i;
    std::memset(c.zone, 0, sizeof c.zone);
    std::memcpy(c.zone, s.data() + i, c.zone_size);
    c.zone_mask = 0;
    if (c.zone_size <= sizeof c.zone_mask) {
      unsigned char ones[sizeof c.zone_mask] = {};
      std::memset(ones, 0xff, c.zone_size);
      std::memcpy(&c.zone_mask, ones, sizeof c.zone_mask);
    }
    c.minute_micros = out.time - in_minute;
    c.zone_known = out.zone_known;
    c.valid = true;
  }
  return true;
}

// Parses a fixed-shape escape (not %q, not free text) at `pos`: sets its
// field and `end`; false when the line does not have it there.
bool match_fixed(char e, int padding, std::string_view line, std::size_t pos, PrefixFields& f,
                 std::size_t& end) {
  std::size_t p = pos;
  if (padding > 0) {
    while (p < line.size() && line[p] == ' ') ++p;
  }
  end = p;
  switch (e) {
    case 'P':  // the parallel group leader's pid: not kept, may be empty
      end = skip_digits_fast(line, p);
      if (end - p > 18) return false;
      break;
    case 'p': case 'l': case 'x':
      if (!read_number(e, line, end, f)) return false;
      break;
    case 'Q':
      end = scan_query_id(line, p, f);
      break;
    case 't': case 'm': case 's': {
      ParsedTime pt;
      if (!parse_prefix_time(line.substr(p), pt)) {
        if (e != 's') return false;
        break;
      }
      end = p + pt.length;
      if (e != 's') {
        f.time = pt.time;
        f.zone_known = pt.zone_known;
      }
      break;
    }
    case 'n': {
      ParsedTime pt;
      if (!parse_epoch_time(line.substr(p), pt)) return false;
      end = p + pt.length;
      f.time = pt.time;
      break;
    }
    case 'c': {
      while (end < line.size() && is_hex(line[end])) ++end;
      if (end == p || end >= line.size() || line[end] != '.') return false;
      std::size_t dot = ++end;
      while (end < line.size() && is_hex(line[end])) ++end;
      if (end == dot) return false;
      f.session_id = line.substr(p, end - p);
      break;
    }
    case 'v':
      end = scan_virtual_xid(line, p, f);  // empty for processes without a backend id
      break;
    case 'e': {
      if (p + 5 > line.size()) return false;
      for (std::size_t i = p; i < p + 5; ++i) {
        if (!is_digit(line[i]) && !is_upper(line[i])) return false;
      }
      end = p + 5;
      f.sqlstate = line.substr(p, 5);
      break;
    }
    default:
      break;
  }
  if (padding < 0) {
    while (end < line.size() && line[end] == ' ' && end - pos < static_cast<std::size_t>(-padding))
      ++end;
  }
  return true;
}

// First occurrence of `lit` at or after `pos` (npos if none).
std::size_t find_literal(std::string_view line, std::size_t pos, std::string_view lit) {
  if (lit.size() == 1) {
    if (pos >= line.size()) return std::string_view::npos;
    const void* hit = std::memchr(line.data() + pos, lit[0], line.size() - pos);
    return hit == nullptr ? std::string_view::npos
                          : static_cast<std::size_t>(static_cast<const char*>(hit) - line.data());
  }
  return line.find(lit, pos);
}

}  // namespace

model::LogLevel level_from_word(std::string_view word, bool& localized) {
  localized = false;
  if (word.empty()) return model::LogLevel::unknown;
  if (is_upper(word[0])) {
    // English severity words, looked up by length.
    using L = model::LogLevel;
    switch (word.size()) {
      case 3:
        if (word == "LOG") return L::log;
        break;
      case 4:
        if (word == "HINT") return L::hint;
        if (word == "INFO") return L::info;
        break;
      case 5:
        if (word == "ERROR") return L::error;
        if (word == "FATAL") return L::fatal;
        if (word == "QUERY") return L::query;
        if (word == "DEBUG") return L::debug;
        if (word == "PANIC") return L::panic;
        break;
      case 6:
        if (word == "DETAIL") return L::detail;
        if (word == "NOTICE") return L::notice;
        if (word.substr(0, 5) == "DEBUG" && word[5] >= '1' && word[5] <= '5') return L::debug;
        break;
      case 7:
        if (word == "CONTEXT") return L::context;
        if (word == "WARNING") return L::warning;
        break;
      case 8:
        if (word == "LOCATION") return L::location;
        break;
      case 9:
        if (word == "STATEMENT") return L::statement;
        if (word == "BACKTRACE") return L::location;
        break;
      default:
        break;
    }
  }
  for (std::string_view w : kLocalizedTags) {
    if (w == word) {
      localized = true;
      break;
    }
  }
  return model::LogLevel::unknown;
}

bool parse_line_tag(std::string_view line, std::size_t pos, LineTag& tag) {
  // Most lines of a statement log are "LOG:  ": the same result as below
  // without the scan and the word lookup.
  if (pos <= line.size() && line.size() - pos >= 5 && std::memcmp(line.data() + pos, "LOG: ", 5) == 0) {
    tag.level = model::LogLevel::log;
    tag.localized = false;
    std::size_t text = pos + 4;
    while (text < line.size() && text < pos + 6 && line[text] == ' ') ++text;
    tag.text_start = text;
    return true;
  }
  std::size_t colon = pos;
  // Severity words are short: scan at most 24 bytes for the colon.
  const std::size_t limit = std::min(line.size(), pos + 24);
  while (colon < limit && line[colon] != ':' && line[colon] != ' ') ++colon;
  if (colon >= limit || line[colon] != ':' || colon == pos) return false;
  std::string_view word = line.substr(pos, colon - pos);
  tag.level = level_from_word(word, tag.localized);
  if (tag.level == model::LogLevel::unknown && !tag.localized) return false;
  std::size_t text = colon + 1;
  if (text < line.size() && line[text] != ' ' && line[text] != '\t') return false;
  while (text < line.size() && text < colon + 3 && line[text] == ' ') ++text;
  tag.text_start = text;
  return true;
}

LogLinePrefix::LogLinePrefix(std::string_view prefix) : text_(prefix) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) {
      Token t;
      t.literal = std::move(literal);
      tokens_.push_back(std::move(t));
      literal.clear();
    }
  };
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] != '%' || i + 1 >= prefix.size()) {
      literal += prefix[i];
      continue;
    }
    ++i;
    if (prefix[i] == '%') {
      literal += '%';
      continue;
    }
    int padding = 0, sign = 1;
    if (prefix[i] == '-') {
      sign = -1;
      ++i;
    }
    while (i < prefix.size() && is_digit(prefix[i])) padding = padding * 10 + (prefix[i++] - '0');
    if (i >= prefix.size()) break;
    const char e = prefix[i];
    static constexpr std::string_view kKnown = "audrhLbpPtmnieclsvxqQ";
    if (kKnown.find(e) == std::string_view::npos) continue;  // prints nothing
    flush();
    Token t;
    t.escape = e;
    t.padding = sign * padding;
    tokens_.push_back(std::move(t));
    if (e == 't' || e == 'm' || e == 'n') has_time_ = true;
    if (e == 'p' || e == 'c') has_pid_ = true;
  }
  flush();
  compile_first_path();
}

void LogLinePrefix::compile_first_path() {
  // The first path needs a literal after every free-text escape (else the
  // candidates are positions, not occurrences) and a path shorter than the
  // step budget (so that backtracking would reach its end too).
  first_path_ = tokens_.size() + 1 < static_cast<std::size_t>(kStepBudget);
  for (std::size_t k = 0; k < tokens_.size(); ++k) {
    Token& t = tokens_[k];
    Step step;
    step.escape = t.escape;
    step.padding = t.padding;
    step.token = k;
    if (t.escape == 0) {
      step.size = t.literal.size();
      step.kind = Step::literal;
      if (step.size <= sizeof step.bytes) {
        step.kind = Step::word;
        unsigned char ones[sizeof step.mask] = {};
        std::memset(ones, 0xff, step.size);
        std::memcpy(&step.mask, ones, sizeof step.mask);
        std::memcpy(&step.bytes, t.literal.data(), step.size);
      }
    } else if (t.escape == 'q') {
      step.kind = Step::skip;
    } else if (is_free_escape(t.escape)) {
      std::size_t next = k + 1;
      while (next < tokens_.size() && tokens_[next].escape == 'q') ++next;
      t.end_literal = next;
      if (next == tokens_.size() || tokens_[next].escape != 0) {
        first_path_ = false;
        continue;
      }
      step.token = next;
      const std::string& lit = tokens_[next].literal;
      step.kind = lit.size() == 1 ? Step::free_char : Step::free_text;
      step.end_char = lit[0];
      switch (t.escape) {
        case 'u': step.field = &PrefixFields::user; break;
        case 'd': step.field = &PrefixFields::database; break;
        case 'a': step.field = &PrefixFields::application; break;
        case 'b': step.field = &PrefixFields::backend_type; break;
        case 'i': step.field = &PrefixFields::ps_display; break;
        case 'r': step.field = &PrefixFields::client; break;
        default: break;  // %h and %L: set_free
      }
    } else if (t.padding == 0 && (t.escape == 'm' || t.escape == 't')) {
      step.kind = Step::time;
    } else if (t.padding == 0 && (t.escape == 'p' || t.escape == 'l' || t.escape == 'x')) {
      step.kind = Step::digits;
    }
    steps_.push_back(step);
  }
  // The memo: for a first path that starts with the time and sets no field
  // twice (holes and kept values could then disagree on the last word).
  std::string escapes;
  bool repeats = false;
  for (const Step& step : steps_) {
    if (step.escape == 0) continue;
    repeats = repeats || escapes.find(step.escape) != std::string::npos;
    escapes += step.escape;
  }
  if (first_path_ && !repeats && steps_.size() < 250 && !steps_.empty() &&
      steps_.front().kind == Step::time) {
    memo_.resize(kMemoSlots * 2);
    memo_same_head_.assign(kMemoSlots, false);
    step_ends_.resize(steps_.size());
    hole_.assign(steps_.size(), false);
    const auto is_literal = [](const Step& step) {
      return step.kind == Step::word || step.kind == Step::literal;
    };
    for (std::size_t k = 1; k + 1 < steps_.size(); ++k) {
      const Step& step = steps_[k];
      const bool varies =
          (step.kind == Step::digits && (step.escape == 'l' || step.escape == 'x')) ||
          (step.kind == Step::fixed && step.padding == 0 &&
           (step.escape == 'v' || step.escape == 'Q'));
      hole_[k] = varies && is_literal(steps_[k - 1]) && is_literal(steps_[k + 1]);
    }
  }
}

bool LogLinePrefix::match(std::string_view line, PrefixFields& fields, LineTag& tag) const {
  fields = PrefixFields{};
  if (first_path_) {
    const LineTag entry = tag;
    if (memo_.empty()) {
      if (match_first_path(line, fields, tag)) return true;
    } else {
      ParsedTime pt;
      if (cached_prefix_time(line, pt) || parse_prefix_time(line, pt)) {
        if (match_memo(line, pt.length, fields, tag)) {
          fields.time = pt.time;
          fields.zone_known = pt.zone_known;
          return true;
        }
        fields = PrefixFields{};  // holes run before the miss may have set some
        if (match_first_path(line, fields, tag, step_ends_.data())) {
          remember(line, pt.length, fields, tag);
          return true;
        }
      }
    }
    fields = PrefixFields{};
    tag = entry;
  }
  int budget = kStepBudget;
  return match_from(line, 0, 0, fields, tag, budget);
}

namespace {

// The views of PrefixFields, in MemoEntry order.
constexpr std::string_view PrefixFields::*kViews[] = {
    &PrefixFields::session_id, &PrefixFields::user,         &PrefixFields::database,
    &PrefixFields::application, &PrefixFields::client,     &PrefixFields::virtual_xid,
    &PrefixFields::backend_type, &PrefixFields::sqlstate,  &PrefixFields::query_id,
    &PrefixFields::ps_display,
};
// Lookups between two looks at the hit rate, and lines without the memo
// after a poor rate.
constexpr std::uint32_t kMemoWindow = 4096;
constexpr std::uint32_t kMemoPause = 1u << 16;
// MemoEntry::hole_numbers: numbers set by a hole rather than kept.
constexpr std::uint8_t kHoleLine = 1, kHoleXid = 2;

// line[at, at + n) == text[0, n); `text` is readable for n + 8 bytes.
inline bool same_bytes(std::string_view line, std::size_t at, const char* text, std::size_t n) {
  if (line.size() - at < n) return false;
  const char* a = line.data() + at;
  const auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  if (n >= 8) {
    // Whole words, then the last eight bytes as one word overlapping the
    // one before (inside both texts), so no byte-masked tail.
    std::uint64_t d = 0;
    for (std::size_t i = 0; i + 8 < n; i += 8) d |= word(a + i) ^ word(text + i);
    return (d | (word(a + n - 8) ^ word(text + n - 8))) == 0;
  }
  if (n == 0) return true;
  if (line.data() + line.size() - a >= 8) {
    const std::uint64_t mask = (std::uint64_t{1} << (8 * n)) - 1;  // little-endian
    return ((word(a) ^ word(text)) & mask) == 0;
  }
  return std::memcmp(a, text, n) == 0;
}

std::size_t memo_slot(std::string_view line, std::size_t pos) {
  std::uint64_t w;
  std::memcpy(&w, line.data() + pos, sizeof w);
  return static_cast<std::size_t>((w * 0x9E3779B97F4A7C15ull) >> 58);  // 64 slots
}

}  // namespace

bool LogLinePrefix::match_memo(std::string_view line, std::size_t pos, PrefixFields& f,
                               LineTag& tag) const {
  static_assert(sizeof kViews / sizeof kViews[0] == kMemoViews);
  static_assert(kMemoSlots == 64, "memo_slot() gives six bits");
  if (memo_paused_ > 0) {
    --memo_paused_;
    return false;
  }
  if (line.size() - pos < sizeof(std::uint64_t)) return false;
  if (++memo_lookups_ == kMemoWindow) {
    if (memo_hits_ < kMemoWindow / 8) memo_paused_ = kMemoPause;
    memo_lookups_ = memo_hits_ = 0;
  }
  const std::size_t slot = memo_slot(line, pos) * 2;
  // A hit: the views and numbers the entry keeps, with the segment starts
  // found in this line.
  const auto hit = [&](const MemoEntry& e, const std::size_t* starts) {
    ++memo_hits_;
    for (int k = 0; k < e.views; ++k) {
      f.*kViews[e.view_index[k]] = std::string_view(
          line.data() + starts[e.view_segment[k]] + e.view_offset[k], e.view_size[k]);
    }
    // Numbers of steps outside the holes (a hole set its own above).
    f.pid = e.pid;  // %p is never a hole
    if ((e.hole_numbers & kHoleLine) == 0) f.session_line = e.session_line;
    if ((e.hole_numbers & kHoleXid) == 0) f.xid = e.xid;
    tag = e.tag;
    tag.text_start += starts[e.holes];
    return true;
  };
  for (std::size_t way = slot; way < slot + 2; ++way) {
    MemoEntry& e = memo_[way];
    if (e.size == 0) continue;
    std::size_t starts[kMemoHoles + 1];
    std::size_t p = pos;
    std::size_t from = 0;
    bool same = true;
    for (int k = 0; k <= e.holes; ++k) {
      const std::size_t length = e.segment_end[k] - from;
      if (!same_bytes(line, p, e.text + from, length)) {
        same = false;
        if (k == e.holes && way == slot && memo_same_head_[slot / 2]) {
          // The other entry differs from this one only in its last segment
          // (a session's LOG and DETAIL lines): compare just that here.
          const MemoEntry& o = memo_[slot + 1];
          const std::size_t o_from = e.holes == 0 ? 0 : o.segment_end[e.holes - 1];
          if (same_bytes(line, p, o.text + o_from, o.segment_end[e.holes] - o_from)) {
            starts[k] = p;
            return hit(o, starts);
          }
          return false;
        }
        break;
      }
      starts[k] = p;
      p += length;
      from = e.segment_end[k];
      if (k == e.holes) break;
      // The hole's step, as run_step and match_fixed do it.
      const char hole = e.hole_escape[k];
      if (hole == 'x' && line.size() - p >= sizeof e.last_xid_bytes) {
        std::uint64_t w;
        std::memcpy(&w, line.data() + p, sizeof w);
        if (e.last_xid_mask != 0 && (w & e.last_xid_mask) == e.last_xid_bytes) {
          f.xid = e.last_xid;
          p += e.last_xid_digits;
          continue;
        }
        const std::size_t digits_at = p;
        if (!read_number(hole, line, p, f)) {
          same = false;
          break;
        }
        // The digits and the (non-digit) byte after them, when they fit
        // in the word.
        const std::size_t n = p - digits_at + 1;
        e.last_xid_mask = n < sizeof w    ? (std::uint64_t{1} << (8 * n)) - 1
                          : n == sizeof w ? ~std::uint64_t{0}
                                          : 0;
        e.last_xid_bytes = w & e.last_xid_mask;
        e.last_xid_digits = static_cast<std::uint8_t>(n - 1);
        e.last_xid = f.xid;
      } else if (hole == 'v') {
        p = scan_virtual_xid(line, p, f);
      } else if (hole == 'Q') {
        p = scan_query_id(line, p, f);
      } else if (!read_number(hole, line, p, f)) {
        same = false;
        break;
      }
    }
    if (same) return hit(e, starts);
  }
  return false;
}

void LogLinePrefix::remember(std::string_view line, std::size_t pos, const PrefixFields& f,
                             const LineTag& tag) const {
  // Through the byte after the message start: it ended the spaces after the
  // severity word. A line ending there is not kept (a longer line with the
  // same bytes could have one more space).
  if (memo_paused_ > 0 || tag.text_start >= line.size() || tag.text_start < pos) return;
  if (line.size() - pos < sizeof(std::uint64_t)) return;
  MemoEntry e;
  std::size_t seg_begin[kMemoHoles + 1];  // segments in the line
  std::size_t seg_end[kMemoHoles + 1];
  std::size_t from = pos;  // the current segment's start
  for (std::size_t k = 1; k < steps_.size(); ++k) {  // step 0 is the time
    if (!hole_[k] || e.holes == kMemoHoles) continue;
    seg_begin[e.holes] = from;
    seg_end[e.holes] = step_ends_[k - 1];
    e.hole_step[e.holes] = static_cast<std::uint8_t>(k);
    e.hole_escape[e.holes] = steps_[k].escape;
    ++e.holes;
    if (steps_[k].kind == Step::digits) {
      e.hole_numbers |= steps_[k].escape == 'l' ? kHoleLine : kHoleXid;
    }
    from = step_ends_[k];
  }
  seg_begin[e.holes] = from;
  seg_end[e.holes] = tag.text_start + 1;
  std::size_t size = 0;
  for (int k = 0; k <= e.holes; ++k) {
    if (seg_end[k] < seg_begin[k]) return;
    const std::size_t length = seg_end[k] - seg_begin[k];
    if (size + length > kMemoText) return;
    std::memcpy(e.text + size, line.data() + seg_begin[k], length);
    size += length;
    e.segment_end[k] = static_cast<std::uint16_t>(size);
  }
  e.size = static_cast<std::uint16_t>(size);
  for (int v = 0; v < kMemoViews; ++v) {
    const std::string_view view = f.*kViews[v];
    if (view.data() == nullptr) continue;
    const std::size_t at = static_cast<std::size_t>(view.data() - line.data());
    int segment = -1;
    for (int k = 0; k <= e.holes; ++k) {
      if (at >= seg_begin[k] && at + view.size() <= seg_end[k]) segment = k;
    }
    if (segment < 0) {
      // Set by a hole (a %v or %Q run again on a hit), or somewhere the
      // memo cannot follow: then the line is not kept.
      bool from_hole = false;
      for (int k = 0; k < e.holes; ++k) {
        if (at >= seg_end[k] && at + view.size() <= seg_begin[k + 1]) from_hole = true;
      }
      if (!from_hole) return;
      continue;
    }
    e.view_index[e.views] = static_cast<std::uint8_t>(v);
    e.view_segment[e.views] = static_cast<std::uint8_t>(segment);
    e.view_offset[e.views] = static_cast<std::uint16_t>(at - seg_begin[segment]);
    e.view_size[e.views] = static_cast<std::uint16_t>(view.size());
    ++e.views;
  }
  e.pid = f.pid;
  e.session_line = f.session_line;
  e.xid = f.xid;
  e.tag = tag;
  e.tag.text_start -= seg_begin[e.holes];
  const std::size_t slot = memo_slot(line, pos) * 2;
  memo_[slot + 1] = memo_[slot];  // the older entry makes room
  memo_[slot] = e;
  // Do the two entries differ only in their last segment?
  const MemoEntry& o = memo_[slot + 1];
  bool same_head = o.size != 0 && o.holes == e.holes;
  for (int k = 0; same_head && k < e.holes; ++k) {
    same_head = o.hole_step[k] == e.hole_step[k] && o.segment_end[k] == e.segment_end[k];
  }
  if (same_head && e.holes > 0) {
    same_head = std::memcmp(o.text, e.text, e.segment_end[e.holes - 1]) == 0;
  }
  memo_same_head_[slot / 2] = same_head;
}

// One step of the first path at `pos`; advances `pos`. False when the line
// does not continue this way.
inline bool LogLinePrefix::run_step(const Step& s, std::string_view line, std::size_t& pos,
                                    PrefixFields& f) const {
  const char* const data = line.data();
  const std::size_t size = line.size();
  switch (s.kind) {
    case Step::word: {
      if (size - pos < s.size) return false;
      if (size - pos >= sizeof s.bytes) {
        std::uint64_t w;
        std::memcpy(&w, data + pos, sizeof w);
        if ((w & s.mask) != s.bytes) return false;
      } else if (std::memcmp(data + pos, &s.bytes, s.size) != 0) {
        return false;
      }
      pos += s.size;
      return true;
    }
    case Step::literal: {
      const std::string& lit = tokens_[s.token].literal;
      if (size - pos < lit.size() || std::memcmp(data + pos, lit.data(), lit.size()) != 0) {
        return false;
      }
      pos += lit.size();
      return true;
    }
    case Step::skip:
      return true;  // %q: the session part follows
    case Step::free_char:
    case Step::free_text: {
      std::size_t end;
      if (s.kind == Step::free_char) {
        const void* hit = pos < size ? std::memchr(data + pos, s.end_char, size - pos) : nullptr;
        if (hit == nullptr) return false;
        end = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
      } else {
        end = line.find(tokens_[s.token].literal, pos);
        if (end == std::string_view::npos) return false;
      }
      const std::string_view value = trim_spaces(line.substr(pos, end - pos));
      if (s.field != nullptr) {
        f.*s.field = value;
      } else {
        set_free(s.escape, value, f);
      }
      pos = end;
      return true;
    }
    case Step::time: {
      ParsedTime pt;
      if (!parse_prefix_time(line.substr(pos), pt)) return false;
      pos += pt.length;
      f.time = pt.time;
      f.zone_known = pt.zone_known;
      return true;
    }
    case Step::digits:
      return read_number(s.escape, line, pos, f);
    case Step::fixed: {
      std::size_t end = 0;
      if (!match_fixed(s.escape, s.padding, line, pos, f, end)) return false;
      pos = end;
      return true;
    }
  }
  return false;
}

bool LogLinePrefix::match_first_path(std::string_view line, PrefixFields& f, LineTag& tag,
                                     std::size_t* step_ends) const {
  std::size_t pos = 0;
  for (std::size_t k = 0; k < steps_.size(); ++k) {
    if (!run_step(steps_[k], line, pos, f)) return false;
    if (step_ends != nullptr) step_ends[k] = pos;
  }
  return parse_line_tag(line, pos, tag);
}

bool LogLinePrefix::match_from(std::string_view line, std::size_t token, std::size_t pos,
                               PrefixFields& fields, LineTag& tag, int& budget) const {
  if (--budget < 0) return false;
  if (token == tokens_.size()) return parse_line_tag(line, pos, tag);
  const Token& t = tokens_[token];
  if (t.escape == 0) {
    if (line.compare(pos, t.literal.size(), t.literal) != 0) return false;
    return match_from(line, token + 1, pos + t.literal.size(), fields, tag, budget);
  }
  return match_escape(t, line, token, pos, fields, tag, budget);
}

bool LogLinePrefix::match_escape(const Token& t, std::string_view line, std::size_t token,
                                 std::size_t pos, PrefixFields& f, LineTag& tag,
                                 int& budget) const {
  const char e = t.escape;
  if (e == 'q') {
    // Non-session processes stop the prefix here.
    if (match_from(line, token + 1, pos, f, tag, budget)) return true;
    f.stopped_at_q = true;
    return parse_line_tag(line, pos, tag);
  }
  if (is_free_escape(e)) {
    // Candidate ends: occurrences of the next literal, or of a severity word.
    const std::size_t next = t.end_literal;
    if (next < tokens_.size() && tokens_[next].escape == 0) {
      const std::string& lit = tokens_[next].literal;
      for (std::size_t end = find_literal(line, pos, lit); end != std::string_view::npos;
           end = find_literal(line, end + 1, lit)) {
        if (budget <= 0) return false;
        PrefixFields saved = f;
        set_free(e, trim_spaces(line.substr(pos, end - pos)), f);
        if (match_from(line, token + 1, end, f, tag, budget)) return true;
        f = saved;
      }
      return false;
    }
    for (std::size_t end = pos; end <= line.size(); ++end) {
      if (budget <= 0) return false;
      if (next == tokens_.size()) {
        if (end < line.size() && !is_upper(line[end]) && static_cast<unsigned char>(line[end]) < 0x80)
          continue;
        LineTag probe;
        if (!parse_line_tag(line, end, probe)) continue;
      }
      PrefixFields saved = f;
      set_free(e, trim_spaces(line.substr(pos, end - pos)), f);
      if (match_from(line, token + 1, end, f, tag, budget)) return true;
      f = saved;
    }
    return false;
  }
  std::size_t end = 0;
  if (!match_fixed(e, t.padding, line, pos, f, end)) return false;
  return match_from(line, token + 1, end, f, tag, budget);
}

const std::vector<std::string>& known_stderr_prefixes() {
  static const std::vector<std::string> kPrefixes{
      // pgsift's test harness (tests/testing/pg_cluster.h), its recommended
      // prefix (reference/logs.md §1.1) and variants.
      "%m [%p] %c %v %x %e %a %u@%d ",
      "%m [%p] %q%c %l %v %x %u@%d/%a %r %Q ",
      "%m [%p] %q%c %l %v %x %u@%d/%a %r ",
      "%m [%p] %q%u@%d/%a %x ",
      "%m [%p] %q[user=%u,db=%d,app=%a] ",
      "%m [%p] [queryid=%Q] %q%u@%d ",
      "%m [%p] user=%u,db=%d ",
      "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
      "%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ",
      "%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ",
      "%t [%p]: [%l-1] user=%u,db=%d ",
      "%t [%p]: [%l-1] ",
      "%t [%p]: db=%d,user=%u,app=%a,client=%h ",
      "%t [%p-%l] %q%u@%d ",
      "%m [%p] %q%u@%d ",   // Debian / Ubuntu pg_createcluster
      "%t:%r:%u@%d:[%p]:",  // Amazon RDS / Aurora
      "%t:%h:%u@%d:[%p]:",
      "%t-%c-",              // Azure single server
      "%m [%p] ",            // PostgreSQL default
      "%m %p ",
  };
  return kPrefixes;
}

const std::vector<std::string>& known_syslog_prefixes() {
  static const std::vector<std::string> kPrefixes{
      "db=%d,user=%u,app=%a,client=%h ",
      "user=%u,db=%d,app=%a,client=%h ",
      "user=%u,db=%d,app=%a,host=%h ",
      "user=%u,db=%d ",
      "db=%d,user=%u ",
      " sql_error_code = %e ",
      "%q[user=%u,db=%d,app=%a] ",
      "",
  };
  return kPrefixes;
}

}  // namespace pgsift::cli::input
