// `pgsift rules` lists the rules; `pgsift rules ID` prints a rule's page,
// the same text as man/rules/<id>.md (embedded at build time).
#include <algorithm>
#include <memory>
#include <string>

#include "analyzers/core/analyzer.h"
#include "cli/analysis/rule_selection.h"
#include "cli/command.h"
#include "cli/rule_docs.h"

namespace pgsift::cli {

namespace {

ExitCode list_rules(std::ostream& out) {
  std::size_t width = 0;
  for (const core::RuleEntry& entry : core::rule_registry()) width = std::max(width, entry.info.id.size());
  for (const core::RuleEntry& entry : core::rule_registry()) {
    std::string id(entry.info.id);
    std::string severity(core::to_string(entry.info.default_severity));
    out << id << std::string(width + 2 - id.size(), ' ') << severity
        << std::string(9 - severity.size(), ' ') << entry.info.summary << '\n';
  }
  return ExitCode::ok;
}

ExitCode show_rule(const std::string& id, CommandIo io) {
  const RuleDoc* doc = find_rule_doc(id);
  if (doc == nullptr || core::find_rule(id) == nullptr) {
    std::string message = "unknown rule '" + id + "'";
    const std::string guess = analysis::suggest_rule(id);
    message += guess.empty() ? " (see 'pgsift rules')" : "; did you mean '" + guess + "'?";
    print_error(io.err, message);
    return ExitCode::cannot_run;
  }
  io.out << doc->text;
  return ExitCode::ok;
}

CommandRunner setup_rules(CLI::App& sub, CommandIo io) {
  auto id = std::make_shared<std::string>();
  sub.add_option("id", *id, "Print the documentation of this rule (e.g. n-plus-one)")
      ->type_name("ID");
  return [id, io]() { return id->empty() ? list_rules(io.out) : show_rule(*id, io); };
}

}  // namespace

CommandSpec rules_command() {
  return {"rules", "List the rules, or print one rule's documentation",
          "Configuration and documentation", &setup_rules};
}

}  // namespace pgsift::cli
