#include "analyzers/session/statement_runs.h"

#include <algorithm>
#include <array>
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

namespace {

// A run being built. Kept in a pool whose slots are reused (with the
// capacity of their execution lists): units of short transactions open and
// close a run per statement.
struct Slot {
  std::uint64_t fingerprint = 0;
  StatementRun run;
  std::size_t last_position = 0;
  std::size_t transaction = 0;
};

// The newest source candidates (a run's source is the newest one with
// another shape), in a ring.
class Recent {
 public:
  void add(const model::Execution* execution) {
    items_[head_] = execution;
    head_ = (head_ + 1) % kSize;
    if (count_ < kSize) ++count_;
  }
  const model::Execution* source_for(std::uint64_t fingerprint) const {
    for (std::size_t k = 1; k <= count_; ++k) {
      const model::Execution* e = items_[(head_ + kSize - k) % kSize];
      if (e->statement().fingerprint != fingerprint) return e;
    }
    return nullptr;
  }

 private:
  static constexpr std::size_t kSize = 8;
  std::array<const model::Execution*, kSize> items_{};
  std::size_t head_ = 0, count_ = 0;
};

// Per-thread scratch of find_runs (its buffers outlive one unit).
struct RunScratch {
  std::vector<Slot> slots;
  std::vector<std::uint32_t> open;  // slots of the open runs, oldest first
  std::vector<std::uint32_t> free;  // unused slots

  std::uint32_t take() {
    if (!free.empty()) {
      const std::uint32_t slot = free.back();
      free.pop_back();
      slots[slot].run.executions.clear();
      return slot;
    }
    slots.emplace_back();
    return static_cast<std::uint32_t>(slots.size() - 1);
  }
  void reset() {
    open.clear();
    free.clear();
    // A unit with unusually many shapes at once leaves no large pool behind.
    if (slots.size() > 1024) slots.clear();
    for (std::uint32_t i = 0; i < slots.size(); ++i) free.push_back(static_cast<std::uint32_t>(slots.size() - 1 - i));
  }
};

thread_local RunScratch run_scratch;

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
  RunScratch& scratch = run_scratch;
  scratch.reset();
  std::vector<Slot>& slots = scratch.slots;
  std::vector<std::uint32_t>& open = scratch.open;
  Recent recent;
  std::size_t position = 0;
  const auto close = [&](std::size_t index) {
    const std::uint32_t slot = open[index];
    const StatementRun& run = slots[slot].run;
    if (run.executions.size() >= options.min_length) {
      if (remember_runs) memo.runs.push_back(run);
      on_run(run);
    }
    scratch.free.push_back(slot);
    open.erase(open.begin() + static_cast<std::ptrdiff_t>(index));
  };
  for (std::size_t t = 0; t < unit.transactions.size(); ++t) {
    const model::Transaction& transaction = unit.transactions[t];
    for (const model::Execution& execution : transaction.executions) {
      if (!is_logical_statement(execution)) {
        if (is_source_candidate(execution)) recent.add(&execution);
        continue;
      }
      ++position;
      const std::uint64_t fingerprint = execution.statement().fingerprint;
      // Runs that fell too far behind (other statements or time) are over.
      for (std::size_t i = open.size(); i-- > 0;) {
        const Slot& run = slots[open[i]];
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
      Slot* current = nullptr;
      for (std::uint32_t slot : open) {
        if (slots[slot].fingerprint == fingerprint) {
          current = &slots[slot];
          break;
        }
      }
      if (current == nullptr) {
        const std::uint32_t slot = scratch.take();
        current = &slots[slot];
        current->fingerprint = fingerprint;
        current->run.source = recent.source_for(fingerprint);
        current->run.in_transaction = transaction.is_explicit;
        current->transaction = t;
        open.push_back(slot);
      }
      current->run.executions.push_back(&execution);
      current->last_position = position;
      recent.add(&execution);
    }
  }
  while (!open.empty()) close(0);
  if (remember_runs) memo.serial = unit.serial;
}

}  // namespace pgsift::session
