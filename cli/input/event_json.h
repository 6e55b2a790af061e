// One model::Event as a JSON object on one line, for `pgsift events`. Keys are
// stable (documented in man/pgsift.1) and always present for a kind; missing
// values are null or "". Invalid UTF-8 in log text becomes U+FFFD.
#pragma once

#include <string>
#include <string_view>

#include "analyzers/model/event.h"

namespace pgsift::cli::input {

struct EventJsonOptions {
  bool show_values = false;  // else literals in SQL and parameter values are masked
};

void append_event_json(std::string& out, const model::Event& event, std::string_view path,
                       const EventJsonOptions& options);

/// `text` with string and numeric literals replaced by '?' (privacy).
std::string mask_literals(std::string_view sql);

/// Appends `text` as a JSON string (quoted, escaped, invalid UTF-8 replaced).
void append_json_string(std::string& out, std::string_view text);

/// "2026-11-26T12:18:58.177000Z", or "" for kNoTime.
std::string format_timestamp(model::Timestamp time);

}  // namespace pgsift::cli::input
