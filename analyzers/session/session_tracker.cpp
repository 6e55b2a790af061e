#include "analyzers/session/session_tracker.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <functional>
#include <optional>
#include <utility>

#include "analyzers/session/unit_key.h"
#include "analyzers/sql/statement.h"

namespace pgsift::session {

using model::Execution;
using model::Timestamp;
using model::Transaction;

struct SessionTracker::Session {
  std::string key;
  /// A key synthesized from pid and generation ("pid:<pid>#<generation>").
  bool synthesized_key = false;
  std::uint64_t generation = 0;
  model::SessionState state;
  /// The session began before the log (no connection line): until a BEGIN,
  /// COMMIT or a vxid says otherwise, we cannot know whether its first
  /// statements ran inside a transaction, so they wait in `open`.
  bool undecided = false;
  bool decided_once = false;  // a later COMMIT without BEGIN is then evidence of missing lines
  bool failed = false;        // the explicit transaction hit an error (aborted state)
  std::optional<Transaction> open;
  std::string undecided_vxid;
  model::UnitOfWork unit;
  bool unit_active = false;
  std::size_t unit_executions = 0;
  std::string unit_attribution;
  std::string unit_application;
  Timestamp last_seen = model::kNoTime;
  /// The last %l seen (0 before the first), for the coverage monitor.
  std::uint64_t last_line = 0;
  sql::IsolationLevel default_isolation = sql::IsolationLevel::read_committed;
  bool default_isolation_known = false;
  std::uint64_t transaction_seq = 0;
  std::uint64_t unit_seq = 0;
  /// The most recent execution: where it lies (in the open transaction or
  /// the unit), so that it is not copied for every statement. When the unit
  /// holding it is handed over and dropped, it moves to `kept_execution`.
  const Execution* last_execution = nullptr;
  bool has_last_execution = false;
  Execution kept_execution;

  void set_last_execution(const Execution& execution) {
    last_execution = &execution;
    has_last_execution = true;
  }

  /// Before the unit is dropped: keeps a copy of the last execution if the unit holds it.
  void keep_last_execution() {
    if (!has_last_execution || last_execution == &kept_execution) return;
    const std::less<const Execution*> before;
    for (const Transaction& transaction : unit.transactions) {
      const Execution* first = transaction.executions.data();
      const Execution* end = first + transaction.executions.size();
      if (!before(last_execution, first) && before(last_execution, end)) {
        kept_execution = *last_execution;
        last_execution = &kept_execution;
        state.last_execution = last_execution;
        return;
      }
    }
  }

  void refresh_state() {
    // An undecided session's pending statements are shown too (started_before_log
    // says so): a session holding a lock is in a transaction whatever we know.
    state.open_transaction = open ? &*open : nullptr;
    state.last_execution = has_last_execution ? last_execution : nullptr;
  }
};

/// The SQL texts, parameter lists and literal lists of the executions of
/// dropped units. A spent event hands its own to the execution it becomes
/// and gets one of these instead, which the classifier then fills again (the
/// literal lists go to sql::parse): most statements then allocate and free
/// nothing for them. The transactions' execution
/// lists are kept too (emptied), for the next transactions. Bounded; beyond
/// it, freed.
struct SessionTracker::Recycled {
  // Units are handed over whole (up to session.max-unit-statements
  // executions each, for several sessions at once): a pool smaller than what
  // one handover returns frees what the next statements allocate again. A
  // larger pool saves allocations (32768: -11 M instructions on the bench
  // log) but fills up over a long log: peak RSS then grew 1.21x for a log ten
  // times larger, and every page it touches is a page fault (4,540 instead
  // of 3,510 on the bench log), which costs this VM more than it saves.
  static constexpr std::size_t kMax = 8192;
  static constexpr std::size_t kMaxLists = 2048;
  /// An explicit transaction's list starts with room for this many.
  static constexpr std::size_t kExplicitRoom = 8;
  std::vector<std::string> texts;
  std::vector<std::vector<std::optional<std::string>>> parameter_lists;
  std::vector<std::vector<std::string>> literal_lists;
  std::vector<std::vector<Execution>> single_lists;    // capacity 1..kExplicitRoom-1: autocommit
  std::vector<std::vector<Execution>> explicit_lists;  // capacity kExplicitRoom..2*kExplicitRoom

  void give(model::UnitOfWork& unit) {
    for (Transaction& transaction : unit.transactions) {
      for (Execution& execution : transaction.executions) {
        if (texts.size() < kMax && execution.sql.capacity() > 15) texts.push_back(std::move(execution.sql));
        if (parameter_lists.size() < kMax && execution.parameters.capacity() > 0) {
          execution.parameters.clear();
          parameter_lists.push_back(std::move(execution.parameters));
        }
        if (literal_lists.size() < kMax && execution.parsed.literals.capacity() > 0) {
          execution.parsed.literals.clear();
          literal_lists.push_back(std::move(execution.parsed.literals));
        }
      }
      std::vector<Execution>& list = transaction.executions;
      const std::size_t room = list.capacity();
      if (room == 0 || room > 2 * kExplicitRoom) continue;
      auto& lists = room < kExplicitRoom ? single_lists : explicit_lists;
      if (lists.size() >= kMaxLists) continue;
      list.clear();
      lists.push_back(std::move(list));
    }
  }
  /// An empty execution list for a new transaction.
  void refill(std::vector<Execution>& list, bool is_explicit) {
    auto& lists = is_explicit ? explicit_lists : single_lists;
    if (!lists.empty()) {
      list = std::move(lists.back());
      lists.pop_back();
    }
    // Room for a typical explicit transaction: growing 1, 2, 4, 8 would move
    // every execution three times.
    if (is_explicit) list.reserve(kExplicitRoom);
  }
  void refill(std::string& text) { take(texts, text); }
  void refill(std::vector<std::string>& literals) { take(literal_lists, literals); }
  void refill(std::vector<std::optional<std::string>>& parameters) { take(parameter_lists, parameters); }

 private:
  // Pools are taken from one statement at a time, between which the
  // analysis has moved much else through the cache, and were filled a whole
  // unit earlier: the entry taken next is loaded ahead (perf put a third of
  // on_statement's samples on loading the top of these pools).
  static constexpr std::size_t kAhead = 4;
  template <typename T>
  static void take(std::vector<T>& pool, T& into) {
    if (pool.empty()) return;
    into = std::move(pool.back());
    pool.pop_back();
    if (pool.size() > kAhead) __builtin_prefetch(pool.data() + pool.size() - kAhead);
  }
};

/// The statement-level state machine, kept out of the class header.
class SessionOps {
 public:
  SessionOps(SessionTracker& tracker, SessionTracker::Session& session)
      : t_(tracker), s_(session) {}

  void execute(Execution&& execution);
  /// True when the next execution goes to the end of the open explicit
  /// transaction: the caller builds it there (`open_executions()`) and calls
  /// `placed_inside()`, instead of moving one in through execute().
  bool appends_inside() const { return !s_.undecided && s_.open.has_value(); }
  std::vector<Execution>& open_executions() { return s_.open->executions; }
  void placed_inside();
  void resolve_as_autocommit();
  void close(Transaction::End end);
  void emit_unit() { t_.emit_unit(s_); }

 private:
  void execute_outside(Execution&& execution);
  void execute_inside(Execution&& execution);
  void start_explicit(Execution&& execution);
  void end_open(Transaction::End end);
  void place(Transaction transaction);
  bool vxid_says_autocommit(const Execution& execution);

  SessionTracker& t_;
  SessionTracker::Session& s_;
};

namespace {

bool is_ending(sql::Kind kind) {
  return kind == sql::Kind::commit || kind == sql::Kind::rollback ||
         kind == sql::Kind::prepare_transaction;
}

/// "3/42" -> "42"; "" when absent.
std::string_view local_xid(std::string_view vxid) {
  const auto slash = vxid.find('/');
  return slash == std::string_view::npos ? std::string_view{} : vxid.substr(slash + 1);
}

bool parse_number(const std::string& text, double& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

// Before authentication the prefix prints "[unknown]" for %u/%d/%a.
bool known(const std::string& value) {
  return !value.empty() && std::string_view(value) != std::string_view("[unknown]");
}

void fill_info(model::SessionInfo& info, const model::RecordHeader& header) {
  if (info.pid == 0) info.pid = header.pid;
  if (!known(info.user) && known(header.user)) info.user = header.user;
  if (!known(info.database) && known(header.database)) info.database = header.database;
  // Runs for every statement: assigns only what changed.
  if (known(header.application) && info.application != header.application) {
    info.application = header.application;
  }
  if (info.client.empty() && !header.client.empty()) info.client = header.client;
}

}  // namespace

std::string TrackerOptions::from_options(const core::OptionMap& options, TrackerOptions& out) {
  for (const auto& [key, value] : options) {
    if (key.rfind("session.", 0) != 0) continue;
    double number = 0;
    if (!parse_number(value, number) || number < 0) {
      return "option '" + key + "': expected a number >= 0, got '" + value + "'";
    }
    if (key == "session.unit-gap-ms") {
      out.unit_gap_us = static_cast<Timestamp>(number * model::kMicrosPerMilli);
    } else if (key == "session.timeout-s") {
      out.session_timeout_us = static_cast<Timestamp>(number * model::kMicrosPerSecond);
    } else if (key == "session.max-unit-statements") {
      if (number < 1) return "option '" + key + "': expected a number >= 1, got '" + value + "'";
      out.max_unit_executions = static_cast<std::size_t>(number);
    } else {
      return "unknown option '" + key +
             "' (session options: unit-gap-ms, timeout-s, max-unit-statements)";
    }
  }
  return "";
}

SessionTracker::SessionTracker(TrackerOptions options, core::FindingSink& sink)
    : options_(options), sink_(sink), recycled_(std::make_unique<Recycled>()) {}

SessionTracker::~SessionTracker() = default;

void SessionTracker::add_rule(core::Rule* rule) { rules_.push_back(rule); }

const model::SessionState* SessionTracker::find(std::int32_t pid) const {
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? nullptr : &it->second->state;
}

std::vector<const model::SessionState*> SessionTracker::open_session_states() const {
  std::vector<const model::SessionState*> out;
  out.reserve(by_pid_.size());
  for (const auto& [pid, session] : by_pid_) out.push_back(&session->state);
  std::sort(out.begin(), out.end(), [](const model::SessionState* a, const model::SessionState* b) {
    return a->info.pid < b->info.pid;
  });
  return out;
}

void SessionTracker::on_event(const model::Event& event) { dispatch(event, nullptr); }

void SessionTracker::consume_event(model::Event& event) {
  dispatch(event, std::get_if<model::StatementEvent>(&event.body));
}

void SessionTracker::dispatch(const model::Event& event, model::StatementEvent* movable) {
  if (finished_) return;
  if (event.header.time != model::kNoTime) sweep(event.header.time);
  if (const auto* statement = std::get_if<model::StatementEvent>(&event.body)) {
    monitor_.observe_statement(*statement);
    Session* session = session_for(event, /*create=*/true, /*new_connection=*/false);
    if (session != nullptr) on_statement(*session, event, movable, *statement);
    return;
  }
  on_other(event);
}

SessionTracker::Session* SessionTracker::session_for(const model::Event& event, bool create,
                                                     bool new_connection) {
  const model::RecordHeader& header = event.header;
  if (header.pid == 0 && header.session_id.empty()) return nullptr;
  // Almost every event belongs to its pid's current session: find it without
  // building the key (same answer as the lookup by key below).
  if (!new_connection && header.pid != 0) {
    auto current = by_pid_.find(header.pid);
    if (current != by_pid_.end()) {
      Session* session = current->second;
      bool same = false;
      if (header.session_id.empty()) {
        auto generation = pid_generation_.find(header.pid);
        same = session->synthesized_key &&
               session->generation == (generation == pid_generation_.end() ? 0 : generation->second);
      } else {
        same = session->key == header.session_id;
      }
      if (same) {
        monitor_.observe_line(session->last_line, header.session_line);
        return session;
      }
    }
  }
  std::string key;
  std::uint64_t key_generation = 0;
  if (!header.session_id.empty()) {
    key = header.session_id;
  } else {
    // Without %c a session is a pid between connection boundaries (pids are reused).
    std::uint64_t& generation = pid_generation_[header.pid];
    if (new_connection) {
      auto current = by_pid_.find(header.pid);
      if (current != by_pid_.end() && current->second->has_last_execution) ++generation;
    }
    key_generation = generation;
    key = "pid:" + std::to_string(header.pid) + "#" + std::to_string(generation);
  }
  auto it = sessions_.find(key);
  if (it != sessions_.end()) {
    monitor_.observe_line(it->second->last_line, header.session_line);
    return it->second.get();
  }
  if (!create) return nullptr;
  // Two sessions cannot share a pid at once: a previous one whose end we
  // missed is over.
  if (auto stale = by_pid_.find(header.pid); stale != by_pid_.end()) {
    close_session(stale->second->key, Transaction::End::cut);
  }
  auto session = std::make_unique<Session>();
  session->key = key;
  session->synthesized_key = header.session_id.empty();
  session->generation = key_generation;
  session->state.info.session_id = key;
  fill_info(session->state.info, header);
  session->undecided = !new_connection;
  Session* raw = session.get();
  sessions_.emplace(key, std::move(session));
  if (header.pid != 0) by_pid_[header.pid] = raw;
  ++stats_.sessions;
  stats_.max_open_sessions = std::max<std::uint64_t>(stats_.max_open_sessions, sessions_.size());
  monitor_.observe_line(raw->last_line, header.session_line);
  return raw;
}

void SessionTracker::on_statement(Session& session, const model::Event& event,
                                  model::StatementEvent* movable,
                                  const model::StatementEvent& statement) {
  const model::RecordHeader& header = event.header;
  fill_info(session.state.info, header);
  if (header.time != model::kNoTime) session.last_seen = header.time;
  if (statement.sql.empty()) return;
  sql::Parsed parsed;
  if (!statement.parsed.shape) {
    recycled_->refill(parsed.literals);
    sql::parse(statement.sql, parsed);
  } else if (movable != nullptr) {
    parsed = std::move(movable->parsed);
    recycled_->refill(movable->parsed.literals);
  } else {
    parsed = statement.parsed;
  }
  if (!parsed.shape || parsed.shape->statements.empty()) return;
  const Timestamp end = header.time;
  Timestamp start = statement.start != model::kNoTime ? statement.start : end;
  if (statement.start == model::kNoTime && end != model::kNoTime && statement.duration_ms >= 0) {
    start = end - static_cast<Timestamp>(statement.duration_ms * model::kMicrosPerMilli);
  }
  // Pools re-label connections; a new application_name starts a new unit.
  if (session.unit_active && !session.unit_application.empty() &&
      !session.state.info.application.empty() &&
      session.unit_application != session.state.info.application && !session.open) {
    emit_unit(session);
  }
  SessionOps ops(*this, session);
  const std::size_t count = parsed.shape->statements.size();
  for (std::size_t i = 0; i < count; ++i) {
    // The last execution of a spent event takes its text, parse and
    // parameters; the others (and events still needed elsewhere) copy.
    const bool take = movable != nullptr && i + 1 == count;
    Execution local;
    const bool in_place = ops.appends_inside();
    Execution& execution = in_place ? ops.open_executions().emplace_back() : local;
    execution.where = header.where;
    execution.start = start;
    execution.end = end;
    execution.duration_ms = statement.duration_ms;
    execution.statement_index = i;
    if (take) {
      execution.sql = std::move(movable->sql);
      recycled_->refill(movable->sql);
      execution.parsed = std::move(parsed);
      execution.parameters = std::move(movable->parameters);
      recycled_->refill(movable->parameters);
    } else {
      execution.sql = statement.sql;
      execution.parsed = parsed;
      execution.parameters = statement.parameters;
    }
    execution.protocol = statement.protocol;
    execution.continues_portal = statement.continues_portal;
    execution.virtual_xid = header.virtual_xid;
    execution.xid = header.xid;
    ++stats_.executions;
    if (in_place) {
      ops.placed_inside();
    } else {
      ops.execute(std::move(execution));
    }
  }
  session.state.idle_since = end;
  session.refresh_state();
}

void SessionTracker::on_other(const model::Event& event) {
  if (std::holds_alternative<model::OtherEvent>(event.body)) {
    // %l continuity only: nothing to look up when the format has no %l.
    if (event.header.session_line != 0) session_for(event, false, false);
    return;
  }
  const auto* connection = std::get_if<model::ConnectionEvent>(&event.body);
  const bool connecting =
      connection != nullptr && connection->kind != model::ConnectionEvent::Kind::disconnected;
  Session* session = session_for(event, connecting, connecting);
  if (session != nullptr && connecting) {
    fill_info(session->state.info, event.header);
    if (session->state.info.connected == model::kNoTime) {
      session->state.info.connected = event.header.time;
    }
    if (event.header.time != model::kNoTime) session->last_seen = event.header.time;
  }
  // Rules see the directory as it was when the event happened.
  for (core::Rule* rule : rules_) rule->on_event(event, *this, sink_);
  if (session == nullptr) return;
  if (event.header.time != model::kNoTime) session->last_seen = event.header.time;
  const std::string key = session->key;
  if (connection != nullptr) {
    if (!connecting) close_session(key, Transaction::End::aborted);
    return;
  }
  const bool fatal = event.level == model::LogLevel::fatal || event.level == model::LogLevel::panic;
  if (fatal) {
    close_session(key, Transaction::End::aborted);
    return;
  }
  const bool error = event.level == model::LogLevel::error ||
                     std::holds_alternative<model::DeadlockEvent>(event.body) ||
                     std::holds_alternative<model::ErrorEvent>(event.body);
  if (error && session->open) {
    if (!session->undecided) session->failed = true;
    session->open->error_times.push_back(event.header.time);
  }
}

void SessionTracker::close_session(const std::string& key, Transaction::End end) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  Session& session = *it->second;
  SessionOps(*this, session).close(end);
  auto pid_it = by_pid_.find(session.state.info.pid);
  if (pid_it != by_pid_.end() && pid_it->second == &session) by_pid_.erase(pid_it);
  sessions_.erase(it);
}

void SessionTracker::sweep(Timestamp now) {
  if (next_sweep_ != model::kNoTime && now < next_sweep_) return;
  next_sweep_ = now + model::kMicrosPerSecond;
  std::vector<std::string> expired;
  for (auto& [key, session] : sessions_) {
    if (session->last_seen != model::kNoTime &&
        now - session->last_seen >= options_.session_timeout_us) {
      expired.push_back(key);
    } else if (!session->open && session->unit_active &&
               now - session->unit.end_time >= options_.unit_gap_us) {
      emit_unit(*session);
    }
  }
  for (const std::string& key : expired) close_session(key, Transaction::End::cut);
}

void SessionTracker::emit_unit(Session& session) {
  if (!session.unit_active) return;
  ++stats_.units;
  static std::atomic<std::uint64_t> unit_serials{0};
  session.unit.serial = ++unit_serials;
  for (core::Rule* rule : rules_) rule->on_unit(session.state.info, session.unit, sink_);
  session.keep_last_execution();
  recycled_->give(session.unit);
  session.unit = model::UnitOfWork{};
  session.unit_active = false;
  session.unit_executions = 0;
  session.unit_attribution.clear();
  session.unit_application.clear();
}

void SessionTracker::finish() {
  if (finished_) return;
  std::vector<std::string> keys;
  keys.reserve(sessions_.size());
  for (const auto& [key, session] : sessions_) keys.push_back(key);
  std::sort(keys.begin(), keys.end());  // deterministic order of the last units
  for (const std::string& key : keys) close_session(key, Transaction::End::cut);
  coverage_ = monitor_.result();
  for (core::Rule* rule : rules_) rule->finish(sink_);
  finished_ = true;
}

// ---- SessionOps: one session's statement state machine ----

void SessionOps::execute(Execution&& execution) {
  const sql::Statement& statement = execution.statement();
  if (s_.undecided && !s_.open) {
    Transaction pending;
    pending.started_before_log = true;
    pending.begin_time = execution.start;
    s_.open = std::move(pending);
  }
  if (s_.undecided) {
    if (statement.kind == sql::Kind::begin || vxid_says_autocommit(execution)) {
      resolve_as_autocommit();
    } else if (is_ending(statement.kind)) {
      // The log began inside this transaction: now we know it.
      s_.undecided = false;
      s_.decided_once = true;
      s_.open->is_explicit = true;
      s_.open->sequence = ++s_.transaction_seq;
      execute_inside(std::move(execution));
      return;
    } else {
      s_.undecided_vxid = execution.virtual_xid;
      s_.open->executions.push_back(std::move(execution));
      s_.open->end_time = s_.open->executions.back().end;
      s_.set_last_execution(s_.open->executions.back());
      if (s_.open->executions.size() >= t_.options_.max_undecided_executions) {
        resolve_as_autocommit();
      }
      return;
    }
  }
  if (s_.open) {
    execute_inside(std::move(execution));
  } else {
    execute_outside(std::move(execution));
  }
}

bool SessionOps::vxid_says_autocommit(const Execution& execution) {
  const std::string_view lxid = local_xid(execution.virtual_xid);
  if (lxid.empty()) return false;
  // A simple-protocol duration line is written after its implicit transaction
  // ended, so it shows local xid 0 (reference/logs.md 1.1); an explicit
  // transaction would still be live.
  if (lxid == "0" && execution.duration_ms >= 0 &&
      execution.protocol == model::StatementEvent::Protocol::simple) {
    return true;
  }
  // Two different live transactions with no COMMIT between them: the first was implicit.
  const std::string_view previous = local_xid(s_.undecided_vxid);
  return !previous.empty() && previous != "0" && lxid != "0" && previous != lxid;
}

void SessionOps::resolve_as_autocommit() {
  std::vector<Execution> pending;
  if (s_.open) pending = std::move(s_.open->executions);
  s_.open.reset();
  s_.undecided = false;
  s_.decided_once = true;
  for (Execution& execution : pending) execute_outside(std::move(execution));
}

void SessionOps::start_explicit(Execution&& execution) {
  const sql::Statement& statement = execution.statement();
  Transaction transaction;
  t_.recycled_->refill(transaction.executions, /*is_explicit=*/true);
  transaction.sequence = ++s_.transaction_seq;
  transaction.is_explicit = true;
  transaction.begin_time = execution.start;
  transaction.isolation = s_.default_isolation;
  transaction.isolation_known = s_.default_isolation_known;
  if (statement.isolation != sql::IsolationLevel::unspecified) {
    transaction.isolation = statement.isolation;
    transaction.isolation_known = true;
  }
  transaction.read_only = statement.read_only;
  s_.open = std::move(transaction);
  s_.failed = false;
  execute_inside(std::move(execution));
}

void SessionOps::execute_inside(Execution&& execution) {
  s_.open->executions.push_back(std::move(execution));
  placed_inside();
}

void SessionOps::placed_inside() {
  Transaction& open = *s_.open;
  const sql::Statement& statement = open.executions.back().statement();
  if (statement.kind == sql::Kind::set && statement.isolation != sql::IsolationLevel::unspecified) {
    if (statement.sets_session_default_isolation) {
      s_.default_isolation = statement.isolation;
      s_.default_isolation_known = true;
    } else {
      open.isolation = statement.isolation;  // SET TRANSACTION ISOLATION LEVEL
      open.isolation_known = true;
    }
  }
  if (statement.kind == sql::Kind::set && statement.read_only && !statement.sets_session_default_isolation) {
    open.read_only = true;
  }
  if (statement.kind == sql::Kind::rollback_to_savepoint) s_.failed = false;
  const sql::Kind kind = statement.kind;
  open.end_time = open.executions.back().end;
  s_.set_last_execution(open.executions.back());
  if (is_ending(kind)) {
    const bool rolled_back = kind == sql::Kind::rollback || s_.failed;
    end_open(rolled_back ? Transaction::End::rollback : Transaction::End::commit);
    return;
  }
  if (open.executions.size() >= t_.options_.max_transaction_executions) {
    // Bound memory: hand the rules what we have, keep going with the rest.
    Transaction piece = std::move(open);
    Transaction rest;
    rest.sequence = piece.sequence;
    rest.is_explicit = piece.is_explicit;
    rest.started_before_log = true;
    rest.isolation = piece.isolation;
    rest.isolation_known = piece.isolation_known;
    rest.read_only = piece.read_only;
    piece.end = Transaction::End::cut;
    s_.open = std::move(rest);
    s_.open->begin_time = piece.end_time;
    ++t_.stats_.transactions;
    place(std::move(piece));
    emit_unit();
  }
}

void SessionOps::execute_outside(Execution&& execution) {
  const sql::Statement& statement = execution.statement();
  if (statement.kind == sql::Kind::begin) {
    start_explicit(std::move(execution));
    return;
  }
  if (statement.kind == sql::Kind::commit && s_.decided_once) {
    t_.monitor_.observe_unmatched_commit();
  }
  if (statement.sets_session_default_isolation && statement.isolation != sql::IsolationLevel::unspecified) {
    s_.default_isolation = statement.isolation;
    s_.default_isolation_known = true;
  }
  s_.decided_once = true;
  Transaction implicit;
  implicit.sequence = ++s_.transaction_seq;
  implicit.is_explicit = false;
  implicit.isolation = s_.default_isolation;
  implicit.isolation_known = s_.default_isolation_known;
  implicit.begin_time = execution.start;
  implicit.end_time = execution.end;
  implicit.end = Transaction::End::commit;
  const bool resets = statement.kind == sql::Kind::discard;
  t_.recycled_->refill(implicit.executions, /*is_explicit=*/false);
  implicit.executions.push_back(std::move(execution));
  // Moving the transaction (into the unit) keeps its executions where they are.
  s_.set_last_execution(implicit.executions.back());
  ++t_.stats_.transactions;
  place(std::move(implicit));
  // DISCARD ALL is what pools send when a connection goes back: the request is over.
  if (resets) emit_unit();
}

void SessionOps::end_open(Transaction::End end) {
  Transaction transaction = std::move(*s_.open);
  s_.open.reset();
  s_.failed = false;
  transaction.end = end;
  ++t_.stats_.transactions;
  place(std::move(transaction));
}

void SessionOps::place(Transaction transaction) {
  const std::string attribution = unit_attribution(transaction);
  if (s_.unit_active) {
    const bool idle_gap = transaction.begin_time != model::kNoTime &&
                          s_.unit.end_time != model::kNoTime &&
                          transaction.begin_time - s_.unit.end_time >= t_.options_.unit_gap_us;
    const bool new_request = !attribution.empty() && attribution != s_.unit_attribution;
    if (idle_gap || new_request) emit_unit();
  }
  if (!s_.unit_active) {
    s_.unit_active = true;
    ++s_.unit_seq;
    s_.unit_attribution = attribution;
    s_.unit_application = s_.state.info.application;
    s_.unit.key = attribution.empty() ? "burst#" + std::to_string(s_.unit_seq)
                                      : attribution + "#" + std::to_string(s_.unit_seq);
    s_.unit.tags = unit_tags(transaction);
    s_.unit.begin_time = transaction.begin_time;
  }
  if (transaction.end_time != model::kNoTime) {
    s_.unit.end_time = std::max(s_.unit.end_time, transaction.end_time);
  }
  s_.unit_executions += transaction.executions.size();
  s_.unit.transactions.push_back(std::move(transaction));
  if (s_.unit_executions >= t_.options_.max_unit_executions) emit_unit();
}

void SessionOps::close(Transaction::End end) {
  if (s_.open) {
    if (s_.undecided) {
      // Never learnt whether it was a transaction: claim nothing.
      resolve_as_autocommit();
    } else {
      end_open(end);
    }
  }
  emit_unit();
}

}  // namespace pgsift::session
