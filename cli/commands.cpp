// The subcommand table. Each subcommand lives in cli/commands/<name>.cpp and
// exposes one `CommandSpec <name>_command()`.
#include "cli/command.h"

namespace pgsift::cli {

// Log analysis commands:
CommandSpec analyze_command();
CommandSpec events_command();

// Live commands:
CommandSpec watch_command();
CommandSpec statements_command();

// Configuration and documentation commands:
CommandSpec rules_command();
CommandSpec config_command();  // cli/commands/config.cpp (gate)

std::vector<CommandSpec> command_table() {
  std::vector<CommandSpec> table;
  // Log analysis:
  table.push_back(analyze_command());
  table.push_back(events_command());

  // Live:
  table.push_back(watch_command());
  table.push_back(statements_command());

  // Configuration and documentation:
  table.push_back(rules_command());
  table.push_back(config_command());  // gate

  return table;
}

}  // namespace pgsift::cli
