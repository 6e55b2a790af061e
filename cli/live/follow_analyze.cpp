#include "cli/live/follow_analyze.h"

#include <chrono>
#include <filesystem>

#include "cli/live/followed_log.h"
#include "cli/live/live_common.h"

namespace pgsift::cli::live {

namespace {

// How often a quiet log is looked at again.
constexpr auto kPollInterval = std::chrono::milliseconds(200);

void print(std::vector<std::string>& lines, std::ostream& out) {
  for (const std::string& line : lines) out << line << '\n';
  if (!lines.empty()) out.flush();
  lines.clear();
}

}  // namespace

std::ostream& live_lines_stream(const std::vector<std::string>& reports, CommandIo io) {
  for (const std::string& value : reports) {
    const auto colon = value.find(':');
    const bool to_stdout = colon == std::string::npos || value.substr(colon + 1) == "-";
    if (to_stdout && value.substr(0, colon) != "text") return io.err;
  }
  return io.out;
}

analysis::AnalysisResult follow_analyze(const analysis::AnalysisRequest& request,
                                        const FollowRequest& follow, std::ostream& live,
                                        std::ostream& err) {
  analysis::AnalysisResult result;
  std::error_code ec;
  if (request.paths.size() != 1 || request.paths[0] == "-" ||
      std::filesystem::is_directory(request.paths[0], ec)) {
    result.error = "--follow takes exactly one log file (not a directory or '-')";
    return result;
  }
  std::chrono::microseconds duration{0};
  if (!follow.duration.empty()) duration = parse_duration(follow.duration).value_or(duration);

  FollowedLogOptions options;
  options.path = request.paths[0];
  options.from_start = true;  // analyze reads the whole log, then what comes
  StopSignal stop_signal;
  auto log = FollowedLog::open(options, request, err, result.error);
  if (log == nullptr) return result;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> lines;
  while (!StopSignal::requested()) {
    const bool caught_up = log->poll(lines);
    print(lines, live);
    if (!log->error().empty()) break;
    if (duration.count() > 0 && std::chrono::steady_clock::now() - started >= duration) break;
    if (caught_up && !StopSignal::sleep_for(kPollInterval)) break;
  }
  log->finish(lines);
  print(lines, live);
  return log->take_result();
}

}  // namespace pgsift::cli::live
