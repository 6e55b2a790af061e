// Message matching is by fixed prefixes and hand-written scanners: this runs
// once per record on logs of many gigabytes.
#include "analyzers/model/classify.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "analyzers/model/decimal.h"

namespace pgsift::model {
namespace {

// Inline and with the literal's length known at compile time: these run
// several times per record.
inline bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && std::char_traits<char>::compare(s.data(), p.data(), p.size()) == 0;
}

inline bool consume(std::string_view& s, std::string_view p) {
  if (!starts_with(s, p)) return false;
  s.remove_prefix(p.size());
  return true;
}

template <typename T>
bool parse_int(std::string_view& s, T& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
  return true;
}

// Durations, lock wait times, session times: see decimal.h.
inline bool parse_double(std::string_view& s, double& v) { return parse_decimal(s, v); }

void skip_spaces(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

Timestamp minus_ms(Timestamp t, double ms) {
  if (t == kNoTime || ms < 0) return t;
  return t - static_cast<Timestamp>(ms * 1000.0 + 0.5);
}

// "relation 16384 of database 5", "tuple (0,1) of relation ...", ... (DescribeLockTag).
void parse_lock_object(std::string_view object, LockEvent& e) {
  e.object.assign(object);
  std::string_view s = object;
  static constexpr std::array<std::string_view, 12> kKinds{
      "extension of relation", "pg_database.datfrozenxid", "page", "tuple", "relation",
      "virtual transaction", "speculative token", "transaction", "object", "user lock",
      "advisory lock", "remote transaction"};
  for (std::string_view kind : kKinds) {
    if (starts_with(s, kind) && (s.size() == kind.size() || s[kind.size()] == ' ')) {
      e.object_kind.assign(kind == "extension of relation" ? "extension" : kind);
      break;
    }
  }
  if (e.object_kind == "tuple") {
    std::size_t close = s.find(')');
    if (close != std::string_view::npos) e.tuple.assign(s.substr(6, close - 5));
  }
  if (e.object_kind == "transaction") {
    std::string_view t = s.substr(12);
    parse_int(t, e.transaction_id);
  }
  if (e.object_kind == "speculative token") {
    std::size_t of = s.find("of transaction ");
    if (of != std::string_view::npos) {
      std::string_view t = s.substr(of + 15);
      parse_int(t, e.transaction_id);
    }
  }
  std::size_t rel = s.find("relation ");
  if (rel != std::string_view::npos && e.object_kind != "remote transaction") {
    std::string_view t = s.substr(rel + 9);
    parse_int(t, e.relation_oid);
  }
  std::size_t db = s.find("of database ");
  if (db != std::string_view::npos) {
    std::string_view t = s.substr(db + 12);
    parse_int(t, e.database_oid);
  }
}

// "Process holding the lock: 1. Wait queue: 2, 3." (PG18 NOWAIT: ", Wait queue").
void parse_pid_list(std::string_view s, std::vector<std::int32_t>& out) {
  while (true) {
    skip_spaces(s);
    std::int32_t pid = 0;
    if (!parse_int(s, pid)) return;
    out.push_back(pid);
    if (!consume(s, ",")) return;
  }
}

void parse_lock_detail(std::string_view detail, LockEvent& e) {
  std::size_t h = detail.find("holding the lock: ");
  if (h != std::string_view::npos) parse_pid_list(detail.substr(h + 18), e.holders);
  std::size_t q = detail.find("Wait queue: ");
  if (q != std::string_view::npos) parse_pid_list(detail.substr(q + 12), e.wait_queue);
}

// CONTEXT "while updating tuple (0,10) in relation \"acct\"" (any of the
// "while ..." variants; the context may have further lines).
void parse_lock_context(std::string_view context, std::string& tuple, std::string& relation) {
  std::size_t in = context.find(" in relation \"");
  if (in == std::string_view::npos) return;
  std::size_t name = in + 14;
  std::size_t end = context.find('"', name);
  if (end == std::string_view::npos) return;
  relation.assign(context.substr(name, end - name));
  std::size_t open = context.rfind('(', in);
  if (open != std::string_view::npos && tuple.empty() && context[in - 1] == ')') {
    tuple.assign(context.substr(open, in - open));
  }
}

// "process 123 still waiting for ShareLock on transaction 7 after 1000.1 ms".
bool parse_lock_message(std::string_view m, LockEvent& e) {
  if (!consume(m, "process ")) return false;
  if (!parse_int(m, e.waiter_pid)) return false;
  std::string_view tail = " after ";
  if (consume(m, " still waiting for ")) {
    e.phase = LockEvent::Phase::still_waiting;
  } else if (consume(m, " acquired ")) {
    e.phase = LockEvent::Phase::acquired;
  } else if (consume(m, " avoided deadlock for ")) {
    e.phase = LockEvent::Phase::avoided_deadlock;
    tail = " by rearranging queue order after ";
  } else if (consume(m, " detected deadlock while waiting for ")) {
    e.phase = LockEvent::Phase::deadlock_detected;
  } else if (consume(m, " failed to acquire ")) {
    e.phase = LockEvent::Phase::failed_to_acquire;
  } else if (consume(m, " could not obtain ")) {
    e.phase = LockEvent::Phase::failed_to_acquire;  // PG18 log_lock_failures
    tail = {};
  } else {
    return false;
  }
  std::size_t on = m.find(" on ");
  if (on == std::string_view::npos) return false;
  e.mode.assign(m.substr(0, on));
  m.remove_prefix(on + 4);
  std::string_view object = m;
  if (!tail.empty()) {
    std::size_t after = m.rfind(tail);
    if (after == std::string_view::npos) return false;
    object = m.substr(0, after);
    std::string_view ms = m.substr(after + tail.size());
    parse_double(ms, e.elapsed_ms);
  }
  parse_lock_object(object, e);
  return true;
}

// DETAIL of "deadlock detected": "Process A waits for M on O; blocked by
// process B." lines, then "Process A: <query>" lines (queries may span lines).
void parse_deadlock_detail(std::string_view detail, DeadlockEvent& e) {
  DeadlockParticipant* current_statement = nullptr;
  while (!detail.empty()) {
    std::size_t nl = detail.find('\n');
    std::string_view line = detail.substr(0, nl);
    detail = nl == std::string_view::npos ? std::string_view{} : detail.substr(nl + 1);
    std::string_view s = line;
    std::int32_t pid = 0;
    if (consume(s, "Process ") && parse_int(s, pid)) {
      if (consume(s, " waits for ")) {
        DeadlockParticipant p;
        p.pid = pid;
        std::size_t on = s.find(" on ");
        std::size_t blocked = s.rfind("; blocked by process ");
        if (on != std::string_view::npos && blocked != std::string_view::npos && blocked > on) {
          p.waits_for_mode.assign(s.substr(0, on));
          p.waits_for_object.assign(s.substr(on + 4, blocked - on - 4));
          std::string_view b = s.substr(blocked + 21);
          parse_int(b, p.blocked_by_pid);
          std::string_view obj = p.waits_for_object;
          if (consume(obj, "transaction ")) parse_int(obj, p.waits_for_transaction);
        }
        e.cycle.push_back(std::move(p));
        current_statement = nullptr;
        continue;
      }
      if (consume(s, ": ")) {
        current_statement = nullptr;
        for (DeadlockParticipant& p : e.cycle) {
          if (p.pid == pid && p.statement.empty()) {
            p.statement.assign(s);
            current_statement = &p;
            break;
          }
        }
        continue;
      }
    }
    if (current_statement != nullptr) {
      current_statement->statement += '\n';
      current_statement->statement.append(line);
    }
  }
}

// The number of parameters of a "$1 = ..., $N = ..." list, read from its
// last item; a value that looks like one only makes the guess wrong.
std::size_t parameter_count_guess(std::string_view s) {
  // Backwards to the last ", $" (a plain loop: rfind compares at every position).
  for (std::size_t i = s.size(); i-- > 2;) {
    if (s[i] != '$' || s[i - 1] != ' ' || s[i - 2] != ',') continue;
    std::string_view n = s.substr(i + 1);
    std::size_t count = 0;
    if (!parse_int(n, count) || count == 0) return 1;
    return std::min<std::size_t>(count, 256);
  }
  return 1;
}

// One "$N = value" list. Values are quoted with '' doubled, or NULL.
// Character by character (it runs for every extended-protocol execution).
bool parse_parameter_list(std::string_view s, std::vector<std::optional<std::string>>& out) {
  out.clear();
  // Grown one index at a time, the list would be reallocated for 1, 2, 4...
  out.reserve(parameter_count_guess(s));
  const auto next_is = [&s](char c) { return !s.empty() && s.front() == c; };
  while (!s.empty()) {
    while (next_is(' ')) s.remove_prefix(1);
    if (!next_is('$')) return !out.empty();
    s.remove_prefix(1);
    // "$N": at least one digit, 1..65535 (a longer number is out of range).
    std::size_t index = 0, digits = 0;
    bool too_big = false;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
      if (!too_big) {
        index = index * 10 + static_cast<std::size_t>(s[digits] - '0');
        too_big = index > 65535;
      }
      ++digits;
    }
    if (digits == 0 || too_big || index == 0) return false;
    s.remove_prefix(digits);
    if (s.size() < 3 || s[0] != ' ' || s[1] != '=' || s[2] != ' ') return false;
    s.remove_prefix(3);
    // In order ($1, $2, ...) the list grows by one: appended in place
    // (resize would go through an out-of-line append for every value).
    if (out.size() + 1 == index) {
      out.emplace_back();
    } else if (out.size() < index) {
      out.resize(index);
    }
    if (s.size() >= 4 && s[0] == 'N' && s[1] == 'U' && s[2] == 'L' && s[3] == 'L') {
      s.remove_prefix(4);
      out[index - 1].reset();
    } else if (next_is('\'')) {
      s.remove_prefix(1);
      const std::size_t q = s.find('\'');
      if (q != std::string_view::npos && (q + 1 == s.size() || s[q + 1] != '\'')) {
        // No doubled quote inside (most values): taken as it is.
        out[index - 1].emplace(s.substr(0, q));
        s.remove_prefix(q + 1);
      } else {
        std::string value;
        while (true) {
          const std::size_t quote = s.find('\'');
          if (quote == std::string_view::npos) {
            value.append(s);  // cut short (log_parameter_max_length or a truncated line)
            s = {};
            break;
          }
          value.append(s.substr(0, quote));
          s.remove_prefix(quote + 1);
          if (next_is('\'')) {
            s.remove_prefix(1);
            value += '\'';
            continue;
          }
          break;
        }
        out[index - 1] = std::move(value);
      }
    } else {
      return false;
    }
    if (!next_is(',')) break;
    s.remove_prefix(1);
  }
  return true;
}

struct Execution {
  enum class Kind : std::uint8_t { statement, parse, bind, execute, other };
  Kind kind = Kind::other;
  std::string_view name;   // prepared statement[/portal]
  std::string_view sql;
  bool fetch = false;
};

// After "duration: N ms  " or at the start of a log_statement message. The
// first letter picks the one prefix to compare (this runs for every record).
Execution parse_execution(std::string_view m) {
  Execution x;
  using Kind = Execution::Kind;
  if (m.empty()) return x;
  Kind kind = Kind::other;
  switch (m.front()) {
    case 's':
      if (consume(m, "statement: ")) {
        x.kind = Kind::statement;
        x.sql = m;
      }
      return x;
    case 'e':
      if (consume(m, "execute fetch from ")) {
        kind = Kind::execute;
        x.fetch = true;
      } else if (consume(m, "execute ")) {
        kind = Kind::execute;
      }
      break;
    case 'p':
      if (consume(m, "parse ")) kind = Kind::parse;
      break;
    case 'b':
      if (consume(m, "bind ")) kind = Kind::bind;
      break;
    default:
      break;
  }
  if (kind == Kind::other) return x;
  std::size_t colon = m.find(": ");
  if (colon == std::string_view::npos) {
    // "execute S_1:" with an empty query text.
    if (!m.empty() && m.back() == ':') colon = m.size() - 1;
    else {
      return x;
    }
  }
  x.kind = kind;
  x.name = m.substr(0, colon);
  x.sql = colon + 2 <= m.size() ? m.substr(colon + 2) : std::string_view{};
  return x;
}

std::string_view statement_name(std::string_view name) {
  std::size_t slash = name.find('/');
  return slash == std::string_view::npos ? name : name.substr(0, slash);
}

struct KnownError {
  std::string_view text;
  std::string_view sqlstate;
  bool prefix;  // message starts with text (else: contains it)
};

constexpr std::array<KnownError, 24> kKnownErrors{{
    {"could not serialize access", "40001", true},
    {"duplicate key value violates unique constraint", "23505", true},
    {"deadlock detected", "40P01", true},
    {"canceling statement due to lock timeout", "55P03", true},
    {"could not obtain lock", "55P03", true},
    {"canceling statement due to statement timeout", "57014", true},
    {"canceling statement due to user request", "57014", true},
    {"canceling autovacuum task", "57014", true},
    {"terminating connection due to idle-in-transaction timeout", "25P03", true},
    {"terminating connection due to idle-session timeout", "57P05", true},
    {"terminating connection due to transaction timeout", "25P04", true},
    {"terminating connection due to administrator command", "57P01", true},
    {"current transaction is aborted", "25P02", true},
    {"unexpected EOF on client connection", "08006", true},
    {"division by zero", "22012", true},
    {"syntax error at", "42601", true},
    {"violates foreign key constraint", "23503", false},
    {"violates not-null constraint", "23502", false},
    {"violates check constraint", "23514", false},
    {"permission denied", "42501", true},
    {"password authentication failed", "28P01", true},
    {"out of memory", "53200", true},
    {"could not serialize", "40001", true},
    {"canceling statement due to conflict with recovery", "40001", true},
}};

// dst = src, for strings that mostly keep their length from one record to
// the next (user, database, application, vxid): an overwrite in place is
// much cheaper than the general assignment.
inline void assign(std::string& dst, const std::string& src) {
  const std::size_t n = src.size();
  if (dst.size() != n) {
    dst.assign(src);
    return;
  }
  if (n == 0) return;
#if defined(__GLIBCXX__) && _GLIBCXX_USE_CXX11_ABI
  // Short values (most of them): every libstdc++ string owns at least 16
  // bytes at data() (the in-place buffer, or a heap buffer of capacity > 15),
  // so one fixed-size copy, inlined, moves the bytes and the terminator
  // without a call to memcpy. What it writes past the terminator is unused.
  if (n < 16) {
    std::memcpy(dst.data(), src.data(), 16);
    return;
  }
#endif
  std::char_traits<char>::copy(dst.data(), src.data(), n);
}

// dst = src (the event's header keeps its buffers). Lists every field:
// the size check catches a field added to RecordHeader without it here.
static_assert(sizeof(RecordHeader) == 304, "copy_header must copy every field of RecordHeader");
void copy_header(RecordHeader& dst, const RecordHeader& src) {
  dst.where = src.where;
  dst.time = src.time;
  dst.pid = src.pid;
  assign(dst.session_id, src.session_id);
  dst.session_line = src.session_line;
  assign(dst.user, src.user);
  assign(dst.database, src.database);
  assign(dst.application, src.application);
  assign(dst.client, src.client);
  assign(dst.virtual_xid, src.virtual_xid);
  dst.xid = src.xid;
  assign(dst.backend_type, src.backend_type);
  assign(dst.sqlstate, src.sqlstate);
}

// The statement text goes to a buffer recycled from executions of units the
// tracker dropped (SessionTracker::Recycled), with whatever capacity that
// text needed. Growing it by exactly what this text needs would reallocate
// again and again as texts of different lengths meet buffers of different
// sizes: a buffer that must grow gets room for most statements.
constexpr std::size_t kTextRoom = 128;
inline void assign_text(std::string& dst, std::string_view text) {
  if (text.size() > dst.capacity() && text.size() > 15) {
    dst.clear();
    dst.reserve(std::max(text.size(), kTextRoom));
  }
  dst.assign(text);
}

void fill_statement(Event& event, const LogRecord& r, const Execution& x, double duration,
                    ParsedAhead* ahead) {
  copy_header(event.header, r.header);
  event.level = r.level;
  // Reuses the buffers of an event filled before (every field is set).
  auto* reused = std::get_if<StatementEvent>(&event.body);
  StatementEvent& s = reused != nullptr ? *reused : event.body.emplace<StatementEvent>();
  s.parameters.clear();
  if (ahead != nullptr && ahead->parsed.shape && x.sql.data() == r.message.data() + ahead->offset &&
      x.sql.size() == ahead->length) {
    s.parsed.shape = std::move(ahead->parsed.shape);
    s.parsed.literals.swap(ahead->parsed.literals);  // the caller reuses the event's list
  } else {
    s.parsed.shape.reset();
    s.parsed.literals.clear();
  }
  assign_text(s.sql, x.sql);
  s.duration_ms = duration;
  s.start = minus_ms(r.header.time, duration);
  s.protocol = x.kind == Execution::Kind::statement ? StatementEvent::Protocol::simple
                                     : StatementEvent::Protocol::extended;
  s.continues_portal = x.fetch;
  s.prepared_name.assign(x.name);
  if (s.protocol == StatementEvent::Protocol::extended) parse_parameters(r.detail, s.parameters);
}

}  // namespace

bool parse_parameters(std::string_view detail, std::vector<std::optional<std::string>>& out) {
  std::size_t p = detail.find("arameters: ");
  if (p == 0 || p == std::string_view::npos) return false;
  char first = detail[p - 1];
  if (first != 'p' && first != 'P') return false;
  if (p - 1 != 0 && detail[p - 2] != '\n') return false;
  return parse_parameter_list(detail.substr(p + 11), out);
}

std::string_view sqlstate_from_message(std::string_view message) {
  for (const KnownError& k : kKnownErrors) {
    if (k.prefix ? starts_with(message, k.text) : message.find(k.text) != std::string_view::npos) {
      return k.sqlstate;
    }
  }
  if (starts_with(message, "relation \"") && message.find("\" does not exist") != std::string_view::npos)
    return "42P01";
  if (starts_with(message, "column \"") && message.find(" does not exist") != std::string_view::npos)
    return "42703";
  return {};
}

Classifier::Held* Classifier::find_held(std::int32_t pid) {
  RecentPid& slot = recent_[static_cast<std::uint32_t>(pid) % kRecentPids];
  if (slot.known && slot.pid == pid) return slot.held;
  auto it = held_.find(pid);
  slot = RecentPid{pid, true, it == held_.end() ? nullptr : &it->second};
  return slot.held;
}

void Classifier::erase_held(std::int32_t pid) {
  RecentPid& slot = recent_[static_cast<std::uint32_t>(pid) % kRecentPids];
  if (slot.pid == pid) slot = RecentPid{};
  held_.erase(pid);
}

Classifier::Held& Classifier::held_for(std::int32_t pid) {
  Held* found = find_held(pid);
  if (found == nullptr) {
    found = &held_[pid];
    recent_[static_cast<std::uint32_t>(pid) % kRecentPids] = RecentPid{pid, true, found};
  }
  found->order = ++order_;
  return *found;
}

void Classifier::emit_other(const LogRecord& r, const EventSink& sink) {
  // One scratch event for all of them: its header strings keep their buffers.
  Event& e = other_scratch_;
  copy_header(e.header, r.header);
  e.level = r.level;
  if (!std::holds_alternative<OtherEvent>(e.body)) e.body.emplace<OtherEvent>();
  sink(e);
}

void Classifier::emit_statement(Event& event, const EventSink& sink) {
  ++counters_.statements;
  sink(event);
}

void Classifier::flush_statement(Held& held, const EventSink& sink) {
  if (!held.has_statement) return;
  held.has_statement = false;
  emit_statement(held.statement, sink);
}

std::string_view statement_text(const LogRecord& r) {
  if (r.level != LogLevel::log) return {};
  std::string_view m = r.message;
  if (consume(m, "duration: ")) {
    // Past the number without reading it (the classifier does): should the
    // two ever disagree, add() finds the text elsewhere and ignores `ahead`.
    const std::size_t space = m.find(' ');
    if (space == 0 || space == std::string_view::npos) return {};
    m.remove_prefix(space);
    if (!consume(m, " ms")) return {};
    skip_spaces(m);
  }
  // Statements and executions, not parse or bind lines (2 of 3 records of
  // the extended protocol): those start with another letter.
  if (m.empty() || (m.front() != 's' && m.front() != 'e')) return {};
  const Execution x = parse_execution(m);
  return x.kind == Execution::Kind::statement || x.kind == Execution::Kind::execute ? x.sql
                                                                                    : std::string_view{};
}

void Classifier::add(const LogRecord& r, const EventSink& sink, ParsedAhead* ahead) {
  if (held_.size() >= kMaxProcesses && held_.find(r.header.pid) == held_.end()) {
    // Too many processes with held state: flush the least recently used.
    auto oldest = std::min_element(held_.begin(), held_.end(), [](const auto& a, const auto& b) {
      return a.second.order < b.second.order;
    });
    flush_statement(oldest->second, sink);
    if (oldest->second.has_bind || oldest->second.has_parse) ++counters_.dropped_parse_bind;
    erase_held(oldest->first);
  }
  switch (r.level) {
    case LogLevel::error:
    case LogLevel::fatal:
    case LogLevel::panic:
      classify_error(r, sink);
      return;
    case LogLevel::log:
      classify_log(r, sink, ahead);
      return;
    default: {
      emit_other(r, sink);
      return;
    }
  }
}

void Classifier::classify_log(const LogRecord& r, const EventSink& sink, ParsedAhead* ahead) {
  std::string_view m = r.message;
  const std::int32_t pid = r.header.pid;

  if (consume(m, "duration: ")) {
    double duration = -1;
    if (!parse_double(m, duration) || !consume(m, " ms")) {
      emit_other(r, sink);
      return;
    }
    skip_spaces(m);
    Held* held = find_held(pid);
    if (m.empty()) {
      // Bare duration: completes a statement held from log_statement.
      if (held != nullptr && held->has_statement) {
        Held& h = *held;
        h.has_statement = false;
        Event& e = h.statement;
        StatementEvent& s = std::get<StatementEvent>(e.body);
        e.header.time = r.header.time;
        if (e.header.xid == 0) e.header.xid = r.header.xid;
        s.duration_ms = duration;
        s.start = minus_ms(r.header.time, duration);
        emit_statement(e, sink);
        return;
      }
      ++counters_.unpaired_durations;
      emit_other(r, sink);
      return;
    }
    Execution x = parse_execution(m);
    if (x.kind == Execution::Kind::other) {  // fastpath call, auto_explain plan
      emit_other(r, sink);
      return;
    }
    if (held != nullptr) flush_statement(*held, sink);
    if (x.kind == Execution::Kind::parse) {
      Held& h = held_for(pid);
      if (h.has_parse) ++counters_.dropped_parse_bind;
      h.has_parse = true;
      emit_other(r, sink);
      return;
    }
    if (x.kind == Execution::Kind::bind) {
      Held& h = held_for(pid);
      if (h.has_bind) ++counters_.dropped_parse_bind;
      h.has_bind = true;
      h.bind_name.assign(statement_name(x.name));
      // Parsed only if the execute line logs no parameters of its own
      // (with log_min_duration_statement both lines carry them).
      h.bind_detail.assign(r.detail);
      emit_other(r, sink);
      return;
    }
    Event& e = statement_scratch_;
    fill_statement(e, r, x, duration, ahead);
    if (x.kind == Execution::Kind::execute && held != nullptr) {
      Held& h = *held;
      StatementEvent& s = std::get<StatementEvent>(e.body);
      if (h.has_bind && s.parameters.empty() && h.bind_name == statement_name(x.name)) {
        if (!parse_parameters(h.bind_detail, s.parameters)) s.parameters.clear();
      }
      h.bind_detail.clear();
      h.has_bind = h.has_parse = false;
    }
    emit_statement(e, sink);
    return;
  }

  if (starts_with(m, "statement: ") || starts_with(m, "execute ")) {
    Execution x = parse_execution(m);
    if (x.kind == Execution::Kind::statement || x.kind == Execution::Kind::execute) {
      Held& h = held_for(pid);
      flush_statement(h, sink);
      fill_statement(h.statement, r, x, -1, ahead);
      StatementEvent& s = std::get<StatementEvent>(h.statement.body);
      if (x.kind == Execution::Kind::execute) {
        if (h.has_bind && s.parameters.empty() && h.bind_name == statement_name(x.name)) {
          if (!parse_parameters(h.bind_detail, s.parameters)) s.parameters.clear();
        }
        h.bind_detail.clear();
        h.has_bind = h.has_parse = false;
      }
      h.has_statement = true;
      return;
    }
  }

  if (starts_with(m, "process ")) {
    Event e{r.header, r.level, LockEvent{}};
    LockEvent& lock = std::get<LockEvent>(e.body);
    if (parse_lock_message(m, lock)) {
      parse_lock_detail(r.detail, lock);
      parse_lock_context(r.context, lock.tuple, lock.relation_name);
      lock.statement = r.statement;
      sink(e);
      return;
    }
  }

  if (consume(m, "connection received: ")) {
    if (Held* held = find_held(pid)) {
      flush_statement(*held, sink);
      erase_held(pid);
    }
    Event e{r.header, r.level, ConnectionEvent{ConnectionEvent::Kind::received, -1}};
    sink(e);
    return;
  }
  if (starts_with(m, "connection authorized: ") ||
      starts_with(m, "replication connection authorized: ")) {
    Event e{r.header, r.level, ConnectionEvent{ConnectionEvent::Kind::authorized, -1}};
    sink(e);
    return;
  }
  if (consume(m, "disconnection: session time: ")) {
    if (Held* held = find_held(pid)) {
      flush_statement(*held, sink);
      if (held->has_bind || held->has_parse) ++counters_.dropped_parse_bind;
      erase_held(pid);
    }
    int hours = 0, minutes = 0;
    double seconds = 0;
    double total = -1;
    if (parse_int(m, hours) && consume(m, ":") && parse_int(m, minutes) && consume(m, ":") &&
        parse_double(m, seconds)) {
      total = hours * 3600.0 + minutes * 60.0 + seconds;
    }
    Event e{r.header, r.level, ConnectionEvent{ConnectionEvent::Kind::disconnected, total}};
    sink(e);
    return;
  }
  if (consume(m, "temporary file: path \"")) {
    Event e{r.header, r.level, TempFileEvent{}};
    TempFileEvent& t = std::get<TempFileEvent>(e.body);
    std::size_t q = m.find("\", size ");
    if (q != std::string_view::npos) {
      t.path.assign(m.substr(0, q));
      std::string_view size = m.substr(q + 8);
      parse_int(size, t.bytes);
    } else {
      t.path.assign(m);
    }
    t.statement = r.statement;
    sink(e);
    return;
  }
  if (starts_with(m, "unexpected EOF on client connection with an open transaction")) {
    Event e{r.header, r.level, ErrorEvent{}};
    ErrorEvent& err = std::get<ErrorEvent>(e.body);
    err.sqlstate = "08006";
    err.message = r.message;
    sink(e);
    return;
  }
  emit_other(r, sink);
}

void Classifier::classify_error(const LogRecord& r, const EventSink& sink) {
  if (Held* held = find_held(r.header.pid)) {
    // The held log_statement line was this failed statement: no duration follows.
    flush_statement(*held, sink);
    held->has_bind = held->has_parse = false;
  }
  std::string_view m = r.message;
  std::string_view sqlstate = r.header.sqlstate;
  if (sqlstate.empty() || sqlstate == "00000") sqlstate = sqlstate_from_message(m);

  if (starts_with(m, "deadlock detected")) {
    Event e{r.header, r.level, DeadlockEvent{}};
    DeadlockEvent& d = std::get<DeadlockEvent>(e.body);
    parse_deadlock_detail(r.detail, d);
    d.statement = r.statement;
    d.context = r.context;
    e.header.sqlstate.assign(sqlstate);
    sink(e);
    return;
  }
  struct TimeoutText {
    std::string_view text;
    TimeoutEvent::Kind kind;
  };
  static constexpr std::array<TimeoutText, 5> kTimeouts{{
      {"canceling statement due to lock timeout", TimeoutEvent::Kind::lock_timeout},
      {"canceling statement due to statement timeout", TimeoutEvent::Kind::statement_timeout},
      {"terminating connection due to idle-in-transaction timeout",
       TimeoutEvent::Kind::idle_in_transaction_timeout},
      {"terminating connection due to idle-session timeout", TimeoutEvent::Kind::idle_session_timeout},
      {"terminating connection due to transaction timeout", TimeoutEvent::Kind::transaction_timeout},
  }};
  for (const TimeoutText& t : kTimeouts) {
    if (starts_with(m, t.text)) {
      Event e{r.header, r.level, TimeoutEvent{t.kind, r.statement, r.context}};
      e.header.sqlstate.assign(sqlstate);
      sink(e);
      return;
    }
  }
  if (starts_with(m, "could not obtain lock on ")) {
    // FOR UPDATE NOWAIT / LOCK NOWAIT: the request failed at once.
    Event e{r.header, r.level, LockEvent{}};
    LockEvent& lock = std::get<LockEvent>(e.body);
    lock.phase = LockEvent::Phase::failed_to_acquire;
    lock.waiter_pid = r.header.pid;
    lock.object.assign(m.substr(25));
    lock.object_kind = starts_with(m, "could not obtain lock on row") ? "tuple" : "relation";
    std::size_t q = m.find('"');
    if (q != std::string_view::npos) {
      std::size_t end = m.find('"', q + 1);
      if (end != std::string_view::npos) lock.relation_name.assign(m.substr(q + 1, end - q - 1));
    }
    lock.statement = r.statement;
    e.header.sqlstate.assign(sqlstate);
    sink(e);
    return;
  }
  Event e{r.header, r.level, ErrorEvent{std::string(sqlstate), r.message, r.detail, r.statement}};
  e.header.sqlstate.assign(sqlstate);
  sink(e);
}

void Classifier::finish(const EventSink& sink) {
  // Emit held statements in the order they were logged.
  std::vector<Held*> pending;
  for (auto& [pid, held] : held_) {
    if (held.has_statement) pending.push_back(&held);
    if (held.has_bind || held.has_parse) ++counters_.dropped_parse_bind;
  }
  std::sort(pending.begin(), pending.end(), [](const Held* a, const Held* b) {
    return a->statement.header.where.input != b->statement.header.where.input
               ? a->statement.header.where.input < b->statement.header.where.input
               : a->statement.header.where.line < b->statement.header.where.line;
  });
  for (Held* h : pending) flush_statement(*h, sink);
  held_.clear();
  recent_ = {};
}

}  // namespace pgsift::model
