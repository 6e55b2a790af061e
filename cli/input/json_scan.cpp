#include "cli/input/json_scan.h"

#include <array>
#include <cstring>

namespace pgsift::cli::input {
namespace {

constexpr int kMaxDepth = 64;

// Characters skip_nested() must look at; everything else is skipped.
constexpr std::array<bool, 256> kNestedSpecial = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("\"{}[]")) t[c] = true;
  return t;
}();

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

namespace json_detail {

bool skip_nested(std::string_view s, std::size_t& i) {
  int depth = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kNestedSpecial[c]) {
      ++i;
      continue;
    }
    if (c == '"') {
      JsonValue ignored;
      if (!scan_string(s, i, ignored)) return false;
      continue;
    }
    if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (--depth == 0) {  // '}' or ']'
      ++i;
      return true;
    }
    ++i;
  }
  return false;
}

// Runs between escapes are copied whole; a lone backslash at the end stays.
void decode_escapes(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const void* hit = std::memchr(s.data() + i, '\\', s.size() - i);
    if (hit == nullptr) {
      out.append(s.data() + i, s.size() - i);
      return;
    }
    std::size_t b = static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
    out.append(s.data() + i, b - i);
    i = b;
    if (i + 1 >= s.size()) {
      out += '\\';
      return;
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
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < s.size() && s[i + 1] == '\\' &&
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
    ++i;
  }
}

}  // namespace json_detail
}  // namespace pgsift::cli::input
