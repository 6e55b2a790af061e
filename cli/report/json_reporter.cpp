// JSON report, schema_version 1 (documented in man/pgsift.1, JSON OUTPUT):
// the inputs read, notes, a summary and the findings with their evidence.
// Values (literals, bound parameters) appear only with --show-values.
#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/report/reporters.h"

namespace pgsift::cli::report {

namespace {

using nlohmann::json;

json time_or_null(model::Timestamp time) {
  return time == model::kNoTime ? json(nullptr) : json(iso_timestamp(time));
}

json input_json(const input::InputSummary& input) {
  return {{"path", input.path},
          {"format", input.format},
          {"prefix", input.prefix},
          {"compression", input.compression},
          {"bytes", input.bytes},
          {"lines", input.lines},
          {"records", input.records},
          {"statements", input.statements},
          {"noise_lines", input.noise_lines},
          {"skipped_lines", input.skipped_lines},
          {"first_skipped_line", input.first_skipped_line},
          {"truncated", input.truncated},
          {"warnings", input.warnings}};
}

json evidence_json(const Report& report, const core::Evidence& evidence) {
  json item = {{"role", evidence.role},
               {"file", input_path(report, evidence.input)},
               {"line", evidence.line},
               {"timestamp", time_or_null(evidence.time)},
               {"pid", evidence.pid},
               {"sql", evidence.sql},
               {"duration_ms", evidence.duration_ms < 0 ? json(nullptr) : json(evidence.duration_ms)}};
  if (report.show_values) item["values"] = evidence.values;
  return item;
}

json finding_json(const Report& report, const core::Finding& finding) {
  json sessions = json::array();
  for (const core::SessionRef& session : finding.sessions) {
    sessions.push_back({{"pid", session.pid},
                        {"session_id", session.session_id},
                        {"user", session.user},
                        {"database", session.database},
                        {"application_name", session.application}});
  }
  json evidence = json::array();
  for (const core::Evidence& item : finding.evidence) evidence.push_back(evidence_json(report, item));
  json item = {{"rule", finding.rule},
               {"severity", core::to_string(finding.severity)},
               {"id", finding.id},
               {"message", finding.message},
               {"help", finding.help},
               {"sessions", sessions},
               {"evidence", evidence},
               {"details", finding.details},
               {"occurrences", finding.occurrences},
               {"first_seen", time_or_null(finding.first_seen)},
               {"last_seen", time_or_null(finding.last_seen)}};
  if (!finding.source_file.empty()) {
    item["source"] = {{"file", finding.source_file}, {"line", finding.source_line}};
  }
  return item;
}

}  // namespace

void render_json(const Report& report, std::ostream& out) {
  json inputs = json::array();
  for (const input::InputSummary& input : report.inputs) inputs.push_back(input_json(input));
  json findings = json::array();
  std::uint64_t counts[3] = {0, 0, 0};
  for (const core::Finding& finding : report.findings) {
    findings.push_back(finding_json(report, finding));
    ++counts[static_cast<int>(finding.severity)];
  }
  json document = {{"schema_version", 1},
                   {"tool", {{"name", "pgsift"}, {"version", PGSIFT_VERSION}}},
                   {"inputs", inputs},
                   {"notes", report.notes},
                   {"summary",
                    {{"findings", report.findings.size()},
                     {"error", counts[2]},
                     {"warning", counts[1]},
                     {"info", counts[0]},
                     {"suppressed", report.suppressed},
                     {"baselined", report.baselined},
                     {"stale_baseline_ids", report.stale_baseline_ids}}},
                   {"findings", findings}};
  // Logs may hold invalid UTF-8 (client encodings): replace rather than throw.
  out << document.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

}  // namespace pgsift::cli::report
