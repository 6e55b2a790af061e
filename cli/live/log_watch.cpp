#include "cli/live/log_watch.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace pgsift::cli::live {

namespace fs = std::filesystem;

namespace {

// How often --log auto asks the server which file it writes (a
// log_filename with strftime escapes starts new files under new names).
constexpr auto kCurrentFileCheck = std::chrono::seconds(2);
// Polls per sampling interval at most, so a burst in the log cannot starve
// the activity sampling.
constexpr int kMaxPollsPerCall = 8;

const char* const kFollowable[] = {"csvlog", "jsonlog", "stderr"};  // preferred first

std::string trim(std::string text) {
  const auto begin = text.find_first_not_of(" \t");
  const auto end = text.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (std::string item = trim(text.substr(start, comma - start)); !item.empty()) {
      for (char& c : item) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      items.push_back(std::move(item));
    }
    start = comma + 1;
  }
  return items;
}

// The server's own naming (logfile_getname): csvlog and jsonlog files
// replace a ".log" suffix of log_filename, or add theirs.
std::string file_for_format(std::string name, const std::string& format) {
  if (format == "stderr") return name;
  if (name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) name.resize(name.size() - 4);
  return name + (format == "csvlog" ? ".csv" : ".json");
}

const std::string* setting(const LogSettings& s, const std::string& name) {
  const auto it = s.settings.find(name);
  return it == s.settings.end() ? nullptr : &it->second;
}

}  // namespace

std::string locate_server_log(const LogSettings& s, ServerLog& out) {
  out = ServerLog{};
  const std::string give_file = "; give the file with --log FILE";
  const std::string* collector = setting(s, "logging_collector");
  if (collector == nullptr || *collector != "on") {
    return "--log auto: logging_collector is off, so the server writes its log to its standard "
           "error (wherever pg_ctl -l, systemd or the container sends it)" + give_file;
  }
  const std::string* destination = setting(s, "log_destination");
  const std::vector<std::string> destinations = split_list(destination ? *destination : "");
  for (const char* format : kFollowable) {
    if (std::find(destinations.begin(), destinations.end(), format) != destinations.end()) {
      out.format = format;
      break;
    }
  }
  if (out.format.empty()) {
    return "--log auto: log_destination is '" + (destination ? *destination : std::string()) +
           "'; only stderr, csvlog and jsonlog files can be followed (add one to log_destination, "
           "or give a syslog file with --log FILE --format syslog)";
  }
  if (out.format == "stderr") {
    const std::string* prefix = setting(s, "log_line_prefix");
    out.prefix = prefix ? *prefix : "";
  }
  std::string file;
  if (const auto it = s.current.find(out.format); it != s.current.end()) {
    file = it->second;
  } else {
    // Without pg_current_logfile(): a fixed log_filename still names the file.
    const std::string* directory = setting(s, "log_directory");
    const std::string* name = setting(s, "log_filename");
    if (directory == nullptr || name == nullptr || name->find('%') != std::string::npos) {
      const std::string why =
          s.current_denied ? "role " + s.role + " may not call pg_current_logfile() (GRANT pg_monitor TO " +
                                 s.role + ")"
                           : "pg_current_logfile('" + out.format + "') is empty";
      return "--log auto: cannot tell the server's current " + out.format + " file: " + why +
             (name && name->find('%') != std::string::npos
                  ? " and log_filename '" + *name + "' changes with the date"
                  : std::string()) +
             give_file;
    }
    file = (fs::path(*directory) / file_for_format(*name, out.format)).string();
  }
  if (fs::path(file).is_relative()) {
    const std::string* data = setting(s, "data_directory");
    if (data == nullptr || data->empty()) {
      return "--log auto: the log '" + file +
             "' is relative to the data directory, which role " + s.role +
             " cannot see (GRANT pg_monitor TO " + s.role + ")" + give_file;
    }
    file = (fs::path(*data) / file).string();
  }
  out.path = fs::path(file).lexically_normal().string();
  return "";
}

std::string find_server_log(Connection& connection, ServerLog& out) {
  LogSettings s;
  Result rows = connection.query(
      "SELECT name, setting FROM pg_settings WHERE name IN ('logging_collector', "
      "'log_destination', 'data_directory', 'log_directory', 'log_filename', 'log_line_prefix')");
  for (int row = 0; row < rows.rows(); ++row) s.settings[rows.text(row, "name")] = rows.text(row, "setting");
  s.role = connection.user();
  for (const char* format : kFollowable) {
    try {
      Result current = connection.query("SELECT pg_current_logfile($1) AS file", {format});
      if (!current.is_null(0, 0)) s.current[format] = current.text(0, 0);
    } catch (const QueryError& e) {
      if (e.connection_lost()) throw;
      if (e.sqlstate() == "42501") {  // insufficient_privilege
        s.current_denied = true;
        break;
      }
    }
  }
  return locate_server_log(s, out);
}

std::unique_ptr<LogWatch> LogWatch::open(const std::string& log, analysis::AnalysisRequest request,
                                         Connection& connection, std::ostream& err,
                                         std::string& error) {
  std::unique_ptr<LogWatch> watch(new LogWatch());
  FollowedLogOptions options;
  options.from_start = false;  // what happens from now on
  options.input_index = 1;     // input 0 is the server's activity
  if (log == "auto") {
    ServerLog where;
    error = find_server_log(connection, where);
    if (!error.empty()) return nullptr;
    options.path = where.path;
    if (request.input.format.empty()) request.input.format = where.format;
    if (request.input.prefix.empty()) request.input.prefix = where.prefix;
    watch->automatic_ = true;
    watch->last_check_ = std::chrono::steady_clock::now();
  } else {
    options.path = log;
    // A stderr log (or pg_ctl -l output) carries the server's prefix.
    if (request.input.prefix.empty()) {
      request.input.prefix =
          connection.query("SELECT current_setting('log_line_prefix') AS prefix").text(0, "prefix");
    }
  }
  watch->log_ = FollowedLog::open(options, request, err, error);
  if (watch->log_ == nullptr) {
    if (watch->automatic_) {
      error = "--log auto: the server logs to " + options.path + ", which pgsift cannot follow: " +
              error + " (run pgsift on the database host, or give a copy with --log FILE)";
    }
    return nullptr;
  }
  watch->log_->ignore_pid(connection.backend_pid());
  return watch;
}

std::string LogWatch::poll(Connection* connection, std::vector<std::string>& lines) {
  if (connection != nullptr) log_->ignore_pid(connection->backend_pid());
  for (int i = 0; i < kMaxPollsPerCall; ++i) {
    if (log_->poll(lines)) break;
  }
  if (!log_->error().empty()) return log_->error();
  const auto now = std::chrono::steady_clock::now();
  if (automatic_ && connection != nullptr && now - last_check_ >= kCurrentFileCheck) {
    last_check_ = now;
    check_current_file(*connection, lines);
  }
  return "";
}

void LogWatch::check_current_file(Connection& connection, std::vector<std::string>& lines) {
  try {
    ServerLog where;
    if (find_server_log(connection, where).empty() && where.path != log_->path())
      log_->switch_to(where.path, lines);
  } catch (const QueryError&) {
    // The sampling loop notices a lost connection; the file stays as it is.
  }
}

void LogWatch::finish(Connection* connection, std::vector<std::string>& lines) {
  if (automatic_ && connection != nullptr && connection->is_alive()) check_current_file(*connection, lines);
  log_->finish(lines);
}

}  // namespace pgsift::cli::live
