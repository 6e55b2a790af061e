#include "analyzers/n_plus_one/n_plus_one.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "analyzers/core/option_values.h"
#include "analyzers/n_plus_one/rewrite.h"
#include "analyzers/session/evidence.h"
#include "analyzers/session/unit_key.h"

namespace pgsift::analyzers {

const core::RuleInfo NPlusOneRule::kInfo = {
    "n-plus-one",
    "One statement shape executed repeatedly within one unit of work with different key values, "
    "where one set-based query would do.",
    core::Severity::warning};

namespace {

/// A point lookup `col = v` of the child, with v a literal or parameter.
struct LoopKey {
  std::string table;
  std::string column;
  sql::Value value;
};

std::optional<std::vector<LoopKey>> point_lookup_keys(const sql::Statement& child) {
  std::vector<LoopKey> keys;
  for (const sql::TableAccess& table : child.tables) {
    for (const sql::KeyPredicate& key : table.keys) {
      // Already batched (= ANY($1), IN (...)): the fix, not the problem.
      if (key.op == sql::KeyPredicate::Op::any || key.op == sql::KeyPredicate::Op::in) {
        return std::nullopt;
      }
      if (key.op != sql::KeyPredicate::Op::eq || key.values.size() != 1) continue;
      const sql::Value& value = key.values.front();
      if (value.kind == sql::Value::Kind::literal || value.kind == sql::Value::Kind::parameter) {
        keys.push_back({table.name, key.column, value});
      }
    }
  }
  if (keys.empty()) return std::nullopt;
  return keys;
}

/// Keyset pagination / batch iteration (`id > $1 ORDER BY id LIMIT 1000`):
/// each query continues where the previous ended; nothing to merge.
bool is_keyset(const sql::Statement& child) {
  if (!child.has_limit) return false;
  for (const sql::TableAccess& table : child.tables) {
    for (const sql::Comparison& comparison : table.comparisons) {
      if (comparison.op == ">" || comparison.op == "<" || comparison.op == ">=" ||
          comparison.op == "<=") {
        return true;
      }
    }
  }
  return false;
}

struct Distinctness {
  std::size_t distinct = 0;
  std::vector<std::string> loop_columns;  // key columns whose value changes
  std::vector<std::string> examples;      // a few distinct key values
  std::string table, column;              // the main loop key
};

Distinctness measure(const session::StatementRun& run, const std::vector<LoopKey>& keys) {
  Distinctness result;
  std::set<std::vector<std::string>> tuples;
  std::vector<std::set<std::string>> per_key(keys.size());
  for (const model::Execution* execution : run.executions) {
    std::vector<std::string> tuple;
    tuple.reserve(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) {
      auto value = sql::resolve(keys[k].value, execution->parsed.literals, execution->parameters);
      tuple.push_back(value ? std::move(*value) : "?");
      per_key[k].insert(tuple.back());
    }
    const auto [it, inserted] = tuples.insert(std::move(tuple));
    if (inserted && result.examples.size() < 5) {
      std::string example;
      for (const std::string& part : *it) example += (example.empty() ? "" : "/") + part;
      result.examples.push_back(example);
    }
  }
  result.distinct = tuples.size();
  std::size_t best = 0;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (per_key[k].size() > 1) result.loop_columns.push_back(keys[k].column);
    if (per_key[k].size() > best) {
      best = per_key[k].size();
      result.table = keys[k].table;
      result.column = keys[k].column;
    }
  }
  return result;
}

/// Where `execution` was logged, as evidence without its SQL or values.
void add_place(core::Finding& finding, const model::Execution& execution, const char* role,
               std::int32_t pid) {
  core::Evidence evidence;
  evidence.role = role;
  evidence.input = execution.where.input;
  evidence.line = execution.where.line;
  evidence.time = execution.end;
  evidence.pid = pid;
  evidence.duration_ms = execution.duration_ms;
  finding.evidence.push_back(std::move(evidence));
}

std::string first_table(const sql::Statement& statement) {
  return statement.tables.empty() ? std::string() : statement.tables.front().name;
}

}  // namespace

std::string NPlusOneOptions::from(const core::OptionMap& options, NPlusOneOptions& out) {
  for (const std::string& error :
       {core::read_number(options, "min-repetitions", 2, 1e9, out.min_repetitions),
        core::read_number(options, "min-distinct-ratio", 0, 1, out.min_distinct_ratio),
        core::read_number(options, "max-gap-ms", 0, 1e9, out.max_gap_ms),
        core::read_number(options, "max-interleaved", 0, 50, out.max_interleaved),
        core::read_number(options, "min-wall-ms", 0, 1e9, out.min_wall_ms),
        core::read_bool(options, "require-parent", out.require_parent),
        core::read_number(options, "fixed-fanout-max", 0, 1e9, out.fixed_fanout_max),
        core::read_number(options, "error-repetitions", 2, 1e9, out.error_repetitions)}) {
    if (!error.empty()) return error;
  }
  return "";
}

core::RuleEntry NPlusOneRule::entry() {
  core::RuleEntry entry;
  entry.info = kInfo;
  entry.options = {
      {"min-repetitions", "5: report runs of at least this many executions"},
      {"min-distinct-ratio", "0.5: at least this share of the executions use distinct key values"},
      {"max-gap-ms", "250: at most this idle time between two executions of the run"},
      {"max-interleaved", "5: other statements allowed between two executions (loops of A B A B)"},
      {"min-wall-ms", "0: ignore runs whose wall time (first start to last end) is shorter"},
      {"require-parent", "true: only report runs that follow a different (parent) statement"},
      {"fixed-fanout-max", "6: runs this short that always have the same length are a fan-out"},
      {"error-repetitions", "50: report as error from this many repetitions"},
  };
  entry.make = [](const core::RuleContext& context) {
    return std::make_unique<NPlusOneRule>(context);
  };
  entry.validate = [](const core::OptionMap& options) {
    NPlusOneOptions parsed;
    return NPlusOneOptions::from(options, parsed);
  };
  return entry;
}

NPlusOneRule::NPlusOneRule(const core::RuleContext& context) {
  NPlusOneOptions::from(context.options, options_);
}

void NPlusOneRule::on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
                           core::FindingSink& out) {
  const auto run_options = session::RunOptions::from_rule(
      options_.max_gap_ms, options_.max_interleaved, options_.min_repetitions);
  session::find_runs(unit, run_options, [&](const session::StatementRun& run) {
    consider(session, unit, run, out);
  });
}

void NPlusOneRule::consider(const model::SessionInfo& session, const model::UnitOfWork& unit,
                            const session::StatementRun& run, core::FindingSink& out) {
  const model::Execution& first = *run.executions.front();
  const model::Execution& last = *run.executions.back();
  const sql::Statement& child = first.statement();
  if (child.kind != sql::Kind::select || is_keyset(child)) return;
  const auto keys = point_lookup_keys(child);
  if (!keys) return;
  const std::size_t count = run.executions.size();
  const Distinctness distinct = measure(run, *keys);
  // The same values again and again is a cache problem (repeated-query), not a loop.
  if (distinct.distinct < 2 ||
      static_cast<double>(distinct.distinct) < options_.min_distinct_ratio * static_cast<double>(count)) {
    return;
  }
  if (options_.require_parent && run.source == nullptr) return;
  const double wall_ms = session::elapsed_ms(first.start, last.end);
  if (wall_ms < options_.min_wall_ms) return;
  double server_ms = 0;
  for (const model::Execution* execution : run.executions) {
    if (execution->duration_ms > 0) server_ms += execution->duration_ms;
  }

  const sql::Statement* parent = run.source ? &run.source->statement() : nullptr;
  const std::string attribution = [&unit]() {
    auto controller = unit.tags.find("controller");
    auto action = unit.tags.find("action");
    std::string text;
    if (controller != unit.tags.end()) text += controller->second;
    if (action != unit.tags.end()) text += "#" + action->second;
    return text;
  }();
  std::string id = core::make_finding_id(
      kInfo.id, {session.database, session.application, attribution,
                 parent ? session::fingerprint_hex(parent->fingerprint) : "",
                 session::fingerprint_hex(child.fingerprint)});
  const bool small = !(static_cast<double>(count) > options_.fixed_fanout_max);
  if (small) {
    // Another occurrence of a pending small run: only its count and times
    // change, so the finding is not built again.
    auto pending = small_runs_.find(id);
    if (pending != small_runs_.end()) {
      pending->second.counts.insert(count);
      pending->second.finding.occurrences += 1;
      pending->second.finding.last_seen = std::max(pending->second.finding.last_seen, last.end);
      return;
    }
  }
  const core::Severity severity =
      static_cast<double>(count) >= options_.error_repetitions || wall_ms >= 500
          ? core::Severity::error
          : core::Severity::warning;
  const model::Timestamp first_seen = first.start == model::kNoTime ? first.end : first.start;
  core::Finding finding;
  finding.rule = std::string(kInfo.id);
  finding.severity = severity;
  finding.message = "'" + session::shorten(child.normalized) + "' ran " + std::to_string(count) +
                    " times with " + std::to_string(distinct.distinct) + " distinct " +
                    distinct.column + " values" +
                    (parent ? " after '" + session::shorten(parent->normalized, 60) + "'" : "") +
                    " (" + session::duration_text(wall_ms) + " wall, " +
                    session::duration_text(server_ms) + " server)";
  finding.sessions.push_back(session::session_ref(session));
  auto source_line = unit.tags.find("line");
  if (source_line != unit.tags.end()) finding.source_file = source_line->second;
  finding.first_seen = first_seen;
  finding.last_seen = last.end;
  if (!small && first_seen != model::kNoTime && last.end != model::kNoTime) {
    auto known = reported_.find(id);
    if (known != reported_.end() && !(severity > known->second)) {
      // A sink keeps the first finding of an id (or a more severe one) and
      // only counts the others, their times and sessions: this one is not
      // more severe, so its SQL, values, rewrite and details are not built.
      // The evidence keeps its places (suppressions and live lines use them).
      add_place(finding, first, "first of the loop", session.pid);
      if (run.source) add_place(finding, *run.source, "parent", session.pid);
      add_place(finding, last, "last of the loop", session.pid);
      finding.id = std::move(id);
      out.add(std::move(finding));
      return;
    }
  }
  const Rewrite rewrite =
      suggest_rewrite(child, distinct.table, distinct.column, parent ? first_table(*parent) : "");
  finding.id = std::move(id);
  finding.help = rewrite.advice;
  core::Evidence first_evidence = session::evidence_of(first, "first of the loop", session.pid);
  first_evidence.values = distinct.examples;
  finding.evidence.push_back(std::move(first_evidence));
  if (run.source) finding.evidence.push_back(session::evidence_of(*run.source, "parent", session.pid));
  core::Evidence last_evidence = session::evidence_of(last, "last of the loop", session.pid);
  last_evidence.values.clear();
  finding.evidence.push_back(std::move(last_evidence));
  finding.details = {{"child", child.normalized},
                     {"parent", parent ? nlohmann::json(parent->normalized) : nlohmann::json(nullptr)},
                     {"count", count},
                     {"distinct_values", distinct.distinct},
                     {"loop_columns", distinct.loop_columns},
                     {"table", distinct.table},
                     {"wall_ms", std::round(wall_ms * 1000) / 1000},
                     {"server_ms", std::round(server_ms * 1000) / 1000},
                     {"in_transaction", run.in_transaction},
                     {"unit", unit.key.rfind("burst#", 0) == 0 ? "burst" : "tagged"},
                     {"rewrite", rewrite.sql}};

  if (!small) {
    auto [known, inserted] = reported_.try_emplace(finding.id, severity);
    if (!inserted && severity > known->second) known->second = severity;
    out.add(std::move(finding));
    return;
  }
  auto [it, inserted] = small_runs_.try_emplace(finding.id);
  it->second.counts.insert(count);
  if (inserted) {
    it->second.finding = std::move(finding);
  } else {
    it->second.finding.occurrences += 1;
    it->second.finding.last_seen = std::max(it->second.finding.last_seen, finding.last_seen);
  }
}

void NPlusOneRule::finish(core::FindingSink& out) {
  for (auto& [id, pending] : small_runs_) {
    // The same small count every time is a fixed fan-out (a page that always
    // shows 3 widgets), not a loop over data: the count does not grow with the data.
    const bool fixed_fanout = pending.finding.occurrences >= 2 && pending.counts.size() == 1 &&
                              reported_.count(id) == 0;
    if (!fixed_fanout) out.add(std::move(pending.finding));
  }
  small_runs_.clear();
}

}  // namespace pgsift::analyzers
