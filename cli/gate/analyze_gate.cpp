#include "cli/gate/analyze_gate.h"

#include <algorithm>
#include <map>

#include "cli/command.h"
#include "cli/gate/baseline.h"
#include "cli/gate/filters.h"

namespace pgsift::cli::gate {

void bind_gate_flags(CLI::App& app, GateFlags& flags) {
  app.add_option("--config", flags.config_file,
                 "Project file (default: nearest .pgsift.toml above the working directory, or $PGSIFT_CONFIG)")
      ->group("Gate");
  app.add_flag("--no-config", flags.no_config, "Read no project file")->group("Gate");
  app.add_option("--baseline", flags.baseline, "Fail only on findings not recorded in this baseline file")
      ->group("Gate");
  app.add_option("--write-baseline", flags.write_baseline,
                 "Record the current findings in this baseline file (exit 0)")
      ->group("Gate");
  app.add_option("--max-findings", flags.max_findings,
                 "Tolerate up to N findings at or above --fail-on of RULE (or all): RULE=N, repeatable")
      ->group("Gate");
}

std::string prepare_gate(const GateFlags& flags, const std::function<bool(const std::string&)>& given,
                         analysis::AnalysisRequest& request, std::string& fail_on, GatePlan& plan) {
  config::LoadOptions load;
  load.explicit_file = flags.config_file;
  load.no_config = flags.no_config;
  if (auto error = config::load_config(load, plan.config); !error.empty()) return error;
  const config::Config& cfg = plan.config;

  if (request.input.format.empty()) request.input.format = cfg.format.value;
  if (request.input.prefix.empty()) request.input.prefix = cfg.prefix.value;
  if (!given("--show-values")) request.show_values = cfg.show_values.value;
  if (!given("--fail-on")) fail_on = cfg.fail_on.value;
  const bool selection_configured = !cfg.rules.value.empty() || !cfg.enabled.empty();
  if (!given("--rules") && selection_configured) {
    std::string list;
    for (const auto& id : cfg.selected_rules(load.rules)) list += (list.empty() ? "" : ",") + id;
    if (list.empty()) return "the configuration disables every rule";
    request.rules = {list};
  }
  // Options from the file first: command-line --option values override them.
  std::vector<std::string> options;
  for (const auto& [rule, keys] : cfg.options) {
    for (const auto& [key, setting] : keys) options.push_back(rule + "." + key + "=" + setting.value);
  }
  options.insert(options.end(), request.options.begin(), request.options.end());
  request.options = std::move(options);

  plan.baseline = flags.baseline.empty() ? cfg.baseline.value : flags.baseline;
  plan.write_baseline = flags.write_baseline;
  std::map<std::string, std::uint64_t> budgets;
  for (const auto& [rule, setting] : cfg.max_findings) budgets[rule] = setting.value;
  std::vector<Budget> from_flags;
  for (const auto& text : flags.max_findings) {
    Budget budget;
    if (auto error = parse_budget(text, budget); !error.empty()) return error;
    from_flags.push_back(budget);
  }
  std::vector<std::string> known;
  for (const auto& rule : load.rules) known.push_back(rule.id);
  if (auto error = check_budgets(from_flags, known); !error.empty()) return error;
  for (const auto& budget : from_flags) budgets[budget.rule] = budget.max;
  for (const auto& [rule, max] : budgets) plan.budgets.push_back({rule, max});
  if (fail_on != "never") plan.threshold = core::severity_from_string(fail_on);
  return "";
}

std::string filter_report(const GatePlan& plan, report::Report& report, std::ostream& err) {
  apply_severities(plan.config, report);
  apply_ignores(plan.config.ignores, report);
  if (!plan.write_baseline.empty()) {
    if (auto error = save_baseline(make_baseline(report.findings), plan.write_baseline); !error.empty()) {
      return error;
    }
  }
  if (!plan.baseline.empty()) {
    Baseline baseline;
    if (auto error = load_baseline(plan.baseline, baseline); !error.empty()) return error;
    apply_baseline(baseline, report);
    if (!report.stale_baseline_ids.empty()) {
      print_warning(err, plan.baseline + ": " + std::to_string(report.stale_baseline_ids.size()) +
                             " stale baseline entr" + (report.stale_baseline_ids.size() == 1 ? "y" : "ies") +
                             " (no longer found; rewrite it with --write-baseline)");
    }
  }
  // Severity overrides can change the order: restore the collector's
  // (severity, rule, id) so reports stay deterministic.
  std::sort(report.findings.begin(), report.findings.end(), [](const core::Finding& a, const core::Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.rule != b.rule) return a.rule < b.rule;
    return a.id < b.id;
  });
  return "";
}

}  // namespace pgsift::cli::gate
