// `pgsift watch --log`: which file holds the server's log, and following it
// beside the activity sampling. `--log auto` reads pg_settings
// (logging_collector, log_destination, data_directory, log_directory,
// log_filename, log_line_prefix) and pg_current_logfile() when this role may
// call it; when the log cannot be found or read from here the error says
// why and what to do. The log is analysed by FollowedLog (followed_log.h)
// without pgsift's own monitoring statements.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/analysis/pipeline.h"
#include "cli/live/followed_log.h"
#include "cli/live/pg_connection.h"

namespace pgsift::cli::live {

/// The server's log file as the server reports it.
struct ServerLog {
  std::string path;    // absolute
  std::string format;  // "csvlog", "jsonlog" or "stderr"
  std::string prefix;  // log_line_prefix (stderr)
};

/// What the server says about its logging, as read by find_server_log().
struct LogSettings {
  /// pg_settings name -> setting; a setting this role cannot see is absent
  /// (data_directory needs pg_read_all_settings).
  std::map<std::string, std::string> settings;
  /// pg_current_logfile(format) per format; absent when NULL.
  std::map<std::string, std::string> current;
  bool current_denied = false;  // pg_current_logfile() not granted to this role
  std::string role;
};

/// Decides the file from `settings` (pure, so every case is testable
/// without a server). "" or a one-line error saying what to do.
std::string locate_server_log(const LogSettings& settings, ServerLog& out);

/// Reads the settings through `connection`, then locate_server_log().
std::string find_server_log(Connection& connection, ServerLog& out);

/// The log beside `pgsift watch`: the file (or "auto"), followed from now on.
class LogWatch {
 public:
  /// `request`: format, prefix, rules and options as analyze takes them.
  /// nullptr with a one-line `error` when the log cannot be followed.
  static std::unique_ptr<LogWatch> open(const std::string& log, analysis::AnalysisRequest request,
                                        Connection& connection, std::ostream& err,
                                        std::string& error);

  /// Reads and analyses what was appended; appends lines for the user.
  /// `connection` (may be null while reconnecting) is left out of the
  /// analysis, and with --log auto asked every few seconds whether the
  /// server moved to a new file. "" or an error that ends the run.
  std::string poll(Connection* connection, std::vector<std::string>& lines);
  /// End of the run: with --log auto, a last look for a newer file (so the
  /// last seconds are not lost), then FollowedLog::finish().
  void finish(Connection* connection, std::vector<std::string>& lines);
  analysis::AnalysisResult take_result() { return log_->take_result(); }

  const std::string& path() const { return log_->path(); }
  std::uint64_t statements() const { return log_->statements(); }

 private:
  LogWatch() = default;
  void check_current_file(Connection& connection, std::vector<std::string>& lines);
  std::unique_ptr<FollowedLog> log_;
  bool automatic_ = false;
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace pgsift::cli::live
