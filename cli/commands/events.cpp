// `pgsift events LOG...`: the debugging view of the log readers. Prints each
// classified event as one JSON object per line (stable keys, documented in
// man/pgsift.1), or with --stats the counts per input and per event kind.
// Literal values in SQL and parameters are masked unless --show-values.
#include <CLI/CLI.hpp>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/input/event_json.h"
#include "cli/input/log_source.h"

namespace pgsift::cli {
namespace {

struct EventsOptions {
  std::vector<std::string> paths;
  input::InputOptions input;
  bool stats = false;
  bool show_values = false;
};

constexpr std::array<const char*, 8> kKindNames{"statement", "lock",       "deadlock",  "timeout",
                                                "error",     "connection", "temp_file", "other"};

void print_stats(std::ostream& out, const std::vector<input::InputSummary>& summaries,
                 const std::array<std::uint64_t, 8>& by_kind) {
  std::uint64_t records = 0, statements = 0, noise = 0, skipped = 0, lines = 0, bytes = 0;
  std::string first_skipped;
  for (const input::InputSummary& s : summaries) {
    out << "input " << s.path << ": format " << s.format;
    if (!s.prefix.empty() || s.format == "stderr" || s.format == "syslog")
      out << ", prefix '" << s.prefix << "'";
    out << ", compression " << (s.compression.empty() ? "none" : s.compression) << ", "
        << s.bytes << " bytes, " << s.lines << " lines, " << s.records << " records, "
        << s.statements << " statements, " << s.noise_lines << " noise, " << s.skipped_lines
        << " skipped" << (s.truncated ? ", truncated" : "") << '\n';
    records += s.records;
    statements += s.statements;
    noise += s.noise_lines;
    skipped += s.skipped_lines;
    lines += s.lines;
    bytes += s.bytes;
    if (s.skipped_lines > 0 && first_skipped.empty())
      first_skipped = s.path + ":" + std::to_string(s.first_skipped_line);
  }
  out << "bytes: " << bytes << '\n';
  out << "lines: " << lines << '\n';
  out << "records: " << records << '\n';
  out << "statements: " << statements << '\n';
  out << "events:";
  for (std::size_t k = 0; k < kKindNames.size(); ++k) {
    out << (k == 0 ? " " : ", ") << kKindNames[k] << ' ' << by_kind[k];
  }
  out << '\n';
  out << "noise lines: " << noise << '\n';
  out << "skipped lines: " << skipped;
  if (!first_skipped.empty()) out << " (first at " << first_skipped << ")";
  out << '\n';
}

}  // namespace

CommandSpec events_command() {
  return {"events", "Print the events read from PostgreSQL logs as JSON lines (debugging view)",
          "Log analysis", [](CLI::App& sub, CommandIo io) -> CommandRunner {
            auto opts = std::make_shared<EventsOptions>();
            sub.add_option("LOG", opts->paths,
                           "Log files, directories or '-' for standard input (compressed or not)")
                ->required();
            sub.add_option("--format", opts->input.format,
                           "Input format: stderr, csvlog, jsonlog, syslog, cloudsql, cnpg "
                           "(default: detected)");
            sub.add_option("--prefix", opts->input.prefix,
                           "The server's log_line_prefix (stderr, syslog; default: detected)");
            sub.add_flag("--strict", opts->input.strict,
                         "Fail (exit 2) when any line cannot be read");
            sub.add_flag("--stats", opts->stats,
                         "Print counts (records, statements, events by kind, noise, skipped) "
                         "instead of the events");
            sub.add_flag("--show-values", opts->show_values,
                         "Print literal values in SQL and bound parameters as logged");
            return [opts, io]() {
              std::vector<input::InputSummary> summaries;
              std::array<std::uint64_t, 8> by_kind{};
              std::string line;
              input::EventJsonOptions json{opts->show_values};
              auto on_event = [&](const model::Event& e) {
                ++by_kind[e.body.index()];
                if (opts->stats || std::holds_alternative<model::OtherEvent>(e.body)) return;
                line.clear();
                const std::string& path =
                    e.header.where.input < summaries.size() ? summaries[e.header.where.input].path
                                                            : std::string();
                input::append_event_json(line, e, path, json);
                line += '\n';
                io.out << line;
              };
              std::string error = input::read_logs(opts->paths, opts->input, on_event, summaries,
                                                   io.err);
              if (opts->stats) print_stats(io.out, summaries, by_kind);
              io.out.flush();
              if (!error.empty()) {
                print_error(io.err, error);
                return ExitCode::cannot_run;
              }
              return ExitCode::ok;
            };
          }};
}

}  // namespace pgsift::cli
