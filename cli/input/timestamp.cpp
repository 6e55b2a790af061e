// Hand-written parsers (no regular-expression library, no locale): they run once per line.
#include "cli/input/timestamp.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace pgsift::cli::input {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`.
bool fixed_digits(std::string_view s, std::size_t pos, int n, int& value) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + static_cast<std::size_t>(i)];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  value = v;
  return true;
}

struct ZoneName {
  std::string_view name;
  int hours_east_x4;  // quarter hours, for +05:30 style zones
};

// Abbreviations PostgreSQL's default timezone_abbreviations set prints for
// common log_timezone settings.
constexpr std::array<ZoneName, 44> kZones{{
    {"UTC", 0},     {"GMT", 0},      {"Z", 0},        {"UCT", 0},      {"WET", 0},
    {"WEST", 4},    {"BST", 4},      {"IST", 4},      {"CET", 4},      {"CEST", 8},
    {"MET", 4},     {"MEST", 8},     {"EET", 8},      {"EEST", 12},    {"MSK", 12},
    {"MSD", 16},    {"SAST", 8},     {"EAT", 12},     {"PKT", 20},     {"WIB", 28},
    {"HKT", 32},    {"SGT", 32},     {"AWST", 32},    {"JST", 36},     {"KST", 36},
    {"ACST", 38},   {"AEST", 40},    {"AEDT", 44},    {"NZST", 48},    {"NZDT", 52},
    {"HST", -40},   {"AKST", -36},   {"AKDT", -32},   {"PST", -32},    {"PDT", -28},
    {"MST", -28},   {"MDT", -24},    {"CST", -24},    {"CDT", -20},    {"EST", -20},
    {"EDT", -16},   {"AST", -16},    {"ADT", -12},    {"NST", -14},
}};

bool numeric_offset(std::string_view z, int& seconds_east) {
  if (z.size() < 2 || (z[0] != '+' && z[0] != '-')) return false;
  int sign = z[0] == '-' ? -1 : 1;
  std::size_t i = 1;
  int hours = 0, minutes = 0, seconds = 0;
  if (!fixed_digits(z, i, 2, hours)) {
    if (!fixed_digits(z, i, 1, hours) || z.size() != 2) return false;
    seconds_east = sign * hours * 3600;
    return true;
  }
  i += 2;
  if (i < z.size() && z[i] == ':') ++i;
  if (i < z.size()) {
    if (!fixed_digits(z, i, 2, minutes)) return false;
    i += 2;
    if (i < z.size() && z[i] == ':') ++i;
    if (i < z.size()) {
      if (!fixed_digits(z, i, 2, seconds)) return false;
      i += 2;
    }
  }
  if (i != z.size()) return false;
  seconds_east = sign * (hours * 3600 + minutes * 60 + seconds);
  return true;
}

bool is_zone_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' ||
         c == '-' || c == '/' || c == '_';
}

}  // namespace

std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool zone_offset(std::string_view zone, int& seconds_east) {
  if (numeric_offset(zone, seconds_east)) return true;
  for (const ZoneName& z : kZones) {
    if (z.name == zone) {
      seconds_east = z.hours_east_x4 * 900;
      return true;
    }
  }
  seconds_east = 0;
  return false;
}

namespace {

// Consecutive log lines almost always share their minute: the last
// "YYYY-MM-DD HH:MM" seen (per thread) and its seconds since the epoch.
struct MinuteCache {
  char text[16] = {};
  std::int64_t seconds = 0;
  bool valid = false;
};
thread_local MinuteCache minute_cache;

// Seconds since the epoch (zone not applied) of "YYYY-MM-DD HH:MM" at the
// start of `s`, which has at least 16 characters; false if it is not one.
bool minute_seconds(std::string_view s, std::int64_t& seconds) {
  MinuteCache& cache = minute_cache;
  if (cache.valid && std::memcmp(s.data(), cache.text, sizeof cache.text) == 0) {
    seconds = cache.seconds;
    return true;
  }
  int year, month, day, hour, minute;
  if (!fixed_digits(s, 0, 4, year) || s[4] != '-' || !fixed_digits(s, 5, 2, month) || s[7] != '-' ||
      !fixed_digits(s, 8, 2, day) || (s[10] != ' ' && s[10] != 'T') ||
      !fixed_digits(s, 11, 2, hour) || s[13] != ':' || !fixed_digits(s, 14, 2, minute)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return false;
  seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
            hour * 3600 + minute * 60;
  std::memcpy(cache.text, s.data(), sizeof cache.text);
  cache.seconds = seconds;
  cache.valid = true;
  return true;
}

}  // namespace

int parse_fraction(std::string_view s, std::size_t dot, std::int64_t& micros, std::size_t& end) {
  std::size_t i = dot + 1;
  int digits = 0;
  micros = 0;
  while (i < s.size() && is_digit(s[i])) {
    if (digits < 6) micros = micros * 10 + (s[i] - '0');
    ++digits;
    ++i;
  }
  for (int d = digits; d < 6; ++d) micros *= 10;
  end = i;
  return digits;
}

bool parse_sql_time(std::string_view s, bool want_zone, ParsedTime& out) {
  std::int64_t minute_start = 0;
  int second = 0;
  if (s.size() < 19 || !minute_seconds(s, minute_start) || s[16] != ':' ||
      !fixed_digits(s, 17, 2, second) || second > 60) {
    return false;
  }
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (i < s.size() && s[i] == '.' && parse_fraction(s, i, micros, i) == 0) return false;
  int offset = 0;
  bool known = true;
  if (want_zone && i < s.size()) {
    if (s[i] == 'Z') {
      ++i;  // ISO "Z"
    } else if (s[i] == '+' || s[i] == '-') {
      // ISO offset attached to the time: "+00:00", "-0530".
      std::size_t end = i + 1;
      while (end < s.size() && (is_digit(s[end]) || s[end] == ':')) ++end;
      if (zone_offset(s.substr(i, end - i), offset)) i = end;
    } else if (s[i] == ' ' && i + 1 < s.size() && is_zone_char(s[i + 1])) {
      // log_timezone abbreviation after a space; stops at ':' (RDS "CET:host").
      std::size_t end = i + 1;
      while (end < s.size() && is_zone_char(s[end])) ++end;
      known = zone_offset(s.substr(i + 1, end - i - 1), offset);
      i = end;
    }
  }
  const std::int64_t secs = minute_start + second - offset;
  out.time = secs * model::kMicrosPerSecond + micros;
  out.length = i;
  out.zone_known = known;
  return true;
}

bool parse_epoch_time(std::string_view s, ParsedTime& out) {
  std::size_t i = 0;
  std::int64_t secs = 0;
  while (i < s.size() && is_digit(s[i]) && i < 12) secs = secs * 10 + (s[i++] - '0');
  if (i < 9) return false;
  std::int64_t micros = 0;
  if (i < s.size() && s[i] == '.') parse_fraction(s, i, micros, i);
  out.time = secs * model::kMicrosPerSecond + micros;
  out.length = i;
  out.zone_known = true;
  return true;
}

bool parse_bsd_time(std::string_view s, int year, ParsedTime& out) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (s.size() < 15 || s[3] != ' ') return false;
  std::size_t m = kMonths.find(s.substr(0, 3));
  if (m == std::string_view::npos || m % 3 != 0) return false;
  int day = 0;
  if (s[4] == ' ') {
    if (!fixed_digits(s, 5, 1, day)) return false;
  } else if (!fixed_digits(s, 4, 2, day)) {
    return false;
  }
  int hour, minute, second;
  if (s[6] != ' ' || !fixed_digits(s, 7, 2, hour) || s[9] != ':' ||
      !fixed_digits(s, 10, 2, minute) || s[12] != ':' || !fixed_digits(s, 13, 2, second)) {
    return false;
  }
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(m / 3 + 1),
                                            static_cast<unsigned>(day));
  out.time = (days * 86400 + hour * 3600 + minute * 60 + second) * model::kMicrosPerSecond;
  out.length = 15;
  out.zone_known = true;
  return true;
}

}  // namespace pgsift::cli::input
