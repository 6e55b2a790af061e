// A Report exercising every field the CI formats render: application source
// locations, several evidence lines, all severities, text that needs escaping
// in each format (%, ':', ',', newlines, XML markup, '|', invalid UTF-8) and
// parameter values that must stay hidden without --show-values.
#pragma once

#include "analyzers/core/finding.h"
#include "cli/report/report.h"

namespace pgsift::testing {

inline cli::report::Report sample_report() {
  using core::Evidence;
  using core::Finding;
  using core::Severity;
  cli::report::Report report;
  cli::input::InputSummary a;
  a.path = "ci/postgresql.log";
  a.format = "stderr";
  a.lines = 1200;
  cli::input::InputSummary b;
  b.path = "./ci/postgresql-2.csv";
  b.format = "csvlog";
  b.lines = 40;
  report.inputs = {a, b};

  Finding error;
  error.rule = "idle-in-transaction";
  error.severity = Severity::error;
  error.id = core::make_finding_id("idle-in-transaction", {"UPDATE accounts SET balance = $1 WHERE id = $2"});
  error.message = "transaction idle for 1250 ms while holding a row lock on accounts";
  error.help = "move the external call outside the transaction";
  error.sessions = {{4242, "6650a1b2.1092", "app", "shop", "checkout"}};
  error.evidence = {Evidence{"before-gap", 0, 1042, 1714557600102000, 4242,
                             "UPDATE accounts SET balance = $1 WHERE id = $2", 0.4, {"10", "7"}},
                    Evidence{"after-gap", 0, 1050, 1714557601352000, 4242, "COMMIT", 0.1, {}}};
  error.first_seen = 1714557600102000;
  error.last_seen = 1714557601352000;

  Finding nplus1;
  nplus1.rule = "n-plus-one";
  nplus1.severity = Severity::warning;
  nplus1.id = core::make_finding_id("n-plus-one", {"SELECT * FROM items WHERE order_id = $1"});
  nplus1.message = "'SELECT * FROM items WHERE order_id = $1' ran 120 times in one request";
  nplus1.help = "batch the lookups: WHERE order_id = ANY($1), or JOIN items to orders";
  nplus1.sessions = {{4243, "6650a1b2.1093", "app", "shop", "web"}};
  nplus1.evidence = {Evidence{"child", 1, 12, 1714557600200000, 4243, "SELECT * FROM items WHERE order_id = $1", 0.05,
                              {"secret-order-17"}},
                     Evidence{"parent", 1, 11, 1714557600199000, 4243, "SELECT id FROM orders WHERE user_id = $1",
                              0.2, {"3"}}};
  nplus1.details = {{"count", 120}, {"distinct_values", 120}, {"values", {"secret-order-17"}}};
  nplus1.occurrences = 3;
  nplus1.source_file = "app/controllers/orders_controller.rb";
  nplus1.source_line = 42;

  Finding tricky;
  tricky.rule = "lock-wait";
  tricky.severity = Severity::info;
  tricky.id = core::make_finding_id("lock-wait", {"tricky"});
  tricky.message = "waited 100% of 2,5 s: <lock> & \"quote\" | pipe\nsecond line \xff\xfe end";
  tricky.help = "use `NOWAIT` or a lock_timeout";
  tricky.evidence = {Evidence{"waiter", 0, 7, model::kNoTime, 77, "SELECT 1 /* ``` */", -1, {}}};

  report.findings = {error, nplus1, tricky};
  // Explicit rule table, so the goldens do not change when rules are added.
  report.rules = {{"deadlock", "Reports deadlocks with their full cycle.", Severity::error},
                  {"idle-in-transaction", "Reports client pauses inside open transactions.", Severity::warning},
                  {"lock-wait", "Reports sessions that waited for a lock.", Severity::info},
                  {"n-plus-one", "Reports one statement shape run once per row of a parent query.",
                   Severity::warning}};
  report.notes = {"gap analysis unavailable: log_min_duration_statement > 0"};
  report.suppressed = 2;
  report.baselined = 3;
  report.stale_baseline_ids = {"deadlock:00000000deadbeef"};
  return report;
}

}  // namespace pgsift::testing
