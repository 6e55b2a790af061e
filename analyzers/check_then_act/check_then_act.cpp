#include "analyzers/check_then_act/check_then_act.h"

#include <algorithm>

namespace pgsift::analyzers {

const core::RuleInfo CheckThenActRule::kInfo{
    "check-then-act",
    "Reports a read of rows followed, in the same transaction or a later one of the same unit of "
    "work, by a write of the same rows (or an insert matching the read) that nothing makes atomic.",
    core::Severity::error};

namespace {

using cta::Candidate;
using cta::PairKind;

constexpr std::size_t kMaxRuntimeEvents = 4096;
constexpr std::size_t kMaxRaceMarks = 4096;
constexpr std::size_t kMaxSessionsPerFinding = 20;
constexpr std::size_t kMaxFailures = 4096;
// Errors and waits are attached to a pair when they name one of its
// statements within this long after the write was logged.
constexpr model::Timestamp kEvidenceWindow = 10 * 60 * model::kMicrosPerSecond;

std::string level_words(sql::IsolationLevel level) {
  switch (level) {
    case sql::IsolationLevel::read_uncommitted: return "read uncommitted";
    case sql::IsolationLevel::repeatable_read: return "repeatable read";
    case sql::IsolationLevel::serializable: return "serializable";
    default: return "read committed";
  }
}

std::optional<sql::IsolationLevel> parse_level(const std::string& text) {
  std::string t = text;
  std::replace(t.begin(), t.end(), '_', '-');
  std::replace(t.begin(), t.end(), ' ', '-');
  if (t == "read-committed" || t == "read-uncommitted") return sql::IsolationLevel::read_committed;
  if (t == "repeatable-read") return sql::IsolationLevel::repeatable_read;
  if (t == "serializable") return sql::IsolationLevel::serializable;
  return std::nullopt;
}

std::string trimmed(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ';'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::string shortened(const std::string& sql) {
  constexpr std::size_t kMax = 72;
  if (sql.size() <= kMax) return sql;
  return sql.substr(0, kMax - 3) + "...";
}

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? std::string(separator) : "") + items[i];
  return out;
}

core::Severity lower(core::Severity s) {
  return s == core::Severity::error ? core::Severity::warning : core::Severity::info;
}
core::Severity raise(core::Severity s) {
  return s == core::Severity::info ? core::Severity::warning : core::Severity::error;
}

core::Severity base_severity(const Candidate& c) {
  switch (c.kind) {
    case PairKind::share_upgrade: return core::Severity::info;
    case PairKind::write_skew:
    case PairKind::lock_after_snapshot:
    case PairKind::insert_where_not_exists:
      // No isolation level helps a split pair: ACIDRain's majority class.
      return c.split() ? core::Severity::error : core::Severity::warning;
    default: return core::Severity::error;
  }
}

std::string fix_for(const Candidate& c) {
  const std::string cols = joined(c.constraint_columns, ", ");
  std::string fix;
  switch (c.kind) {
    case PairKind::lost_update:
      fix = "lock the row when reading it (SELECT ... FOR NO KEY UPDATE), write relative to the current "
            "value (SET c = c + $d), or guard the UPDATE with a version column (WHERE id = $1 AND "
            "version = $2) and check that it updated one row";
      break;
    case PairKind::unguarded_relative_write:
      fix = "move the check into the UPDATE (WHERE id = $1 AND balance >= $2) and check that it updated "
            "one row; a CHECK (balance >= 0) constraint turns an overdraft into an error";
      break;
    case PairKind::insert_after_check:
      fix = "add a unique (or exclusion) constraint on (" + cols +
            ") and use INSERT ... ON CONFLICT; for a count limit, update a counter row with a guard, "
            "or run at SERIALIZABLE and retry on 40001";
      break;
    case PairKind::consume_after_check:
      fix = "consume with one guarded statement (UPDATE ... SET used = true WHERE code = $1 AND NOT used "
            "RETURNING ...) and act only when it returned a row";
      break;
    case PairKind::write_skew:
      fix = "run the transactions at SERIALIZABLE and retry on 40001, or lock a shared parent or summary "
            "row (FOR UPDATE) before the check";
      break;
    case PairKind::lock_after_snapshot:
      fix = "take the lock at READ COMMITTED, or use LOCK TABLE as the first statement, or add a unique "
            "constraint on (" + cols + "); under REPEATABLE READ a lock taken by a query comes after the snapshot";
      break;
    case PairKind::insert_where_not_exists:
      fix = "add a unique (or exclusion) constraint on (" + cols + ") and use INSERT ... ON CONFLICT DO NOTHING";
      break;
    case PairKind::share_upgrade:
      fix = "lock with FOR UPDATE (or FOR NO KEY UPDATE) when the row will be written: two FOR SHARE "
            "holders that both upgrade deadlock";
      break;
  }
  if (c.split()) fix = "put the check and the write in one transaction, then " + fix;
  return fix;
}

core::Evidence evidence_of(const model::Execution& e, std::string role, std::int32_t pid) {
  core::Evidence ev;
  ev.role = std::move(role);
  ev.input = e.where.input;
  ev.line = e.where.line;
  ev.time = e.end != model::kNoTime ? e.end : e.start;
  ev.pid = pid;
  ev.sql = cta::normalized_sql(e);
  ev.duration_ms = e.duration_ms;
  ev.values = cta::execution_values(e);
  return ev;
}

model::Timestamp time_of(const model::Execution* e) {
  if (e == nullptr) return model::kNoTime;
  return e->start != model::kNoTime ? e->start : e->end;
}

bool is_insert_kind(PairKind k) {
  return k == PairKind::insert_after_check || k == PairKind::insert_where_not_exists ||
         k == PairKind::lock_after_snapshot;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CheckThenActRule::option_docs() {
  return {
      {"default-isolation",
       "read-committed: isolation level assumed when the log does not show one "
       "(read-committed, repeatable-read, serializable)"},
      {"across-transactions",
       "true: also pair a read with a write in a later transaction of the same unit of work"},
  };
}

std::string CheckThenActRule::validate(const core::OptionMap& options) {
  if (auto it = options.find("default-isolation"); it != options.end() && !parse_level(it->second)) {
    return "check-then-act.default-isolation: expected read-committed, repeatable-read or serializable, got '" +
           it->second + "'";
  }
  if (auto it = options.find("across-transactions");
      it != options.end() && it->second != "true" && it->second != "false") {
    return "check-then-act.across-transactions: expected true or false, got '" + it->second + "'";
  }
  return "";
}

CheckThenActRule::CheckThenActRule(const core::RuleContext& context)
    : schema_(context.schema != nullptr ? context.schema : &empty_schema_) {
  if (auto it = context.options.find("default-isolation"); it != context.options.end()) {
    options_.default_isolation = parse_level(it->second).value_or(sql::IsolationLevel::read_committed);
  }
  if (auto it = context.options.find("across-transactions"); it != context.options.end()) {
    options_.across_transactions = it->second != "false";
  }
}

void CheckThenActRule::remember(model::Timestamp time, std::string what, std::string statement) {
  if (statement.empty()) return;
  runtime_.push_back(RuntimeEvent{time, std::move(what), trimmed(statement)});
  if (runtime_.size() > kMaxRuntimeEvents) runtime_.pop_front();
}

void CheckThenActRule::on_event(const model::Event& event, const core::SessionDirectory& sessions,
                                core::FindingSink& out) {
  (void)sessions, (void)out;
  const model::Timestamp at = event.header.time;
  if (const auto* error = std::get_if<model::ErrorEvent>(&event.body)) {
    const std::string& state = !error->sqlstate.empty() ? error->sqlstate : event.header.sqlstate;
    if (state == "40001") {
      remember(at, "serialization failure", error->statement);
      note_failure(event, error->statement, error->message);
    }
    if (state == "23505") remember(at, "unique violation", error->statement);
  } else if (const auto* deadlock = std::get_if<model::DeadlockEvent>(&event.body)) {
    remember(at, "deadlock", deadlock->statement);
  } else if (const auto* lock = std::get_if<model::LockEvent>(&event.body)) {
    if (lock->phase == model::LockEvent::Phase::still_waiting) remember(at, "lock wait", lock->statement);
  }
}

std::vector<const CheckThenActRule::RuntimeEvent*> CheckThenActRule::runtime_evidence(const Candidate& c) const {
  std::vector<const RuntimeEvent*> found;
  const model::Timestamp begin = c.check ? time_of(c.check) : time_of(c.act);
  const std::string act_sql = trimmed(c.act->sql);
  const std::string check_sql = c.check ? trimmed(c.check->sql) : std::string();
  for (const auto& ev : runtime_) {
    if (ev.statement.empty() || (ev.statement != act_sql && ev.statement != check_sql)) continue;
    if (begin != model::kNoTime && ev.time != model::kNoTime &&
        (ev.time < begin || ev.time > begin + kEvidenceWindow)) {
      continue;
    }
    found.push_back(&ev);
  }
  return found;
}

bool CheckThenActRule::race_seen(const RaceMark& mark) const {
  for (const auto& other : marks_) {
    if (other.pid == mark.pid || other.finding_id != mark.finding_id || other.key != mark.key) continue;
    if (other.begin == model::kNoTime || mark.begin == model::kNoTime) continue;
    if (other.begin <= mark.end && mark.begin <= other.end) return true;
  }
  return false;
}

void CheckThenActRule::on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
                               core::FindingSink& out) {
  (void)out;
  for (const Candidate& c : cta::scan_unit(unit, *schema_, options_)) add(session, c);
  if (!failures_.empty()) judge_failures(session, unit);
}

// Only write-write conflicts are kept: an UPDATE or DELETE that failed with
// "could not serialize access due to concurrent update/delete", whose write
// is applied only by a retry. Failures from read/write dependencies (SSI, at
// COMMIT or at a statement) and INSERTs (a unique key taken meanwhile, 23505
// at READ COMMITTED) mean the check itself was invalidated: giving up is
// then what the check asked for.
void CheckThenActRule::note_failure(const model::Event& event, const std::string& statement,
                                    const std::string& message) {
  if (statement.empty()) return;
  if (!message.empty() && message.find("concurrent update") == std::string::npos &&
      message.find("concurrent delete") == std::string::npos) {
    return;
  }
  const sql::Parsed parsed = sql::parse(statement);
  if (!parsed.shape || parsed.shape->statements.size() != 1) return;
  const sql::Statement& st = parsed.shape->statements.front();
  if (st.kind != sql::Kind::update && st.kind != sql::Kind::delete_) return;
  Failure f;
  f.header = event.header;
  f.statement = trimmed(statement);
  f.normalized = st.normalized;
  for (const auto& t : st.tables) {
    if (t.written) f.table = t.name;
  }
  if (f.table.empty()) return;
  failures_.push_back(std::move(f));
  if (failures_.size() > kMaxFailures) failures_.pop_front();
}

// Each closed unit of the failing session tells (a) whether the failed
// transaction had read the table before writing it (a check-then-act shape),
// and (b) whether the session ran the failed statement again later.
void CheckThenActRule::judge_failures(const model::SessionInfo& session, const model::UnitOfWork& unit) {
  for (Failure& f : failures_) {
    if (f.retried || f.header.pid != session.pid ||
        (!f.header.session_id.empty() && f.header.session_id != session.session_id)) {
      continue;
    }
    const model::Timestamp at = f.header.time;
    for (const model::Transaction& txn : unit.transactions) {
      const bool failed_here =
          std::find(txn.error_times.begin(), txn.error_times.end(), at) != txn.error_times.end();
      for (const model::Execution& e : txn.executions) {
        const model::Timestamp t = e.end != model::kNoTime ? e.end : e.start;
        if (failed_here && t != model::kNoTime && t <= at && !f.judged && e.parsed.shape &&
            e.statement_index < e.parsed.shape->statements.size()) {
          for (const auto& access : e.statement().tables) {
            if (access.read && access.name == f.table) f.pattern = true;
          }
        }
        if (t != model::kNoTime && t > at && trimmed(e.sql) == f.statement) f.retried = true;
        if (t != model::kNoTime && t > at && cta::normalized_sql(e) == f.normalized) f.retried = true;
      }
      if (failed_here) {
        f.judged = true;
        f.isolation = txn.isolation;
        f.isolation_known = txn.isolation_known;
      }
    }
  }
}

void CheckThenActRule::report_missing_retries() {
  for (const Failure& fail : failures_) {
    if (!fail.judged || !fail.pattern || fail.retried) continue;
    core::Finding f;
    f.rule = std::string(kInfo.id);
    f.severity = core::Severity::warning;
    f.id = core::make_finding_id(kInfo.id, {"retry missing", fail.normalized, fail.table});
    f.message = "retry missing on " + fail.table + ": '" + shortened(fail.normalized) + "' failed with a " +
                "serialization failure (40001) at " + level_words(fail.isolation) +
                " after the transaction read " + fail.table + ", and the session never ran it again: " +
                "the write it tried was dropped";
    f.help = "retry the whole transaction (from BEGIN, re-reading) on SQLSTATE 40001 and 40P01; at "
             "REPEATABLE READ and SERIALIZABLE the database reports the race instead of losing the update, "
             "but only a retry applies the write";
    f.sessions.push_back({fail.header.pid, fail.header.session_id, fail.header.user, fail.header.database,
                          fail.header.application});
    core::Evidence ev;
    ev.role = "failed";
    ev.input = fail.header.where.input;
    ev.line = fail.header.where.line;
    ev.time = fail.header.time;
    ev.pid = fail.header.pid;
    ev.sql = fail.normalized;
    f.evidence.push_back(std::move(ev));
    f.first_seen = f.last_seen = fail.header.time;
    nlohmann::json& d = f.details;
    d["kind"] = "retry missing";
    d["table"] = fail.table;
    d["isolation"] = level_words(fail.isolation);
    d["isolation_source"] = fail.isolation_known ? "shown in the log (BEGIN / SET TRANSACTION)"
                                                 : "assumed (option default-isolation)";
    d["sqlstate"] = "40001";
    d["race"] = nlohmann::json::object({{"overlapping_sessions_seen", false}, {"serialization failures", 1}});
    merge(std::move(f));
  }
  failures_.clear();
}

void CheckThenActRule::add(const model::SessionInfo& session, const Candidate& c) {
  const std::string check_sql = c.check ? cta::normalized_sql(*c.check) : std::string();
  const std::string act_sql = cta::normalized_sql(*c.act);
  const std::string kind(cta::to_string(c.kind));
  const std::string id = core::make_finding_id(
      kInfo.id, {kind, c.split() ? "split" : "same", check_sql, act_sql, c.key.table});

  RaceMark mark{id, joined(c.key.value_texts(), "; "), session.pid, c.window_begin, c.window_end};
  const bool overlapping = c.match == cta::Overlap::value && race_seen(mark);
  marks_.push_back(mark);
  if (marks_.size() > kMaxRaceMarks) marks_.pop_front();
  const auto runtime = runtime_evidence(c);

  core::Severity severity = base_severity(c);
  if (c.match == cta::Overlap::pattern) severity = lower(severity);
  if (overlapping || !runtime.empty()) severity = raise(severity);
  nlohmann::json race = nlohmann::json::object();
  race["overlapping_sessions_seen"] = overlapping;
  for (const auto* ev : runtime) race[ev->what + "s"] = race.value(ev->what + "s", 0) + 1;

  const model::Timestamp first_seen = c.check ? time_of(c.check) : time_of(c.act);
  const model::Timestamp last_seen = c.act->end != model::kNoTime ? c.act->end : time_of(c.act);
  if (auto found = by_id_.find(id); found != by_id_.end()) {
    core::Finding& shown = findings_[found->second];
    // An occurrence later in the log than the one shown only adds to its
    // counts, race, severity, sessions and times (what merge() would do
    // with it), so its finding is not built.
    if (std::make_pair(c.act->where.input, c.act->where.line) >=
        std::make_pair(shown.evidence[0].input, shown.evidence[0].line)) {
      merge_occurrence(shown, race, severity,
                       {session.pid, session.session_id, session.user, session.database, session.application},
                       first_seen, last_seen);
      return;
    }
  }

  core::Finding f;
  f.rule = std::string(kInfo.id);
  f.severity = severity;
  f.id = id;
  std::string where = c.key.table;
  if (!c.key.columns.empty()) where += " (" + joined(c.key.column_names(), ", ") + ")";
  f.message = kind + (c.split() ? ", split across transactions," : "") + " on " + where + ": ";
  if (c.check) f.message += "'" + shortened(check_sql) + "' then ";
  f.message += "'" + shortened(act_sql) + "' at " + level_words(c.isolation);
  f.help = fix_for(c);
  f.sessions.push_back({session.pid, session.session_id, session.user, session.database, session.application});
  f.evidence.push_back(evidence_of(*c.act, "act", session.pid));
  if (c.check) f.evidence.push_back(evidence_of(*c.check, "check", session.pid));
  const std::vector<std::string> key_values = c.key.value_texts();
  f.evidence[0].values.insert(f.evidence[0].values.begin(), key_values.begin(), key_values.end());
  f.first_seen = first_seen;
  f.last_seen = last_seen;

  nlohmann::json& d = f.details;
  d["kind"] = kind;
  if (!cta::elle_name(c.kind).empty()) d["anomaly"] = std::string(cta::elle_name(c.kind));
  d["scope"] = c.split() ? "split across transactions" : "same transaction";
  d["isolation"] = level_words(c.isolation);
  d["isolation_source"] = c.isolation_known ? "shown in the log (BEGIN / SET TRANSACTION)"
                                            : "assumed (option default-isolation)";
  d["table"] = c.key.table;
  d["key_columns"] = c.key.column_names();
  d["match"] = c.match == cta::Overlap::value ? "key values" : "pattern-level (values not in the log)";
  d["schema"] = c.schema_known ? "known" : "unknown";
  if (is_insert_kind(c.kind)) {
    d["constraint"] = c.schema_known
                          ? "no unique or exclusion constraint covers (" + joined(c.constraint_columns, ", ") + ")"
                          : "schema unknown: a unique constraint on (" + joined(c.constraint_columns, ", ") +
                                ") would make this safe (give --schema or --schema-from)";
  }
  if (!c.notes.empty()) d["notes"] = c.notes;
  d["race"] = race;
  merge(std::move(f));
}

// Aggregates occurrences of one pattern. The finding shown is the one whose
// act comes first in the log, so output does not depend on the order in
// which the session tracker closed units.
void CheckThenActRule::merge(core::Finding fresh) {
  auto found = by_id_.find(fresh.id);
  if (found == by_id_.end()) {
    by_id_.emplace(fresh.id, findings_.size());
    findings_.push_back(std::move(fresh));
    return;
  }
  core::Finding& old = findings_[found->second];
  const auto position = [](const core::Finding& f) {
    return std::make_pair(f.evidence[0].input, f.evidence[0].line);
  };
  nlohmann::json race = old.details["race"];
  for (const auto& [key, value] : fresh.details["race"].items()) {
    if (value.is_boolean()) race[key] = race.value(key, false) || value.get<bool>();
    else race[key] = race.value(key, 0) + value.get<int>();
  }
  const core::Severity severity = std::max(old.severity, fresh.severity);
  const std::uint64_t occurrences = old.occurrences + 1;
  if (position(fresh) < position(old)) std::swap(old, fresh);
  // `old` is now the finding shown; `fresh` the other occurrence.
  old.occurrences = occurrences;
  old.severity = severity;
  for (const auto& ref : fresh.sessions) {
    if (old.sessions.size() < kMaxSessionsPerFinding &&
        std::find(old.sessions.begin(), old.sessions.end(), ref) == old.sessions.end()) {
      old.sessions.push_back(ref);
    }
  }
  if (fresh.first_seen != model::kNoTime && (old.first_seen == model::kNoTime || fresh.first_seen < old.first_seen)) {
    old.first_seen = fresh.first_seen;
  }
  old.last_seen = std::max(old.last_seen, fresh.last_seen);
  old.details["race"] = race;
}

// merge() of an occurrence that comes after `old` in the log, from its parts.
void CheckThenActRule::merge_occurrence(core::Finding& old, const nlohmann::json& fresh_race,
                                        core::Severity severity, const core::SessionRef& session,
                                        model::Timestamp first_seen, model::Timestamp last_seen) {
  nlohmann::json race = old.details["race"];
  for (const auto& [key, value] : fresh_race.items()) {
    if (value.is_boolean()) race[key] = race.value(key, false) || value.get<bool>();
    else race[key] = race.value(key, 0) + value.get<int>();
  }
  old.occurrences += 1;
  old.severity = std::max(old.severity, severity);
  if (old.sessions.size() < kMaxSessionsPerFinding &&
      std::find(old.sessions.begin(), old.sessions.end(), session) == old.sessions.end()) {
    old.sessions.push_back(session);
  }
  if (first_seen != model::kNoTime && (old.first_seen == model::kNoTime || first_seen < old.first_seen)) {
    old.first_seen = first_seen;
  }
  old.last_seen = std::max(old.last_seen, last_seen);
  old.details["race"] = race;
}

void CheckThenActRule::finish(core::FindingSink& out) {
  report_missing_retries();
  for (auto& f : findings_) {
    auto& race = f.details["race"];
    const bool seen = race.value("overlapping_sessions_seen", false) || race.size() > 1;
    f.details["confidence"] = seen ? "race seen in the log" :
                              f.details.value("match", "") == "key values" ? "key match" : "pattern";
    out.add(std::move(f));
  }
  findings_.clear();
  by_id_.clear();
}

}  // namespace pgsift::analyzers
