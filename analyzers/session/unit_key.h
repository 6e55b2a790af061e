// Request attribution from sqlcommenter / Rails QueryLogs / Marginalia tags
// (parsed out of SQL comments by analyzers/sql): the trace id of a W3C
// traceparent, else a request/correlation id, else controller#action or job.
#pragma once

#include <map>
#include <string>

#include "analyzers/model/session.h"

namespace pgsift::session {

/// The attribution key of one statement's tags, or "" when they name no request.
std::string attribution_of(const std::map<std::string, std::string>& tags);

/// The attribution key of a transaction: that of its first tagged statement.
std::string unit_attribution(const model::Transaction& transaction);

/// The tags of the first tagged statement of `transaction` (empty if none).
std::map<std::string, std::string> unit_tags(const model::Transaction& transaction);

}  // namespace pgsift::session
