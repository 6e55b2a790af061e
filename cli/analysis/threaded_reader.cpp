#include "cli/analysis/threaded_reader.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <type_traits>
#include <utility>

#include <pthread.h>

#include "analyzers/model/classify.h"
#include "cli/analysis/stream_copy.h"
#include "cli/heap.h"
#include "cli/input/read_ahead.h"
#include "cli/input/text_fields.h"

namespace pgsift::cli::analysis {
namespace {

// Records per batch: large enough that locking is rare (one lock per few
// hundred records), small enough that the consumer starts at once.
constexpr std::size_t kBatchRecords = 512;
// Batches in flight: bounds memory (about 16,000 records, ~3 MB) and lets the
// faster stage run ahead of the slower one through short stalls (with 8, the
// queue ran empty and full in turns: 2 threads took 10% longer).
constexpr std::size_t kMaxBatches = 32;
// The reader parses statement texts ahead while at least this many batches
// wait for the consumer (4 and 16 measured the same; 4 balances sooner).
constexpr std::size_t kAheadDepth = 4;
// A batch is also sent once its text passes this size (very long statements).
constexpr std::size_t kBatchBytes = 8 << 20;

// A batch is packed: the strings of its records are appended to one text
// buffer and each record is a small fixed entry pointing into it, so the
// consumer reads a batch front to back from contiguous memory (the way the
// hardware prefetches best) instead of chasing the heap strings of records
// written on the other core (handing those over in reused slots costs fewer
// instructions but twice the time: every cache line of a slot then moves
// between the cores twice). The consumer copies every record into its own
// scratch record, so no memory allocated by one thread is freed by the other
// (glibc would then lock the reader's arena on every free).
//
// The consumer's scratch record keeps the header strings of the record
// before it, so a header field (user, database, application, ...: mostly the
// same from one record to the next) is packed only when it changed; of the
// other strings (message, detail, ...: mostly empty) only those that are not
// empty.
//
// Each string is stored after its length, so a record's strings are read in
// one pass from where its first one starts. (Spans kept in an array of their
// own, written 8 bytes at a time, were the reader's worst stall: perf put a
// tenth of the samples of a two-thread run on appending to that array, whose
// lines the consumer had read and the reader had to take back.)
//
// Short strings (most) are copied with two overlapping word loads and stores
// instead of a memcpy call.
class Text {
 public:
  // Appends `s`, after its length in 4 bytes.
  void put(std::string_view s) {
    const std::size_t n = s.size();
    if (size_ + 4 + n > capacity_) grow(4 + n);
    char* d = data_.get() + size_;
    const std::uint32_t length = static_cast<std::uint32_t>(n);
    std::memcpy(d, &length, 4);
    d += 4;
    const char* from = s.data();
    if (n >= 8 && n <= 16) {
      const std::uint64_t head = input::load8(from), tail = input::load8(from + n - 8);
      std::memcpy(d, &head, 8);
      std::memcpy(d + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
      const std::uint32_t head = input::load4(from), tail = input::load4(from + n - 4);
      std::memcpy(d, &head, 4);
      std::memcpy(d + n - 4, &tail, 4);
    } else if (n != 0) {
      std::memcpy(d, from, n);
    }
    size_ += 4 + n;
  }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  void grow(std::size_t room) {
    const std::size_t capacity = std::max(2 * capacity_, std::max<std::size_t>(size_ + room, 64 << 10));
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ != 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Reads, in order, the strings Text::put appended from `at` on.
class TextReader {
 public:
  explicit TextReader(const char* at) : at_(at) {}
  std::string_view next() {
    std::uint32_t length;
    std::memcpy(&length, at_, 4);
    const std::string_view s(at_ + 4, length);
    at_ += 4 + std::size_t{length};
    return s;
  }

 private:
  const char* at_;
};

// The header's strings, in the order of Packed::changed's bits.
using model::LogRecord;
using model::RecordHeader;
constexpr std::array<std::string RecordHeader::*, 8> kHeaderTexts{
    &RecordHeader::session_id,  &RecordHeader::user,         &RecordHeader::database,
    &RecordHeader::application, &RecordHeader::client,       &RecordHeader::virtual_xid,
    &RecordHeader::backend_type, &RecordHeader::sqlstate};
// The record's other strings, in the order of Packed::present's bits.
constexpr std::array<std::string LogRecord::*, 7> kBodyTexts{
    &LogRecord::message, &LogRecord::detail,    &LogRecord::hint,    &LogRecord::context,
    &LogRecord::query,   &LogRecord::statement, &LogRecord::location};

constexpr std::uint32_t kNoShape = 0xffffffffu;

struct Packed {
  model::LogLevel level = model::LogLevel::unknown;
  std::uint8_t changed = 0;  // bit i: kHeaderTexts[i] changed (its text follows)
  std::uint8_t present = 0;  // bit i: kBodyTexts[i] is not empty (its text follows)
  std::int32_t pid = 0;
  model::SourceLocation where;
  model::Timestamp time = model::kNoTime;
  std::uint64_t session_line = 0;
  std::uint64_t xid = 0;
  // Where this record's strings start in Batch::text: the changed header
  // fields, the present body fields, then the literals of its statement
  // text when the reader parsed it.
  std::uint32_t first = 0;
  // The statement text parsed ahead (model::ParsedAhead): its shape (index
  // into Batch::shapes, or kNoShape), place in the message and literals.
  std::uint32_t shape = kNoShape;
  std::uint32_t literals = 0;
  std::uint32_t sql_offset = 0;
  std::uint32_t sql_length = 0;
};

// The batch the reader is packing, in its own memory: the consumer never
// reads it, so it stays in the reader's cache from one batch to the next.
struct Batch {
  Text text;
  std::vector<Packed> records;
  // References to the shapes of the batch's parsed statements.
  std::vector<std::shared_ptr<const sql::Analysis>> shapes;
  std::size_t size() const { return records.size(); }
  void clear() {
    text.clear();
    records.clear();
    shapes.clear();
  }
};

// An array of trivially copyable T in a sent batch, written only by the
// reader (grown on its thread, filled with streaming stores).
template <typename T>
class SentArray {
 public:
  void assign(const T* from, std::size_t n) {
    if (n > capacity_) {
      capacity_ = std::max(n, 2 * capacity_);
      data_ = std::make_unique_for_overwrite<T[]>(capacity_);  // stream_copy writes it
    }
    stream_copy(data_.get(), from, n * sizeof(T));
  }
  const T* data() const { return data_.get(); }

 private:
  static_assert(std::is_trivially_copyable_v<T>);
  std::unique_ptr<T[]> data_;
  std::size_t capacity_ = 0;
};

// A batch as the consumer reads it: the reader's packed batch copied into a
// slot of the queue's ring with streaming stores (stream_copy). The reader
// packs in memory of its own first because packing writes each line of a
// record a few bytes at a time; the copy writes whole lines. Measured
// (bench/ab, 9-11 rounds): the extended-protocol part of bench.log 95 -> 81
// ms with two threads, the whole log 136 -> 127 ms, csvlog 140 -> 125 ms.
struct SentBatch {
  SentArray<char> text;
  SentArray<Packed> records;
  std::size_t size = 0;  // records
  // The shapes of the batch's parsed statements, held until the reader
  // reuses the slot, so that shape reference counts change on the reader's
  // core only.
  std::vector<std::shared_ptr<const sql::Analysis>> shapes;
};

// Copies the reader's packed batch into `slot` and clears it for the next.
// The slot's previous shapes come back into the batch and are released here,
// on the reader's thread.
void publish_batch(Batch& batch, SentBatch& slot) {
  slot.text.assign(batch.text.data(), batch.text.size());
  slot.records.assign(batch.records.data(), batch.records.size());
  slot.size = batch.records.size();
  slot.shapes.swap(batch.shapes);
  stream_fence();
  batch.clear();
}

// The reader's side: packs records into batches, and remembers the header
// strings the consumer's scratch record holds.
class Packer {
 public:
  void add(Batch& batch, const LogRecord& record, model::ParsedAhead* ahead) {
    Packed& p = batch.records.emplace_back();
    const RecordHeader& h = record.header;
    p.level = record.level;
    p.where = h.where;
    p.time = h.time;
    p.pid = h.pid;
    p.session_line = h.session_line;
    p.xid = h.xid;
    p.first = static_cast<std::uint32_t>(batch.text.size());
    for (std::size_t i = 0; i < kHeaderTexts.size(); ++i) {
      const std::string& value = h.*kHeaderTexts[i];
      std::string& mine = last_.*kHeaderTexts[i];
      if (mine.size() == value.size() && input::same_text(mine.data(), value.data(), value.size())) continue;
      p.changed |= static_cast<std::uint8_t>(1u << i);
      input::replace_text(mine, value);
      batch.text.put(value);
    }
    for (std::size_t i = 0; i < kBodyTexts.size(); ++i) {
      const std::string& value = record.*kBodyTexts[i];
      if (value.empty()) continue;
      p.present |= static_cast<std::uint8_t>(1u << i);
      batch.text.put(value);
    }
    if (ahead == nullptr || !ahead->parsed.shape) return;
    p.shape = static_cast<std::uint32_t>(batch.shapes.size());
    batch.shapes.push_back(std::move(ahead->parsed.shape));
    p.sql_offset = static_cast<std::uint32_t>(ahead->offset);
    p.sql_length = static_cast<std::uint32_t>(ahead->length);
    p.literals = static_cast<std::uint32_t>(ahead->parsed.literals.size());
    for (const std::string& literal : ahead->parsed.literals) batch.text.put(literal);
  }

 private:
  RecordHeader last_;
};

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

// Rebuilds record `i` of `batch` into the consumer's own `out` (the previous
// record's scratch: its header strings are what the reader's Packer
// remembers), and its statement text's parse, if any, into `ahead`.
void take_record(const SentBatch& batch, std::size_t i, ShapeRefs& shapes, LogRecord& out,
                 model::ParsedAhead& ahead) {
  const Packed& p = batch.records.data()[i];
  TextReader strings(batch.text.data() + p.first);
  RecordHeader& h = out.header;
  out.level = p.level;
  h.where = p.where;
  h.time = p.time;
  h.pid = p.pid;
  h.session_line = p.session_line;
  h.xid = p.xid;
  if (p.changed != 0) {
    for (std::size_t k = 0; k < kHeaderTexts.size(); ++k) {
      if ((p.changed >> k) & 1u) input::replace_text(h.*kHeaderTexts[k], strings.next());
    }
  }
  for (std::size_t k = 0; k < kBodyTexts.size(); ++k) {
    std::string& field = out.*kBodyTexts[k];
    if ((p.present >> k) & 1u) {
      input::replace_text(field, strings.next());
    } else {
      field.clear();
    }
  }
  if (p.shape == kNoShape) {
    ahead.parsed.shape.reset();
    return;
  }
  ahead.offset = p.sql_offset;
  ahead.length = p.sql_length;
  ahead.parsed.shape = shapes.local(batch.shapes[p.shape]);
  ahead.parsed.literals.resize(p.literals);
  for (std::string& literal : ahead.parsed.literals) input::replace_text(literal, strings.next());
}

// How long a thread polls for the other before it sleeps: waking a thread
// that went to sleep takes a system call and, on a virtual machine, can
// take longer than the other thread needs to finish a batch (~0.2 ms).
constexpr auto kSpin = std::chrono::microseconds(500);

// Meanwhile it does `work` while there is some (work() returns false when
// there is none), and the clock starts again after each piece of it.
template <typename Ready, typename Work>
void spin_until(const Ready& ready, const Work& work) {
  auto until = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 1; !ready(); ++i) {
    if (work()) {
      until = std::chrono::steady_clock::now() + kSpin;
      continue;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return;
  }
}

// Single producer, single consumer; batches keep log order. Each side polls
// briefly before it waits (spin_until).
//
// The batches live in a fixed ring of slots: the reader copies each packed
// batch into the slot after the last one it sent (publish_batch), the
// consumer reads the oldest one sent in place and writes nothing to it. No
// batch memory is freed or allocated once the ring is warm, and none
// allocated by one thread is ever freed by the other (glibc would then write
// the reader's arena, chunk headers and bins, from the consumer's core).
// With a queue that freed its nodes and dropped spare batches on the
// consumer's side, a fifth of the reader's time went to one stalled store in
// the prefix matcher; with the ring, that stall is gone.
class BatchQueue {
 public:
  // The slot to fill next: blocks while every slot is sent or being read;
  // nullptr once the consumer has given up.
  SentBatch* to_fill() {
    spin_until([this] { return depth_.load(std::memory_order_acquire) < kMaxBatches || stopped_.load(); },
               [] { return false; });
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [this] { return cancelled_ || sent_ - done_ < kMaxBatches; });
    if (cancelled_) return nullptr;
    return &slots_[sent_ % kSlots];
  }

  // Sends the slot to_fill() gave.
  void send() {
    std::lock_guard<std::mutex> lock(mu_);
    ++sent_;
    depth_.store(sent_ - done_, std::memory_order_release);
    not_empty_.notify_one();
  }

  // The oldest slot sent, to read; blocks while none is (reading the input
  // ahead for the reader meanwhile); nullptr at the end of the stream.
  const SentBatch* to_read(input::ReadAhead& read_ahead) {
    spin_until([this] { return depth_.load(std::memory_order_acquire) > 0 || stopped_.load(); },
               [&read_ahead] { return read_ahead.help(); });
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [this] { return closed_ || sent_ != done_; });
    if (sent_ == done_) return nullptr;
    return &slots_[done_ % kSlots];
  }

  // The slot to_read() gave is read: back to the reader, untouched (the
  // consumer writes nothing the reader will write).
  void done() {
    std::lock_guard<std::mutex> lock(mu_);
    ++done_;
    depth_.store(sent_ - done_, std::memory_order_release);
    not_full_.notify_one();
  }

  // Batches sent and not yet read.
  std::size_t depth() const { return depth_.load(std::memory_order_acquire); }

  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    stopped_.store(true);
    not_empty_.notify_all();
  }

  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    stopped_.store(true);
    not_full_.notify_all();
  }

 private:
  // kMaxBatches sent, one being filled.
  static constexpr std::size_t kSlots = kMaxBatches + 1;
  struct alignas(64) Slot : SentBatch {};
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::unique_ptr<Slot[]> slots_ = std::make_unique<Slot[]>(kSlots);
  std::size_t sent_ = 0;  // batches sent (slot sent_ % kSlots is filled next)
  std::size_t done_ = 0;  // batches read (slot done_ % kSlots is read next)
  bool closed_ = false;
  bool cancelled_ = false;
  // Mirrors of sent_ - done_ and closed_ || cancelled_, for polling unlocked.
  std::atomic<std::size_t> depth_{0};
  std::atomic<bool> stopped_{false};
};

// Thrown inside the reader thread to unwind read_logs() when the consumer
// stopped early (an exception on the consuming side).
struct ConsumerGone {};

}  // namespace

std::string read_logs_threaded(const std::vector<std::string>& paths,
                               const input::InputOptions& options,
                               const input::EventHandler& on_event,
                               std::vector<input::InputSummary>& summaries, std::ostream& err,
                               bool parse_always) {
  BatchQueue queue;
  // The reader reads the input through it; this thread reads ahead into it
  // while it waits for a batch.
  input::ReadAhead read_ahead;
  std::string error;
  std::exception_ptr reader_failure;
  std::thread reader([&] {
    // Named for top -H, perf and gdb (at most 15 characters).
    pthread_setname_np(pthread_self(), "pgsift-reader");
    tune_thread_heap();  // the reader's batches and buffers live in its own arena
    try {
      Batch batch;  // packed here, then copied into a slot of the ring
      batch.records.reserve(kBatchRecords);
      // Copies the packed batch into the next free slot and sends it.
      const auto send = [&queue, &batch] {
        SentBatch* slot = queue.to_fill();
        if (slot == nullptr) throw ConsumerGone{};
        publish_batch(batch, *slot);
        queue.send();
      };
      Packer packer;
      model::ParsedAhead ahead;
      // Balancing: the reader parses statement texts ahead only while the
      // consumer is the slower stage (batches pile up).
      bool reader_ahead = parse_always;
      error = input::read_log_records(
          paths, options,
          [&](model::LogRecord& record) {
            model::ParsedAhead* parsed = nullptr;
            if (reader_ahead) {
              const std::string_view text = model::statement_text(record);
              if (!text.empty()) {
                sql::parse(text, ahead.parsed);
                ahead.offset = static_cast<std::size_t>(text.data() - record.message.data());
                ahead.length = text.size();
                parsed = &ahead;
              }
            }
            packer.add(batch, record, parsed);
            if (batch.size() < kBatchRecords && batch.text.size() < kBatchBytes) return;
            send();
            // A few batches waiting: the analysis is behind.
            reader_ahead = parse_always || queue.depth() >= kAheadDepth;
          },
          summaries, err, &read_ahead);
      if (batch.size() > 0) send();
    } catch (const ConsumerGone&) {
      // The consumer's exception is the one that matters.
    } catch (...) {
      reader_failure = std::current_exception();
    }
    queue.close();
  });

  input::EventStage stage(on_event);
  try {
    LogRecord record;  // the consumer's own
    model::ParsedAhead ahead;
    ShapeRefs shapes;
    while (const SentBatch* batch = queue.to_read(read_ahead)) {
      for (std::size_t i = 0; i < batch->size; ++i) {
        take_record(*batch, i, shapes, record, ahead);
        stage.add(record, &ahead);
      }
      queue.done();
    }
    stage.finish();
  } catch (...) {
    queue.cancel();
    reader.join();
    throw;
  }
  reader.join();
  stage.count_into(summaries);
  if (reader_failure) std::rethrow_exception(reader_failure);
  return error;
}

}  // namespace pgsift::cli::analysis
