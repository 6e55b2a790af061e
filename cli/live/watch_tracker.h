// Turns activity samples into lock-wait and idle-in-transaction findings
// (same rule ids and Finding shape as `pgsift analyze`). Each episode (one
// wait of one session, one idle stretch of one transaction) is reported once
// when it crosses its threshold and once more when it ends. Sampling only
// sees what is there at sample time, so every duration is a lower bound.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "analyzers/core/finding.h"
#include "cli/live/activity.h"

namespace pgsift::cli::live {

struct WatchThresholds {
  model::Timestamp lock_wait = 1 * model::kMicrosPerSecond;
  model::Timestamp idle_in_transaction = 1 * model::kMicrosPerSecond;
};

struct LiveUpdate {
  enum class Kind : std::uint8_t { started, ended };
  Kind kind = Kind::started;
  core::Finding finding;
};

/// SQL as reports may show it: normalized ($n for literals). Text that does
/// not parse (for instance cut at track_activity_query_size) is replaced by a
/// placeholder naming its length, never shown raw.
std::string normalized_sql(std::string_view raw);

class WatchTracker {
 public:
  explicit WatchTracker(WatchThresholds thresholds) : thresholds_(thresholds) {}

  /// Feeds one sample; returns the episodes that started or ended with it.
  std::vector<LiveUpdate> update(const ActivitySample& sample);
  /// Ends every open episode at `now` (end of the watch).
  std::vector<LiveUpdate> finish(model::Timestamp now);
  /// Every episode reported so far, in its latest state, oldest first.
  std::vector<core::Finding> findings() const;
  /// Episodes currently open (reported and not yet ended).
  std::size_t open_episodes() const;

 private:
  struct Episode {
    core::Finding finding;
    bool reported = false;
    bool open = true;
    model::Timestamp started = model::kNoTime;
    model::Timestamp last_seen = model::kNoTime;
  };
  // lock-wait: (pid, wait start); idle-in-transaction: (pid, xact_start, state_change).
  using Key = std::tuple<std::string, std::int32_t, model::Timestamp, model::Timestamp>;

  void observe_waits(const ActivitySample& sample, const std::vector<BlockingTree>& trees,
                     std::vector<LiveUpdate>& updates);
  void observe_idle(const ActivitySample& sample, const std::vector<BlockingTree>& trees,
                    std::vector<LiveUpdate>& updates);
  void close_missing(model::Timestamp now, std::vector<LiveUpdate>& updates);

  WatchThresholds thresholds_;
  std::map<Key, Episode> episodes_;
  std::vector<Key> order_;  // first-seen order, for stable output
  std::map<Key, bool> seen_this_sample_;
};

}  // namespace pgsift::cli::live
