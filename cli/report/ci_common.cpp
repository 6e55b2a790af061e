#include "cli/report/ci_common.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

namespace pgsift::cli::report {

namespace {

// Where rule pages live; SARIF helpUri and Markdown links point here.
constexpr std::string_view kRuleDocsBase = "https://github.com/pgsift/pgsift/blob/main/man/rules/";

bool has_source(const core::Finding& finding) {
  return !finding.source_file.empty();
}

CiLocation evidence_location(const Report& report, const core::Evidence& evidence) {
  CiLocation location;
  location.path = ci_path(input_path(report, evidence.input));
  location.line = evidence.line > 0 ? evidence.line : 1;
  location.label = evidence.role.empty() ? "evidence" : evidence.role;
  return location;
}

}  // namespace

std::string ci_path(std::string_view path) {
  std::string text(path);
  while (text.rfind("./", 0) == 0) text.erase(0, 2);
  if (text.empty()) return "<unknown>";
  std::filesystem::path p(text);
  if (p.is_absolute()) {
    std::error_code ec;
    const auto cwd = std::filesystem::current_path(ec);
    if (!ec) {
      const auto rel = p.lexically_normal().lexically_relative(cwd);
      // Only below the working directory: "../x" is no better than "/abs/x".
      if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
    }
  }
  return text;
}

CiLocation primary_location(const Report& report, const core::Finding& finding) {
  if (has_source(finding)) {
    CiLocation location;
    location.path = ci_path(finding.source_file);
    location.line = finding.source_line > 0 ? finding.source_line : 1;
    location.label = "application source";
    return location;
  }
  if (!finding.evidence.empty()) return evidence_location(report, finding.evidence.front());
  // A finding with no evidence (a live-mode summary, say): anchor it on the
  // first input so the result still has a physical location.
  CiLocation location;
  location.path = report.inputs.empty() ? ".pgsift.toml" : ci_path(report.inputs.front().path);
  location.line = 1;
  location.label = "input";
  return location;
}

std::vector<CiLocation> related_locations(const Report& report, const core::Finding& finding) {
  std::vector<CiLocation> out;
  // When the primary location is the application source, the log line of the
  // primary evidence becomes a related location like the others.
  const std::size_t first = has_source(finding) ? 0 : 1;
  for (std::size_t i = first; i < finding.evidence.size(); ++i) {
    out.push_back(evidence_location(report, finding.evidence[i]));
  }
  return out;
}

std::string_view id_hash(const core::Finding& finding) {
  std::string_view id = finding.id;
  const auto colon = id.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < id.size()) return id.substr(colon + 1);
  return id;
}

core::RuleInfo rule_info(std::string_view rule_id) {
  if (const core::RuleEntry* entry = core::find_rule(rule_id)) {
    core::RuleInfo info = entry->info;
    if (info.summary.empty()) info.summary = info.id;
    return info;
  }
  return core::RuleInfo{rule_id, rule_id, core::Severity::warning};
}

std::vector<core::RuleInfo> report_rules(const Report& report) {
  std::map<std::string_view, core::RuleInfo> by_id;
  if (report.rules.empty()) {
    for (const auto& entry : core::rule_registry()) by_id.emplace(entry.info.id, rule_info(entry.info.id));
  }
  for (const auto& info : report.rules) {
    core::RuleInfo copy = info;
    if (copy.summary.empty()) copy.summary = copy.id;
    by_id.emplace(copy.id, copy);
  }
  for (const auto& finding : report.findings) {
    if (!by_id.count(finding.rule)) by_id.emplace(finding.rule, rule_info(finding.rule));
  }
  std::vector<core::RuleInfo> out;
  for (const auto& [id, info] : by_id) out.push_back(info);
  return out;
}

std::string rule_doc_url(std::string_view rule_id) {
  return std::string(kRuleDocsBase) + std::string(rule_id) + ".md";
}

SeverityCounts count_by_severity(const std::vector<core::Finding>& findings) {
  SeverityCounts counts;
  for (const auto& finding : findings) {
    switch (finding.severity) {
      case core::Severity::info: ++counts.info; break;
      case core::Severity::warning: ++counts.warning; break;
      case core::Severity::error: ++counts.error; break;
    }
  }
  return counts;
}

std::string format_utc(model::Timestamp time) {
  if (time == model::kNoTime) return "";
  using namespace std::chrono;
  const sys_time<microseconds> point{microseconds{time}};
  const auto day = floor<days>(point);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<milliseconds>(point - day)};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buffer;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    std::size_t length = 0;
    std::uint32_t min = 0;
    if (c < 0x80) { out.push_back(static_cast<char>(c)); ++i; continue; }
    if ((c & 0xE0) == 0xC0) { length = 2; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { length = 3; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { length = 4; min = 0x10000; }
    bool ok = length > 0 && i + length <= n;
    std::uint32_t code = ok ? (c & (0x7F >> length)) : 0;
    for (std::size_t k = 1; ok && k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      else code = (code << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) ok = false;
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  const std::string clean = valid_utf8(text);
  std::string out;
  out.reserve(clean.size());
  for (const char ch : clean) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') out += "\xEF\xBF\xBD";
        else out.push_back(ch);
    }
  }
  return out;
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) out.push_back(ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch);
  return out;
}

}  // namespace pgsift::cli::report
