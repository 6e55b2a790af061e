#include "analyzers/core/suppression.h"

#include <algorithm>
#include <cctype>
#include <variant>

namespace pgsift::core {

namespace {

constexpr std::string_view kTool = "pgsift";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool rule_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*';
}

// Splits "n-plus-one, lock-wait" into ids; stops at the first character that
// cannot be part of a list (the rest of a free-text comment).
void add_rules(std::string_view list, std::vector<std::string>& out) {
  const std::size_t before = out.size();
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ' ' || list[i] == ',' || list[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < list.size() && rule_char(list[i])) ++i;
    if (i == start) break;
    const std::string_view token = list.substr(start, i - start);
    // "*" alone means every rule; "*/" closes a nested comment.
    if (token.find('*') != std::string_view::npos && (token != "*" || (i < list.size() && list[i] == '/'))) break;
    out.emplace_back(token);
    if (i < list.size() && list[i] != ' ' && list[i] != ',' && list[i] != '\t') break;
  }
  if (out.size() == before) out.emplace_back("*");
}

// Finds "pgsift:ignore" / "pgsift-ignore" / "pgsift_ignore" in a comment body
// and reads the rule list after it (bare, or sqlcommenter's ='...').
void scan_comment(std::string_view body, std::vector<std::string>& out) {
  for (std::size_t at = body.find(kTool); at != std::string_view::npos; at = body.find(kTool, at + 1)) {
    std::size_t i = at + kTool.size();
    if (i >= body.size() || (body[i] != ':' && body[i] != '-' && body[i] != '_')) continue;
    if (body.substr(i + 1, 6) != "ignore") continue;
    i += 7;
    if (i < body.size() && rule_char(body[i])) continue;  // "pgsift-ignored", not ours
    while (i < body.size() && body[i] == ' ') ++i;
    if (i < body.size() && (body[i] == '=' || body[i] == ':')) ++i;
    while (i < body.size() && body[i] == ' ') ++i;
    if (i < body.size() && (body[i] == '\'' || body[i] == '"')) {
      const char quote = body[i];
      const std::size_t end = body.find(quote, i + 1);
      const std::string value = url_decode(body.substr(i + 1, end == std::string_view::npos ? end : end - i - 1));
      add_rules(value, out);
    } else {
      add_rules(url_decode(body.substr(i)), out);
    }
  }
}

}  // namespace

std::vector<std::string> inline_ignored_rules(std::string_view sql) {
  std::vector<std::string> out;
  if (sql.find(kTool) == std::string_view::npos) return out;  // the common, cheap case
  // A small lexer that knows where comments are: not inside '...' (with ''
  // and E'\'' escapes), "..." identifiers or $tag$...$tag$ bodies. Block
  // comments nest in PostgreSQL.
  std::size_t i = 0;
  const std::size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      const bool escapes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
      ++i;
      while (i < n) {
        if (escapes && sql[i] == '\\') { i += 2; continue; }
        if (sql[i] == c) {
          if (i + 1 < n && sql[i + 1] == c) { i += 2; continue; }
          break;
        }
        ++i;
      }
      ++i;
    } else if (c == '$') {
      std::size_t j = i + 1;
      while (j < n && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
      if (j < n && sql[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
        const std::string_view tag = sql.substr(i, j - i + 1);
        const std::size_t end = sql.find(tag, j + 1);
        i = end == std::string_view::npos ? n : end + tag.size();
      } else {
        i = j;
      }
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      const std::size_t end = sql.find('\n', i);
      const std::size_t stop = end == std::string_view::npos ? n : end;
      scan_comment(sql.substr(i + 2, stop - i - 2), out);
      i = stop;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      const std::size_t start = i + 2;
      int depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') { ++depth; i += 2; }
        else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') { --depth; i += 2; }
        else ++i;
      }
      const std::size_t stop = depth == 0 ? i - 2 : n;
      scan_comment(sql.substr(start, stop - start), out);
    } else {
      ++i;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool silences(const std::vector<std::string>& ignored, std::string_view rule) {
  return std::any_of(ignored.begin(), ignored.end(), [rule](const std::string& id) { return id == "*" || id == rule; });
}

void SuppressionIndex::observe_sql(const model::SourceLocation& where, std::string_view sql) {
  std::vector<std::string> rules = inline_ignored_rules(sql);
  if (rules.empty()) return;
  auto& entry = by_location_[{where.input, where.line}];
  entry.insert(entry.end(), rules.begin(), rules.end());
}

void SuppressionIndex::observe(const model::Event& event) {
  const auto& where = event.header.where;
  std::visit(
      [&](const auto& body) {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, model::StatementEvent>) {
          observe_sql(where, body.sql);
        } else if constexpr (std::is_same_v<Body, model::LockEvent> || std::is_same_v<Body, model::TimeoutEvent> ||
                             std::is_same_v<Body, model::ErrorEvent> || std::is_same_v<Body, model::TempFileEvent>) {
          observe_sql(where, body.statement);
        } else if constexpr (std::is_same_v<Body, model::DeadlockEvent>) {
          observe_sql(where, body.statement);
          for (const auto& participant : body.cycle) observe_sql(where, participant.statement);
        }
      },
      event.body);
}

bool SuppressionIndex::suppresses(const Finding& finding) const {
  if (by_location_.empty()) return false;
  for (const auto& evidence : finding.evidence) {
    const auto it = by_location_.find({evidence.input, evidence.line});
    if (it != by_location_.end() && silences(it->second, finding.rule)) return true;
  }
  return false;
}

}  // namespace pgsift::core
