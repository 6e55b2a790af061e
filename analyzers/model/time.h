// Timestamps and durations as the engine sees them: microseconds since the
// Unix epoch in UTC. Readers convert whatever the log says (%m, %t, %n, zone
// abbreviations, numeric offsets) into this once.
#pragma once

#include <cstdint>
#include <limits>

namespace pgsift::model {

/// Microseconds since 1970-01-01 00:00:00 UTC.
using Timestamp = std::int64_t;
/// A timestamp that the record did not carry.
inline constexpr Timestamp kNoTime = std::numeric_limits<Timestamp>::min();

inline constexpr std::int64_t kMicrosPerMilli = 1000;
inline constexpr std::int64_t kMicrosPerSecond = 1000 * 1000;

}  // namespace pgsift::model
