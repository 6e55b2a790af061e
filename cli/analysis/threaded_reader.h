// Two-stage pipeline for `pgsift analyze --jobs 2`: a reader thread turns
// log bytes into assembled records (decompression, prefix matching, record
// assembly), and the calling thread classifies them into events and runs
// the session tracker and the rules, in log order. Parsing a statement's SQL
// can be done by either side: the reader does it (model::ParsedAhead) only
// while the consumer is the slower stage; and while the consumer waits for
// records, it reads the input ahead for the reader (input::ReadAhead).
// Records cross in packed batches (their strings in one buffer, header
// fields only when they change, rebuilt by the consumer into its own record)
// through a bounded queue that each side polls briefly before it sleeps, so
// memory stays bounded whatever the log size, neither thread frees what the
// other allocated, and the consumer sees exactly the sequence read_logs()
// would have given it: results do not depend on the number of threads.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/input/log_source.h"

namespace pgsift::cli::analysis {

/// Like input::read_logs(), with reading on a second thread. `on_event` runs
/// on the calling thread; `summaries` and the return value are complete when
/// this returns. Warnings are written to `err` by the reader thread (the
/// consumer must not write to `err` meanwhile).
/// `on_event` gets an event owned by the calling thread: it may move its
/// strings out. `parse_always` makes the reader parse every statement's SQL
/// (tests).
std::string read_logs_threaded(const std::vector<std::string>& paths,
                               const input::InputOptions& options,
                               const input::EventHandler& on_event,
                               std::vector<input::InputSummary>& summaries, std::ostream& err,
                               bool parse_always = false);

}  // namespace pgsift::cli::analysis
