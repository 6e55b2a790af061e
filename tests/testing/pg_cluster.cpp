#include "tests/testing/pg_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace pgsift::testing {

namespace {

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
// Clusters live in /tmp/pgsift-cluster-XXXXXX; the initdb result is cached in
// /tmp/pgsift-initdb-<kTemplateVersion>-uid<uid> (bump the version whenever
// the initdb arguments change).
constexpr const char* kClusterPrefix = "pgsift-cluster-";
constexpr const char* kTemplateVersion = "v2";

std::string bin(const char* program) { return std::string(kBinDir) + "/" + program; }

[[noreturn]] void fail(const std::string& what, const std::string& details = "") {
  throw std::runtime_error("pg harness: " + what + (details.empty() ? "" : "\n" + details));
}

ProcessResult must_run(const std::vector<std::string>& argv, const std::string& what) {
  ProcessResult r = run_process(argv);
  if (r.exit_code != 0) fail(what + " failed (exit " + std::to_string(r.exit_code) + ")", r.output);
  return r;
}

// The OS user that owns and runs the server: `postgres` when we are root.
void give_to_server_user(const fs::path& path) {
  if (geteuid() != 0) return;
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) fail("running as root but there is no `postgres` user");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) fail("chown " + path.string());
}

fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) fail("mkdtemp " + pattern + ": " + std::strerror(errno));
  fs::path dir(pattern);
  give_to_server_user(dir);
  return dir;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket()");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    fail("cannot find a free port on 127.0.0.1");
  }
  close(fd);
  return ntohs(address.sin_port);
}

// A postgresql.conf string literal (backslash escapes are processed there).
std::string conf_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += c;  // '' and \\ are the escaped forms
    out += c;
  }
  return out + "'";
}

// A libpq conninfo value.
std::string conninfo_quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string sql_literal(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string sql_identifier(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

int read_postmaster_pid(const fs::path& data_directory) {
  std::ifstream in(data_directory / "postmaster.pid");
  int pid = 0;
  in >> pid;
  return in ? pid : 0;
}

bool process_is_postgres(int pid) {
  std::string comm = read_file("/proc/" + std::to_string(pid) + "/comm");
  return comm.find("postgres") != std::string::npos || comm.find("postmaster") != std::string::npos;
}

// ---------------------------------------------------------------------------
// Cleanup on signals. The handler may only use async-signal-safe calls, so
// the live clusters are kept in fixed slots with precomputed paths.

constexpr int kMaxClusters = 64;
constexpr std::size_t kPathMax = 512;

struct Slot {
  std::atomic<int> postmaster_pid{0};
  char directory[kPathMax];
  char pid_file[kPathMax];
};

Slot g_slots[kMaxClusters];
std::mutex g_slots_mutex;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT};
struct sigaction g_previous[sizeof kSignals / sizeof kSignals[0]];
std::atomic<bool> g_cleaning{false};

void sleep_ms(long ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, nullptr);
}

void cleanup_on_signal(int signal) {
  if (!g_cleaning.exchange(true)) {
    for (Slot& slot : g_slots) {
      int pid = slot.postmaster_pid.load();
      if (pid > 0) kill(pid, SIGQUIT);  // immediate shutdown
    }
    for (Slot& slot : g_slots) {
      int pid = slot.postmaster_pid.load();
      if (pid <= 0) continue;
      // The postmaster deletes postmaster.pid when it is gone.
      for (int i = 0; i < 300 && access(slot.pid_file, F_OK) == 0; ++i) sleep_ms(10);
      if (access(slot.pid_file, F_OK) == 0) kill(pid, SIGKILL);
      char rm[] = "/bin/rm";
      char flags[] = "-rf";
      char* argv[] = {rm, flags, slot.directory, nullptr};
      char* envp[] = {nullptr};
      pid_t child = -1;
      if (posix_spawn(&child, rm, nullptr, nullptr, argv, envp) == 0) {
        int status = 0;
        waitpid(child, &status, 0);
      }
      slot.postmaster_pid.store(0);
    }
  }
  for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
    if (kSignals[i] == signal) sigaction(signal, &g_previous[i], nullptr);
  }
  raise(signal);
}

// Installed before main(), so that Catch2 (which installs its own handlers
// around each test case and restores the previous ones on a signal) chains
// to this one.
struct SignalHandlersInstaller {
  SignalHandlersInstaller() {
    struct sigaction action {};
    action.sa_handler = cleanup_on_signal;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
      sigaction(kSignals[i], &action, &g_previous[i]);
    }
  }
} g_installer;

int register_cluster(const fs::path& directory, const fs::path& data_directory, int pid) {
  std::lock_guard lock(g_slots_mutex);
  for (int i = 0; i < kMaxClusters; ++i) {
    Slot& slot = g_slots[i];
    if (slot.postmaster_pid.load() != 0) continue;
    std::snprintf(slot.directory, kPathMax, "%s", directory.c_str());
    std::snprintf(slot.pid_file, kPathMax, "%s", (data_directory / "postmaster.pid").c_str());
    slot.postmaster_pid.store(pid);
    return i;
  }
  return -1;
}

void unregister_cluster(int slot) {
  if (slot < 0) return;
  std::lock_guard lock(g_slots_mutex);
  g_slots[slot].postmaster_pid.store(0);
}

// Clusters whose test process died without cleaning up (SIGKILL, a ctest
// timeout): stop their server and delete them. Cheap (one /tmp listing), so
// it runs at every start.
void remove_abandoned_clusters() {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    if (entry.path().filename().string().rfind(kClusterPrefix, 0) != 0) continue;
    std::ifstream owner_file(entry.path() / "owner.pid");
    int owner = 0;
    if (!(owner_file >> owner) || owner <= 0) continue;
    if (kill(owner, 0) == 0 || errno != ESRCH) continue;  // owner alive
    fs::path data = entry.path() / "data";
    int postmaster = read_postmaster_pid(data);
    if (postmaster > 0 && process_is_postgres(postmaster)) {
      kill(postmaster, SIGQUIT);
      wait_until([&] { return !fs::exists(data / "postmaster.pid"); }, std::chrono::seconds(3));
      if (fs::exists(data / "postmaster.pid")) kill(postmaster, SIGKILL);
    }
    fs::remove_all(entry.path(), ec);
  }
}

// initdb once per machine and uid; later clusters copy the result (~0.3 s
// instead of ~1.5 s). Built in a private dir and renamed into place, so
// concurrent test processes never see half a template.
fs::path initdb_template() {
  fs::path final_dir =
      fs::temp_directory_path() /
      ("pgsift-initdb-" + std::string(kTemplateVersion) + "-uid" + std::to_string(geteuid()));
  if (fs::exists(final_dir / "ready")) return final_dir / "data";
  fs::path building = make_temp_dir("pgsift-initdb-building-");
  fs::path data = building / "data";
  must_run(
      as_postgres_user({bin("initdb"), "-D", data.string(), "-U", "postgres", "-A", "trust", "-E",
                        "UTF8", "--locale=C", "--no-sync", "--no-instructions", "--wal-segsize=1"}),
      "initdb");
  std::ofstream(building / "ready") << "initdb done\n";
  std::error_code ec;
  fs::rename(building, final_dir, ec);
  if (ec) fs::remove_all(building, ec);  // another process won the race
  if (!fs::exists(final_dir / "ready"))
    fail("cannot create the initdb template " + final_dir.string());
  return final_dir / "data";
}

}  // namespace

// ---------------------------------------------------------------------------

PgCluster::PgCluster(PgClusterOptions options) : options_(std::move(options)) {
  remove_abandoned_clusters();
  prepare_directory();
  try {
    write_config();
    write_hba();
    start_server();
  } catch (...) {
    stop();
    std::error_code ec;
    fs::remove_all(directory_, ec);
    throw;
  }
}

PgCluster::~PgCluster() {
  observer_.reset();
  try {
    stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg harness: %s\n", e.what());
  }
  std::error_code ec;
  fs::remove_all(directory_, ec);
}

void PgCluster::prepare_directory() {
  fs::path template_data = initdb_template();
  directory_ = make_temp_dir(kClusterPrefix);
  std::ofstream(directory_ / "owner.pid") << getpid() << '\n';
  must_run({"cp", "-a", template_data.string(), data_directory().string()},
           "copying the initdb template");

  std::string stem = options_.log_filename;
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".log") == 0)
    stem.resize(stem.size() - 4);
  log_paths_.directory = directory_ / "log";
  log_paths_.stderr_log = log_paths_.directory / options_.log_filename;
  log_paths_.csvlog = log_paths_.directory / (stem + ".csv");
  log_paths_.jsonlog = log_paths_.directory / (stem + ".json");
}

void PgCluster::write_config() {
  port_ = free_port();
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"listen_addresses", "127.0.0.1"},
      {"port", std::to_string(port_)},
      {"unix_socket_directories", directory_.string()},
      {"max_connections", "50"},
      {"shared_buffers", "16MB"},
      // Throwaway data: durability only costs time.
      {"fsync", "off"},
      {"synchronous_commit", "off"},
      {"full_page_writes", "off"},
      {"autovacuum", "off"},
      {"lc_messages", "C"},
      {"timezone", "UTC"},
      {"log_timezone", "UTC"},
      {"shared_preload_libraries", "pg_stat_statements"},
      {"logging_collector", "on"},
      {"log_destination", options_.log_destination},
      {"log_directory", log_paths_.directory.string()},
      {"log_filename", options_.log_filename},
      {"log_file_mode", "0644"},
      {"log_rotation_age", "0"},
      {"log_rotation_size", "0"},
      {"log_line_prefix", options_.log_line_prefix},
      {"log_min_duration_statement", std::to_string(options_.log_min_duration_statement_ms)},
      {"log_lock_waits", "on"},
      {"deadlock_timeout", "200ms"},
      {"log_connections", "on"},
      {"log_disconnections", "on"},
      {"log_temp_files", "0"},
  };
  std::ofstream conf(data_directory() / "postgresql.conf", std::ios::app);
  conf << "\n# pgsift test harness\n";
  for (const auto& [name, value] : defaults) conf << name << " = " << conf_quote(value) << '\n';
  for (const auto& [name, value] : options_.settings)
    conf << name << " = " << conf_quote(value) << '\n';
  if (!conf) fail("cannot write postgresql.conf");
}

void PgCluster::write_hba() {
  std::ofstream hba(data_directory() / "pg_hba.conf", std::ios::trunc);
  hba << "# pgsift test harness: trust, except users created with a password\n";
  hba << "local all all trust\n";
  for (const std::string& user : password_users_) {
    hba << "host all " << sql_identifier(user) << " 127.0.0.1/32 scram-sha-256\n";
  }
  hba << "host all all 127.0.0.1/32 trust\n";
  if (!hba) fail("cannot write pg_hba.conf");
}

void PgCluster::start_server() {
  for (int attempt = 0;; ++attempt) {
    ProcessResult r = run_process(
        as_postgres_user({bin("pg_ctl"), "-D", data_directory().string(), "-l",
                          (directory_ / "startup.log").string(), "-w", "-t", "60", "-s", "start"}));
    if (r.exit_code == 0) break;
    std::string output = r.output + server_output();
    // Another process took the port between free_port() and bind: retry.
    bool port_taken = output.find("could not bind") != std::string::npos ||
                      output.find("Address already in use") != std::string::npos;
    if (!port_taken || attempt >= 4) fail("pg_ctl start failed", output);
    run_process(as_postgres_user(
        {bin("pg_ctl"), "-D", data_directory().string(), "-m", "immediate", "-w", "-s", "stop"}));
    std::ofstream(data_directory() / "postgresql.conf", std::ios::app)
        << "port = '" << (port_ = free_port()) << "'\n";
  }
  postmaster_pid_ = read_postmaster_pid(data_directory());
  running_ = true;
  registry_slot_ = register_cluster(directory_, data_directory(), postmaster_pid_);
}

std::string PgCluster::server_output() const {
  return read_file(directory_ / "startup.log") + read_file(log_paths_.stderr_log);
}

void PgCluster::stop() {
  // The harness's own session disconnects normally, like any client would.
  observer_.reset();
  if (!running_ && !fs::exists(data_directory() / "postmaster.pid")) return;
  const std::string data = data_directory().string();
  ProcessResult r = run_process(
      as_postgres_user({bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "-t", "20", "-s", "stop"}),
      std::chrono::seconds(30));
  if (r.exit_code != 0 && fs::exists(data_directory() / "postmaster.pid")) {
    run_process(as_postgres_user(
                    {bin("pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "10", "-s", "stop"}),
                std::chrono::seconds(20));
  }
  if (postmaster_pid_ > 0 && fs::exists(data_directory() / "postmaster.pid") &&
      process_is_postgres(postmaster_pid_)) {
    kill(postmaster_pid_, SIGKILL);
  }
  unregister_cluster(registry_slot_);
  registry_slot_ = -1;
  running_ = false;
  postmaster_pid_ = 0;
}

std::string PgCluster::conninfo(std::string_view database, std::string_view user) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + conninfo_quote(database) +
         " user=" + conninfo_quote(user) + " connect_timeout=10";
}

std::string PgCluster::socket_conninfo(std::string_view database, std::string_view user) const {
  return "host=" + conninfo_quote(directory_.string()) + " port=" + std::to_string(port_) +
         " dbname=" + conninfo_quote(database) + " user=" + conninfo_quote(user) +
         " connect_timeout=10";
}

PgSession PgCluster::connect(std::string_view database, std::string_view user) const {
  return PgSession(conninfo(database, user));
}

PgSession& PgCluster::observer() {
  std::lock_guard lock(observer_mutex_);
  if (!observer_) {
    observer_ = std::make_unique<PgSession>(
        conninfo() +
        " application_name=pgsift-observer options='-c log_min_duration_statement=-1'");
  }
  return *observer_;
}

void PgCluster::create_database(const std::string& name) {
  observer().exec("CREATE DATABASE " + sql_identifier(name));
}

void PgCluster::create_role(const std::string& name, std::optional<std::string> password) {
  std::string sql = "CREATE ROLE " + sql_identifier(name) + " LOGIN";
  if (password) sql += " PASSWORD " + sql_literal(*password);
  observer().exec(sql);
  observer().exec("GRANT ALL ON SCHEMA public TO " + sql_identifier(name));
  if (!password) return;
  password_users_.push_back(name);
  write_hba();
  set_config("password_encryption", "scram-sha-256");
}

void PgCluster::set_config(const std::string& name, const std::string& value) {
  PgSession& s = observer();
  const std::string before = s.exec("SELECT pg_conf_load_time()").value();
  s.exec("ALTER SYSTEM SET " + name + " = " + sql_literal(value));
  s.exec("SELECT pg_reload_conf()");
  // The postmaster reloads first and then signals its children, so once the
  // observer's backend shows a new load time, new sessions get the settings.
  bool reloaded = wait_until([&] { return s.exec("SELECT pg_conf_load_time()").value() != before; },
                             std::chrono::seconds(10), std::chrono::milliseconds(10));
  if (!reloaded) fail("configuration reload did not happen");
}

const fs::path& PgCluster::log_path(LogKind kind) const {
  switch (kind) {
    case LogKind::csvlog:
      return log_paths_.csvlog;
    case LogKind::jsonlog:
      return log_paths_.jsonlog;
    case LogKind::stderr_log:
      break;
  }
  return log_paths_.stderr_log;
}

std::string PgCluster::read_log(LogKind kind) const { return read_file(log_path(kind)); }

std::string PgCluster::read_log(LogKind kind, const LogPosition& from) const {
  std::uintmax_t offset = kind == LogKind::csvlog    ? from.csvlog
                          : kind == LogKind::jsonlog ? from.jsonlog
                                                     : from.stderr_log;
  std::string text = read_log(kind);
  return offset >= text.size() ? std::string() : text.substr(offset);
}

void PgCluster::sync_logs() {
  const std::string marker = "pgsift-harness-sync-" + std::to_string(++sync_counter_);
  observer().exec("DO $$BEGIN RAISE LOG '" + marker + "'; END$$");
  const std::string& destinations = options_.log_destination;
  const std::pair<const char*, LogKind> kinds[] = {
      {"stderr", LogKind::stderr_log}, {"csvlog", LogKind::csvlog}, {"jsonlog", LogKind::jsonlog}};
  for (const auto& [name, kind] : kinds) {
    if (destinations.find(name) == std::string::npos) continue;
    if (!wait_for_log(marker, std::chrono::seconds(10), kind)) {
      fail("log marker did not reach " + log_path(kind).string());
    }
  }
}

LogPosition PgCluster::log_position() {
  sync_logs();
  std::error_code ec;
  auto size = [&](const fs::path& p) -> std::uintmax_t {
    auto s = fs::file_size(p, ec);
    return ec ? 0 : s;
  };
  return {size(log_paths_.stderr_log), size(log_paths_.csvlog), size(log_paths_.jsonlog)};
}

bool PgCluster::wait_for_log(std::string_view needle, std::chrono::milliseconds timeout,
                             LogKind kind) const {
  return wait_for_log([&](const std::string& log) { return log.find(needle) != std::string::npos; },
                      timeout, kind);
}

bool PgCluster::wait_for_log(const std::function<bool(const std::string&)>& predicate,
                             std::chrono::milliseconds timeout, LogKind kind) const {
  return wait_until([&] { return predicate(read_log(kind)); }, timeout);
}

void PgCluster::rotate_logs() { observer().exec("SELECT pg_rotate_logfile()"); }

}  // namespace pgsift::testing
