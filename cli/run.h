// The whole program as a function, so tests can drive it in-process:
// parse the command line, dispatch to a subcommand, map errors to exit codes.
#pragma once

#include <ostream>

namespace pgsift::cli {

/// Runs pgsift with `argv`; returns the process exit status (0, 1 or 2).
/// Never throws.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace pgsift::cli
