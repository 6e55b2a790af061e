// The whole program as a function, so tests can drive it in-process:
// parse the command line, dispatch to a subcommand, map errors to exit codes.
#pragma once

#include <ostream>

namespace pgsift::cli {

/// Runs pgsift with `argv`; returns the process exit status (0, 1 or 2).
/// Never throws. `process_exits`: the caller exits right after (main), so
/// what the command built need not be freed (CommandIo::process_exits).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        bool process_exits = false);

}  // namespace pgsift::cli
