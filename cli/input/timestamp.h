// Parses the timestamps PostgreSQL and log shippers write into model::Timestamp
// (microseconds since the epoch, UTC): `%t`/`%m`/`%s` ("2026-11-26 12:18:58.177
// UTC", zone abbreviation or numeric offset), `%n` (epoch "1700000000.123"),
// ISO 8601 from syslog and cloud envelopes ("2019-03-14T00:22:56+00:00",
// "...13:00:20.38403Z") and BSD syslog ("Feb 11 13:15:39", no year).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyzers/model/time.h"

namespace pgsift::cli::input {

/// Days since 1970-01-01 for a proleptic Gregorian date.
std::int64_t days_from_civil(int year, unsigned month, unsigned day);

/// Offset in seconds east of UTC of a zone written by log_timezone: an
/// abbreviation ("UTC", "CET", "MSK") or a numeric offset ("+03", "-0530").
/// Returns false for an unknown abbreviation.
bool zone_offset(std::string_view zone, int& seconds_east);

/// Result of parsing a timestamp at the start of some text.
struct ParsedTime {
  model::Timestamp time = model::kNoTime;
  std::size_t length = 0;   // characters consumed
  bool zone_known = true;   // false: unknown abbreviation, taken as UTC
};

/// "YYYY-MM-DD HH:MM:SS[.f+][ ZONE]" (also with 'T' and ISO offsets / 'Z').
/// With `want_zone`, a space and a zone token are consumed when present.
bool parse_sql_time(std::string_view text, bool want_zone, ParsedTime& out);
/// The fraction of a second after the '.' at `dot` (any number of digits,
/// kept to microseconds): its digit count, with `end` one past the last digit.
int parse_fraction(std::string_view text, std::size_t dot, std::int64_t& micros, std::size_t& end);
/// "1700000000[.123]" (%n).
bool parse_epoch_time(std::string_view text, ParsedTime& out);
/// "Mmm dd HH:MM:SS" (BSD syslog; `year` supplies the missing year).
bool parse_bsd_time(std::string_view text, int year, ParsedTime& out);

}  // namespace pgsift::cli::input
