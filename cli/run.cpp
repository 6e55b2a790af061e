#include "cli/run.h"

#include <exception>
#include <map>
#include <string>

#include "cli/command.h"

namespace pgsift::cli {

void print_error(std::ostream& err, std::string_view message) {
  err << "pgsift: error: " << message << '\n';
}

void print_warning(std::ostream& err, std::string_view message) {
  err << "pgsift: warning: " << message << '\n';
}

namespace {

constexpr const char* kDescription =
    "pgsift finds N+1 query loops, transactions left open across external calls,\n"
    "check-then-act races, lock waits, deadlocks and lock timeouts in PostgreSQL\n"
    "query logs and live statistics.";

constexpr const char* kFooter =
    "Exit status: 0 nothing at or above --fail-on, 1 findings at or above it,\n"
    "2 could not run. See pgsift(1) and `pgsift <command> --help`.";

// CLI11 throws for --help/--version (success) and for usage errors.
int handle_parse_error(const CLI::ParseError& e, const CLI::App& app, std::ostream& out,
                       std::ostream& err) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
    // --help / --version: CLI11 formats these; print to stdout, exit 0.
    if (dynamic_cast<const CLI::CallForVersion*>(&e) != nullptr) {
      out << e.what() << '\n';
    } else {
      const CLI::App* target = &app;
      while (true) {
        const CLI::App* next = nullptr;
        for (const CLI::App* sub : target->get_subcommands()) next = sub;
        if (next == nullptr) break;
        target = next;
      }
      out << target->help();
    }
    return to_int(ExitCode::ok);
  }
  std::string message = e.what();
  print_error(err, message + " (see 'pgsift --help')");
  return to_int(ExitCode::cannot_run);
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        bool process_exits) {
  try {
    CLI::App app{kDescription, "pgsift"};
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("pgsift ") + PGSIFT_VERSION);
    app.require_subcommand(0, 1);
    app.fallthrough(false);

    CommandIo io{out, err, process_exits};
    std::map<const CLI::App*, CommandRunner> runners;
    for (const CommandSpec& spec : command_table()) {
      CLI::App* sub = app.add_subcommand(std::string(spec.name), std::string(spec.summary));
      sub->group(std::string(spec.group));
      runners[sub] = spec.setup(*sub, io);
    }

    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return handle_parse_error(e, app, out, err);
    }

    for (const CLI::App* sub : app.get_subcommands()) {
      auto it = runners.find(sub);
      if (it != runners.end()) return to_int(it->second());
    }
    out << app.help();
    return to_int(ExitCode::ok);
  } catch (const std::exception& e) {
    err << "pgsift: internal error: " << e.what() << '\n';
    return to_int(ExitCode::cannot_run);
  }
}

}  // namespace pgsift::cli
