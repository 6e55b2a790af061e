#include "analyzers/core/option_values.h"

#include <charconv>

namespace pgsift::core {

namespace {

std::string format_bound(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

std::string read_number(const OptionMap& options, std::string_view key, double min, double max,
                        double& out) {
  auto it = options.find(std::string(key));
  if (it == options.end()) return "";
  const std::string& text = it->second;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    return std::string(key) + ": expected a number from " + format_bound(min) + " to " +
           format_bound(max) + ", got '" + text + "'";
  }
  out = value;
  return "";
}

std::string read_bool(const OptionMap& options, std::string_view key, bool& out) {
  auto it = options.find(std::string(key));
  if (it == options.end()) return "";
  const std::string& text = it->second;
  if (text == "true" || text == "yes" || text == "on" || text == "1") {
    out = true;
  } else if (text == "false" || text == "no" || text == "off" || text == "0") {
    out = false;
  } else {
    return std::string(key) + ": expected true or false, got '" + text + "'";
  }
  return "";
}

}  // namespace pgsift::core
