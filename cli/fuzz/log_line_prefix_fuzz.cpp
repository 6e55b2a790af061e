// libFuzzer target: log_line_prefix compilation and matching. The first line
// of the input is the prefix, the rest are log lines matched against it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli/input/log_line_prefix.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t nl = text.find('\n');
  std::string_view prefix = text.substr(0, nl);
  pgsift::cli::input::LogLinePrefix matcher(prefix);
  if (nl == std::string_view::npos) return 0;
  text.remove_prefix(nl + 1);
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    pgsift::cli::input::PrefixFields fields;
    pgsift::cli::input::LineTag tag;
    matcher.match(text.substr(0, end), fields, tag);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return 0;
}
