// A minimal read-only JSON DOM for libpg_query's parse trees. The tree walk
// runs on every cache miss; nlohmann::json's std::map-per-object DOM cost
// about ten times the parser itself, so this one keeps every value in one
// contiguous arena, object keys as views into the input, and children of a
// node contiguous. Strings with escapes are decoded into owned storage.
// Throws std::runtime_error on malformed input (the caller catches).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace pgsift::sql::jt {

class Value {
 public:
  enum class Type : std::uint8_t { null, boolean, number, string, array, object };

  bool is_null() const { return type_ == Type::null; }
  bool is_boolean() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }
  bool is_structured() const { return is_array() || is_object(); }

  bool as_bool() const { return boolean_; }
  long long as_int() const { return number_; }
  std::string_view as_string() const { return text_; }

  /// Children (array items or object member values), in document order.
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const Value* begin() const { return children_; }
  const Value* end() const { return children_ + count_; }
  const Value& operator[](std::size_t i) const { return children_[i]; }
  const Value& back() const { return children_[count_ - 1]; }
  /// Key of the i-th member of an object.
  std::string_view key(std::size_t i) const { return keys_[i]; }
  /// Member `k` of an object, nullptr when absent or not an object.
  const Value* find(std::string_view k) const {
    if (type_ != Type::object) return nullptr;
    for (std::uint32_t i = 0; i < count_; ++i)
      if (keys_[i] == k) return &children_[i];
    return nullptr;
  }

 private:
  friend class Document;
  Type type_ = Type::null;
  bool boolean_ = false;
  long long number_ = 0;
  std::string_view text_;
  std::uint32_t first_ = 0, count_ = 0;  // arena range while parsing
  const Value* children_ = nullptr;       // set once parsing is complete
  const std::string_view* keys_ = nullptr;
};

class Document {
 public:
  /// Parses `text`; the Document must outlive every Value it hands out.
  explicit Document(std::string_view text);
  const Value& root() const { return values_.back(); }

 private:
  Value parse_value(int depth);
  void skip_space();
  std::string_view parse_string();

  std::string_view in_;
  std::size_t pos_ = 0;
  std::vector<Value> values_;               // arena; root last
  std::vector<std::string_view> keys_;      // parallel to values_ (object members)
  std::vector<Value> stack_;                // children being collected
  std::vector<std::string_view> key_stack_;
  std::deque<std::string> owned_;           // decoded strings with escapes
};

}  // namespace pgsift::sql::jt
