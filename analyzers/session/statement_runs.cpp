#include "analyzers/session/statement_runs.h"

#include <algorithm>
#include <string_view>

namespace pgsift::session {

namespace {

bool is_catalog(const sql::Statement& statement) {
  for (const sql::TableAccess& table : statement.tables) {
    const std::string_view name = table.name;
    if (name.rfind("pg_", 0) == 0 || name.rfind("pg_catalog.", 0) == 0 ||
        name.rfind("information_schema.", 0) == 0) {
      return true;
    }
  }
  return false;
}

bool is_source_candidate(const model::Execution& execution) {
  if (execution.continues_portal) return false;
  switch (execution.statement().kind) {
    case sql::Kind::begin: case sql::Kind::commit: case sql::Kind::rollback:
    case sql::Kind::savepoint: case sql::Kind::release: case sql::Kind::rollback_to_savepoint:
    case sql::Kind::set: case sql::Kind::show: case sql::Kind::discard:
      return false;
    default:
      return true;
  }
}

struct Item {
  const model::Execution* execution;
  std::size_t transaction;  // index in the unit; meaningful when explicit
  bool explicit_transaction;
};

struct OpenRun {
  std::uint64_t fingerprint = 0;
  StatementRun run;
  std::size_t last_position = 0;
  std::size_t transaction = 0;
};

}  // namespace

bool is_logical_statement(const model::Execution& execution) {
  if (execution.continues_portal || !execution.parsed.shape) return false;
  const sql::Statement& statement = execution.statement();
  switch (statement.kind) {
    case sql::Kind::select: case sql::Kind::insert: case sql::Kind::update:
    case sql::Kind::delete_: case sql::Kind::merge:
      return statement.error.empty() && !is_catalog(statement);
    default:
      return false;
  }
}

std::vector<std::string> value_tuple(const model::Execution& execution) {
  std::vector<std::string> values = execution.parsed.literals;
  for (const auto& parameter : execution.parameters) values.push_back(parameter ? *parameter : "NULL");
  return values;
}

namespace {

// The runs found for the last unit with a serial, in the order reported.
// They point into that unit, which is alive while its serial is asked for.
struct RunMemo {
  std::uint64_t serial = 0;
  RunOptions options;
  std::vector<StatementRun> runs;
};

thread_local RunMemo run_memo;

}  // namespace

void find_runs(const model::UnitOfWork& unit, const RunOptions& options,
               const std::function<void(const StatementRun&)>& on_run) {
  RunMemo& memo = run_memo;
  if (unit.serial != 0 && memo.serial == unit.serial && memo.options == options) {
    for (const StatementRun& run : memo.runs) on_run(run);
    return;
  }
  const bool remember_runs = unit.serial != 0;
  if (remember_runs) {
    memo.serial = 0;  // incomplete until the scan below finishes
    memo.options = options;
    memo.runs.clear();
  }
  std::vector<OpenRun> open;
  // Closed runs, kept for their executions' capacity: units of short
  // transactions open and close a run per statement.
  std::vector<OpenRun> spare;
  // Recent source candidates, newest last (a run's source is the newest one
  // with another shape).
  std::vector<const model::Execution*> recent;
  const auto remember = [&recent](const model::Execution* execution) {
    if (recent.size() == 8) recent.erase(recent.begin());
    recent.push_back(execution);
  };
  const auto source_for = [&recent](std::uint64_t fingerprint) -> const model::Execution* {
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
      if ((*it)->statement().fingerprint != fingerprint) return *it;
    }
    return nullptr;
  };
  std::size_t position = 0;
  const auto close = [&](std::size_t index) {
    if (open[index].run.executions.size() >= options.min_length) {
      if (remember_runs) memo.runs.push_back(open[index].run);
      on_run(open[index].run);
    }
    spare.push_back(std::move(open[index]));
    open.erase(open.begin() + static_cast<std::ptrdiff_t>(index));
  };
  for (std::size_t t = 0; t < unit.transactions.size(); ++t) {
    const model::Transaction& transaction = unit.transactions[t];
    for (const model::Execution& execution : transaction.executions) {
      if (!is_logical_statement(execution)) {
        if (is_source_candidate(execution)) remember(&execution);
        continue;
      }
      ++position;
      const std::uint64_t fingerprint = execution.statement().fingerprint;
      // Runs that fell too far behind (other statements or time) are over.
      for (std::size_t i = open.size(); i-- > 0;) {
        const OpenRun& run = open[i];
        const model::Execution& previous = *run.run.executions.back();
        const bool too_far = position - run.last_position > options.max_interleaved + 1;
        const bool too_late = execution.start != model::kNoTime && previous.end != model::kNoTime &&
                              execution.start - previous.end > options.max_gap_us;
        const bool other_scope = run.fingerprint == fingerprint &&
                                 (run.run.in_transaction != transaction.is_explicit ||
                                  (transaction.is_explicit && run.transaction != t));
        // The parent ran again: the next iteration of an outer loop (a new
        // request, a new page) starts its own run. In loops of several
        // queries per row this keeps the first of them.
        const bool parent_again = run.fingerprint != fingerprint && run.run.source != nullptr &&
                                  run.run.source->statement().fingerprint == fingerprint;
        if (too_far || too_late || other_scope || parent_again) close(i);
      }
      auto it = std::find_if(open.begin(), open.end(),
                             [fingerprint](const OpenRun& run) { return run.fingerprint == fingerprint; });
      if (it == open.end()) {
        OpenRun run;
        if (!spare.empty()) {
          run = std::move(spare.back());
          spare.pop_back();
          run.run.executions.clear();
        }
        run.fingerprint = fingerprint;
        run.run.source = source_for(fingerprint);
        run.run.in_transaction = transaction.is_explicit;
        run.transaction = t;
        open.push_back(std::move(run));
        it = open.end() - 1;
      }
      it->run.executions.push_back(&execution);
      it->last_position = position;
      remember(&execution);
    }
  }
  while (!open.empty()) close(0);
  if (remember_runs) memo.serial = unit.serial;
}

}  // namespace pgsift::session
