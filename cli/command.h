// A subcommand: its name, one-line summary, and a setup function that binds
// its options to a CLI11 subcommand and returns what to run once parsing
// succeeded. The table of all subcommands is in cli/commands.cpp.
#pragma once

#include <functional>
#include <ostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_code.h"

namespace pgsift::cli {

/// The streams a command writes to: findings/results to `out`, progress,
/// warnings and summaries to `err`.
struct CommandIo {
  std::ostream& out;
  std::ostream& err;
  /// The process exits when the command returns (main, not a test): a
  /// command may leave its working state for the operating system to reclaim.
  bool process_exits = false;
};

using CommandRunner = std::function<ExitCode()>;

struct CommandSpec {
  std::string_view name;
  std::string_view summary;
  std::string_view group;  // heading in `pgsift --help`
  std::function<CommandRunner(CLI::App& sub, CommandIo io)> setup;
};

/// All subcommands, in the order `pgsift --help` lists them.
std::vector<CommandSpec> command_table();

/// Prints "pgsift: error: <message>" on one line.
void print_error(std::ostream& err, std::string_view message);
/// Prints "pgsift: warning: <message>" on one line.
void print_warning(std::ostream& err, std::string_view message);

}  // namespace pgsift::cli
