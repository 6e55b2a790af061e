// One assembled log record: the primary line of a server message together with
// its DETAIL/HINT/QUERY/CONTEXT/STATEMENT/LOCATION lines, whatever the log
// format (stderr with any log_line_prefix, csvlog, jsonlog, syslog, managed
// service envelopes). Every reader, and the live sources, produce these.
#pragma once

#include <cstdint>
#include <string>

#include "analyzers/model/time.h"

namespace pgsift::model {

/// Where a record starts: an index into the run's input table and a 1-based
/// line number within that input (physical line of the primary line).
struct SourceLocation {
  std::uint32_t input = 0;
  std::uint64_t line = 0;
};

/// Server message severity, in the server's English spelling.
enum class LogLevel : std::uint8_t {
  unknown, debug, info, notice, warning, log, error, fatal, panic, statement, detail, hint,
  context, query, location
};

/// Fields from the log_line_prefix, csvlog columns or jsonlog keys. Empty
/// strings / zero / kNoTime when the format did not carry them.
struct RecordHeader {
  SourceLocation where;
  Timestamp time = kNoTime;          // %m / %t / %n
  std::int32_t pid = 0;              // %p
  std::string session_id;            // %c, e.g. "6655e3a1.1f2c"
  std::uint64_t session_line = 0;    // %l
  std::string user;                  // %u
  std::string database;              // %d
  std::string application;           // %a
  std::string client;                // %r / %h (host[:port])
  std::string virtual_xid;           // %v, e.g. "3/42"
  std::uint64_t xid = 0;             // %x (0 when none assigned)
  std::string backend_type;          // %b
  std::string sqlstate;              // %e, e.g. "40P01"
};

/// A whole record. `message` is the text after "LOG:  " etc. (one record may
/// span several physical lines; continuation lines are joined with '\n').
struct LogRecord {
  RecordHeader header;
  LogLevel level = LogLevel::unknown;
  std::string message;
  std::string detail;
  std::string hint;
  std::string context;
  std::string query;      // QUERY: (internal query of an error)
  std::string statement;  // STATEMENT: (the statement that caused an error)
  std::string location;
};

}  // namespace pgsift::model
