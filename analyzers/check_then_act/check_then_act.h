/// Reports a read of rows followed, in the same transaction or a later one of
/// the same unit of work, by a write of the same rows (or an insert matching
/// the read) that nothing makes atomic. See man/rules/check-then-act.md.
//
// Data: closed units of work from the session tracker (on_unit), plus the
// serialization failures, unique violations, deadlocks and lock waits of the
// event stream (on_event) as evidence that the race happens. Findings are
// aggregated per pattern and emitted at finish(). One instance per run.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/check_then_act/scan.h"
#include "analyzers/core/analyzer.h"

namespace pgsift::analyzers {

class CheckThenActRule : public core::Rule {
 public:
  static const core::RuleInfo kInfo;
  /// Option names with "default: meaning", for the registry.
  static std::vector<std::pair<std::string, std::string>> option_docs();
  /// "" or a message naming the bad option.
  static std::string validate(const core::OptionMap& options);

  explicit CheckThenActRule(const core::RuleContext& context);

  const core::RuleInfo& info() const override { return kInfo; }
  void on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
               core::FindingSink& out) override;
  void on_event(const model::Event& event, const core::SessionDirectory& sessions,
                core::FindingSink& out) override;
  void finish(core::FindingSink& out) override;

 private:
  struct RuntimeEvent {
    model::Timestamp time = model::kNoTime;
    std::string what;       // "serialization failure", "unique violation", "deadlock", "lock wait"
    std::string statement;  // raw text, to compare with executions
  };
  struct RaceMark {
    std::string finding_id;
    std::string key;
    std::int32_t pid = 0;
    model::Timestamp begin = model::kNoTime, end = model::kNoTime;
  };

  /// A serialization failure (40001) of a write: the session must re-run the
  /// transaction, or the write it tried is lost (CTA-RETRY-MISSING).
  struct Failure {
    model::RecordHeader header;      // the ERROR record
    std::string statement;           // raw failing statement
    std::string normalized;
    std::string table;               // the table it writes
    bool judged = false;             // its transaction was seen (on_unit)
    bool pattern = false;            // that transaction read the table before writing it
    bool retried = false;            // the session ran the statement again afterwards
    sql::IsolationLevel isolation = sql::IsolationLevel::repeatable_read;
    bool isolation_known = false;
  };

  void add(const model::SessionInfo& session, const cta::Candidate& candidate);
  void note_failure(const model::Event& event, const std::string& statement, const std::string& message);
  void judge_failures(const model::SessionInfo& session, const model::UnitOfWork& unit);
  void report_missing_retries();
  void merge(core::Finding fresh);
  void merge_occurrence(core::Finding& old, const nlohmann::json& fresh_race, core::Severity severity,
                        const core::SessionRef& session, model::Timestamp first_seen, model::Timestamp last_seen);
  void remember(model::Timestamp time, std::string what, std::string statement);
  std::vector<const RuntimeEvent*> runtime_evidence(const cta::Candidate& c) const;
  bool race_seen(const RaceMark& mark) const;

  const core::Schema* schema_;
  core::Schema empty_schema_;
  cta::ScanOptions options_;
  /// Recent errors and waits of any session: the other session of a race is
  /// the one that fails (its failing statement is never logged as executed).
  std::deque<RuntimeEvent> runtime_;
  std::deque<RaceMark> marks_;
  std::deque<Failure> failures_;
  std::vector<core::Finding> findings_;          // in order of first appearance
  std::map<std::string, std::size_t> by_id_;     // id -> index into findings_
};

}  // namespace pgsift::analyzers
