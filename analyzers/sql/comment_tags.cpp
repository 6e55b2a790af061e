// sqlcommenter / Marginalia tag parsing; see comment_tags.h.
#include "analyzers/sql/comment_tags.h"

namespace pgsift::sql {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '%';
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes sqlcommenter's `\'` escaping, then URL-decoding (%XX; '+' stays).
std::string decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
      out.push_back('\'');
      ++i;
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool valid_key(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k)
    if (!key_char(c)) return false;
  return true;
}

}  // namespace

bool parse_tag_comment(std::string_view body, std::map<std::string, std::string>& out) {
  body = trim(body);
  if (body.empty()) return false;
  std::map<std::string, std::string> tags;
  std::size_t i = 0;
  while (i < body.size()) {
    std::size_t sep = body.find_first_of("=:", i);
    if (sep == std::string_view::npos) return false;
    std::string_view key = trim(body.substr(i, sep - i));
    if (!valid_key(key)) return false;
    std::size_t v = sep + 1;
    while (v < body.size() && body[v] == ' ') ++v;
    std::string value;
    if (body[sep] == '=') {
      // sqlcommenter: key='value' with \' escapes inside.
      if (v >= body.size() || body[v] != '\'') return false;
      std::size_t j = v + 1;
      while (j < body.size() && !(body[j] == '\'' && body[j - 1] != '\\')) ++j;
      if (j >= body.size()) return false;
      value = decode(body.substr(v + 1, j - v - 1));
      i = j + 1;
      while (i < body.size() && body[i] == ' ') ++i;
      if (i < body.size() && body[i] != ',') return false;
    } else {
      // Marginalia: key:value up to the next comma (values may hold ':').
      std::size_t j = body.find(',', v);
      j = j == std::string_view::npos ? body.size() : j;
      value = std::string(trim(body.substr(v, j - v)));
      i = j;
    }
    tags[decode(key)] = std::move(value);
    if (i < body.size()) ++i;  // the comma
  }
  for (auto& [k, val] : tags) out[k] = std::move(val);
  return true;
}

bool has_edge_comment(const lex::Lexed& lexed) {
  if (lexed.comments.empty()) return false;
  if (lexed.tokens.empty()) return true;
  return lexed.comments.front().end <= lexed.tokens.front().begin ||
         lexed.comments.back().begin >= lexed.tokens.back().end;
}

std::map<std::string, std::string> comment_tags(std::string_view text, const lex::Lexed& lexed) {
  std::map<std::string, std::string> tags;
  if (!has_edge_comment(lexed)) return tags;
  auto body_of = [&](const lex::Comment& c) {
    std::string_view s = text.substr(c.begin, c.end - c.begin);
    s.remove_prefix(2);
    if (s.size() >= 2 && s.substr(s.size() - 2) == "*/") s.remove_suffix(2);
    return s;
  };
  const std::uint32_t first_token = lexed.tokens.empty() ? ~0u : lexed.tokens.front().begin;
  const std::uint32_t last_token = lexed.tokens.empty() ? 0u : lexed.tokens.back().end;
  for (const lex::Comment& c : lexed.comments) {
    if (c.end > first_token) break;
    if (c.block) {
      parse_tag_comment(body_of(c), tags);
      break;
    }
  }
  for (auto it = lexed.comments.rbegin(); it != lexed.comments.rend(); ++it) {
    if (it->begin < last_token) break;
    if (it->block) {
      parse_tag_comment(body_of(*it), tags);
      break;
    }
  }
  return tags;
}

}  // namespace pgsift::sql
