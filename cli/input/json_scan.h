// A small, allocation-free scanner for the one-object-per-line JSON of
// jsonlog, CloudNativePG and Google Cloud Logging. It visits the members of an
// object; string values are decoded on demand into a caller's buffer.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace pgsift::cli::input {

struct JsonValue {
  enum class Type : unsigned char { string, number, literal, object, array };
  Type type = Type::literal;
  std::string_view raw;  // string: between the quotes; others: the text
  bool escaped = false;  // string contains backslash escapes

  bool is_null() const { return type == Type::literal && raw == "null"; }
};

using JsonMemberVisitor = std::function<void(std::string_view key, const JsonValue& value)>;

/// Scans the object starting at text[pos] ('{' after optional spaces); pos
/// ends after its '}'. False when the text is not a well-formed object.
bool scan_json_object(std::string_view text, std::size_t& pos, const JsonMemberVisitor& visit);

/// Decodes a string value (escapes, \uXXXX with surrogate pairs) into `out`.
/// Numbers and literals are copied as written; null gives "".
void json_to_string(const JsonValue& value, std::string& out);

}  // namespace pgsift::cli::input
