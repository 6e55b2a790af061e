// `pgsift config`: prints the effective configuration (defaults < project
// file < PGSIFT_* environment < flags) with the origin of every value, or
// the error that would stop `pgsift analyze` (exit 2).
#include <memory>

#include "cli/command.h"
#include "cli/config/flags.h"

namespace pgsift::cli {

CommandSpec config_command() {
  return {"config", "Print the effective configuration and where each value came from",
          "Configuration and documentation", [](CLI::App& sub, CommandIo io) -> CommandRunner {
            auto flags = std::make_shared<config::ConfigFlags>();
            config::bind_file_flags(sub, *flags);
            config::bind_value_flags(sub, *flags);
            return [flags, io]() {
              const auto rules = config::registered_rules();
              config::Config effective;
              std::string error = config::load_config(config::load_options(*flags), effective);
              if (error.empty()) error = config::apply_flags(*flags, rules, effective);
              if (!error.empty()) {
                print_error(io.err, error);
                return ExitCode::cannot_run;
              }
              config::print_config(effective, rules, io.out);
              return ExitCode::ok;
            };
          }};
}

}  // namespace pgsift::cli
