// libFuzzer target: the stderr reader on arbitrary bytes
// (built by `scripts/build fuzz`; run build/fuzz/cli/stderr_fuzz -max_total_time=60).
// Reading must never crash, hang or read out of bounds, whatever the input.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "cli/input/log_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pgsift::cli::input::InputOptions options;
  options.format = "stderr";
  options.prefix = "%m [%p] %q%c %l %v %x %u@%d/%a %r %Q ";
  pgsift::cli::input::InputSummary summary;
  std::ostringstream err;
  std::size_t events = 0;
  pgsift::cli::input::read_log_buffer(
      std::string_view(reinterpret_cast<const char*>(data), size), options,
      [&](const pgsift::model::Event&) { ++events; }, summary, err);
  return 0;
}
