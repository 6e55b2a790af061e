// Rule documentation embedded at build time from man/rules/<id>.md (see
// cli/CMakeLists.txt), so `pgsift rules ID` works from the installed binary in
// any directory and prints exactly the text of the page.
#pragma once

#include <string_view>
#include <vector>

namespace pgsift::cli {

struct RuleDoc {
  std::string_view id;
  std::string_view text;
};

/// Every man/rules/*.md page, by file name without ".md". Defined in the
/// generated rule_docs_data.cpp.
const std::vector<RuleDoc>& rule_docs();

/// The page of rule `id`, or nullptr.
const RuleDoc* find_rule_doc(std::string_view id);

}  // namespace pgsift::cli
