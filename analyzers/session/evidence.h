// Helpers that turn tracker data (sessions, executions) into finding parts
// (SessionRef, Evidence) the same way for every rule.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzers/core/finding.h"
#include "analyzers/model/session.h"

namespace pgsift::session {

core::SessionRef session_ref(const model::SessionInfo& session);

/// Evidence for one execution: its location, time (end), pid, normalized SQL,
/// duration, and its literal/parameter values (shown only with --show-values).
core::Evidence evidence_of(const model::Execution& execution, std::string role, std::int32_t pid);

/// 16 hex digits.
std::string fingerprint_hex(std::uint64_t fingerprint);

/// `sql` cut to at most `max` characters (with "..."), on one line.
std::string shorten(std::string_view sql, std::size_t max = 100);

/// Milliseconds between two timestamps (0 when either is unknown).
double elapsed_ms(model::Timestamp from, model::Timestamp to);

/// "612 ms" / "1.4 s".
std::string duration_text(double ms);

}  // namespace pgsift::session
