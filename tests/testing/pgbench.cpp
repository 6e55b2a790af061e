#include "tests/testing/pgbench.h"

#include <signal.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

#include "tests/testing/pg_cluster.h"

namespace pgsift::testing {

namespace {

constexpr const char* kPgbench = "/usr/lib/postgresql/15/bin/pgbench";

std::vector<std::string> connection_args(const PgCluster& cluster, const std::string& user,
                                         const std::string& database) {
  return {"-h", "127.0.0.1", "-p", std::to_string(cluster.port()), "-U", user, database};
}

}  // namespace

void pgbench_init(const PgCluster& cluster, int scale, const std::string& database) {
  std::vector<std::string> argv = {kPgbench, "-i", "-q", "-s", std::to_string(scale)};
  for (std::string& a : connection_args(cluster, "postgres", database))
    argv.push_back(std::move(a));
  ProcessResult r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error("pgbench -i failed:\n" + r.output);
}

PgbenchRun::PgbenchRun(const PgCluster& cluster, const PgbenchOptions& options) {
  static std::atomic<int> counter{0};
  const std::string id = std::to_string(++counter);
  std::vector<std::string> argv = {
      kPgbench, "-n", "-M", options.protocol, "-c", std::to_string(options.clients), "-j", "1"};
  if (options.seconds > 0) {
    argv.insert(argv.end(), {"-T", std::to_string(options.seconds)});
  } else {
    argv.insert(argv.end(), {"-t", std::to_string(options.transactions)});
  }
  if (options.script.empty()) {
    argv.insert(argv.end(), {"-b", options.builtin});
  } else {
    std::filesystem::path script = cluster.directory() / ("pgbench-" + id + ".sql");
    std::ofstream(script) << options.script << '\n';
    argv.insert(argv.end(), {"-f", script.string()});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  for (std::string& a : connection_args(cluster, options.user, options.database))
    argv.push_back(std::move(a));
  process_ =
      std::make_unique<BackgroundProcess>(argv, cluster.directory() / ("pgbench-" + id + ".out"));
}

ProcessResult PgbenchRun::wait(std::chrono::milliseconds timeout) {
  ProcessResult result;
  std::optional<int> code = process_->wait_for(timeout);
  if (!code) {
    result.timed_out = true;
    process_->send_signal(SIGKILL);
    code = process_->wait_for(std::chrono::seconds(5));
  }
  result.exit_code = code.value_or(-1);
  result.output = process_->output();
  return result;
}

ProcessResult PgbenchRun::stop() {
  process_->send_signal(SIGINT);
  return wait(std::chrono::seconds(10));
}

bool PgbenchRun::running() { return !process_->wait_for(std::chrono::milliseconds(0)); }

long PgbenchRun::processed_transactions(const std::string& output) {
  const std::string key = "number of transactions actually processed: ";
  auto at = output.find(key);
  if (at == std::string::npos) return -1;
  return std::stol(output.substr(at + key.size()));
}

}  // namespace pgsift::testing
