// The CI report formats of `--report FORMAT[:PATH]`: SARIF 2.1.0 (GitHub code
// scanning), JUnit XML (GitLab/Jenkins test reports), GitLab Code Quality
// (CodeClimate subset), GitHub workflow commands plus step summary, and
// Markdown. Each renders a filtered, sorted Report; output is deterministic
// (same input, same bytes: no run timestamps). Values appear only with
// Report::show_values. Conventions: ../shared/reference/ecosystem.md §1.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "cli/report/report.h"

namespace pgsift::cli::report {

void write_sarif(const Report& report, std::ostream& out);
void write_junit(const Report& report, std::ostream& out);
void write_codeclimate(const Report& report, std::ostream& out);
void write_markdown(const Report& report, std::ostream& out);

/// GitHub Actions workflow commands (`::error file=..,line=..,title=..::msg`),
/// at most `per_level` annotations per level (GitHub shows 10 per step), then
/// one notice counting those left out.
void write_github_commands(const Report& report, std::ostream& out, std::size_t per_level = 10);

/// The `github` format: workflow commands to `out`, and when the environment
/// names a GITHUB_STEP_SUMMARY file, the Markdown summary appended to it.
/// Returns "" or a one-line error naming the summary file.
std::string write_github(const Report& report, std::ostream& out);

/// Escaping of workflow-command data: message (%, CR, LF) and property
/// values (also ':' and ',').
std::string github_escape_data(std::string_view text);
std::string github_escape_property(std::string_view text);

}  // namespace pgsift::cli::report
