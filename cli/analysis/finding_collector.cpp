#include "cli/analysis/finding_collector.h"

#include <algorithm>
#include <utility>

namespace pgsift::cli::analysis {

namespace {

model::Timestamp earliest(model::Timestamp a, model::Timestamp b) {
  if (a == model::kNoTime) return b;
  if (b == model::kNoTime) return a;
  return std::min(a, b);
}

model::Timestamp latest(model::Timestamp a, model::Timestamp b) {
  if (a == model::kNoTime) return b;
  if (b == model::kNoTime) return a;
  return std::max(a, b);
}

void fill_seen(core::Finding& finding) {
  if (finding.evidence.empty()) return;
  for (const core::Evidence& evidence : finding.evidence) {
    finding.first_seen = earliest(finding.first_seen, evidence.time);
    finding.last_seen = latest(finding.last_seen, evidence.time);
  }
}

void merge_sessions(std::vector<core::SessionRef>& into, const std::vector<core::SessionRef>& from) {
  for (const core::SessionRef& session : from) {
    if (into.size() >= FindingCollector::kMaxSessions) return;
    if (std::find(into.begin(), into.end(), session) == into.end()) into.push_back(session);
  }
}

}  // namespace

void FindingCollector::add(core::Finding finding) {
  if (finding.first_seen == model::kNoTime || finding.last_seen == model::kNoTime) {
    fill_seen(finding);
  }
  auto it = index_.find(finding.id);
  if (it == index_.end()) {
    index_.emplace(finding.id, findings_.size());
    findings_.push_back(std::move(finding));
    return;
  }
  core::Finding& kept = findings_[it->second];
  const std::uint64_t occurrences = kept.occurrences + finding.occurrences;
  const model::Timestamp first = earliest(kept.first_seen, finding.first_seen);
  const model::Timestamp last = latest(kept.last_seen, finding.last_seen);
  std::vector<core::SessionRef> sessions = std::move(kept.sessions);
  // The example shown is the worst occurrence, else the first one.
  if (finding.severity > kept.severity) {
    kept = std::move(finding);
    merge_sessions(kept.sessions, sessions);
    sessions = std::move(kept.sessions);
  } else {
    merge_sessions(sessions, finding.sessions);
  }
  kept.sessions = std::move(sessions);
  kept.occurrences = occurrences;
  kept.first_seen = first;
  kept.last_seen = last;
}

std::vector<core::Finding> FindingCollector::take_sorted() {
  std::vector<core::Finding> sorted = std::move(findings_);
  findings_.clear();
  index_.clear();
  std::sort(sorted.begin(), sorted.end(), [](const core::Finding& a, const core::Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.rule != b.rule) return a.rule < b.rule;
    return a.id < b.id;
  });
  return sorted;
}

}  // namespace pgsift::cli::analysis
