#include "cli/analysis/threaded_reader.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace pgsift::cli::analysis {
namespace {

// Events per batch: large enough that locking is rare (one lock per few
// hundred events), small enough that the consumer starts at once.
constexpr std::size_t kBatchEvents = 512;
// Batches in flight: bounds memory (about 4,000 events) and lets the faster
// stage run ahead of the slower one through short stalls.
constexpr std::size_t kMaxBatches = 8;
// A batch is also sent once its text passes this size (very long statements).
constexpr std::size_t kBatchBytes = 8 << 20;

// A batch is packed: the strings of its events are appended to one text
// buffer and each event is a small fixed record pointing into it, so the
// consumer reads a batch front to back from contiguous memory (the way the
// hardware prefetches best) instead of chasing the heap strings of ~600-byte
// event objects written on the other core. Events other than statements and
// "other" records (locks, errors, connections: a few per thousand) travel
// whole, swapped into reused slots. The consumer copies every event into its
// own scratch event, so no memory allocated by one thread is freed by the
// other (glibc would then lock the reader's arena on every free).
struct Span {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};
constexpr std::uint32_t kNullLength = 0xffffffffu;  // a NULL parameter

struct Packed {
  enum class Kind : std::uint8_t { statement, other, whole };
  Kind kind = Kind::other;
  model::LogLevel level = model::LogLevel::unknown;
  model::StatementEvent::Protocol protocol = model::StatementEvent::Protocol::simple;
  bool continues_portal = false;
  model::SourceLocation where;
  model::Timestamp time = model::kNoTime;
  std::int32_t pid = 0;
  std::uint64_t session_line = 0;
  std::uint64_t xid = 0;
  Span session_id, user, database, application, client, virtual_xid, backend_type, sqlstate;
  // statement
  Span sql, prepared_name;
  double duration_ms = -1;
  model::Timestamp start = model::kNoTime;
  std::uint32_t first_parameter = 0, parameters = 0;
  // Parsed ahead by the reader: the shape (index into Batch::shapes, or
  // kNoShape) and its literals (spans in Batch::parameters after the
  // parameters).
  std::uint32_t shape = 0xffffffffu;
  std::uint32_t literals = 0;
  std::uint32_t whole = 0;  // index into Batch::whole
};
constexpr std::uint32_t kNoShape = 0xffffffffu;

struct Batch {
  std::string text;
  std::vector<Packed> events;
  std::vector<Span> parameters;
  std::vector<model::Event> whole;  // reused slots
  std::size_t whole_used = 0;
  // References to the shapes of the batch's prepared statements, held until
  // the reader reuses the batch (take_spare), so that shape reference counts
  // change on the reader's core only.
  std::vector<std::shared_ptr<const sql::Analysis>> shapes;
  std::size_t size() const { return events.size(); }
  // Called by the consumer when done: shapes are released by the reader.
  void clear() {
    text.clear();
    events.clear();
    parameters.clear();
    whole_used = 0;
  }
};

Span pack(std::string& text, std::string_view s) {
  Span span{static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(s.size())};
  text.append(s);
  return span;
}

std::string_view unpack(const std::string& text, Span span) { return {text.data() + span.offset, span.length}; }

void add_event(Batch& batch, model::Event& event) {
  Packed p;
  const model::RecordHeader& h = event.header;
  p.level = event.level;
  p.where = h.where;
  p.time = h.time;
  p.pid = h.pid;
  p.session_line = h.session_line;
  p.xid = h.xid;
  if (auto* s = std::get_if<model::StatementEvent>(&event.body)) {
    p.kind = Packed::Kind::statement;
    p.protocol = s->protocol;
    p.continues_portal = s->continues_portal;
    p.duration_ms = s->duration_ms;
    p.start = s->start;
    p.sql = pack(batch.text, s->sql);
    p.prepared_name = pack(batch.text, s->prepared_name);
    p.first_parameter = static_cast<std::uint32_t>(batch.parameters.size());
    p.parameters = static_cast<std::uint32_t>(s->parameters.size());
    for (const auto& parameter : s->parameters) {
      batch.parameters.push_back(parameter ? pack(batch.text, *parameter) : Span{0, kNullLength});
    }
    if (s->parsed.shape) {
      p.shape = static_cast<std::uint32_t>(batch.shapes.size());
      batch.shapes.push_back(std::move(s->parsed.shape));
      p.literals = static_cast<std::uint32_t>(s->parsed.literals.size());
      for (const std::string& literal : s->parsed.literals) batch.parameters.push_back(pack(batch.text, literal));
    }
  } else if (std::holds_alternative<model::OtherEvent>(event.body)) {
    p.kind = Packed::Kind::other;
  } else {
    p.kind = Packed::Kind::whole;
    if (batch.whole_used == batch.whole.size()) batch.whole.emplace_back();
    p.whole = static_cast<std::uint32_t>(batch.whole_used++);
    std::swap(batch.whole[p.whole], event);
    batch.events.push_back(p);
    return;
  }
  p.session_id = pack(batch.text, h.session_id);
  p.user = pack(batch.text, h.user);
  p.database = pack(batch.text, h.database);
  p.application = pack(batch.text, h.application);
  p.client = pack(batch.text, h.client);
  p.virtual_xid = pack(batch.text, h.virtual_xid);
  p.backend_type = pack(batch.text, h.backend_type);
  p.sqlstate = pack(batch.text, h.sqlstate);
  batch.events.push_back(p);
}

// The consumer's own references to shapes parsed by the reader: a shape
// reference count touched by both threads would bounce between the cores on
// every statement. Each shape the reader hands over is held once here (an
// alias whose count lives on this thread); bounded, then forgotten.
class ShapeRefs {
 public:
  const std::shared_ptr<const sql::Analysis>& local(const std::shared_ptr<const sql::Analysis>& shape) {
    auto it = refs_.find(shape.get());
    if (it != refs_.end()) return it->second;
    if (refs_.size() >= kMaxShapes) refs_.clear();
    auto holder = std::make_shared<std::shared_ptr<const sql::Analysis>>(shape);
    std::shared_ptr<const sql::Analysis> alias(holder, holder->get());
    return refs_.emplace(shape.get(), std::move(alias)).first->second;
  }

 private:
  static constexpr std::size_t kMaxShapes = 4096;
  std::unordered_map<const sql::Analysis*, std::shared_ptr<const sql::Analysis>> refs_;
};

// Rebuilds event `i` of `batch` into the consumer's own `out`.
void take_event(const Batch& batch, std::size_t i, ShapeRefs& shapes, model::Event& out) {
  const Packed& p = batch.events[i];
  if (p.kind == Packed::Kind::whole) {
    out = batch.whole[p.whole];
    return;
  }
  const std::string& t = batch.text;
  model::RecordHeader& h = out.header;
  out.level = p.level;
  h.where = p.where;
  h.time = p.time;
  h.pid = p.pid;
  h.session_line = p.session_line;
  h.xid = p.xid;
  h.session_id.assign(unpack(t, p.session_id));
  h.user.assign(unpack(t, p.user));
  h.database.assign(unpack(t, p.database));
  h.application.assign(unpack(t, p.application));
  h.client.assign(unpack(t, p.client));
  h.virtual_xid.assign(unpack(t, p.virtual_xid));
  h.backend_type.assign(unpack(t, p.backend_type));
  h.sqlstate.assign(unpack(t, p.sqlstate));
  if (p.kind == Packed::Kind::other) {
    if (!std::holds_alternative<model::OtherEvent>(out.body)) out.body.emplace<model::OtherEvent>();
    return;
  }
  auto* reused = std::get_if<model::StatementEvent>(&out.body);
  model::StatementEvent& s = reused != nullptr ? *reused : out.body.emplace<model::StatementEvent>();
  s.sql.assign(unpack(t, p.sql));
  s.duration_ms = p.duration_ms;
  s.start = p.start;
  s.protocol = p.protocol;
  s.continues_portal = p.continues_portal;
  s.prepared_name.assign(unpack(t, p.prepared_name));
  s.parameters.resize(p.parameters);
  for (std::uint32_t k = 0; k < p.parameters; ++k) {
    const Span span = batch.parameters[p.first_parameter + k];
    if (span.length == kNullLength) {
      s.parameters[k].reset();
    } else if (s.parameters[k]) {
      s.parameters[k]->assign(unpack(t, span));
    } else {
      s.parameters[k].emplace(unpack(t, span));
    }
  }
  if (p.shape == kNoShape) {
    s.parsed.shape.reset();
    s.parsed.literals.clear();
    return;
  }
  s.parsed.shape = shapes.local(batch.shapes[p.shape]);
  s.parsed.literals.resize(p.literals);
  for (std::uint32_t k = 0; k < p.literals; ++k) {
    s.parsed.literals[k].assign(unpack(t, batch.parameters[p.first_parameter + p.parameters + k]));
  }
}

// Single producer, single consumer; batches keep log order.
class BatchQueue {
 public:
  // Blocks while the queue is full; false once the consumer has given up.
  bool push(Batch&& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [this] { return cancelled_ || full_.size() < kMaxBatches; });
    if (cancelled_) return false;
    full_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }

  // Blocks while the queue is empty; false at the end of the stream.
  bool pop(Batch& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [this] { return closed_ || !full_.empty(); });
    if (full_.empty()) return false;
    batch = std::move(full_.front());
    full_.pop_front();
    not_full_.notify_one();
    return true;
  }

  // A consumed batch's slots go back to the producer, events and all.
  void recycle(Batch&& batch) {
    batch.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.size() < kMaxBatches) spare_.push_back(std::move(batch));
  }

  // Batches waiting for the consumer.
  std::size_t depth() {
    std::lock_guard<std::mutex> lock(mu_);
    return full_.size();
  }

  Batch take_spare() {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.empty()) {
      Batch fresh;
      fresh.events.reserve(kBatchEvents);
      return fresh;
    }
    Batch batch = std::move(spare_.back());
    spare_.pop_back();
    batch.shapes.clear();  // on the reader's thread
    return batch;
  }

  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    full_.clear();
    not_full_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> full_;
  std::vector<Batch> spare_;
  bool closed_ = false;
  bool cancelled_ = false;
};

// Thrown inside the reader thread to unwind read_logs() when the consumer
// stopped early (an exception on the consuming side).
struct ConsumerGone {};

}  // namespace

std::string read_logs_threaded(const std::vector<std::string>& paths,
                               const input::InputOptions& options, const EventPrepare& prepare,
                               const input::EventHandler& on_event,
                               std::vector<input::InputSummary>& summaries, std::ostream& err,
                               bool prepare_always) {
  BatchQueue queue;
  std::string error;
  std::exception_ptr reader_failure;
  std::thread reader([&] {
    try {
      Batch batch = queue.take_spare();
      // Balancing: the reader takes on the optional `prepare` work only
      // while the consumer is the slower stage (batches pile up).
      bool reader_ahead = prepare_always;
      error = input::read_logs(
          paths, options,
          [&](model::Event& event) {
            if (reader_ahead && prepare) prepare(event);
            add_event(batch, event);
            if (batch.size() < kBatchEvents && batch.text.size() < kBatchBytes) return;
            if (!queue.push(std::move(batch))) throw ConsumerGone{};
            batch = queue.take_spare();
            reader_ahead = prepare_always || queue.depth() >= kMaxBatches / 2;
          },
          summaries, err);
      if (batch.size() > 0) queue.push(std::move(batch));
    } catch (const ConsumerGone&) {
      // The consumer's exception is the one that matters.
    } catch (...) {
      reader_failure = std::current_exception();
    }
    queue.close();
  });

  try {
    Batch batch;
    model::Event event;  // the consumer's own: the handler may take its strings
    ShapeRefs shapes;
    while (queue.pop(batch)) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        take_event(batch, i, shapes, event);
        on_event(event);
      }
      queue.recycle(std::move(batch));
    }
  } catch (...) {
    queue.cancel();
    reader.join();
    throw;
  }
  reader.join();
  if (reader_failure) std::rethrow_exception(reader_failure);
  return error;
}

}  // namespace pgsift::cli::analysis
