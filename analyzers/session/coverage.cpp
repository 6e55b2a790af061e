#include "analyzers/session/coverage.h"

#include <string>

namespace pgsift::session {

namespace {

// Below this many statements with durations, a missing fast statement proves nothing.
constexpr std::uint64_t kMinStatementsForFloor = 10;
// log_min_duration_statement is an integer number of milliseconds, so any
// positive setting hides every statement faster than 1 ms; BEGIN and COMMIT
// alone take a few microseconds on any server.
constexpr double kFloorMs = 1.0;
// In stderr logs every prefixed line (DETAIL, HINT, QUERY, CONTEXT, LOCATION,
// STATEMENT) takes a %l number, so one record can use up to 7 numbers.
constexpr std::uint64_t kLinesPerRecord = 7;

std::string count_text(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void CoverageMonitor::observe_statement(const model::StatementEvent& statement) {
  if (statement.sql.empty()) {
    if (statement.duration_ms >= 0) ++duration_only_;
    return;
  }
  if (statement.continues_portal) return;
  ++statements_;
  if (statement.duration_ms < 0) {
    ++without_duration_;
    return;
  }
  ++with_duration_;
  if (statement.duration_ms < kFloorMs) ++fast_;
  if (min_duration_ms_ < 0 || statement.duration_ms < min_duration_ms_) {
    min_duration_ms_ = statement.duration_ms;
  }
}

void CoverageMonitor::observe_line(const std::string& session_key, std::uint64_t session_line) {
  if (session_line == 0) return;  // the format has no %l
  auto [it, inserted] = last_line_.try_emplace(session_key, session_line);
  if (inserted) return;
  const std::uint64_t previous = it->second;
  it->second = session_line;
  if (session_line > previous + kLinesPerRecord) {
    missing_lines_ += session_line - previous - kLinesPerRecord;
  }
}

void CoverageMonitor::observe_line(std::uint64_t& last_line, std::uint64_t session_line) {
  if (session_line == 0) return;  // the format has no %l
  const std::uint64_t previous = last_line;
  last_line = session_line;
  if (previous == 0) return;  // the session's first line
  if (session_line > previous + kLinesPerRecord) {
    missing_lines_ += session_line - previous - kLinesPerRecord;
  }
}

void CoverageMonitor::forget_session(const std::string& session_key) {
  last_line_.erase(session_key);
}

model::LogCoverage CoverageMonitor::result() const {
  model::LogCoverage coverage;
  const auto fail = [&coverage](std::string reason, bool missing = true) {
    coverage.every_statement = false;
    coverage.missing_statements = coverage.missing_statements || missing;
    if (coverage.reason.empty()) coverage.reason = std::move(reason);
  };
  if (with_duration_ >= kMinStatementsForFloor && fast_ == 0) {
    fail("no statement faster than 1 ms among " + std::to_string(with_duration_) +
         " logged: log_min_duration_statement (or sampling) hides fast statements");
  }
  if (duration_only_ > 0) {
    fail(count_text(duration_only_, "duration line has", "duration lines have") +
         " no statement text: log_statement does not log every statement");
  }
  if (without_duration_ > 0 && without_duration_ * 10 > statements_) {
    fail(count_text(without_duration_, "statement was", "statements were") +
         " logged without a duration: idle time cannot be told from statement time "
         "(set log_min_duration_statement = 0 or log_duration = on)",
         /*missing=*/false);
  }
  if (missing_lines_ > 0) {
    fail(count_text(missing_lines_, "log line is", "log lines are") +
         " missing (gaps in %l session line numbers): the log was filtered or sampled");
  }
  if (unmatched_commits_ >= 2) {
    fail(count_text(unmatched_commits_, "COMMIT", "COMMITs") +
         " without a BEGIN: statements are missing (log_statement_sample_rate or "
         "log_transaction_sample_rate?)");
  }
  return coverage;
}

}  // namespace pgsift::session
