/// Reports a gap between two statements of one open transaction during which
/// the client did something else while holding its snapshot and locks. See
/// man/rules/idle-in-transaction.md.
///
/// Input: units of work (gaps = next start - previous end, start = log time -
/// duration), lock-wait events naming this session's pid as the holder (kept
/// for a while, since units close after their lock events), and the server's
/// idle-in-transaction / transaction timeout terminations. Gap findings wait
/// for finish(): they are dropped when the log does not record every
/// statement (the pipeline then says why in the report's notes).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/core/analyzer.h"

namespace pgsift::analyzers {

struct IdleInTransactionOptions {
  double min_gap_ms = 100;
  double warning_gap_ms = 1000;  // a read-only transaction's gap becomes a warning
  double error_gap_ms = 5000;    // a gap while holding locks becomes an error
  /// Comma list of application_name patterns (trailing '*' = prefix) left out:
  /// people typing in interactive tools pause inside transactions by nature.
  std::string ignore_applications = "psql,pgAdmin*,DBeaver*,DataGrip*,TablePlus*,Navicat*";

  static std::string from(const core::OptionMap& options, IdleInTransactionOptions& out);
};

class IdleInTransactionRule final : public core::Rule {
 public:
  static const core::RuleInfo kInfo;
  static core::RuleEntry entry();

  explicit IdleInTransactionRule(const core::RuleContext& context);
  const core::RuleInfo& info() const override { return kInfo; }
  void on_unit(const model::SessionInfo& session, const model::UnitOfWork& unit,
               core::FindingSink& out) override;
  void on_event(const model::Event& event, const core::SessionDirectory& sessions,
                core::FindingSink& out) override;
  void finish(core::FindingSink& out) override;

  /// A lock wait blamed on a holder pid.
  struct Wait {
    model::Timestamp start = model::kNoTime;
    model::Timestamp end = model::kNoTime;
    std::int32_t waiter = 0;
    std::string mode, object, relation;
    model::SourceLocation where;
  };

 private:
  void on_transaction(const model::SessionInfo& session, const model::Transaction& transaction);
  void on_timeout(const model::Event& event, const core::SessionDirectory& sessions,
                  core::FindingSink& out);
  void record_wait(const model::Event& event, const model::LockEvent& lock);
  bool ignored(const std::string& application) const;
  void keep(core::Finding finding);
  void merge_occurrence(core::Finding& kept, const core::SessionRef& session, model::Timestamp first_seen,
                        model::Timestamp last_seen);

  IdleInTransactionOptions options_;
  const model::LogCoverage* coverage_ = nullptr;
  std::vector<std::string> ignore_patterns_;
  std::unordered_map<std::int32_t, std::deque<Wait>> waits_by_holder_;
  std::map<std::string, core::Finding> pending_;  // by id, aggregated
};

}  // namespace pgsift::analyzers
