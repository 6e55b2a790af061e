// Lock vocabulary shared by the lock-wait, deadlock and lock-timeout rules:
// lock modes and lock objects as PostgreSQL logs them (proc.c / lmgr.c
// DescribeLockTag, see reference/races_locks.md §3.1) put into words, and what
// a blocking session was doing, read from the session tracker's state at the
// moment of the event. Pure functions; nothing here keeps pointers into
// session state beyond the call.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzers/core/analyzer.h"

namespace pgsift::analyzers::locks {

/// The relation named in a CONTEXT line (`... in relation "t"`), or "".
std::string relation_from_context(std::string_view context);

/// Relation names the log itself gives for OIDs: lock lines name relations
/// only by OID ("relation 16384 of database 5"), but a tuple wait's CONTEXT
/// names the same relation in words, and a relation wait's statement usually
/// names the one table it waits for. Learned in log order, bounded.
class RelationNames {
 public:
  /// Learns what `event` tells about its OID (CONTEXT name, or the single
  /// table of its statement for a relation-level wait). A CONTEXT name is
  /// certain and replaces a guess from a statement.
  void learn(const model::LockEvent& event);
  /// The learned name of `oid`, or "".
  std::string find(std::uint64_t oid) const;

 private:
  struct Name {
    std::string name;
    bool certain = false;
  };
  std::map<std::uint64_t, Name> names_;
};

/// Relation name of a lock event: from its CONTEXT, else the schema's OID map,
/// else `learned` (may be null), else the only table its statement names
/// (relation-level waits, which carry no CONTEXT), else "relation with OID
/// <oid>"; "" when the lock is not on a relation or row.
std::string relation_of(const model::LockEvent& event, const core::Schema& schema,
                        const RelationNames* learned = nullptr);

/// True when relation_of() could not name the relation ("relation with OID N").
bool unnamed_relation(std::string_view relation);

/// The lock object in words: "row (0,1) of accounts (held by transaction 726)",
/// "table accounts", "advisory lock [5,0,42,1]".
std::string object_words(const model::LockEvent& event, const core::Schema& schema,
                         const RelationNames* learned = nullptr);

/// Whether heavyweight lock modes conflict (PostgreSQL's conflict table);
/// unknown mode names conflict with everything.
bool modes_conflict(std::string_view a, std::string_view b);

/// The only table a raw statement names, or "" (none, several, unparsable).
/// DDL and LOCK TABLE count: `ALTER TABLE acct ...` names acct.
std::string single_table(std::string_view raw);

/// Normalized SQL ($n placeholders) of a raw statement text; "" for "".
std::string normalize(std::string_view raw);

/// "850 ms", "12.3 s", "4 min 12 s".
std::string duration_words(double ms);

core::SessionRef ref_of(const model::SessionInfo& info);
/// Evidence located at an event's record.
core::Evidence evidence_at(const model::RecordHeader& header, std::string role, std::string_view raw_sql);
core::Evidence evidence_of(const model::Execution& execution, std::string role, std::int32_t pid);

/// What a session holding a lock was doing when another waited for it.
struct BlockerView {
  std::int32_t pid = 0;
  bool found = false;               // the session is known to the tracker
  std::string state;                // "idle in transaction", "idle", "active", "not in the log"
  double idle_ms = -1;              // idle (in transaction or not) for this long
  double transaction_ms = -1;       // age of its open transaction
  std::string last_statement;       // normalized
  std::string lock_statement;       // normalized: the statement of its transaction that most likely took the lock
  std::optional<core::Evidence> lock_evidence;
  std::optional<core::SessionRef> session;
  bool queued_ahead = false;        // a waiter queued ahead with a conflicting request, not a holder
};

/// Looks `pid` up at time `at`; `relation` (may be "") picks the statement that
/// touched it.
BlockerView view_blocker(std::int32_t pid, model::Timestamp at, const core::SessionDirectory& sessions,
                         std::string_view relation);
nlohmann::json to_json(const BlockerView& blocker);
/// "pid 6072 (idle in transaction for 2.0 s after 'UPDATE acct SET ...')".
std::string blocker_words(const BlockerView& blocker);

/// Sessions whose open transaction (at `at`) holds a lock on `relation` that
/// the cancelled request conflicts with: writes, row locks, LOCK TABLE and DDL
/// of it; with `any_access` (the request was DDL or a strong LOCK TABLE) also
/// plain reads. For a likely holder when the log names none; excludes `except`.
std::vector<BlockerView> likely_holders(std::string_view relation, model::Timestamp at,
                                        const core::SessionDirectory& sessions, std::int32_t except,
                                        bool any_access = false);

}  // namespace pgsift::analyzers::locks
