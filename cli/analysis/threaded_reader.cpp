#include "cli/analysis/threaded_reader.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace pgsift::cli::analysis {
namespace {

// Events per batch: large enough that locking is rare (one lock per few
// hundred events), small enough that the consumer starts at once.
constexpr std::size_t kBatchEvents = 512;
// Batches in flight: bounds memory (about 4,000 events) and lets the faster
// stage run ahead of the slower one through short stalls.
constexpr std::size_t kMaxBatches = 8;

// A batch's events are slots reused from batch to batch: the reader copies
// each event into a slot (reusing the slot's string capacity), the consumer
// only reads them. So all batch memory is allocated and freed by the reader
// thread alone; a consumer freeing what the reader allocated would make the
// two threads fight over the allocator's arenas (measured: 1.5x the CPU time
// of one thread for no gain in wall time).
struct Batch {
  std::vector<model::Event> slots;
  std::size_t size = 0;  // slots in use
};

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
    batch.size = 0;
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
      fresh.slots.resize(kBatchEvents);
      return fresh;
    }
    Batch batch = std::move(spare_.back());
    spare_.pop_back();
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
                               std::vector<input::InputSummary>& summaries, std::ostream& err) {
  BatchQueue queue;
  std::string error;
  std::exception_ptr reader_failure;
  std::thread reader([&] {
    try {
      Batch batch = queue.take_spare();
      // Balancing: the reader takes on the optional `prepare` work only
      // while the consumer is the slower stage (batches pile up).
      bool reader_ahead = false;
      error = input::read_logs(
          paths, options,
          [&](model::Event& event) {
            // Swapped, not copied: the slot takes the event's buffers and
            // hands its old ones (allocated on this thread too) back to
            // the classifier, which frees or reuses them here.
            model::Event& slot = batch.slots[batch.size++];
            std::swap(slot, event);
            if (reader_ahead && prepare) prepare(slot);
            if (batch.size < kBatchEvents) return;
            if (!queue.push(std::move(batch))) throw ConsumerGone{};
            batch = queue.take_spare();
            reader_ahead = queue.depth() >= kMaxBatches / 2;
          },
          summaries, err);
      if (batch.size > 0) queue.push(std::move(batch));
    } catch (const ConsumerGone&) {
      // The consumer's exception is the one that matters.
    } catch (...) {
      reader_failure = std::current_exception();
    }
    queue.close();
  });

  try {
    Batch batch;
    while (queue.pop(batch)) {
      for (std::size_t i = 0; i < batch.size; ++i) on_event(batch.slots[i]);
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
