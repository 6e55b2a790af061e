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
/// `stmt_ranges` receives each statement's [location, location+length).
/// Throws (nlohmann::json errors) on malformed JSON; the caller catches.
void build_statements(std::string_view text, const lex::Lexed& lexed, const std::string& json,
                      std::vector<Statement>& out,
                      std::vector<std::pair<std::uint32_t, std::uint32_t>>& stmt_ranges);

}  // namespace pgsift::sql
