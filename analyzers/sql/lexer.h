// A small hand-written SQL lexer (PostgreSQL dialect) used on the hot path:
// it splits a statement text into tokens, finds the literals (so their values
// can be masked out of the cache key, the fingerprint and the normalized text)
// and the comments (where sqlcommenter/Marginalia tags live). It never fails:
// unterminated strings or comments simply run to the end of the text.
//
// What counts as a literal (gets a slot in Parsed::literals):
//   - string constants: '...', E'...', N'...', U&'...', B'...', X'...', $tag$...$tag$
//   - numeric constants: 42, 3.5, .5, 1e10 (a unary minus directly after an
//     operator, '(', ',', '[' or at the start is folded into the number: -5)
//   - the boolean keywords TRUE and FALSE
// NULL and DEFAULT are not literals (they change a statement's meaning), and
// $n parameters are kept as they are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgsift::sql::lex {

enum class TokKind : std::uint8_t {
  word,          // unquoted identifier or keyword
  quoted_ident,  // "Quoted"
  string,        // any string constant form
  number,
  boolean,       // TRUE / FALSE
  param,         // $n
  op,            // operator run: = <> >= :: || ...
  punct,         // ( ) [ ] , ; . and anything else
};

inline bool is_literal(TokKind k) {
  return k == TokKind::string || k == TokKind::number || k == TokKind::boolean;
}

struct Token {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  TokKind kind = TokKind::punct;
  bool space_before = false;   // whitespace or a comment separates it from the previous token
};

struct Comment {
  std::uint32_t begin = 0;   // offset of "/*" or "--"
  std::uint32_t end = 0;     // one past the end
  bool block = false;
};

struct Lexed {
  std::vector<Token> tokens;
  std::vector<Comment> comments;
  /// 128-bit hash of the literal-masked token stream: the cache key.
  std::uint64_t key_low = 0, key_high = 0;
  /// Number of literal tokens (is_literal), so callers can size their lists.
  std::uint32_t literal_count = 0;
  /// Whether a $n parameter token occurs (extended-protocol text).
  bool has_param = false;
  void clear() {
    tokens.clear();
    comments.clear();
    key_low = key_high = 0;
    literal_count = 0;
    has_param = false;
  }
};

/// Tokenizes `text` into `out` (reusing its buffers) and computes the cache
/// key. Unquoted words are case-folded in the key; literal values are left
/// out of it except in statements starting with SET, PREPARE, COMMIT or
/// ROLLBACK, whose literal values decide the shape (SET
/// default_transaction_isolation = 'serializable', COMMIT PREPARED 'gid').
void lex(std::string_view text, Lexed& out);

/// The value of a literal token: strings unquoted and unescaped, numbers and
/// booleans as written (booleans lowercased).
std::string literal_value(std::string_view text, const Token& token);

/// Lowercase ASCII copy of a word.
std::string lower(std::string_view word);

}  // namespace pgsift::sql::lex
