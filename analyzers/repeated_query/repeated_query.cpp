#include "analyzers/repeated_query/repeated_query.h"

#include <cmath>
#include <map>
#include <vector>

#include "analyzers/core/option_values.h"
#include "analyzers/session/evidence.h"
#include "analyzers/session/statement_runs.h"

namespace pgsift::analyzers {

const core::RuleInfo RepeatedQueryRule::kInfo = {
    "repeated-query",
    "The same query with the same values executed repeatedly in a tight run within one unit of "
    "work, where its first result could be reused.",
    core::Severity::info};

std::string RepeatedQueryOptions::from(const core::OptionMap& options, RepeatedQueryOptions& out) {
  for (const std::string& error :
       {core::read_number(options, "min-repetitions", 2, 1e9, out.min_repetitions),
        core::read_number(options, "max-gap-ms", 0, 1e9, out.max_gap_ms),
        core::read_number(options, "max-interleaved", 0, 50, out.max_interleaved),
        core::read_number(options, "warning-repetitions", 2, 1e9, out.warning_repetitions)}) {
    if (!error.empty()) return error;
  }
  return "";
}

core::RuleEntry RepeatedQueryRule::entry() {
  core::RuleEntry entry;
  entry.info = kInfo;
  entry.options = {
      {"min-repetitions", "5: report at least this many identical executions in one run"},
      {"max-gap-ms", "250: at most this idle time between two executions of the run"},
      {"max-interleaved", "5: other statements allowed between two executions"},
      {"warning-repetitions", "50: report as warning (not info) from this many repetitions"},
  };
  entry.make = [](const core::RuleContext& context) {
    return std::make_unique<RepeatedQueryRule>(context);
  };
  entry.validate = [](const core::OptionMap& options) {
    RepeatedQueryOptions parsed;
    return RepeatedQueryOptions::from(options, parsed);
  };
  return entry;
}

RepeatedQueryRule::RepeatedQueryRule(const core::RuleContext& context) {
  RepeatedQueryOptions::from(context.options, options_);
}

void RepeatedQueryRule::on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
                                core::FindingSink& out) {
  const auto run_options = session::RunOptions::from_rule(
      options_.max_gap_ms, options_.max_interleaved, options_.min_repetitions);
  session::find_runs(unit, run_options, [&](const session::StatementRun& run) {
    if (run.executions.front()->statement().kind != sql::Kind::select) return;
    std::map<std::vector<std::string>, std::vector<const model::Execution*>> groups;
    for (const model::Execution* execution : run.executions) {
      groups[session::value_tuple(*execution)].push_back(execution);
    }
    const std::vector<const model::Execution*>* largest = nullptr;
    for (const auto& [values, executions] : groups) {
      if (largest == nullptr || executions.size() > largest->size()) largest = &executions;
    }
    const std::size_t count = largest->size();
    if (static_cast<double>(count) < options_.min_repetitions) return;
    const model::Execution& first = *largest->front();
    const model::Execution& last = *largest->back();
    const sql::Statement& statement = first.statement();
    double server_ms = 0;
    for (const model::Execution* execution : *largest) {
      if (execution->duration_ms > 0) server_ms += execution->duration_ms;
    }
    const double wall_ms = session::elapsed_ms(first.start, last.end);

    core::Finding finding;
    finding.rule = std::string(kInfo.id);
    finding.severity = static_cast<double>(count) >= options_.warning_repetitions
                           ? core::Severity::warning
                           : core::Severity::info;
    finding.id = core::make_finding_id(kInfo.id, {session.database, session.application,
                                                  session::fingerprint_hex(statement.fingerprint)});
    finding.message = "'" + session::shorten(statement.normalized) + "' ran " +
                      std::to_string(count) + " times with the same values (" +
                      session::duration_text(wall_ms) + " wall, " +
                      session::duration_text(server_ms) + " server)";
    finding.help =
        "run it once and reuse the result (keep it in a local variable, memoize it for the "
        "request, or cache it) instead of asking the server again";
    finding.sessions.push_back(session::session_ref(session));
    finding.evidence.push_back(session::evidence_of(first, "first execution", session.pid));
    core::Evidence last_evidence = session::evidence_of(last, "last execution", session.pid);
    last_evidence.values.clear();
    finding.evidence.push_back(std::move(last_evidence));
    finding.details = {{"query", statement.normalized},
                       {"count", count},
                       {"run_length", run.executions.size()},
                       {"wall_ms", std::round(wall_ms * 1000) / 1000},
                       {"server_ms", std::round(server_ms * 1000) / 1000},
                       {"in_transaction", run.in_transaction}};
    finding.first_seen = first.start == model::kNoTime ? first.end : first.start;
    finding.last_seen = last.end;
    out.add(std::move(finding));
  });
}

}  // namespace pgsift::analyzers
