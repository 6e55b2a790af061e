// Two-stage pipeline for `pgsift analyze --jobs 2`: a reader thread turns
// log bytes into classified events (decompression, prefix matching, record
// assembly, classification), and the calling thread consumes them in log
// order (the session tracker and the rules). Work that either side can do
// (`prepare`, e.g. parsing the SQL) is done by the reader only while the
// consumer is the slower stage, which keeps both cores busy. Events cross in
// packed batches (their strings in one buffer, header fields only when they
// change, rebuilt by the consumer into its own event) through a bounded
// queue that each side polls briefly before it sleeps, so memory stays
// bounded whatever the log size, neither thread frees what the other
// allocated, and the consumer sees exactly the sequence read_logs() would
// have given it: results do not depend on the number of threads.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/input/log_source.h"

namespace pgsift::cli::analysis {

/// Optional work on an event, done on the reader thread when it is ahead; the
/// consumer must cope with events that were not prepared.
using EventPrepare = std::function<void(model::Event& event)>;

/// Like input::read_logs(), with reading on a second thread. `on_event` runs
/// on the calling thread; `summaries` and the return value are complete when
/// this returns. Warnings are written to `err` by the reader thread (the
/// consumer must not write to `err` meanwhile).
/// `on_event` gets an event owned by the calling thread: it may move its
/// strings out. `prepare_always` makes the reader prepare every event (tests).
std::string read_logs_threaded(const std::vector<std::string>& paths,
                               const input::InputOptions& options, const EventPrepare& prepare,
                               const input::EventHandler& on_event,
                               std::vector<input::InputSummary>& summaries, std::ostream& err,
                               bool prepare_always = false);

}  // namespace pgsift::cli::analysis
