// The arena JSON reader of json_tree.h (RFC 8259 subset that libpg_query
// emits: objects, arrays, strings with escapes, integers, floats, literals).
#include "analyzers/sql/json_tree.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

namespace pgsift::sql::jt {
namespace {

constexpr int kMaxDepth = 10000;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("parse tree JSON: ") + what); }

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

Document::Document(std::string_view text) : in_(text) {
  values_.reserve(text.size() / 24 + 16);
  keys_.reserve(values_.capacity());
  Value root = parse_value(0);
  skip_space();
  if (pos_ != in_.size()) fail("trailing characters");
  values_.push_back(root);
  keys_.emplace_back();
  // The arena is final: turn child ranges into pointers.
  for (Value& v : values_) {
    v.children_ = values_.data() + v.first_;
    v.keys_ = keys_.data() + v.first_;
  }
}

void Document::skip_space() {
  while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\t' || in_[pos_] == '\r'))
    ++pos_;
}

std::string_view Document::parse_string() {
  // at the opening quote
  std::size_t start = ++pos_;
  while (pos_ < in_.size() && in_[pos_] != '"' && in_[pos_] != '\\') ++pos_;
  if (pos_ >= in_.size()) fail("unterminated string");
  if (in_[pos_] == '"') return in_.substr(start, pos_++ - start);
  std::string out(in_.substr(start, pos_ - start));
  while (pos_ < in_.size() && in_[pos_] != '"') {
    char c = in_[pos_++];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (pos_ >= in_.size()) fail("unterminated escape");
    char e = in_[pos_++];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        if (pos_ + 4 > in_.size()) fail("bad \\u escape");
        unsigned cp = 0;
        for (int i = 0; i < 4; ++i) {
          int h = hex(in_[pos_++]);
          if (h < 0) fail("bad \\u escape");
          cp = cp * 16 + static_cast<unsigned>(h);
        }
        if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 6 <= in_.size() && in_[pos_] == '\\' && in_[pos_ + 1] == 'u') {
          unsigned lo = 0;
          bool ok = true;
          for (int i = 0; i < 4; ++i) {
            int h = hex(in_[pos_ + 2 + static_cast<std::size_t>(i)]);
            ok = ok && h >= 0;
            lo = lo * 16 + static_cast<unsigned>(h < 0 ? 0 : h);
          }
          if (ok && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            pos_ += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
  }
  if (pos_ >= in_.size()) fail("unterminated string");
  ++pos_;
  owned_.push_back(std::move(out));
  return owned_.back();
}

Value Document::parse_value(int depth) {
  if (depth > kMaxDepth) fail("nested too deeply");
  skip_space();
  if (pos_ >= in_.size()) fail("unexpected end");
  Value v;
  char c = in_[pos_];
  if (c == '{' || c == '[') {
    const bool object = c == '{';
    const char close = object ? '}' : ']';
    v.type_ = object ? Value::Type::object : Value::Type::array;
    ++pos_;
    const std::size_t mark = stack_.size();
    skip_space();
    if (pos_ < in_.size() && in_[pos_] == close) {
      ++pos_;
    } else {
      while (true) {
        std::string_view key;
        if (object) {
          skip_space();
          if (pos_ >= in_.size() || in_[pos_] != '"') fail("expected a key");
          key = parse_string();
          skip_space();
          if (pos_ >= in_.size() || in_[pos_] != ':') fail("expected ':'");
          ++pos_;
        }
        Value child = parse_value(depth + 1);
        stack_.push_back(child);
        key_stack_.push_back(key);
        skip_space();
        if (pos_ >= in_.size()) fail("unexpected end");
        if (in_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (in_[pos_] != close) fail("expected ',' or a closing bracket");
        ++pos_;
        break;
      }
    }
    v.first_ = static_cast<std::uint32_t>(values_.size());
    v.count_ = static_cast<std::uint32_t>(stack_.size() - mark);
    values_.insert(values_.end(), stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    keys_.insert(keys_.end(), key_stack_.begin() + static_cast<std::ptrdiff_t>(mark), key_stack_.end());
    stack_.resize(mark);
    key_stack_.resize(mark);
    return v;
  }
  if (c == '"') {
    v.type_ = Value::Type::string;
    v.text_ = parse_string();
    return v;
  }
  if (in_.compare(pos_, 4, "true") == 0) {
    v.type_ = Value::Type::boolean;
    v.boolean_ = true;
    pos_ += 4;
    return v;
  }
  if (in_.compare(pos_, 5, "false") == 0) {
    v.type_ = Value::Type::boolean;
    pos_ += 5;
    return v;
  }
  if (in_.compare(pos_, 4, "null") == 0) {
    pos_ += 4;
    return v;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    std::size_t start = pos_;
    while (pos_ < in_.size() && std::string_view("+-0123456789.eE").find(in_[pos_]) != std::string_view::npos) ++pos_;
    std::string_view num = in_.substr(start, pos_ - start);
    v.type_ = Value::Type::number;
    v.text_ = num;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v.number_);
    if (ec != std::errc() || p != num.data() + num.size()) {
      double d = std::strtod(std::string(num).c_str(), nullptr);
      v.number_ = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : static_cast<long long>(d);
    }
    return v;
  }
  fail("unexpected character");
}

}  // namespace pgsift::sql::jt
