#include "cli/live/live_common.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "cli/command.h"

namespace pgsift::cli::live {

namespace {

std::atomic<bool> g_stop{false};
struct sigaction g_old_int {}, g_old_term {};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

}  // namespace

std::optional<std::chrono::microseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  const std::string number(text.substr(0, i));
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || value < 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e6;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "us") scale = 1;
  else if (unit == "m" || unit == "min") scale = 60e6;
  else if (unit == "h") scale = 3600e6;
  else return std::nullopt;
  return std::chrono::microseconds(static_cast<std::int64_t>(value * scale));
}

std::string check_duration(const std::string& text) {
  return parse_duration(text) ? std::string()
                              : "expected a duration such as 250ms, 2s or 1m, got '" + text + "'";
}

StopSignal::StopSignal() {
  g_stop.store(false);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking read wakes up
  sigaction(SIGINT, &action, &g_old_int);
  sigaction(SIGTERM, &action, &g_old_term);
}

StopSignal::~StopSignal() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopSignal::requested() { return g_stop.load(); }

bool StopSignal::sleep_for(std::chrono::microseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        deadline - now, std::chrono::milliseconds(20)));
  }
  return false;
}

model::Timestamp wall_clock_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_timestamp(model::Timestamp time) {
  if (time == model::kNoTime) return "-";
  const std::time_t seconds = static_cast<std::time_t>(time / model::kMicrosPerSecond);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  const int ms = static_cast<int>((time % model::kMicrosPerSecond) / 1000);
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms < 0 ? 0 : ms);
  return buf;
}

std::string Reconnector::connect() {
  std::string error;
  connection_ = Connection::open(conninfo_, settings_, error);
  return connection_ ? std::string() : error;
}

Connection* Reconnector::get() {
  if (connection_ && connection_->is_alive()) return connection_.get();
  auto backoff = std::chrono::milliseconds(500);
  while (!StopSignal::requested()) {
    std::string error;
    connection_ = Connection::open(conninfo_, settings_, error);
    if (connection_) {
      print_warning(err_, "reconnected to " + connection_->description());
      return connection_.get();
    }
    print_warning(err_, error + "; retrying in " + std::to_string(backoff.count()) + " ms");
    if (!StopSignal::sleep_for(backoff)) break;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
  return nullptr;
}

void Reconnector::lost(const std::string& reason) {
  print_warning(err_, "connection lost: " + reason);
  connection_.reset();
}

}  // namespace pgsift::cli::live
