#include "analyzers/session/evidence.h"

#include <algorithm>
#include <cstdio>

#include "analyzers/session/statement_runs.h"

namespace pgsift::session {

core::SessionRef session_ref(const model::SessionInfo& session) {
  core::SessionRef ref;
  ref.pid = session.pid;
  ref.session_id = session.session_id;
  ref.user = session.user;
  ref.database = session.database;
  ref.application = session.application;
  return ref;
}

core::Evidence evidence_of(const model::Execution& execution, std::string role, std::int32_t pid) {
  core::Evidence evidence;
  evidence.role = std::move(role);
  evidence.input = execution.where.input;
  evidence.line = execution.where.line;
  evidence.time = execution.end;
  evidence.pid = pid;
  evidence.sql = execution.statement().normalized;
  if (evidence.sql.empty()) evidence.sql = "<unparsed statement>";
  evidence.duration_ms = execution.duration_ms;
  evidence.values = value_tuple(execution);
  return evidence;
}

std::string fingerprint_hex(std::uint64_t fingerprint) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return hex;
}

std::string shorten(std::string_view sql, std::size_t max) {
  std::string text;
  text.reserve(std::min(sql.size(), max + 3));
  bool space = false;
  for (char c : sql) {
    const bool blank = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (blank) {
      space = !text.empty();
      continue;
    }
    if (space) text += ' ';
    space = false;
    text += c;
    if (text.size() >= max) {
      text += "...";
      break;
    }
  }
  return text;
}

double elapsed_ms(model::Timestamp from, model::Timestamp to) {
  if (from == model::kNoTime || to == model::kNoTime) return 0;
  return static_cast<double>(to - from) / model::kMicrosPerMilli;
}

std::string duration_text(double ms) {
  char buffer[32];
  if (ms >= 1000) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", ms / 1000);
  } else if (ms >= 10) {
    std::snprintf(buffer, sizeof buffer, "%.0f ms", ms);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f ms", ms);
  }
  return buffer;
}

}  // namespace pgsift::session
