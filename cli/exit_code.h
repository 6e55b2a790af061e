// pgsift's exit status, documented in README.md and man/pgsift.1.
#pragma once

namespace pgsift::cli {

enum class ExitCode : int {
  ok = 0,          // ran; nothing at or above the --fail-on threshold
  findings = 1,    // ran; findings at or above the threshold
  cannot_run = 2,  // usage error, unreadable input, connection failure
};

inline int to_int(ExitCode code) { return static_cast<int>(code); }

}  // namespace pgsift::cli
