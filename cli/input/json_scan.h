// A small, allocation-free scanner for the one-object-per-line JSON of
// jsonlog, CloudNativePG and Google Cloud Logging. It visits the members of an
// object; string values are decoded on demand into a caller's buffer.
// Cheap per byte: string bodies are searched 16 bytes at a time for the
// closing quote and backslashes (byte_scan.h), escapes are only decoded when a
// value is asked for, and the scanner and its visitor are inlined into the
// reader (no std::function call per member).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "cli/input/byte_scan.h"

namespace pgsift::cli::input {

struct JsonValue {
  enum class Type : unsigned char { string, number, literal, object, array };
  Type type = Type::literal;
  std::string_view raw;  // string: between the quotes; others: the text
  bool escaped = false;  // string contains backslash escapes

  bool is_null() const { return type == Type::literal && raw == "null"; }
};

namespace json_detail {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline void skip_ws(std::string_view s, std::size_t& i) {
  // Every JSON space is <= ' ': one comparison for the usual non-space byte.
  while (i < s.size() && static_cast<unsigned char>(s[i]) <= ' ' && is_space(s[i])) ++i;
}

/// s[i] is the opening quote; on success i is after the closing quote.
inline bool scan_string(std::string_view s, std::size_t& i, JsonValue& v) {
  const std::size_t start = ++i;
  bool escaped = false;
  std::size_t p = start;
  while (true) {
    p = find_either<'"', '\\'>(s, p);
    if (p >= s.size()) return false;
    if (s[p] == '"') break;
    escaped = true;  // a backslash takes the next byte with it
    p += 2;
  }
  v.type = JsonValue::Type::string;
  v.raw = std::string_view(s.data() + start, p - start);
  v.escaped = escaped;
  i = p + 1;
  return true;
}

/// Skips a nested object or array at s[i] (brackets balanced, strings skipped).
bool skip_nested(std::string_view s, std::size_t& i);
/// Bytes that end a number or literal (true, false, null, or anything bare).
inline constexpr std::array<bool, 256> kLiteralEnd = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view(",}] \t\r\n")) t[c] = true;
  return t;
}();

/// Any value at s[i]; on success i is after it.
inline bool scan_value(std::string_view s, std::size_t& i, JsonValue& v) {
  if (i >= s.size()) return false;
  char c = s[i];
  if (c == '"') return scan_string(s, i, v);
  std::size_t start = i;
  if (c == '{' || c == '[') {
    if (!skip_nested(s, i)) return false;
    v.type = c == '{' ? JsonValue::Type::object : JsonValue::Type::array;
    v.raw = std::string_view(s.data() + start, i - start);
    return true;
  }
  while (i < s.size() && !kLiteralEnd[static_cast<unsigned char>(s[i])]) ++i;
  if (i == start) return false;
  v.raw = std::string_view(s.data() + start, i - start);
  v.escaped = false;
  v.type = (c == '-' || (c >= '0' && c <= '9')) ? JsonValue::Type::number : JsonValue::Type::literal;
  return true;
}

/// Appends the decoded form of a string body that contains backslashes.
void decode_escapes(std::string_view s, std::string& out);

}  // namespace json_detail

/// Scans the object starting at text[pos] ('{' after optional spaces); pos
/// ends after its '}'. Calls visit(std::string_view key, const JsonValue&)
/// for each member in order (the key is raw: escapes are not decoded). False
/// when the text is not a well-formed object (members before the fault have
/// been visited).
template <typename Visit>
bool scan_json_object(std::string_view s, std::size_t& i, Visit&& visit) {
  using json_detail::skip_ws;
  skip_ws(s, i);
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  skip_ws(s, i);
  if (i < s.size() && s[i] == '}') {
    ++i;
    return true;
  }
  const std::size_t n = s.size();
  // Each skip_ws() is only called when the next byte is not the expected one
  // (jsonlog writes no spaces).
  while (i < n) {
    if (s[i] != '"') {
      skip_ws(s, i);
      if (i >= n || s[i] != '"') return false;
    }
    JsonValue key;
    if (!json_detail::scan_string(s, i, key)) return false;
    if (i >= n || s[i] != ':') {
      skip_ws(s, i);
      if (i >= n || s[i] != ':') return false;
    }
    ++i;
    JsonValue value;
    if (i < n && s[i] == '"') {
      if (!json_detail::scan_string(s, i, value)) return false;
    } else {
      skip_ws(s, i);
      if (!json_detail::scan_value(s, i, value)) return false;
    }
    visit(key.raw, static_cast<const JsonValue&>(value));
    if (i < n && s[i] == ',') {
      ++i;
      continue;
    }
    skip_ws(s, i);
    if (i >= n) return false;
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

/// Decodes a string value (escapes, \uXXXX with surrogate pairs) into `out`.
/// Numbers and literals are copied as written; null gives "".
inline void json_to_string(const JsonValue& value, std::string& out) {
  out.clear();
  if (value.escaped) {
    json_detail::decode_escapes(value.raw, out);
  } else if (!value.is_null()) {
    out.append(value.raw.data(), value.raw.size());
  }
}

}  // namespace pgsift::cli::input
