// The hand-written lexer of lexer.h. It follows PostgreSQL's scan.l closely
// enough that every A_Const location reported by the real parser lands on the
// first byte of a literal token found here (the tests check this on the
// regression corpus); where it cannot (a unary minus the parser folded after a
// keyword), the SQL model falls back to the next literal.
#include "analyzers/sql/lexer.h"

#include <xxhash.h>

#include <array>
#include <cstring>

#include "analyzers/sql/word_scan.h"

namespace pgsift::sql::lex {
namespace {

// Character classes, one table lookup each (the lexer runs on every statement).
enum : std::uint8_t { kIdentStart = 1, kIdentCont = 2, kDigit = 4, kSpace = 8, kOp = 16, kOpSpecial = 32 };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    if (alpha) v |= kIdentStart | kIdentCont;
    if (c >= '0' && c <= '9') v |= kDigit | kIdentCont;
    if (c == '$') v |= kIdentCont;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') v |= kSpace;
    for (char o : std::string_view("~!@#^&|`?+-*/%<>="))
      if (c == static_cast<unsigned char>(o)) v |= kOp;
    for (char o : std::string_view("~!@#^&|`?%"))
      if (c == static_cast<unsigned char>(o)) v |= kOpSpecial;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

bool has(unsigned char c, std::uint8_t cls) { return (kClasses[c] & cls) != 0; }
bool ident_start(unsigned char c) { return has(c, kIdentStart); }
bool is_digit(unsigned char c) { return has(c, kDigit); }
bool is_space(unsigned char c) { return has(c, kSpace); }
bool op_char(unsigned char c) { return has(c, kOp); }
bool op_special(unsigned char c) { return has(c, kOpSpecial); }
constexpr char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// fold() as a table: one load per character in the word loop of lex().
constexpr std::array<char, 256> make_lower() {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = fold(static_cast<char>(c));
  return t;
}
constexpr std::array<char, 256> kLower = make_lower();

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

// Scans a '...' body starting at the opening quote; returns one past the
// closing quote (or the end). `backslash` enables E'' escapes.
std::size_t scan_quoted(std::string_view s, std::size_t i, bool backslash) {
  ++i;  // opening quote
  while (i < s.size()) {
    char c = s[i];
    if (backslash && c == '\\') {
      i += 2;
      continue;
    }
    if (c == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return s.size();
}

std::size_t scan_quoted_ident(std::string_view s, std::size_t i) {
  ++i;
  while (i < s.size()) {
    if (s[i] == '"') {
      if (i + 1 < s.size() && s[i + 1] == '"') {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return s.size();
}

// At s[i] == '$': length of a dollar-quote delimiter ($$ or $tag$), 0 if none.
std::size_t dollar_delimiter(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '$') return 2;
  if (j >= s.size() || !ident_start(static_cast<unsigned char>(s[j]))) return 0;
  while (j < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[j]);
    if (c == '$') return j - i + 1;
    if (!(ident_start(c) || is_digit(c))) return 0;
    ++j;
  }
  return 0;
}

std::size_t scan_number(std::string_view s, std::size_t i) {
  while (i < s.size() && is_digit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.' && !(i + 1 < s.size() && s[i + 1] == '.')) {
    ++i;
    while (i < s.size() && is_digit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && is_digit(static_cast<unsigned char>(s[j]))) {
      i = j;
      while (i < s.size() && is_digit(static_cast<unsigned char>(s[i]))) ++i;
    }
  }
  return i;
}

bool number_starts(std::string_view s, std::size_t i) {
  if (i >= s.size()) return false;
  if (is_digit(static_cast<unsigned char>(s[i]))) return true;
  return s[i] == '.' && i + 1 < s.size() && is_digit(static_cast<unsigned char>(s[i + 1]));
}

// Whether a '-' right before a number is a sign (folded into the literal),
// judging by the previous token as PostgreSQL's grammar would.
bool minus_is_sign(const Token* tokens, std::size_t count, std::string_view s) {
  if (count == 0) return true;
  const Token& prev = tokens[count - 1];
  if (prev.kind == TokKind::op) return true;
  if (prev.kind != TokKind::punct) return false;
  char c = s[prev.begin];
  return c == '(' || c == ',' || c == '[' || c == ';';
}

// Whether a case-folded word is true or false: fixed-size compares, no call.
bool is_boolean_word(const char* folded, std::size_t len) {
  if (len == 4) return std::memcmp(folded, "true", 4) == 0;
  if (len == 5) return std::memcmp(folded, "false", 5) == 0;
  return false;
}

// Whether the first word of a statement makes its literal values part of its
// shape (see lex() in lexer.h).
bool value_keeping_word(std::string_view w) {
  switch (w.size()) {
    case 3: return iequals(w, "set");
    case 6: return iequals(w, "commit");
    case 7: return iequals(w, "prepare");
    case 8: return iequals(w, "rollback");
    default: return false;
  }
}

// The literal-masked key is written into one per-thread buffer sized for
// the worst case up front (each token adds at most its own bytes plus one
// kind byte, so 2 * size + 1 bytes are enough): no per-token reallocation
// checks, then one XXH3 over the whole key. A buffer grown by one huge text
// is released afterwards so memory stays flat.
constexpr std::size_t kKeepKeyBuffer = std::size_t{1} << 20;
constexpr std::size_t kScanSlack = 16;

}  // namespace

std::string lower(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = fold(c);
  return out;
}

void lex(std::string_view s, Lexed& out) {
  out.clear();
  thread_local std::string key_buffer;
  const std::size_t n = s.size();
  // + kScanSlack: word_scan::scan may write that far past a word's end.
  if (key_buffer.size() < 2 * n + 1 + kScanSlack) key_buffer.resize(2 * n + 1 + kScanSlack);
  char* const key = key_buffer.data();
  std::size_t k = 0;
  const char* const text = s.data();
  bool space = false;
  bool at_statement_start = true;
  bool in_set_statement = false;
  std::uint32_t literals = 0;
  std::size_t i = 0;

  // Records token [b, e) and adds it to the key. `folded`: the caller has
  // already written the case-folded word right after the kind byte.
  auto push = [&](std::size_t b, std::size_t e, TokKind kind, bool folded = false) {
    Token t;
    t.begin = static_cast<std::uint32_t>(b);
    t.end = static_cast<std::uint32_t>(e);
    t.kind = kind;
    t.space_before = space;
    space = false;
    out.tokens.push_back(t);
    const char* p = text + b;
    const std::size_t len = e - b;
    if (at_statement_start) {
      // Statements whose shape depends on a literal's value keep the value
      // in the key: SET (isolation levels), and PREPARE TRANSACTION /
      // COMMIT PREPARED / ROLLBACK PREPARED (the gid).
      in_set_statement = kind == TokKind::word && value_keeping_word(std::string_view(p, len));
      at_statement_start = false;
    }
    key[k++] = static_cast<char>(1 + static_cast<int>(kind));
    switch (kind) {
      case TokKind::word:
        if (!folded)
          for (std::size_t j = 0; j < len; ++j) key[k + j] = kLower[static_cast<unsigned char>(p[j])];
        k += len;
        break;
      case TokKind::string:
      case TokKind::number:
      case TokKind::boolean:
        ++literals;
        if (!in_set_statement) break;
        [[fallthrough]];
      default:
        for (std::size_t j = 0; j < len; ++j) key[k + j] = p[j];  // tokens are short: no memcpy call
        k += len;
    }
    if (kind == TokKind::punct && *p == ';') at_statement_start = true;
  };

  // Whitespace, words and numbers are most of a statement: they are
  // dispatched first on their character class (the classes are disjoint,
  // and none of them can start a comment, a quote or an operator).
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const std::uint8_t cls = kClasses[c];
    if (cls & kSpace) {
      space = true;
      do ++i;
      while (i < n && is_space(static_cast<unsigned char>(text[i])));
      continue;
    }
    if (cls & kIdentStart) {
      if (i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '&')) {
        // String prefixes: E'..', N'..', B'..', X'..', U&'..', U&"..".
        if (s[i + 1] == '\'' && std::strchr("eEnNbBxX", c) != nullptr) {
          bool esc = c == 'e' || c == 'E';
          std::size_t e = scan_quoted(s, i + 1, esc);
          push(i, e, TokKind::string);
          i = e;
          continue;
        }
        if ((c == 'u' || c == 'U') && i + 2 < n && s[i + 1] == '&' && (s[i + 2] == '\'' || s[i + 2] == '"')) {
          bool str = s[i + 2] == '\'';
          std::size_t e = str ? scan_quoted(s, i + 2, false) : scan_quoted_ident(s, i + 2);
          push(i, e, str ? TokKind::string : TokKind::quoted_ident);
          i = e;
          continue;
        }
      }
      // Scan and case-fold in one pass, straight into the key after the
      // kind byte push() writes at key[k] (words are most of a statement).
      char* folded = key + k + 1;
      folded[0] = kLower[c];
      const std::size_t e = word_scan::scan(text, i + 1, n, folded + 1);
      const std::size_t len = e - i;
      push(i, e, is_boolean_word(folded, len) ? TokKind::boolean : TokKind::word, true);
      i = e;
      continue;
    }
    if (cls & kDigit) {
      // Integers inline; a fraction or an exponent goes the long way.
      std::size_t e = i + 1;
      while (e < n && is_digit(static_cast<unsigned char>(text[e]))) ++e;
      if (e < n && (text[e] == '.' || text[e] == 'e' || text[e] == 'E')) e = scan_number(s, i);
      push(i, e, TokKind::number);
      i = e;
      continue;
    }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      std::size_t e = s.find('\n', i);
      e = e == std::string_view::npos ? n : e;
      out.comments.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(e), false});
      i = e;
      space = true;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      int depth = 1;
      std::size_t j = i + 2;
      while (j < n && depth > 0) {
        if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      out.comments.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), true});
      i = j;
      space = true;
      continue;
    }
    if (c == '.' && number_starts(s, i)) {  // digits were dispatched above
      std::size_t e = scan_number(s, i);
      push(i, e, TokKind::number);
      i = e;
      continue;
    }
    if (c == '\'') {
      std::size_t e = scan_quoted(s, i, false);
      push(i, e, TokKind::string);
      i = e;
      continue;
    }
    if (c == '"') {
      std::size_t e = scan_quoted_ident(s, i);
      push(i, e, TokKind::quoted_ident);
      i = e;
      continue;
    }
    if (c == '$') {
      if (i + 1 < n && is_digit(static_cast<unsigned char>(s[i + 1]))) {
        std::size_t e = i + 1;
        while (e < n && is_digit(static_cast<unsigned char>(s[e]))) ++e;
        push(i, e, TokKind::param);
        out.has_param = true;
        i = e;
        continue;
      }
      std::size_t d = dollar_delimiter(s, i);
      if (d > 0) {
        std::string_view delim = s.substr(i, d);
        std::size_t close = s.find(delim, i + d);
        std::size_t e = close == std::string_view::npos ? n : close + d;
        push(i, e, TokKind::string);
        i = e;
        continue;
      }
      push(i, i + 1, TokKind::punct);
      ++i;
      continue;
    }
    if (c == ':') {
      std::size_t e = (i + 1 < n && (s[i + 1] == ':' || s[i + 1] == '=')) ? i + 2 : i + 1;
      push(i, e, e == i + 2 ? TokKind::op : TokKind::punct);
      i = e;
      continue;
    }
    if (op_char(c)) {
      std::size_t e = i;
      bool special = false;
      while (e < n && op_char(static_cast<unsigned char>(s[e]))) {
        if (e > i && e + 1 < n && ((s[e] == '-' && s[e + 1] == '-') || (s[e] == '/' && s[e + 1] == '*')))
          break;  // a comment starts inside the run
        special = special || op_special(static_cast<unsigned char>(s[e]));
        ++e;
      }
      if (e == i) e = i + 1;
      if (!special)
        while (e - i > 1 && (s[e - 1] == '+' || s[e - 1] == '-')) --e;
      if (e - i == 1 && c == '-' && number_starts(s, i + 1) && minus_is_sign(out.tokens.data(), out.tokens.size(), s)) {
        std::size_t ne = scan_number(s, i + 1);
        push(i, ne, TokKind::number);
        i = ne;
        continue;
      }
      push(i, e, TokKind::op);
      i = e;
      continue;
    }
    push(i, i + 1, TokKind::punct);
    ++i;
  }
  XXH128_hash_t h = XXH3_128bits(key, k);
  out.key_low = h.low64;
  out.key_high = h.high64;
  out.literal_count = literals;
  if (key_buffer.size() > kKeepKeyBuffer) std::string().swap(key_buffer);
}

namespace {

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Body of an E'' string with backslash escapes processed.
std::string unescape_e(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\'' && i + 1 < body.size() && body[i + 1] == '\'') {
      out.push_back('\'');
      ++i;
      continue;
    }
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'x': {
        int v = 0, k = 0;
        while (k < 2 && i + 1 < body.size() && hex_value(body[i + 1]) >= 0) v = v * 16 + hex_value(body[++i]), ++k;
        if (k == 0) out.push_back('x'); else out.push_back(static_cast<char>(v));
        break;
      }
      case 'u':
      case 'U': {
        int want = e == 'u' ? 4 : 8, k = 0;
        unsigned long v = 0;
        while (k < want && i + 1 < body.size() && hex_value(body[i + 1]) >= 0) v = v * 16 + static_cast<unsigned long>(hex_value(body[++i])), ++k;
        append_utf8(out, v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', k = 1;
          while (k < 3 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7') v = v * 8 + (body[++i] - '0'), ++k;
          out.push_back(static_cast<char>(v));
        } else {
          out.push_back(e);
        }
    }
  }
  return out;
}

// Body of a standard '' string: '' becomes '.
std::string unescape_standard(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    out.push_back(body[i]);
    if (body[i] == '\'' && i + 1 < body.size() && body[i + 1] == '\'') ++i;
  }
  return out;
}

// The part between the quotes of s[start..] ('...' possibly unterminated).
std::string_view quoted_body(std::string_view tok, std::size_t quote) {
  std::string_view body = tok.substr(quote + 1);
  if (!body.empty() && body.back() == '\'' && tok.size() >= quote + 2) body.remove_suffix(1);
  return body;
}

}  // namespace

std::string literal_value(std::string_view text, const Token& token) {
  std::string_view tok = text.substr(token.begin, token.end - token.begin);
  if (token.kind == TokKind::boolean) return lower(tok);
  if (token.kind != TokKind::string) return std::string(tok);
  if (tok.empty()) return {};
  char c = tok[0];
  if (c == '\'') return unescape_standard(quoted_body(tok, 0));
  if (c == '$') {
    std::size_t d = dollar_delimiter(tok, 0);
    if (d == 0 || tok.size() < d) return std::string(tok);
    std::string_view body = tok.substr(d);
    if (body.size() >= d && body.substr(body.size() - d) == tok.substr(0, d)) body.remove_suffix(d);
    return std::string(body);
  }
  if (c == 'e' || c == 'E') return unescape_e(quoted_body(tok, 1));
  if (c == 'u' || c == 'U') return unescape_standard(quoted_body(tok, 2));
  return unescape_standard(quoted_body(tok, 1));  // N'', B'', X''
}

}  // namespace pgsift::sql::lex
