// Request tags from SQL comments: sqlcommenter (`/*controller='users',
// traceparent='00-...'*/`, keys and values URL-encoded, `\'` escaped) and
// Rails QueryLogs legacy / Marginalia (`/*application:App,controller:users*/`).
// Only the first comment before the statement and the last one after it are
// read (that is where the emitters put them); a comment that is not entirely
// made of key/value pairs is not a tag comment.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "analyzers/sql/lexer.h"

namespace pgsift::sql {

/// Parses one comment body (without /* */); false if it is not a tag list.
bool parse_tag_comment(std::string_view body, std::map<std::string, std::string>& out);

/// Tags of a whole text, from its leading and trailing block comments.
std::map<std::string, std::string> comment_tags(std::string_view text, const lex::Lexed& lexed);

/// Whether the text has a leading or trailing block comment at all (cheap).
bool has_edge_comment(const lex::Lexed& lexed);

}  // namespace pgsift::sql
