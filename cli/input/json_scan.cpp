#include "cli/input/json_scan.h"

namespace pgsift::cli::input {
namespace {

constexpr int kMaxDepth = 64;

void skip_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
}

// s[i] is the opening quote; on success i is after the closing quote.
bool scan_string(std::string_view s, std::size_t& i, JsonValue& v) {
  std::size_t start = ++i;
  bool escaped = false;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      v.type = JsonValue::Type::string;
      v.raw = s.substr(start, i - start);
      v.escaped = escaped;
      ++i;
      return true;
    }
    if (c == '\\') {
      escaped = true;
      i += 2;
      continue;
    }
    ++i;
  }
  return false;
}

bool skip_nested(std::string_view s, std::size_t& i) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      JsonValue ignored;
      if (!scan_string(s, i, ignored)) return false;
      continue;
    }
    if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        ++i;
        return true;
      }
    }
    ++i;
  }
  return false;
}

bool scan_value(std::string_view s, std::size_t& i, JsonValue& v) {
  if (i >= s.size()) return false;
  char c = s[i];
  if (c == '"') return scan_string(s, i, v);
  if (c == '{' || c == '[') {
    std::size_t start = i;
    if (!skip_nested(s, i)) return false;
    v.type = c == '{' ? JsonValue::Type::object : JsonValue::Type::array;
    v.raw = s.substr(start, i - start);
    return true;
  }
  std::size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
         s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
    ++i;
  }
  if (i == start) return false;
  v.raw = s.substr(start, i - start);
  v.escaped = false;
  v.type = (c == '-' || (c >= '0' && c <= '9')) ? JsonValue::Type::number : JsonValue::Type::literal;
  return true;
}

void put_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

bool hex4(std::string_view s, std::size_t i, unsigned& v) {
  if (i + 4 > s.size()) return false;
  v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
    else return false;
  }
  return true;
}

}  // namespace

bool scan_json_object(std::string_view s, std::size_t& i, const JsonMemberVisitor& visit) {
  skip_ws(s, i);
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  skip_ws(s, i);
  if (i < s.size() && s[i] == '}') {
    ++i;
    return true;
  }
  while (i < s.size()) {
    skip_ws(s, i);
    if (i >= s.size() || s[i] != '"') return false;
    JsonValue key;
    if (!scan_string(s, i, key)) return false;
    skip_ws(s, i);
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    skip_ws(s, i);
    JsonValue value;
    if (!scan_value(s, i, value)) return false;
    visit(key.raw, value);
    skip_ws(s, i);
    if (i >= s.size()) return false;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] == '}') {
      ++i;
      return true;
    }
    return false;
  }
  return false;
}

void json_to_string(const JsonValue& v, std::string& out) {
  out.clear();
  if (v.is_null()) return;
  if (!v.escaped) {
    out.assign(v.raw);
    return;
  }
  std::string_view s = v.raw;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        unsigned cp = 0;
        if (!hex4(s, i + 1, cp)) {
          out += "\\u";
          break;
        }
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < s.size() + 0 && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
          unsigned low = 0;
          if (hex4(s, i + 3, low) && low >= 0xdc00 && low < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
          }
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;  // lone surrogate
        put_utf8(out, cp);
        break;
      }
      default: out += e; break;  // \" \\ \/
    }
  }
}

}  // namespace pgsift::cli::input
