#include "cli/config/flags.h"

#include <algorithm>
#include <sstream>

#include "cli/gate/budget.h"

namespace pgsift::cli::config {

void bind_file_flags(CLI::App& app, ConfigFlags& flags) {
  app.add_option("--config", flags.config_file,
                 "Project configuration file (default: the nearest .pgsift.toml above the working "
                 "directory, or $PGSIFT_CONFIG)");
  app.add_flag("--no-config", flags.no_config, "Ignore .pgsift.toml and $PGSIFT_CONFIG");
}

void bind_value_flags(CLI::App& app, ConfigFlags& flags) {
  app.add_option("--rules", flags.rules, "Comma-separated rule ids to run (default: all)");
  app.add_option("--fail-on", flags.fail_on, "Exit 1 on findings at or above: info, warning, error, never");
  app.add_flag("--show-values", flags.show_values, "Show parameter values and literals in reports");
  app.add_option("--format", flags.format, "Log format: stderr, csvlog, jsonlog, syslog, cloudsql, cnpg");
  app.add_option("--prefix", flags.prefix, "log_line_prefix of stderr/syslog logs");
  app.add_option("--baseline", flags.baseline, "Report only findings not recorded in this baseline file");
  app.add_option("--max-findings", flags.max_findings, "Tolerate up to N findings of RULE (or all): RULE=N")
      ->take_all();
  app.add_option("--option", flags.options, "Rule option RULE.KEY=VALUE (repeatable)");
}

LoadOptions load_options(const ConfigFlags& flags) {
  LoadOptions options;
  options.explicit_file = flags.config_file;
  options.no_config = flags.no_config;
  return options;
}

std::string apply_flags(const ConfigFlags& flags, const std::vector<RuleSchema>& rules, Config& config) {
  if (!flags.rules.empty()) {
    std::vector<std::string> list;
    std::stringstream text(flags.rules);
    for (std::string item; std::getline(text, item, ',');) {
      if (item.empty()) continue;
      if (std::none_of(rules.begin(), rules.end(), [&](const RuleSchema& r) { return r.id == item; })) {
        return "--rules: unknown rule '" + item + "' (see 'pgsift rules')";
      }
      list.push_back(item);
    }
    config.rules.set(list, "flag --rules");
  }
  if (!flags.fail_on.empty()) {
    if (auto e = check_value("fail-on", flags.fail_on); !e.empty()) return "--fail-on: " + e;
    config.fail_on.set(flags.fail_on, "flag --fail-on");
  }
  if (flags.show_values) config.show_values.set(true, "flag --show-values");
  if (!flags.format.empty()) {
    if (auto e = check_value("format", flags.format); !e.empty()) return "--format: " + e;
    config.format.set(flags.format, "flag --format");
  }
  if (!flags.prefix.empty()) config.prefix.set(flags.prefix, "flag --prefix");
  if (!flags.baseline.empty()) config.baseline.set(flags.baseline, "flag --baseline");
  std::vector<std::string> known;
  for (const auto& rule : rules) known.push_back(rule.id);
  std::vector<gate::Budget> budgets;
  for (const auto& text : flags.max_findings) {
    gate::Budget budget;
    if (auto e = gate::parse_budget(text, budget); !e.empty()) return e;
    budgets.push_back(budget);
  }
  if (auto e = gate::check_budgets(budgets, known); !e.empty()) return e;
  for (const auto& budget : budgets) config.max_findings[budget.rule].set(budget.max, "flag --max-findings");
  for (const auto& text : flags.options) {
    const auto dot = text.find('.');
    const auto eq = text.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
      return "--option expects RULE.KEY=VALUE, got '" + text + "'";
    }
    const std::string rule = text.substr(0, dot);
    const std::string key = text.substr(dot + 1, eq - dot - 1);
    const auto schema = std::find_if(rules.begin(), rules.end(), [&](const RuleSchema& r) { return r.id == rule; });
    if (schema == rules.end()) return "--option: unknown rule '" + rule + "'";
    if (key == "severity") {
      if (auto e = check_value("severity", text.substr(eq + 1)); !e.empty()) return "--option: " + e;
      config.severities[rule].set(text.substr(eq + 1), "flag --option");
      continue;
    }
    if (std::find(schema->options.begin(), schema->options.end(), key) == schema->options.end()) {
      return "--option: unknown key '" + rule + "." + key + "'";
    }
    config.options[rule][key].set(text.substr(eq + 1), "flag --option");
  }
  return "";
}

}  // namespace pgsift::cli::config
