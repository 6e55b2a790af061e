// Typed reads of rule options (OptionMap strings from --option, config files
// and fixtures). Errors name the key and the bad value, e.g.
// "min-repetitions: expected a number >= 2, got 'x'"; callers prefix the rule.
#pragma once

#include <string>
#include <string_view>

#include "analyzers/core/analyzer.h"

namespace pgsift::core {

/// Sets `out` from `options[key]` when present. Returns "" or an error.
std::string read_number(const OptionMap& options, std::string_view key, double min, double max,
                        double& out);
/// Accepts true/false/yes/no/on/off/1/0.
std::string read_bool(const OptionMap& options, std::string_view key, bool& out);

}  // namespace pgsift::core
