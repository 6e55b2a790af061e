// Two- and three-session scenarios of reference/races_locks.md §6, run on a
// real PostgreSQL 15 (tests/testing/PgCluster) with truly concurrent
// sessions, each with the findings pgsift must report about its log. Used by
// concurrency_e2e_test.cpp (live runs, every log format) and by the hidden
// "[.capture]" test that refreshes fixtures/rules/<rule>/*.{log,csv,json}.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/pg_cluster.h"

namespace pgsift::testing::concurrency {

/// A finding the log must produce. `session` ('A', 'B', 'C') and `locator`
/// (text on the record's first line) pick the record it is reported at.
struct Expect {
  std::string rule;
  std::string severity;
  std::string substring;
  char session = 'A';
  std::string locator;
};

class Run;

struct Scenario {
  std::string name;       // fixture file stem, e.g. "lost-update-read-committed"
  std::string rule;       // fixture folder: the rule whose output the fixture pins
  std::string reference;  // "§6 #1"
  std::vector<std::pair<std::string, std::string>> settings;  // extra postgresql.conf
  std::string extra_setup;  // SQL run after the common tables
  std::function<void(Run&)> steps;
  std::vector<Expect> expects;  // for `rule` only; other rules are checked by the e2e test
  std::string schema;           // DDL passed as --schema ("" = none)
};

/// The common tables (§6): no unique index on booking or signup.
inline constexpr const char* kSetup = R"SQL(
CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 1);
CREATE TABLE stock (id int PRIMARY KEY, qty int NOT NULL);
CREATE TABLE slot (id int PRIMARY KEY, capacity int NOT NULL);
CREATE TABLE booking (id serial, slot_id int NOT NULL);
CREATE TABLE oncall (doctor text PRIMARY KEY, shift int NOT NULL, on_call boolean NOT NULL);
CREATE TABLE coupon (code text PRIMARY KEY, used boolean NOT NULL DEFAULT false);
CREATE TABLE signup (email text NOT NULL, name text);
INSERT INTO acct VALUES (1, 100, 1), (2, 100, 1);
INSERT INTO stock VALUES (1, 1);
INSERT INTO slot VALUES (1, 1);
INSERT INTO oncall VALUES ('alice', 1, true), ('bob', 1, true);
INSERT INTO coupon VALUES ('X1', false);
)SQL";

/// The same tables as DDL for --schema (pg_dump style, keys as ALTER TABLE).
inline constexpr const char* kSchemaDdl = R"SQL(
CREATE TABLE public.acct (id integer NOT NULL, balance integer NOT NULL, version integer DEFAULT 1 NOT NULL);
CREATE TABLE public.booking (id integer NOT NULL, slot_id integer NOT NULL);
CREATE TABLE public.coupon (code text NOT NULL, used boolean DEFAULT false NOT NULL);
CREATE TABLE public.oncall (doctor text NOT NULL, shift integer NOT NULL, on_call boolean NOT NULL);
CREATE TABLE public.signup (email text NOT NULL, name text);
CREATE TABLE public.slot (id integer NOT NULL, capacity integer NOT NULL);
CREATE TABLE public.stock (id integer NOT NULL, qty integer NOT NULL);
ALTER TABLE ONLY public.acct ADD CONSTRAINT acct_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.coupon ADD CONSTRAINT coupon_pkey PRIMARY KEY (code);
ALTER TABLE ONLY public.oncall ADD CONSTRAINT oncall_pkey PRIMARY KEY (doctor);
ALTER TABLE ONLY public.slot ADD CONSTRAINT slot_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.stock ADD CONSTRAINT stock_pkey PRIMARY KEY (id);
)SQL";

/// One scenario run: the cluster, sessions A/B/C opened on first use, and
/// helpers to step them with short pauses (well inside the session tracker's
/// 250 ms unit gap, so autocommit steps of one session stay one unit).
class Run {
 public:
  explicit Run(PgCluster& pg) : pg(pg) {}
  PgCluster& pg;

  PgSession& s(char name) {
    auto it = sessions_.find(name);
    if (it == sessions_.end()) {
      it = sessions_.emplace(name, std::make_unique<PgSession>(pg.conninfo())).first;
      pids[name] = it->second->backend_pid();
    }
    return *it->second;
  }
  /// Runs a statement on a session, then pauses briefly.
  QueryResult step(char name, const std::string& sql) {
    QueryResult r = s(name).exec(sql);
    pause();
    return r;
  }
  QueryResult step_params(char name, const std::string& sql, const std::vector<Param>& params) {
    QueryResult r = s(name).exec_params(sql, params);
    pause();
    return r;
  }
  /// Starts a statement expected to block; returns once the server logged
  /// its "still waiting" line (deadlock_timeout = 200 ms).
  std::unique_ptr<BackgroundStatement> blocked(char name, const std::string& sql,
                                               std::optional<std::vector<Param>> params = std::nullopt) {
    auto statement = std::make_unique<BackgroundStatement>(s(name), sql, std::move(params));
    if (!statement->wait_until_lock_wait(pg.observer())) throw std::runtime_error("no lock wait: " + sql);
    const std::string needle = "process " + std::to_string(pids[name]) + " still waiting";
    if (!pg.wait_for_log(needle)) throw std::runtime_error("no still-waiting line for " + sql);
    return statement;
  }
  void pause(int ms = 20) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  /// Closes every session (disconnections are logged; units close).
  void close() { sessions_.clear(); }

  std::map<char, int> pids;

 private:
  std::map<char, std::unique_ptr<PgSession>> sessions_;
};

/// `text` with "{A}", "{B}", "{C}" replaced by those sessions' pids, so an
/// expectation can name the session a finding must point at.
inline std::string with_pids(std::string text, const std::map<char, int>& pids) {
  for (const auto& [name, pid] : pids) {
    const std::string placeholder = std::string("{") + name + "}";
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at)) {
      text.replace(at, placeholder.size(), std::to_string(pid));
    }
  }
  return text;
}

/// All scenarios, in §6 order.
std::vector<Scenario> scenarios();

}  // namespace pgsift::testing::concurrency
