// Checks of report outputs that do not vendor schemas: the parts of SARIF
// 2.1.0 GitHub code scanning requires, and XML well-formedness (a small
// checker, plus xmllint from libxml2-utils as a second opinion).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pgsift::testing {

/// What GitHub would reject in `sarif` (empty = acceptable): required
/// properties, non-empty rule texts (<= 1024 chars), and for every result a
/// message, partialFingerprints and a physical location with uri and line.
std::vector<std::string> sarif_problems(const nlohmann::json& sarif);

/// "" when `xml` is one well-formed XML 1.0 document, else the first problem.
std::string xml_problem(const std::string& xml);

/// "" when `xmllint --noout` accepts `xml`, else its complaint.
std::string xmllint_problem(const std::string& xml);

}  // namespace pgsift::testing
