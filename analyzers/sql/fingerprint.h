// Fingerprint and normalized text of one statement, computed from the lexer's
// token stream (not from the parse tree, so it also works for SQL that does
// not parse and does not change with libpg_query's output format).
//
// FINGERPRINT ALGORITHM (stable: changing it is a breaking change)
//  1. Take the statement's tokens (lexer.h); drop whitespace and comments.
//  2. Canonical form of each token: unquoted words lowercased; quoted
//     identifiers by their content ("users" == users, "Users" != users);
//     every literal (string, number incl. a folded sign, TRUE/FALSE) and every
//     $n parameter becomes "?"; operators and punctuation as written.
//  3. Lists collapse: the elements of a parenthesized list right after IN, of
//     ARRAY[...], and the rows of VALUES (...), (...) collapse to one element
//     when all elements are identical after canonicalization (recursively).
//     `= ?`, `in (?)` and `= any (?)` stay different token sequences.
//  4. fingerprint = XXH3-64 (seed 0) of the canonical tokens joined by one space.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/sql/lexer.h"

namespace pgsift::sql::fp {

/// Canonical token text of tokens [first, last) (step 1-3 above).
std::string canonical(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                      std::size_t last);

/// XXH3-64 of canonical().
std::uint64_t fingerprint(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                          std::size_t last);

/// The statement text with comments dropped, runs of whitespace collapsed to
/// one space, and each literal replaced by $k (k counting on from the highest
/// $n parameter of the statement, as pg_stat_statements does).
std::string normalized(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                       std::size_t last);

}  // namespace pgsift::sql::fp
