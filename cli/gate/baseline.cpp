#include "cli/gate/baseline.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace pgsift::cli::gate {

namespace {

constexpr std::string_view kIdAlgorithm = "pgsift-id/1";

std::size_t line_of(const std::string& text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(byte), '\n'));
}

}  // namespace

Baseline make_baseline(const std::vector<core::Finding>& findings) {
  Baseline baseline;
  for (const auto& finding : findings) {
    auto [it, inserted] = baseline.entries.try_emplace(finding.id);
    BaselineEntry& entry = it->second;
    if (inserted) {
      entry.id = finding.id;
      entry.rule = finding.rule;
      entry.count = 0;
      entry.message = finding.message;
    }
    ++entry.count;
    entry.occurrences += finding.occurrences;
  }
  return baseline;
}

void write_baseline(const Baseline& baseline, std::ostream& out) {
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const auto& [id, entry] : baseline.entries) {
    entries.push_back({{"id", entry.id},
                       {"rule", entry.rule},
                       {"count", entry.count},
                       {"occurrences", entry.occurrences},
                       {"message", entry.message}});
  }
  nlohmann::ordered_json file;
  file["version"] = kBaselineVersion;
  file["tool"] = "pgsift";
  file["id_algorithm"] = kIdAlgorithm;
  file["entries"] = entries;
  out << file.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

std::string save_baseline(const Baseline& baseline, const std::string& path) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write baseline '" + path + "'";
    write_baseline(baseline, out);
    out.flush();
    if (!out) return "cannot write baseline '" + path + "'";
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return "cannot write baseline '" + path + "': " + ec.message();
  }
  return "";
}

std::string parse_baseline(const std::string& text, const std::string& path, Baseline& out) {
  out.entries.clear();
  nlohmann::json file;
  try {
    file = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return path + ":" + std::to_string(line_of(text, e.byte > 0 ? e.byte - 1 : 0)) +
           ": not a pgsift baseline (invalid JSON)";
  }
  if (!file.is_object() || !file.contains("version") || !file["version"].is_number_integer()) {
    return path + ": not a pgsift baseline (no \"version\")";
  }
  if (file["version"].get<long>() != kBaselineVersion) {
    return path + ": unsupported baseline version " + file["version"].dump() + " (this pgsift reads version " +
           std::to_string(kBaselineVersion) + ")";
  }
  if (!file.contains("entries") || !file["entries"].is_array()) {
    return path + ": not a pgsift baseline (no \"entries\" array)";
  }
  std::size_t index = 0;
  for (const auto& item : file["entries"]) {
    const std::string where = path + ": entry " + std::to_string(index++);
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || item["id"].get<std::string>().empty()) {
      return where + ": missing \"id\"";
    }
    BaselineEntry entry;
    entry.id = item["id"].get<std::string>();
    if (item.contains("count")) {
      if (!item["count"].is_number_unsigned() || item["count"].get<std::uint64_t>() == 0) {
        return where + " (" + entry.id + "): \"count\" must be a positive integer";
      }
      entry.count = item["count"].get<std::uint64_t>();
    }
    if (item.contains("rule") && item["rule"].is_string()) entry.rule = item["rule"].get<std::string>();
    if (item.contains("occurrences") && item["occurrences"].is_number_unsigned()) {
      entry.occurrences = item["occurrences"].get<std::uint64_t>();
    }
    if (item.contains("message") && item["message"].is_string()) entry.message = item["message"].get<std::string>();
    // Hand-merged files may repeat an id: their counts add up.
    auto [it, inserted] = out.entries.try_emplace(entry.id, entry);
    if (!inserted) it->second.count += entry.count;
  }
  return "";
}

std::string load_baseline(const std::string& path, Baseline& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read baseline '" + path + "'";
  std::stringstream text;
  text << in.rdbuf();
  return parse_baseline(text.str(), path, out);
}

void apply_baseline(const Baseline& baseline, report::Report& report) {
  std::map<std::string, std::uint64_t> remaining;
  for (const auto& [id, entry] : baseline.entries) remaining[id] = entry.count;
  std::vector<core::Finding> kept;
  kept.reserve(report.findings.size());
  for (auto& finding : report.findings) {
    auto it = remaining.find(finding.id);
    if (it != remaining.end() && it->second > 0) {
      --it->second;
      ++report.baselined;
      continue;
    }
    kept.push_back(std::move(finding));
  }
  report.findings = std::move(kept);
  report.stale_baseline_ids.clear();
  for (const auto& [id, entry] : baseline.entries) {
    if (remaining[id] == entry.count) report.stale_baseline_ids.push_back(id);
  }
}

}  // namespace pgsift::cli::gate
