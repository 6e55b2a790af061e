#include "analyzers/locks/lock_words.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace pgsift::analyzers::locks {

namespace {

// PostgreSQL's heavyweight modes in lock.h order (1..8).
constexpr std::array<std::string_view, 8> kModes = {
    "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
    "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"};

// Conflict bitmasks from lock.c's LockConflicts[], bit i = conflicts with kModes[i].
constexpr std::array<unsigned, 8> kConflicts = {
    0b10000000,  // AccessShare: AccessExclusive
    0b11000000,  // RowShare: Exclusive, AccessExclusive
    0b11110000,  // RowExclusive: Share, ShareRowExclusive, Exclusive, AccessExclusive
    0b11111000,  // ShareUpdateExclusive: itself and stronger
    0b11101100,  // Share: RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive
    0b11111100,  // ShareRowExclusive
    0b11111110,  // Exclusive: all but AccessShare
    0b11111111,  // AccessExclusive: all
};

int mode_index(std::string_view mode) {
  for (std::size_t i = 0; i < kModes.size(); ++i) {
    if (kModes[i] == mode) return static_cast<int>(i);
  }
  return -1;
}

std::string quote_sql(std::string_view sql) {
  constexpr std::size_t kMax = 72;
  std::string s(sql);
  if (s.size() > kMax) s = s.substr(0, kMax - 3) + "...";
  return "'" + s + "'";
}

bool statement_touches(const model::Execution& e, std::string_view relation) {
  if (!e.parsed.shape || e.statement_index >= e.parsed.shape->statements.size()) return false;
  const sql::Statement& st = e.statement();
  for (const auto& t : st.tables) {
    std::string name = t.name;
    const auto dot = name.rfind('.');
    const std::string bare = dot == std::string::npos ? name : name.substr(dot + 1);
    if (name == relation || bare == relation) {
      return t.written || t.lock != sql::RowLock::none || st.kind == sql::Kind::lock ||
             st.kind == sql::Kind::utility;
    }
  }
  return false;
}

bool is_write_or_lock(const model::Execution& e) {
  if (!e.parsed.shape || e.statement_index >= e.parsed.shape->statements.size()) return false;
  const sql::Statement& st = e.statement();
  if (st.kind == sql::Kind::insert || st.kind == sql::Kind::update || st.kind == sql::Kind::delete_ ||
      st.kind == sql::Kind::merge || st.kind == sql::Kind::lock || st.kind == sql::Kind::utility) {
    return true;
  }
  return std::any_of(st.tables.begin(), st.tables.end(),
                     [](const sql::TableAccess& t) { return t.lock != sql::RowLock::none; }) ||
         !st.advisory_locks.empty();
}

double millis_between(model::Timestamp from, model::Timestamp to) {
  if (from == model::kNoTime || to == model::kNoTime) return -1;
  return static_cast<double>(to - from) / static_cast<double>(model::kMicrosPerMilli);
}

}  // namespace

std::string relation_from_context(std::string_view context) {
  const std::string_view marker = "relation \"";
  const auto start = context.find(marker);
  if (start == std::string_view::npos) return "";
  const auto from = start + marker.size();
  const auto end = context.find('"', from);
  if (end == std::string_view::npos) return "";
  return std::string(context.substr(from, end - from));
}

std::string relation_of(const model::LockEvent& event, const core::Schema& schema) {
  if (!event.relation_name.empty()) return event.relation_name;
  if (event.relation_oid != 0) {
    auto it = schema.relation_names.find(event.relation_oid);
    if (it != schema.relation_names.end()) return it->second;
    return "relation " + std::to_string(event.relation_oid);
  }
  return "";
}

std::string object_words(const model::LockEvent& event, const core::Schema& schema) {
  const std::string relation = relation_of(event, schema);
  const std::string& kind = event.object_kind;
  if (kind == "transaction") {
    std::string words = "transaction " + std::to_string(event.transaction_id);
    if (!event.tuple.empty() && !relation.empty()) {
      words = "row " + event.tuple + " of " + relation + " (locked by " + words + ")";
    } else if (!relation.empty()) {
      words = "a row of " + relation + " (locked by " + words + ")";
    }
    return words;
  }
  if (kind == "tuple") return "row " + event.tuple + " of " + relation;
  if (kind == "relation") return "table " + relation;
  if (kind == "extension") return "extension of " + relation;
  if (kind == "page") return "a page of " + relation;
  return event.object;
}

bool modes_conflict(std::string_view a, std::string_view b) {
  const int ia = mode_index(a);
  const int ib = mode_index(b);
  if (ia < 0 || ib < 0) return true;
  return (kConflicts[static_cast<std::size_t>(ia)] >> ib) & 1U;
}

std::string single_table(std::string_view raw) {
  if (raw.empty()) return "";
  const sql::Parsed parsed = sql::parse(raw);
  if (!parsed.shape || parsed.shape->statements.size() != 1) return "";
  const auto& tables = parsed.shape->statements.front().tables;
  if (tables.size() != 1) return "";
  return tables.front().name;
}

std::string normalize(std::string_view raw) {
  if (raw.empty()) return "";
  const sql::Parsed parsed = sql::parse(raw);
  if (!parsed.shape || parsed.shape->statements.empty()) return "";
  std::string out;
  for (const auto& st : parsed.shape->statements) {
    if (st.normalized.empty()) continue;
    if (!out.empty()) out += "; ";
    out += st.normalized;
  }
  return out;
}

std::string duration_words(double ms) {
  char buffer[64];
  if (ms < 0) return "an unknown time";
  if (ms < 1000) {
    std::snprintf(buffer, sizeof buffer, "%.0f ms", ms);
  } else if (ms < 60'000) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", ms / 1000);
  } else {
    const long long seconds = static_cast<long long>(ms / 1000);
    std::snprintf(buffer, sizeof buffer, "%lld min %lld s", seconds / 60, seconds % 60);
  }
  return buffer;
}

core::SessionRef ref_of(const model::SessionInfo& info) {
  return core::SessionRef{info.pid, info.session_id, info.user, info.database, info.application};
}

core::Evidence evidence_at(const model::RecordHeader& header, std::string role, std::string_view raw_sql) {
  core::Evidence ev;
  ev.role = std::move(role);
  ev.input = header.where.input;
  ev.line = header.where.line;
  ev.time = header.time;
  ev.pid = header.pid;
  ev.sql = normalize(raw_sql);
  return ev;
}

core::Evidence evidence_of(const model::Execution& e, std::string role, std::int32_t pid) {
  core::Evidence ev;
  ev.role = std::move(role);
  ev.input = e.where.input;
  ev.line = e.where.line;
  ev.time = e.end != model::kNoTime ? e.end : e.start;
  ev.pid = pid;
  if (e.parsed.shape && e.statement_index < e.parsed.shape->statements.size()) ev.sql = e.statement().normalized;
  ev.duration_ms = e.duration_ms;
  ev.values = e.parsed.literals;
  for (std::size_t i = 0; i < e.parameters.size(); ++i) {
    ev.values.push_back("$" + std::to_string(i + 1) + " = " + e.parameters[i].value_or("NULL"));
  }
  return ev;
}

namespace {

BlockerView view_state(const model::SessionState& state, model::Timestamp at, std::string_view relation) {
  BlockerView view;
  view.pid = state.info.pid;
  view.found = true;
  view.session = ref_of(state.info);
  if (state.last_execution != nullptr) {
    view.last_statement = state.last_execution->statement_index < (state.last_execution->parsed.shape
                                                                       ? state.last_execution->parsed.shape->statements.size()
                                                                       : 0)
                              ? state.last_execution->statement().normalized
                              : std::string();
  }
  const bool idle = state.idle_since != model::kNoTime && at != model::kNoTime && state.idle_since <= at;
  const model::Transaction* txn = state.open_transaction;
  if (txn != nullptr) {
    view.state = idle ? "idle in transaction" : "active in transaction";
    view.transaction_ms = millis_between(txn->begin_time, at);
    const model::Execution* lock = nullptr;
    for (const auto& e : txn->executions) {
      if (!relation.empty() && statement_touches(e, relation)) lock = &e;
    }
    if (lock == nullptr) {
      for (const auto& e : txn->executions) {
        if (is_write_or_lock(e)) lock = &e;
      }
    }
    if (lock != nullptr) {
      view.lock_evidence = evidence_of(*lock, "blocker", state.info.pid);
      view.lock_statement = view.lock_evidence->sql;
    }
  } else {
    view.state = idle ? "idle" : "active";
  }
  if (idle) view.idle_ms = millis_between(state.idle_since, at);
  return view;
}

}  // namespace

BlockerView view_blocker(std::int32_t pid, model::Timestamp at, const core::SessionDirectory& sessions,
                         std::string_view relation) {
  const model::SessionState* state = sessions.find(pid);
  if (state == nullptr) {
    BlockerView view;
    view.pid = pid;
    view.state = "not in the log";
    return view;
  }
  return view_state(*state, at, relation);
}

std::vector<BlockerView> likely_holders(std::string_view relation, model::Timestamp at,
                                        const core::SessionDirectory& sessions, std::int32_t except) {
  std::vector<BlockerView> out;
  if (relation.empty()) return out;
  for (const model::SessionState* state : sessions.open_session_states()) {
    if (state == nullptr || state->info.pid == except || state->open_transaction == nullptr) continue;
    const auto& executions = state->open_transaction->executions;
    if (std::any_of(executions.begin(), executions.end(),
                    [&](const model::Execution& e) { return statement_touches(e, relation); })) {
      out.push_back(view_state(*state, at, relation));
    }
  }
  return out;
}

nlohmann::json to_json(const BlockerView& b) {
  nlohmann::json j;
  j["pid"] = b.pid;
  j["state"] = b.state;
  if (b.queued_ahead) j["queued_ahead"] = true;
  if (b.idle_ms >= 0) {
    j[b.state == "idle in transaction" ? "idle_in_transaction_ms" : "idle_ms"] = b.idle_ms;
  }
  if (b.transaction_ms >= 0) j["transaction_age_ms"] = b.transaction_ms;
  if (!b.lock_statement.empty()) j["lock_statement"] = b.lock_statement;
  if (!b.last_statement.empty()) j["last_statement"] = b.last_statement;
  if (b.session) {
    j["user"] = b.session->user;
    j["application"] = b.session->application;
  }
  return j;
}

std::string blocker_words(const BlockerView& b) {
  std::string words = "pid " + std::to_string(b.pid);
  if (b.queued_ahead) words += " (queued ahead";
  else words += " (" + b.state;
  if (b.state == "idle in transaction" && b.idle_ms >= 0) words += " for " + duration_words(b.idle_ms);
  const std::string& sql = !b.lock_statement.empty() ? b.lock_statement : b.last_statement;
  if (!sql.empty()) words += (b.queued_ahead ? " with " : " after ") + quote_sql(sql);
  return words + ")";
}

}  // namespace pgsift::analyzers::locks
