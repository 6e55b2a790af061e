// The matcher walks the compiled tokens left to right. Escapes with a fixed
// shape (%p %m %c ...) are parsed in place; free-text escapes (%u %d %a %h %r
// %b %i %L) try each occurrence of the literal that follows them, so a name
// may contain that literal (spaces, '@', ','). A step budget bounds the
// backtracking so that a hostile line cannot make matching slow.
#include "cli/input/log_line_prefix.h"

#include <algorithm>
#include <array>

#include "cli/input/timestamp.h"

namespace pgsift::cli::input {
namespace {

constexpr int kStepBudget = 400;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

struct TagWord {
  std::string_view word;
  model::LogLevel level;
};

constexpr std::array<TagWord, 16> kTags{{
    {"LOG", model::LogLevel::log},
    {"ERROR", model::LogLevel::error},
    {"DETAIL", model::LogLevel::detail},
    {"STATEMENT", model::LogLevel::statement},
    {"CONTEXT", model::LogLevel::context},
    {"HINT", model::LogLevel::hint},
    {"FATAL", model::LogLevel::fatal},
    {"WARNING", model::LogLevel::warning},
    {"QUERY", model::LogLevel::query},
    {"LOCATION", model::LogLevel::location},
    {"NOTICE", model::LogLevel::notice},
    {"INFO", model::LogLevel::info},
    {"DEBUG", model::LogLevel::debug},
    {"PANIC", model::LogLevel::panic},
    {"BACKTRACE", model::LogLevel::location},
    {"DEBUG1", model::LogLevel::debug},
}};

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

std::size_t skip_digits(std::string_view s, std::size_t pos) {
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  return pos;
}

std::uint64_t to_u64(std::string_view digits) {
  std::uint64_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
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

}  // namespace

model::LogLevel level_from_word(std::string_view word, bool& localized) {
  localized = false;
  if (word.empty()) return model::LogLevel::unknown;
  if (is_upper(word[0])) {
    for (const TagWord& t : kTags) {
      if (t.word == word) return t.level;
    }
    if (word.size() == 6 && word.substr(0, 5) == "DEBUG" && word[5] >= '1' && word[5] <= '5') {
      return model::LogLevel::debug;
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
}

bool LogLinePrefix::match(std::string_view line, PrefixFields& fields, LineTag& tag) const {
  fields = PrefixFields{};
  int budget = kStepBudget;
  return match_from(line, 0, 0, fields, tag, budget);
}

bool LogLinePrefix::match_from(std::string_view line, std::size_t token, std::size_t pos,
                               PrefixFields& fields, LineTag& tag, int& budget) const {
  if (--budget < 0) return false;
  if (token == tokens_.size()) return parse_line_tag(line, pos, tag);
  const Token& t = tokens_[token];
  if (t.escape == 0) {
    if (line.compare(pos, t.literal.size(), t.literal) != 0) {
      // A prefix ending in spaces before a padded value: tolerate missing
      // trailing spaces only at the very end (no literal follows).
      return false;
    }
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
    std::size_t next = token + 1;
    while (next < tokens_.size() && tokens_[next].escape == 'q') ++next;
    if (next < tokens_.size() && tokens_[next].escape == 0) {
      const std::string& lit = tokens_[next].literal;
      for (std::size_t end = line.find(lit, pos); end != std::string_view::npos;
           end = line.find(lit, end + 1)) {
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
  std::size_t p = pos;
  if (t.padding > 0) {
    while (p < line.size() && line[p] == ' ') ++p;
  }
  std::size_t end = p;
  switch (e) {
    case 'p': case 'P': case 'l': case 'x': {
      end = skip_digits(line, p);
      if (end == p && e != 'P') return false;
      std::string_view digits = line.substr(p, end - p);
      if (digits.size() > 18) return false;
      if (e == 'p') f.pid = static_cast<std::int32_t>(to_u64(digits));
      if (e == 'l') f.session_line = to_u64(digits);
      if (e == 'x') f.xid = to_u64(digits);
      break;
    }
    case 'Q': {
      if (end < line.size() && line[end] == '-') ++end;
      std::size_t d = skip_digits(line, end);
      end = d == end ? p : d;
      f.query_id = line.substr(p, end - p);
      break;
    }
    case 't': case 'm': case 's': {
      ParsedTime pt;
      if (!parse_sql_time(line.substr(p), true, pt)) {
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
    case 'v': {
      end = skip_digits(line, p);
      if (end > p && end < line.size() && line[end] == '/') {
        std::size_t d = skip_digits(line, end + 1);
        if (d > end + 1) {
          end = d;
          f.virtual_xid = line.substr(p, end - p);
          break;
        }
      }
      end = p;  // empty for processes without a backend id
      break;
    }
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
  if (t.padding < 0) {
    while (end < line.size() && line[end] == ' ' && end - pos < static_cast<std::size_t>(-t.padding))
      ++end;
  }
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
