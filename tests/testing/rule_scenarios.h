// Client scenarios for the session rules (n-plus-one, repeated-query,
// idle-in-transaction), run against a real PostgreSQL 15 harness cluster.
// The same scenarios produce the checked-in fixtures (rule_fixtures_test.cpp,
// hidden tag [.generate-fixtures]) and run live in the end-to-end tests
// (tests/e2e/session_rules_e2e_test.cpp), so what the fixtures claim is what a
// real server logs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tests/testing/pg_cluster.h"

namespace pgsift::testing {

/// One finding a scenario must produce.
struct ExpectedFinding {
  std::string rule;
  std::string severity;
  /// Text of the log line that is the finding's primary location (the
  /// `occurrence`-th line containing it, in the scenario's slice of the log).
  std::string anchor;
  int occurrence = 1;
  /// Substring of the finding's message.
  std::string message;
};

struct RuleScenario {
  std::string rule_dir;                  // fixtures/rules/<rule_dir>/
  std::string name;                      // file name without extension
  std::string description;               // one line, written into the .expect file
  std::vector<std::string> rules;        // rules to run ("" = rule_dir)
  std::vector<ExpectedFinding> expect;   // empty: a negative case
  std::vector<std::string> notes;        // substrings of expected report notes
  bool statement_logging_only = false;   // needs log_statement=all without durations
  /// Runs the scenario; returns the backend pids of its sessions.
  std::function<std::vector<int>(PgCluster&)> run;
};

/// Tables and rows the scenarios use (customers, orders, items, settings,
/// accounts, jobs). Run once per cluster, before the scenarios.
void create_shop_schema(PgCluster& cluster);

/// Every scenario, in a fixed order.
const std::vector<RuleScenario>& rule_scenarios();

/// The application_name the scenarios' sessions use.
inline constexpr const char* kScenarioApplication = "shop-web";

}  // namespace pgsift::testing
