// pgbench (/usr/lib/postgresql/15/bin/pgbench) against a PgCluster: the
// standard tables (pgbench -i), and a load running in the background while a
// test drives its own sessions ("alongside a pgbench load").
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/testing/process.h"

namespace pgsift::testing {

class PgCluster;

struct PgbenchOptions {
  std::string database = "postgres";
  std::string user = "postgres";
  std::string protocol = "simple";  // -M simple | extended | prepared
  int clients = 2;                  // -c
  int seconds = 0;                  // -T; when 0, `transactions` is used
  int transactions = 10;            // -t, per client
  /// A custom script (pgbench syntax, e.g. "\\set aid random(1, 100000)\n
  /// SELECT abalance FROM pgbench_accounts WHERE aid = :aid;"); empty = the
  /// built-in `builtin` script.
  std::string script;
  std::string builtin = "tpcb-like";  // -b; also "simple-update", "select-only"
  std::vector<std::string> extra_args;
};

/// pgbench -i -q -s <scale> (creates pgbench_accounts & co.); throws with
/// pgbench's output when it fails.
void pgbench_init(const PgCluster& cluster, int scale = 1,
                  const std::string& database = "postgres");

/// A pgbench run in the background. The destructor interrupts it if it is
/// still running (so a failing test never leaves it behind).
class PgbenchRun {
 public:
  PgbenchRun(const PgCluster& cluster, const PgbenchOptions& options);

  /// Waits for the end; returns pgbench's exit status and output.
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(120));
  /// Interrupts a time-based run early (SIGINT) and waits for it.
  ProcessResult stop();
  bool running();
  /// The transactions pgbench reports as processed (parsed from its summary,
  /// after wait()/stop()); -1 when the summary is missing.
  static long processed_transactions(const std::string& output);

 private:
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace pgsift::testing
