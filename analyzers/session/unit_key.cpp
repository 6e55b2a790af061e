#include "analyzers/session/unit_key.h"

namespace pgsift::session {

namespace {

const std::string* tag(const std::map<std::string, std::string>& tags, const char* key) {
  auto it = tags.find(key);
  return it == tags.end() || it->second.empty() ? nullptr : &it->second;
}

// traceparent = "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"
// (sqlcommenter spec). The span id differs per query; the trace id is the request.
std::string trace_id(const std::string& traceparent) {
  const auto first = traceparent.find('-');
  if (first == std::string::npos) return "";
  const auto second = traceparent.find('-', first + 1);
  if (second == std::string::npos) return "";
  return traceparent.substr(first + 1, second - first - 1);
}

}  // namespace

std::string attribution_of(const std::map<std::string, std::string>& tags) {
  if (tags.empty()) return "";
  if (const std::string* traceparent = tag(tags, "traceparent")) {
    std::string id = trace_id(*traceparent);
    if (!id.empty()) return "trace:" + id;
  }
  for (const char* key : {"request_id", "correlation_id", "trace_id"}) {
    if (const std::string* id = tag(tags, key)) return std::string(key) + ":" + *id;
  }
  const std::string* controller = tag(tags, "controller");
  const std::string* action = tag(tags, "action");
  if (controller != nullptr || action != nullptr) {
    return (controller ? *controller : std::string()) + "#" + (action ? *action : std::string());
  }
  if (const std::string* job = tag(tags, "job")) return "job:" + *job;
  if (const std::string* route = tag(tags, "route")) return "route:" + *route;
  return "";
}

std::string unit_attribution(const model::Transaction& transaction) {
  for (const model::Execution& execution : transaction.executions) {
    std::string key = attribution_of(execution.statement().tags);
    if (!key.empty()) return key;
  }
  return "";
}

std::map<std::string, std::string> unit_tags(const model::Transaction& transaction) {
  for (const model::Execution& execution : transaction.executions) {
    const auto& tags = execution.statement().tags;
    if (!tags.empty()) return tags;
  }
  return {};
}

}  // namespace pgsift::session
