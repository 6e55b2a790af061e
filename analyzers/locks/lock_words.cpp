#include "analyzers/locks/lock_words.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "analyzers/sql/pg_query_adapter.h"

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

// Whether `e` took a lock on `relation` that a writer would wait for (a write,
// a row lock, LOCK TABLE, DDL); with `any_access`, also a plain read's
// AccessShareLock, which only DDL and strong LOCK TABLE modes wait for.
bool statement_touches(const model::Execution& e, std::string_view relation, bool any_access = false) {
  if (!e.parsed.shape || e.statement_index >= e.parsed.shape->statements.size()) return false;
  const sql::Statement& st = e.statement();
  const auto same = [&](const std::string& name) {
    const auto dot = name.rfind('.');
    const std::string_view bare = dot == std::string::npos ? std::string_view(name)
                                                           : std::string_view(name).substr(dot + 1);
    return name == relation || bare == relation;
  };
  for (const auto& t : st.tables) {
    if (same(t.name)) {
      return any_access || t.written || t.lock != sql::RowLock::none || st.kind == sql::Kind::lock ||
             st.kind == sql::Kind::utility;
    }
  }
  if (st.kind == sql::Kind::utility && st.tables.empty()) {
    const std::string table = single_table(e.sql);
    return !table.empty() && same(table);
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

namespace {

constexpr std::size_t kMaxLearnedNames = 4096;
constexpr std::string_view kUnnamed = "relation with OID ";

// Whether a relation-level wait's statement can name the relation: the
// statement's only table is then the one locked (a DDL, LOCK TABLE, or a
// query waiting behind one).
bool statement_names_relation(const model::LockEvent& event) {
  return event.object_kind == "relation" && !event.statement.empty();
}

}  // namespace

void RelationNames::learn(const model::LockEvent& event) {
  if (event.relation_oid == 0) return;
  auto it = names_.find(event.relation_oid);
  if (!event.relation_name.empty()) {
    if (it == names_.end() && names_.size() >= kMaxLearnedNames) return;
    names_[event.relation_oid] = Name{event.relation_name, true};
    return;
  }
  if (it != names_.end() || names_.size() >= kMaxLearnedNames || !statement_names_relation(event)) return;
  std::string table = single_table(event.statement);
  if (!table.empty()) names_[event.relation_oid] = Name{std::move(table), false};
}

std::string RelationNames::find(std::uint64_t oid) const {
  auto it = names_.find(oid);
  return it == names_.end() ? std::string() : it->second.name;
}

std::string relation_of(const model::LockEvent& event, const core::Schema& schema, const RelationNames* learned) {
  if (!event.relation_name.empty()) return event.relation_name;
  if (event.relation_oid == 0) return "";
  auto it = schema.relation_names.find(event.relation_oid);
  if (it != schema.relation_names.end()) return it->second;
  if (learned != nullptr) {
    std::string name = learned->find(event.relation_oid);
    if (!name.empty()) return name;
  }
  if (statement_names_relation(event)) {
    std::string table = single_table(event.statement);
    if (!table.empty()) return table;
  }
  return std::string(kUnnamed) + std::to_string(event.relation_oid);
}

bool unnamed_relation(std::string_view relation) { return relation.rfind(kUnnamed, 0) == 0; }

std::string object_words(const model::LockEvent& event, const core::Schema& schema, const RelationNames* learned) {
  const std::string relation = relation_of(event, schema, learned);
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
  if (kind == "relation") return unnamed_relation(relation) ? relation : "table " + relation;
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

namespace {

// Every RangeVar (table reference) of libpg_query's JSON tree, as
// "schema.name" or "name". Used for utility statements (ALTER TABLE,
// TRUNCATE, DROP, CREATE INDEX, VACUUM...), whose tables the statement model
// does not list. Only on lock events, which are rare: a full JSON DOM is fine.
void collect_range_vars(const nlohmann::json& node, std::set<std::string>& out) {
  if (node.is_object()) {
    // A RangeVar node: wrapped as {"RangeVar": {...}} in lists, bare in
    // typed fields such as AlterTableStmt.relation; both carry "relname".
    if (auto rel = node.find("relname"); rel != node.end() && rel->is_string()) {
      const std::string name = rel->get<std::string>();
      const std::string schema = node.value("schemaname", "");
      if (!name.empty()) out.insert(schema.empty() ? name : schema + "." + name);
    }
    for (const auto& [key, child] : node.items()) {
      if (child.is_structured()) collect_range_vars(child, out);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) collect_range_vars(child, out);
  }
}

std::string single_range_var(std::string_view raw) {
  const sql::pgq::ParseOutput tree = sql::pgq::parse_json(raw);
  if (!tree.ok) return "";
  const nlohmann::json doc = nlohmann::json::parse(tree.json, nullptr, false);
  if (doc.is_discarded()) return "";
  std::set<std::string> names;
  collect_range_vars(doc, names);
  return names.size() == 1 ? *names.begin() : std::string();
}

}  // namespace

std::string single_table(std::string_view raw) {
  if (raw.empty()) return "";
  const sql::Parsed parsed = sql::parse(raw);
  if (!parsed.shape || parsed.shape->statements.size() != 1) return "";
  const sql::Statement& st = parsed.shape->statements.front();
  if (st.tables.empty() && st.kind == sql::Kind::utility) return single_range_var(raw);
  if (st.tables.size() != 1) return "";
  return st.tables.front().name;
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
                                        const core::SessionDirectory& sessions, std::int32_t except,
                                        bool any_access) {
  std::vector<BlockerView> out;
  if (relation.empty() || unnamed_relation(relation)) return out;
  for (const model::SessionState* state : sessions.open_session_states()) {
    if (state == nullptr || state->info.pid == except || state->open_transaction == nullptr) continue;
    const auto& executions = state->open_transaction->executions;
    if (std::any_of(executions.begin(), executions.end(),
                    [&](const model::Execution& e) { return statement_touches(e, relation, any_access); })) {
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
