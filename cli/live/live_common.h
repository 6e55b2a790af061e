// What the live commands (watch, statements, analyze --follow) share:
// duration arguments, the Ctrl-C flag, interruptible sleeps, reconnection
// with backoff, and timestamps for plain output lines.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "analyzers/model/time.h"
#include "cli/live/pg_connection.h"

namespace pgsift::cli::live {

/// "250ms", "2s", "1.5s", "3m", "1h"; a bare number is seconds. nullopt when
/// the text is not a positive-or-zero duration.
std::optional<std::chrono::microseconds> parse_duration(std::string_view text);

/// A CLI11 validator-friendly check: "" when fine, else the reason.
std::string check_duration(const std::string& text);

/// Installs SIGINT/SIGTERM handlers that set a flag (restored by the
/// destructor), so loops end cleanly and still write their report.
class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  /// True once SIGINT or SIGTERM arrived.
  static bool requested();
  /// Sleeps up to `duration`, returning early (false) when a stop arrived.
  static bool sleep_for(std::chrono::microseconds duration);
};

/// Wall clock now, microseconds since the epoch.
model::Timestamp wall_clock_now();
/// "2026-12-05 14:50:01.123 UTC".
std::string format_timestamp(model::Timestamp time);

/// Keeps a connection open: reconnects after a loss with backoff (0.5 s
/// doubling up to 10 s), reporting each attempt on `err` as a warning.
class Reconnector {
 public:
  Reconnector(std::string conninfo, SessionSettings settings, std::ostream& err)
      : conninfo_(std::move(conninfo)), settings_(settings), err_(err) {}
  /// First connection; "" on success, else the one-line error.
  std::string connect();
  /// A live connection, reconnecting if needed; nullptr when a stop was
  /// requested before one could be made.
  Connection* get();
  /// Reports the loss (once) and drops the connection.
  void lost(const std::string& reason);
  Connection* current() { return connection_.get(); }

 private:
  std::string conninfo_;
  SessionSettings settings_;
  std::ostream& err_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace pgsift::cli::live
