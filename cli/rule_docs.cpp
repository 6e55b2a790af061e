#include "cli/rule_docs.h"

namespace pgsift::cli {

const RuleDoc* find_rule_doc(std::string_view id) {
  for (const RuleDoc& doc : rule_docs()) {
    if (doc.id == id) return &doc;
  }
  return nullptr;
}

}  // namespace pgsift::cli
