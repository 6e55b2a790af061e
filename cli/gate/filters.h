// Filters applied to a run's findings before the baseline and the gate:
// config `[[ignore]]` entries, inline `pgsift:ignore` comments, and per-rule
// severity overrides from the configuration. Each removed finding adds one
// to Report::suppressed, which every report format shows.
#pragma once

#include <vector>

#include "analyzers/core/suppression.h"
#include "cli/config/config.h"
#include "cli/report/report.h"

namespace pgsift::cli::gate {

/// Whether `entry` matches `finding`: every non-empty field must match (id,
/// rule, a table one of its evidence statements touches, the application,
/// user or database of one of its sessions, one of its statements'
/// fingerprint).
bool ignore_matches(const config::IgnoreEntry& entry, const core::Finding& finding);

/// Drops findings matched by an ignore entry.
void apply_ignores(const std::vector<config::IgnoreEntry>& ignores, report::Report& report);

/// Drops findings an inline comment silences.
void apply_inline_suppressions(const core::SuppressionIndex& index, report::Report& report);

/// Sets the severity of findings whose rule has a `severity` override.
void apply_severities(const config::Config& config, report::Report& report);

}  // namespace pgsift::cli::gate
