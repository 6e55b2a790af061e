#include "analyzers/core/finding.h"

#include <cstdio>

#include <xxhash.h>

namespace pgsift::core {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "warning";
}

std::optional<Severity> severity_from_string(std::string_view text) {
  if (text == "info") return Severity::info;
  if (text == "warning") return Severity::warning;
  if (text == "error") return Severity::error;
  return std::nullopt;
}

std::string make_finding_id(std::string_view rule, const std::vector<std::string>& parts) {
  // XXH3-64 over "rule\0part\0part..." : stable across runs, releases and machines.
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, rule.data(), rule.size());
  for (const auto& part : parts) {
    XXH3_64bits_update(state, "\0", 1);
    XXH3_64bits_update(state, part.data(), part.size());
  }
  const XXH64_hash_t hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string(rule) + ":" + hex;
}

}  // namespace pgsift::core
