// Fingerprint and normalized text; the algorithm is described in fingerprint.h.
#include "analyzers/sql/fingerprint.h"

#include <xxhash.h>

#include <charconv>

namespace pgsift::sql::fp {
namespace {

using Canon = std::vector<std::string>;

std::string canonical_token(std::string_view text, const lex::Token& t) {
  std::string_view s = text.substr(t.begin, t.end - t.begin);
  switch (t.kind) {
    case lex::TokKind::word:
      return lex::lower(s);
    case lex::TokKind::quoted_ident: {
      std::size_t open = s.find('"');
      std::string out;
      if (open == std::string_view::npos) return std::string(s);
      std::string_view body = s.substr(open + 1);
      if (!body.empty() && body.back() == '"') body.remove_suffix(1);
      for (std::size_t i = 0; i < body.size(); ++i) {
        out.push_back(body[i]);
        if (body[i] == '"' && i + 1 < body.size() && body[i + 1] == '"') ++i;
      }
      return out;
    }
    case lex::TokKind::string:
    case lex::TokKind::number:
    case lex::TokKind::boolean:
    case lex::TokKind::param:
      return "?";
    default:
      return std::string(s);
  }
}

bool is_open(const std::string& t) { return t == "(" || t == "["; }
bool is_close(const std::string& t) { return t == ")" || t == "]"; }

// Index of the bracket closing the one at `open` (or v.size()).
std::size_t matching(const Canon& v, std::size_t open, std::size_t end) {
  int depth = 0;
  for (std::size_t i = open; i < end; ++i) {
    if (is_open(v[i])) ++depth;
    else if (is_close(v[i]) && --depth == 0) return i;
  }
  return end;
}

void collapse(const Canon& in, std::size_t begin, std::size_t end, Canon& out);

// Collapses [begin, end) into one canonical sequence.
Canon collapsed(const Canon& in, std::size_t begin, std::size_t end) {
  Canon out;
  collapse(in, begin, end, out);
  return out;
}

// Splits an already-collapsed bracket body at top-level commas.
std::vector<Canon> elements(const Canon& body) {
  std::vector<Canon> out(1);
  int depth = 0;
  for (const std::string& t : body) {
    if (is_open(t)) ++depth;
    if (is_close(t)) --depth;
    if (depth == 0 && t == ",") {
      out.emplace_back();
      continue;
    }
    out.back().push_back(t);
  }
  return out;
}

bool all_same(const std::vector<Canon>& els) {
  for (const Canon& e : els)
    if (e != els.front()) return false;
  return true;
}

void collapse(const Canon& in, std::size_t begin, std::size_t end, Canon& out) {
  for (std::size_t i = begin; i < end; ++i) {
    const std::string& t = in[i];
    if (!is_open(t)) {
      out.push_back(t);
      continue;
    }
    const std::string prev = out.empty() ? std::string() : out.back();
    if (prev == "values" && t == "(") {
      // VALUES rows: (..), (..), ... -> one row when all rows are alike.
      std::vector<Canon> rows;
      std::size_t j = i;
      while (j < end && in[j] == "(") {
        std::size_t close = matching(in, j, end);
        Canon row{"("};
        collapse(in, j + 1, close, row);
        row.push_back(")");
        rows.push_back(std::move(row));
        j = close + 1;
        if (j + 1 < end && in[j] == "," && in[j + 1] == "(") ++j;
        else break;
      }
      std::size_t keep = all_same(rows) ? 1 : rows.size();
      for (std::size_t r = 0; r < keep; ++r) {
        if (r > 0) out.push_back(",");
        out.insert(out.end(), rows[r].begin(), rows[r].end());
      }
      i = j - 1;  // j is one past the last row's ')'
      continue;
    }
    std::size_t close = matching(in, i, end);
    Canon body = collapsed(in, i + 1, close);
    out.push_back(t);
    bool list_context = (prev == "in" && t == "(") || (prev == "array" && t == "[");
    std::vector<Canon> els;
    if (list_context && !body.empty()) els = elements(body);
    if (list_context && els.size() > 1 && all_same(els)) {
      out.insert(out.end(), els.front().begin(), els.front().end());
    } else {
      out.insert(out.end(), body.begin(), body.end());
    }
    if (close < end) out.push_back(in[close]);
    i = close;
  }
}

}  // namespace

std::string canonical(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                      std::size_t last) {
  Canon raw;
  raw.reserve(last - first);
  for (std::size_t i = first; i < last; ++i) raw.push_back(canonical_token(text, tokens[i]));
  Canon out;
  collapse(raw, 0, raw.size(), out);
  std::string joined;
  for (const std::string& t : out) {
    if (!joined.empty()) joined.push_back(' ');
    joined += t;
  }
  return joined;
}

std::uint64_t fingerprint(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                          std::size_t last) {
  std::string c = canonical(text, tokens, first, last);
  return XXH3_64bits(c.data(), c.size());
}

std::string normalized(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                       std::size_t last) {
  int max_param = 0;
  for (std::size_t i = first; i < last; ++i) {
    if (tokens[i].kind != lex::TokKind::param) continue;
    int n = 0;
    const char* b = text.data() + tokens[i].begin + 1;
    std::from_chars(b, text.data() + tokens[i].end, n);
    if (n > max_param) max_param = n;
  }
  std::string out;
  out.reserve(text.size());
  int next = max_param;
  for (std::size_t i = first; i < last; ++i) {
    const lex::Token& t = tokens[i];
    if (i > first && t.space_before) out.push_back(' ');
    if (lex::is_literal(t.kind)) {
      out.push_back('$');
      out += std::to_string(++next);
    } else {
      out.append(text.substr(t.begin, t.end - t.begin));
    }
  }
  return out;
}

}  // namespace pgsift::sql::fp
