// Builds the Statements of one text from libpg_query's JSON parse tree.
// Literal A_Const nodes are mapped to the lexer's literal slots through their
// byte locations, so no literal value is stored in the (shared) shape.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "analyzers/sql/lexer.h"
#include "analyzers/sql/statement.h"

namespace pgsift::sql {

/// Fills `out` from the parse-tree JSON of `text`: one Statement per parsed
/// statement with kind, tables, keys, locks, SET items, INSERT info,
/// transaction control, advisory locks (not fingerprint/normalized/tags).
/// `json` is the parse of text.substr(base, parsed_length) (base > 0 when a
/// text that does not parse as a whole is analyzed statement by statement);
/// `text` and `lexed` are always the whole text. `stmt_ranges` receives each
/// statement's [location, location+length) in the whole text.
/// Throws std::runtime_error on malformed JSON; the caller catches.
void build_statements(std::string_view text, const lex::Lexed& lexed, std::uint32_t base,
                      std::uint32_t parsed_length, const std::string& json, std::vector<Statement>& out,
                      std::vector<std::pair<std::uint32_t, std::uint32_t>>& stmt_ranges);

}  // namespace pgsift::sql
