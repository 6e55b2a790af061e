// The run's FindingSink: aggregates findings with equal ids (occurrences,
// first/last seen, up to a few sessions) instead of listing the same problem
// once per request, and hands them out sorted deterministically.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/core/analyzer.h"

namespace pgsift::cli::analysis {

class FindingCollector final : public core::FindingSink {
 public:
  /// At most this many distinct sessions are kept per finding.
  static constexpr std::size_t kMaxSessions = 8;

  void add(core::Finding finding) override;

  /// All findings, sorted by severity (most severe first), rule, id.
  std::vector<core::Finding> take_sorted();

  std::size_t size() const { return findings_.size(); }

 private:
  std::vector<core::Finding> findings_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace pgsift::cli::analysis
