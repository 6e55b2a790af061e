#include "cli/live/live_report.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "cli/report/registry.h"

namespace pgsift::cli::live {

namespace {

// Equal ids are one finding seen several times: keep the latest details,
// count occurrences, widen first/last seen.
std::vector<core::Finding> aggregate(std::vector<core::Finding> findings) {
  std::vector<core::Finding> out;
  std::map<std::string, std::size_t> index;
  for (auto& f : findings) {
    auto [it, inserted] = index.try_emplace(f.id, out.size());
    if (inserted) {
      out.push_back(std::move(f));
      continue;
    }
    core::Finding& kept = out[it->second];
    const std::uint64_t occurrences = kept.occurrences + f.occurrences;
    const model::Timestamp first = std::min(kept.first_seen, f.first_seen);
    const model::Timestamp last = std::max(kept.last_seen, f.last_seen);
    if (f.severity > kept.severity) kept.severity = f.severity;
    const core::Severity severity = kept.severity;
    kept = std::move(f);
    kept.occurrences = occurrences;
    kept.first_seen = first;
    kept.last_seen = last;
    kept.severity = severity;
  }
  std::sort(out.begin(), out.end(), [](const core::Finding& a, const core::Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.rule != b.rule) return a.rule < b.rule;
    return a.id < b.id;
  });
  return out;
}

}  // namespace

void add_report_options(CLI::App& sub, ReportOptions& options) {
  sub.add_option("--format", options.format, "report format (text, json, ...; default text)")
      ->check(CLI::IsMember(report::reporter_names()));
  sub.add_option("-o,--output", options.output, "write the report to this file");
  sub.add_option("--fail-on", options.fail_on,
                 "exit 1 when findings at or above this severity (info, warning, error)")
      ->check(CLI::IsMember({"info", "warning", "error"}));
  sub.add_flag("--exit-zero", options.exit_zero, "exit 0 even with findings");
  sub.add_flag("--show-values", options.show_values, "show literal and parameter values");
}

bool report_owns_stdout(const ReportOptions& options) {
  return options.format != "text" && (options.output.empty() || options.output == "-");
}

ExitCode write_live_report(report::Report report, const ReportOptions& options, CommandIo io) {
  report.findings = aggregate(std::move(report.findings));
  report.show_values = options.show_values;
  const report::Reporter* reporter = report::find_reporter(options.format);
  if (reporter == nullptr) {
    print_error(io.err, "unknown report format '" + options.format + "'");
    return ExitCode::cannot_run;
  }
  if (options.output.empty() || options.output == "-") {
    (*reporter)(report, io.out);
    io.out.flush();
  } else {
    std::ofstream file(options.output);
    if (file) (*reporter)(report, file);
    if (!file) {
      print_error(io.err, "cannot write " + options.output);
      return ExitCode::cannot_run;
    }
  }
  const core::Severity threshold =
      core::severity_from_string(options.fail_on).value_or(core::Severity::warning);
  const bool failing = std::any_of(report.findings.begin(), report.findings.end(),
                                   [&](const core::Finding& f) { return f.severity >= threshold; });
  return failing && !options.exit_zero ? ExitCode::findings : ExitCode::ok;
}

}  // namespace pgsift::cli::live
