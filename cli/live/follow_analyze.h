// `pgsift analyze --follow LOG`: reads the log, then keeps following it like
// `tail -F`, printing findings as the rules report them, until Ctrl-C or
// --duration. The result is the same as a plain analyze's, so the analyze
// command writes the same reports and exits with the same codes.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/analysis/pipeline.h"
#include "cli/command.h"

namespace pgsift::cli::live {

struct FollowRequest {
  bool enabled = false;    // --follow
  std::string duration;    // --duration; "" = until Ctrl-C
};

/// Follows the one file in `request.paths`; live lines go to `live`,
/// warnings and notes to `err`. AnalysisResult::error is set when the log
/// cannot be followed (not one file, unreadable, unknown format).
analysis::AnalysisResult follow_analyze(const analysis::AnalysisRequest& request,
                                        const FollowRequest& follow, std::ostream& live,
                                        std::ostream& err);

/// Where live lines go: stdout, unless a --report value writes a machine
/// format there (then stderr, so the report stays parseable).
std::ostream& live_lines_stream(const std::vector<std::string>& reports, CommandIo io);

}  // namespace pgsift::cli::live
