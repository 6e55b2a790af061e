// read_logs(): expands the inputs, recognises each one's format (and
// log_line_prefix) from its first lines, runs the matching reader
// (read_log_records) and classifies its records with one Classifier shared
// by all inputs (EventStage), so that a rotated series reads as one stream.
#include "cli/input/log_source.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "analyzers/model/classify.h"
#include "cli/input/byte_source.h"
#include "cli/input/line_reader.h"
#include "cli/input/log_line_prefix.h"
#include "cli/input/read_ahead.h"
#include "cli/input/reader.h"
#include "cli/input/timestamp.h"

namespace pgsift::cli::input {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDetectLines = 400;

const std::vector<std::string>& cloudsql_prefixes() {
  static const std::vector<std::string> kPrefixes{
      "[%p]: [%l-1] db=%d,user=%u ",
      "%m [%p]: [%l-1] db=%d,user=%u ",
      "%m [%p]: ",
  };
  return kPrefixes;
}

bool looks_like_csvlog(std::string_view line) {
  std::size_t i = line.size() > 0 && line[0] == '"' ? 1 : 0;
  ParsedTime pt;
  if (!parse_sql_time(line.substr(i), true, pt)) return false;
  i += pt.length;
  if (i < line.size() && line[i] == '"') ++i;
  return i < line.size() && line[i] == ',';
}

std::string detect_format(const std::vector<std::string_view>& lines) {
  std::size_t csv = 0, json = 0, cnpg = 0, cloudsql = 0, syslog = 0;
  for (std::string_view l : lines) {
    if (l.empty()) continue;
    if (l.front() == '{') {
      if (l.find("\"textPayload\"") != std::string_view::npos) ++cloudsql;
      else if (l.find("\"record\":{") != std::string_view::npos ||
               l.find("\"logger\":\"postgres\"") != std::string_view::npos) ++cnpg;
      else if (l.find("\"error_severity\"") != std::string_view::npos) ++json;
      continue;
    }
    if (looks_like_csvlog(l)) {
      ++csv;
      continue;
    }
    model::Timestamp t;
    std::int32_t pid = 0;
    std::string_view rest;
    if (parse_syslog_header(l, t, pid, rest) && pid != 0) ++syslog;
  }
  std::pair<std::size_t, const char*> best{0, "stderr"};
  for (auto candidate : {std::pair{cloudsql, "cloudsql"}, std::pair{cnpg, "cnpg"},
                         std::pair{json, "jsonlog"}, std::pair{csv, "csvlog"},
                         std::pair{syslog, "syslog"}}) {
    if (candidate.first > best.first) best = candidate;
  }
  return best.second;
}

// The payload lines the prefix applies to, per format.
std::vector<std::string_view> prefixed_texts(const std::vector<std::string_view>& lines,
                                             const std::string& format,
                                             std::vector<std::string>& storage) {
  std::vector<std::string_view> texts;
  if (format == "syslog") {
    for (std::string_view l : lines) {
      model::Timestamp t;
      std::int32_t pid = 0;
      std::string_view rest;
      if (parse_syslog_header(l, t, pid, rest)) texts.push_back(rest);
    }
  } else if (format == "cloudsql") {
    storage.reserve(lines.size());
    for (std::string_view l : lines) {
      std::string payload;
      if (cloudsql_payload(l, payload)) storage.push_back(std::move(payload));
    }
    for (const std::string& s : storage) texts.push_back(s);
  } else {
    texts = lines;
  }
  return texts;
}

// Tries the known prefixes; "" when none matches any line.
std::string detect_prefix(const std::vector<std::string_view>& texts, const std::string& format) {
  std::vector<const std::string*> candidates;
  if (format == "syslog") {
    for (const std::string& p : known_syslog_prefixes()) candidates.push_back(&p);
  }
  if (format == "cloudsql") {
    for (const std::string& p : cloudsql_prefixes()) candidates.push_back(&p);
  }
  for (const std::string& p : known_stderr_prefixes()) candidates.push_back(&p);
  // Most lines matched wins; among equals, most lines matched in full (not
  // cut short at %q), then the earlier (more specific) candidate.
  std::pair<std::size_t, std::size_t> best_score{0, 0};
  const std::string* best = nullptr;
  for (const std::string* candidate : candidates) {
    LogLinePrefix prefix(*candidate);
    std::pair<std::size_t, std::size_t> score{0, 0};
    PrefixFields fields;
    LineTag tag;
    for (std::string_view t : texts) {
      if (!t.empty() && t.front() != '\t' && prefix.match(t, fields, tag)) {
        ++score.first;
        if (!fields.stopped_at_q) ++score.second;
      }
    }
    if (score > best_score) {
      best_score = score;
      best = candidate;
    }
  }
  return best != nullptr ? *best : std::string();
}

std::string first_line_excerpt(const std::vector<std::string_view>& lines) {
  for (std::string_view l : lines) {
    if (l.empty()) continue;
    std::string s(l.substr(0, 120));
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return s;
  }
  return "";
}

bool is_log_file_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  static constexpr std::string_view kHints[] = {"log", ".csv", ".json", ".gz", ".bz2", ".xz",
                                                ".zst", "postgres"};
  for (std::string_view h : kHints) {
    if (name.find(h) != std::string::npos) return true;
  }
  return false;
}

// A directory's log files, oldest first (modification time, then name).
std::vector<std::string> directory_files(const std::string& dir, std::string& error) {
  std::vector<std::pair<fs::file_time_type, std::string>> files;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::error_code e2;
    if (!entry.is_regular_file(e2)) continue;
    std::string name = entry.path().filename().string();
    if (!is_log_file_name(name)) continue;
    files.emplace_back(entry.last_write_time(e2), entry.path().string());
  }
  if (ec) error = dir + ": " + ec.message();
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) out.push_back(std::move(f.second));
  return out;
}

struct ReadState {
  const InputOptions& options;
  const RecordHandler& on_record;
  std::vector<InputSummary>& summaries;
  std::ostream& err;
  std::set<std::string> warned;
};

void warn(ReadState& st, const std::string& message) {
  if (st.warned.insert(message).second) st.err << "pgsift: warning: " << message << '\n';
}

// Reads one input; returns "" or a one-line error.
std::string read_one(ReadState& st, ByteSource& source, const std::string& display_name,
                     std::uint32_t index) {
  InputSummary& summary = st.summaries[index];
  LineReader lines(source);
  std::vector<std::string_view> head = lines.peek(kDetectLines);
  summary.format = st.options.format.empty() ? detect_format(head) : st.options.format;
  const std::string& format = summary.format;
  static const std::set<std::string> kFormats{"stderr", "csvlog", "jsonlog", "syslog",
                                              "cloudsql", "cnpg"};
  if (kFormats.count(format) == 0) {
    return "unknown --format '" + format +
           "' (stderr, csvlog, jsonlog, syslog, cloudsql, cnpg)";
  }
  const bool needs_prefix = format == "stderr" || format == "syslog" || format == "cloudsql";
  if (needs_prefix) {
    if (!st.options.prefix.empty()) {
      summary.prefix = st.options.prefix;
    } else if (!head.empty()) {
      std::vector<std::string> storage;
      summary.prefix = detect_prefix(prefixed_texts(head, format, storage), format);
      if (summary.prefix.empty()) {
        if (format == "syslog") {
          summary.prefix = "";
        } else {
          return display_name + ":1: no known log_line_prefix matches the first lines (first line: '" +
                 first_line_excerpt(head) +
                 "'); give the server's log_line_prefix with --prefix, or --format";
        }
      }
      st.err << "pgsift: note: " << display_name << ": " << format << " format, log_line_prefix '"
             << summary.prefix << "' (detected; use --prefix to override)\n";
    }
  }
  ReaderContext ctx;
  ctx.input = index;
  ctx.summary = &summary;
  ctx.emit = st.on_record;
  ctx.warn = [&](const std::string& w) {
    summary.warnings.push_back(w);
    warn(st, display_name + ": " + w);
  };
  std::unique_ptr<RecordReader> reader = make_reader(format, summary.prefix, ctx);
  Line line;
  while (lines.next(line)) {
    reader->line(line);
    summary.lines = line.number;
  }
  reader->finish();
  summary.bytes = lines.bytes_read();
  if (source.truncated() || !source.error().empty()) {
    summary.truncated = true;
    ctx.warn("the input ends early (" + source.error() + "); read what could be read, " +
             std::to_string(summary.lines) + " lines");
  } else if (line.unterminated && summary.lines > 0) {
    // A half-written last line is read like any other; nothing to report.
  }
  if (summary.skipped_lines > 0) {
    warn(st, display_name + ":" + std::to_string(summary.first_skipped_line) + ": " +
                 std::to_string(summary.skipped_lines) + " unreadable line(s) skipped (first here)");
  }
  if (summary.records == 0 && summary.lines > 0) {
    if (needs_prefix) {
      return display_name + ":1: no line matches the log_line_prefix '" + summary.prefix +
             "' (first line: '" + first_line_excerpt(head) + "'); check --prefix and --format";
    }
    return display_name + ":1: no " + format + " record could be read (first line: '" +
           first_line_excerpt(head) + "')";
  }
  return "";
}

// The time of the first record of a file, from its first lines; kNoTime when
// it cannot be told. Used to put the files of a rotated series in order.
model::Timestamp first_record_time(const std::string& path, const InputOptions& options) {
  std::string error;
  std::unique_ptr<ByteSource> source = open_byte_source(path, error);
  if (source == nullptr) return model::kNoTime;
  LineReader lines(*source);
  std::vector<std::string_view> head = lines.peek(kDetectLines);
  std::string format = options.format.empty() ? detect_format(head) : options.format;
  std::string prefix = options.prefix;
  if (prefix.empty() && (format == "stderr" || format == "syslog" || format == "cloudsql")) {
    std::vector<std::string> storage;
    prefix = detect_prefix(prefixed_texts(head, format, storage), format);
  }
  InputSummary summary;
  model::Timestamp first = model::kNoTime;
  ReaderContext ctx;
  ctx.summary = &summary;
  ctx.emit = [&](model::LogRecord& r) {
    if (first == model::kNoTime) first = r.header.time;
  };
  ctx.warn = [](const std::string&) {};
  std::unique_ptr<RecordReader> reader = make_reader(format, prefix, ctx);
  if (reader == nullptr) return model::kNoTime;
  Line line;
  for (std::size_t i = 0; i < head.size() && first == model::kNoTime; ++i) {
    line.text = head[i];
    line.number = i + 1;
    reader->line(line);
  }
  reader->finish();
  return first;
}

// Files named on the command line are read oldest first when every one of
// them tells its first time (postgresql.log.2 before postgresql.log.1).
void order_by_first_time(std::vector<std::string>& inputs, const InputOptions& options) {
  if (inputs.size() < 2) return;
  std::vector<std::pair<model::Timestamp, std::string>> timed;
  for (const std::string& path : inputs) {
    if (path == "-") return;
    model::Timestamp t = first_record_time(path, options);
    if (t == model::kNoTime) return;
    timed.emplace_back(t, path);
  }
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < inputs.size(); ++i) inputs[i] = timed[i].second;
}

}  // namespace

EventStage::EventStage(const EventHandler& on_event)
    : on_event_(on_event), sink_([this](model::Event& e) {
        if (std::holds_alternative<model::StatementEvent>(e.body)) {
          const std::uint32_t input = e.header.where.input;
          if (input >= statements_.size()) statements_.resize(input + 1);
          ++statements_[input];
        }
        on_event_(e);
      }) {}

void EventStage::count_into(std::vector<InputSummary>& summaries) const {
  for (std::size_t i = 0; i < statements_.size() && i < summaries.size(); ++i) {
    summaries[i].statements += statements_[i];
  }
}

std::string read_logs(const std::vector<std::string>& paths, const InputOptions& options,
                      const EventHandler& on_event, std::vector<InputSummary>& summaries,
                      std::ostream& err) {
  EventStage stage(on_event);
  std::string error = read_log_records(
      paths, options, [&stage](model::LogRecord& record) { stage.add(record); }, summaries, err);
  stage.finish();
  stage.count_into(summaries);
  return error;
}

std::string read_log_records(const std::vector<std::string>& paths, const InputOptions& options,
                             const RecordHandler& on_record, std::vector<InputSummary>& summaries,
                             std::ostream& err, ReadAhead* read_ahead) {
  ReadState st{options, on_record, summaries, err, {}};
  std::vector<std::string> inputs;
  std::string first_error;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (path != "-" && fs::is_directory(path, ec)) {
      std::string derr;
      std::vector<std::string> files = directory_files(path, derr);
      if (!derr.empty() && first_error.empty()) first_error = derr;
      if (files.empty() && derr.empty()) {
        warn(st, path + ": directory holds no log files");
        if (first_error.empty()) first_error = path + ": directory holds no log files";
      }
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else {
      inputs.push_back(path);
    }
  }
  order_by_first_time(inputs, options);
  std::uint64_t records = 0;
  std::size_t failed = 0;
  for (const std::string& path : inputs) {
    const std::uint32_t index = static_cast<std::uint32_t>(summaries.size());
    summaries.emplace_back();
    summaries.back().path = path == "-" ? "(stdin)" : path;
    std::string open_error;
    std::unique_ptr<ByteSource> source = open_byte_source(path, open_error);
    std::string error;
    if (source == nullptr) {
      error = open_error;
    } else {
      summaries[index].compression = source->compression();
      // Not standard input: a pipe's writer may pause, and the analysis
      // thread must not wait there for it.
      if (read_ahead != nullptr && path != "-") source = read_ahead->wrap(std::move(source));
      error = read_one(st, *source, summaries[index].path, index);
    }
    records += summaries[index].records;
    if (!error.empty()) {
      ++failed;
      if (first_error.empty()) first_error = error;
      if (inputs.size() > 1) warn(st, error);
    }
  }
  if (inputs.empty()) return "no input files";
  if (records == 0) return first_error.empty() ? "no log record could be read" : first_error;
  if (options.strict) {
    if (failed > 0) return first_error;
    for (const InputSummary& s : summaries) {
      if (s.skipped_lines > 0) {
        return s.path + ":" + std::to_string(s.first_skipped_line) + ": " +
               std::to_string(s.skipped_lines) + " unreadable line(s) (--strict)";
      }
      if (s.truncated) return s.path + ": the input ends early (--strict)";
    }
  }
  return "";
}

std::string read_log_buffer(std::string_view data, const InputOptions& options,
                            const EventHandler& on_event, InputSummary& summary,
                            std::ostream& err) {
  std::vector<InputSummary> summaries(1);
  summaries[0].path = "(buffer)";
  EventStage stage(on_event);
  const RecordHandler classify = [&stage](model::LogRecord& record) { stage.add(record); };
  ReadState st{options, classify, summaries, err, {}};
  std::unique_ptr<ByteSource> source = memory_byte_source(data);
  summaries[0].compression = source->compression();
  std::string error = read_one(st, *source, "(buffer)", 0);
  stage.finish();
  stage.count_into(summaries);
  summary = summaries[0];
  return error;
}

std::string detect_layout(const std::vector<std::string_view>& head, const InputOptions& options,
                          std::string& format, std::string& prefix) {
  format = options.format.empty() ? detect_format(head) : options.format;
  prefix = options.prefix;
  static const std::set<std::string> kFormats{"stderr", "csvlog", "jsonlog", "syslog",
                                              "cloudsql", "cnpg"};
  if (kFormats.count(format) == 0) {
    return "unknown --format '" + format + "' (stderr, csvlog, jsonlog, syslog, cloudsql, cnpg)";
  }
  const bool needs_prefix = format == "stderr" || format == "syslog" || format == "cloudsql";
  if (!needs_prefix || !prefix.empty()) return "";
  std::vector<std::string> storage;
  prefix = detect_prefix(prefixed_texts(head, format, storage), format);
  if (!prefix.empty() || format == "syslog") return "";  // syslog: the prefix may be empty
  return "no known log_line_prefix matches the first lines (first line: '" +
         first_line_excerpt(head) + "'); give the server's log_line_prefix with --prefix, or --format";
}

}  // namespace pgsift::cli::input
