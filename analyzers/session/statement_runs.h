// Runs of one statement shape inside a unit of work: the raw material of the
// n-plus-one and repeated-query rules. A run is a tight sequence of executions
// with one fingerprint, allowing a few other statements in between (Sentry's
// MN+1: loops that run two or three queries per item), never spanning two
// explicit transactions, and ending at an idle gap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "analyzers/model/session.h"

namespace pgsift::session {

struct RunOptions {
  /// Consecutive executions of the run at most this far apart (start - previous end).
  model::Timestamp max_gap_us = 250 * model::kMicrosPerMilli;
  /// At most this many other statements between two executions of the run.
  std::size_t max_interleaved = 5;
  /// Runs shorter than this are not reported.
  std::size_t min_length = 2;

  bool operator==(const RunOptions&) const = default;

  /// From the rule options both run rules share (max-gap-ms,
  /// max-interleaved, min-repetitions).
  static RunOptions from_rule(double max_gap_ms, double max_interleaved, double min_repetitions) {
    RunOptions options;
    options.max_gap_us = static_cast<model::Timestamp>(max_gap_ms * model::kMicrosPerMilli);
    options.max_interleaved = static_cast<std::size_t>(max_interleaved);
    options.min_length = static_cast<std::size_t>(min_repetitions);
    return options;
  }
};

struct StatementRun {
  std::vector<const model::Execution*> executions;
  /// The nearest earlier statement of the unit with another shape, skipping
  /// transaction control and SET/SHOW (Sentry's "source" span); may be null.
  const model::Execution* source = nullptr;
  /// All executions in one explicit transaction (else all in autocommit).
  bool in_transaction = false;
};

/// True for statements that take part in runs: reads and writes, not
/// transaction control, SET/SHOW, cursor traffic (DECLARE/FETCH/CLOSE,
/// `execute fetch from`), COPY, utility statements, parse failures or catalog
/// introspection.
bool is_logical_statement(const model::Execution& execution);

/// Calls `on_run` for every run of `unit` with at least `options.min_length`
/// executions. The runs of the last unit with a serial are kept (per thread):
/// the n-plus-one and repeated-query rules ask for the same runs of each unit.
void find_runs(const model::UnitOfWork& unit, const RunOptions& options,
               const std::function<void(const StatementRun&)>& on_run);

/// Concrete value of every literal and parameter of `execution`, in order
/// ("NULL" for SQL NULL): equal tuples mean "the same query, the same values".
std::vector<std::string> value_tuple(const model::Execution& execution);

}  // namespace pgsift::session
