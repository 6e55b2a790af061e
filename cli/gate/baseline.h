// Baselines: adopt pgsift on a codebase with known findings and fail only on
// new ones. `--write-baseline FILE` records the current findings by stable id
// with a count per id; `--baseline FILE` removes findings covered by it from
// the report (counting them as baselined) and lists entries nothing matched
// as stale. Count semantics as PHPStan's: an entry with count 2 covers two
// findings with that id, a third is new. File format (sorted, diff-friendly):
//   {"version": 1, "tool": "pgsift", "id_algorithm": "pgsift-id/1",
//    "entries": [{"id": "n-plus-one:0123...", "rule": "n-plus-one",
//                 "count": 1, "occurrences": 120, "message": "..."}]}
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "cli/report/report.h"

namespace pgsift::cli::gate {

inline constexpr int kBaselineVersion = 1;

struct BaselineEntry {
  std::string id;
  std::string rule;
  std::uint64_t count = 1;        // findings with this id the entry covers
  std::uint64_t occurrences = 0;  // aggregated occurrences when recorded (informative)
  std::string message;            // informative, for reviewers of the file
};

struct Baseline {
  std::map<std::string, BaselineEntry> entries;  // by id
};

/// The baseline recording `findings` (ids, counts, rule, first message).
Baseline make_baseline(const std::vector<core::Finding>& findings);

/// Serializes deterministically (entries sorted by id, no timestamps).
void write_baseline(const Baseline& baseline, std::ostream& out);
/// Writes `baseline` to `path` (through a temporary file, renamed into
/// place). Returns "" or a one-line error naming the file.
std::string save_baseline(const Baseline& baseline, const std::string& path);

/// Parses a baseline file's text. Returns "" or an error "PATH:LINE: ..." /
/// "PATH: ..." naming what is wrong (bad JSON, unknown version, bad entry).
std::string parse_baseline(const std::string& text, const std::string& path, Baseline& out);
/// Reads and parses `path`.
std::string load_baseline(const std::string& path, Baseline& out);

/// Removes the findings `baseline` covers from `report.findings`, adds them
/// to `report.baselined`, and sets `report.stale_baseline_ids` to the ids of
/// entries that matched no finding (sorted).
void apply_baseline(const Baseline& baseline, report::Report& report);

}  // namespace pgsift::cli::gate
