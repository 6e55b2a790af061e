#include "cli/live/statements.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "analyzers/sql/statement.h"
#include "cli/live/watch_tracker.h"

namespace pgsift::cli::live {

namespace {

// Our own queries carry this comment (pg_stat_statements keeps it in the
// stored text), so they can be left out of what we report.
constexpr std::string_view kOwnTag = "/* pgsift */";

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string unqualified(std::string name) {
  if (auto dot = name.rfind('.'); dot != std::string::npos) name = name.substr(dot + 1);
  std::string out;
  for (char c : name) {
    if (c != '"') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A child: SELECT from one table keyed by exactly one `col = $n`.
struct ChildShape {
  std::string table, column;
};
std::optional<ChildShape> child_shape(const sql::Parsed& parsed) {
  if (!parsed.shape || parsed.shape->statements.size() != 1) return std::nullopt;
  const sql::Statement& s = parsed.shape->statements.front();
  if (s.kind != sql::Kind::select || s.tables.size() != 1) return std::nullopt;
  const sql::TableAccess& t = s.tables.front();
  if (t.keys.size() != 1) return std::nullopt;
  const sql::KeyPredicate& k = t.keys.front();
  if (k.op != sql::KeyPredicate::Op::eq || k.values.size() != 1 ||
      k.values.front().kind != sql::Value::Kind::parameter)
    return std::nullopt;
  return ChildShape{unqualified(t.name), k.column};
}

bool is_select(const sql::Parsed& parsed) {
  return parsed.shape && parsed.shape->statements.size() == 1 &&
         parsed.shape->statements.front().kind == sql::Kind::select;
}

}  // namespace

// ---- reading ----

StatementsReader::StatementsReader(Connection& connection) {
  Result ext = connection.query(std::string(kOwnTag) +
                                " SELECT e.extversion, n.nspname FROM pg_extension e "
                                "JOIN pg_namespace n ON n.oid = e.extnamespace "
                                "WHERE e.extname = 'pg_stat_statements'");
  // shared_preload_libraries is readable only with pg_read_all_settings;
  // without it the remedy below mentions both steps.
  std::string libraries;
  try {
    libraries = connection
                    .query(std::string(kOwnTag) +
                           " SELECT current_setting('shared_preload_libraries', true) AS s")
                    .text(0, "s");
  } catch (const QueryError&) {
    if (!connection.is_alive()) throw;
  }
  const bool preloaded = libraries.find("pg_stat_statements") != std::string::npos;
  const std::string restart =
      "add pg_stat_statements to shared_preload_libraries in postgresql.conf (e.g. ALTER SYSTEM "
      "SET shared_preload_libraries = 'pg_stat_statements', keeping any libraries already listed) "
      "and restart the server";
  if (ext.rows() == 0) {
    std::string message = "pg_stat_statements is not installed in database " +
                          connection.database() + ": run CREATE EXTENSION pg_stat_statements; there";
    if (!preloaded) message += ", and " + restart;
    throw StatementsUnavailable(message);
  }
  version_ = ext.text(0, "extversion");
  schema_ = ext.text(0, "nspname");
  const auto at_least = [this](int major, int minor) {
    int a = 0, b = 0;
    std::sscanf(version_.c_str(), "%d.%d", &a, &b);
    return a > major || (a == major && b >= minor);
  };
  has_exec_time_ = at_least(1, 8);
  has_toplevel_ = at_least(1, 9);
  has_info_ = at_least(1, 9);
  // Creating the extension does not load the library; the first read tells.
  try {
    connection.query(std::string(kOwnTag) + " SELECT 1 FROM " + quote_ident(schema_) +
                     ".pg_stat_statements LIMIT 1");
  } catch (const QueryError& e) {
    if (e.sqlstate() == "55000") {
      throw StatementsUnavailable("pg_stat_statements is installed but not loaded: " + restart);
    }
    if (e.sqlstate() == "42501") {
      throw StatementsUnavailable("cannot read pg_stat_statements as " + connection.user() + " (" +
                                  e.what() + "): GRANT pg_monitor TO " + connection.user());
    }
    throw;
  }
}

StatementsSnapshot StatementsReader::snapshot(Connection& connection) const {
  StatementsSnapshot snap;
  const std::string schema = quote_ident(schema_);
  const std::string total =
      has_exec_time_ ? "s.total_exec_time + s.total_plan_time" : "s.total_time";
  const std::string toplevel = has_toplevel_ ? "s.toplevel" : "true";
  Result r = connection.query(
      std::string(kOwnTag) + " SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now, "
      "s.userid::text AS userid, s.dbid::text AS dbid, s.queryid::text AS queryid, " + toplevel +
      " AS toplevel, s.query, s.calls, s.rows, " + total + " AS total_ms, "
      "coalesce(r.rolname, s.userid::text) AS rolname, coalesce(d.datname, s.dbid::text) AS datname "
      "FROM " + schema + ".pg_stat_statements s "
      "LEFT JOIN pg_roles r ON r.oid = s.userid LEFT JOIN pg_database d ON d.oid = s.dbid");
  Result clock = connection.query(std::string(kOwnTag) +
                                  " SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now");
  snap.time = clock.integer(0, "now").value_or(0);
  for (int row = 0; row < r.rows(); ++row) {
    if (r.is_null(row, r.column("queryid"))) {
      ++snap.hidden;
      continue;
    }
    std::string query = r.text(row, "query");
    if (query.rfind(kOwnTag, 0) == 0) continue;
    StatementKey key{r.text(row, "userid"), r.text(row, "dbid"), r.text(row, "queryid"),
                     r.boolean(row, "toplevel")};
    StatementCounters c;
    c.query = std::move(query);
    c.user = r.text(row, "rolname");
    c.database = r.text(row, "datname");
    c.calls = r.integer(row, "calls").value_or(0);
    c.rows = r.integer(row, "rows").value_or(0);
    c.total_ms = r.number(row, "total_ms").value_or(0);
    snap.entries.emplace(std::move(key), std::move(c));
  }
  if (has_info_) {
    Result info = connection.query(
        std::string(kOwnTag) + " SELECT dealloc, (extract(epoch FROM stats_reset) * 1000000)::bigint "
        "AS stats_reset FROM " + schema + ".pg_stat_statements_info");
    if (info.rows() == 1) {
      snap.dealloc = info.integer(0, "dealloc");
      snap.stats_reset = info.integer(0, "stats_reset");
    }
  }
  return snap;
}

IntervalDeltas diff(const StatementsSnapshot& before, const StatementsSnapshot& after) {
  IntervalDeltas out;
  out.from = before.time;
  out.to = after.time;
  if (before.stats_reset && after.stats_reset && *before.stats_reset != *after.stats_reset) {
    out.reset = true;
    return out;
  }
  if (before.dealloc && after.dealloc) out.evictions = std::max<std::int64_t>(0, *after.dealloc - *before.dealloc);
  for (const auto& [key, now] : after.entries) {
    StatementDelta d;
    d.key = key;
    d.now = &now;
    auto it = before.entries.find(key);
    if (it == before.entries.end() || now.calls < it->second.calls) {
      // New, or re-created after an eviction / a pg_stat_statements_reset()
      // of this entry: everything it counts happened since then.
      d.is_new = true;
      d.calls = now.calls;
      d.rows = now.rows;
      d.total_ms = now.total_ms;
    } else {
      d.calls = now.calls - it->second.calls;
      d.rows = now.rows - it->second.rows;
      d.total_ms = now.total_ms - it->second.total_ms;
    }
    if (d.calls > 0) out.deltas.push_back(d);
  }
  for (const auto& [key, was] : before.entries) {
    if (!after.entries.count(key)) ++out.vanished;
  }
  return out;
}

std::vector<ForeignKey> read_foreign_keys(Connection& connection) {
  Result r = connection.query(std::string(kOwnTag) + R"SQL(
SELECT c.conrelid::regclass::text AS child_table, a.attname AS child_column,
       c.confrelid::regclass::text AS parent_table, fa.attname AS parent_column
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
)SQL");
  std::vector<ForeignKey> keys;
  for (int row = 0; row < r.rows(); ++row) {
    keys.push_back({unqualified(r.text(row, "child_table")), r.text(row, "child_column"),
                    unqualified(r.text(row, "parent_table")), r.text(row, "parent_column")});
  }
  return keys;
}

std::string current_database_oid(Connection& connection) {
  Result r = connection.query(std::string(kOwnTag) +
                              " SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()");
  return r.text(0, "oid");
}

// ---- the heuristic ----

std::optional<double> correlation(const std::vector<std::pair<double, double>>& points) {
  const double n = static_cast<double>(points.size());
  if (points.size() < 2) return std::nullopt;
  double sx = 0, sy = 0;
  for (const auto& [x, y] : points) sx += x, sy += y;
  const double mx = sx / n, my = sy / n;
  double cov = 0, vx = 0, vy = 0;
  for (const auto& [x, y] : points) {
    cov += (x - mx) * (y - my);
    vx += (x - mx) * (x - mx);
    vy += (y - my) * (y - my);
  }
  if (vx <= 0 || vy <= 0) return std::nullopt;
  return cov / std::sqrt(vx * vy);
}

std::string StatementsNPlusOne::foreign_key_link(const std::string& parent_sql,
                                                 const std::string& child_sql,
                                                 const StatementKey& child) const {
  if (child.dbid != connected_dbid_) return {};
  const sql::Parsed child_parsed = sql::parse(child_sql);
  const auto shape = child_shape(child_parsed);
  if (!shape) return {};
  const sql::Parsed parent_parsed = sql::parse(parent_sql);
  std::set<std::string> parent_tables;
  for (const auto& t : parent_parsed.shape->statements.front().tables)
    parent_tables.insert(unqualified(t.name));
  for (const auto& fk : foreign_keys_) {
    // belongs_to: parent rows carry the key the child looks up.
    if (fk.referenced_table == shape->table && fk.referenced_column == shape->column &&
        parent_tables.count(fk.table))
      return fk.table + "." + fk.column + " -> " + fk.referenced_table + "." + fk.referenced_column;
    // has_many: the child filters on its foreign key to the parent's table.
    if (fk.table == shape->table && fk.column == shape->column &&
        parent_tables.count(fk.referenced_table))
      return fk.table + "." + fk.column + " -> " + fk.referenced_table + "." + fk.referenced_column;
  }
  return {};
}

std::vector<core::Finding> StatementsNPlusOne::observe(const IntervalDeltas& interval) {
  std::vector<core::Finding> findings;
  if (interval.reset) return findings;
  const double seconds = std::max(interval.seconds(), 1e-3);
  std::map<StatementKey, const StatementDelta*> by_key;
  for (const auto& d : interval.deltas) by_key[d.key] = &d;

  // Pairs already under watch get this interval's point, even a zero one.
  for (auto& [pair, history] : history_) {
    auto p = by_key.find(pair.first);
    auto c = by_key.find(pair.second);
    history.points.emplace_back(p == by_key.end() ? 0.0 : static_cast<double>(p->second->rows),
                                c == by_key.end() ? 0.0 : static_cast<double>(c->second->calls));
    if (history.points.size() > 4 * thresholds_.correlation_intervals)
      history.points.erase(history.points.begin());
  }

  for (const auto& child : interval.deltas) {
    if (child.calls < thresholds_.min_child_calls) continue;
    if (static_cast<double>(child.calls) / seconds < thresholds_.min_child_rate) continue;
    if (child.mean_ms() > thresholds_.max_child_mean_ms) continue;
    const sql::Parsed child_parsed = sql::parse(child.now->query);
    const auto shape = child_shape(child_parsed);
    if (!shape) continue;
    for (const auto& parent : interval.deltas) {
      if (&parent == &child || parent.key.dbid != child.key.dbid ||
          parent.key.userid != child.key.userid || parent.calls <= 0 || parent.rows <= 0)
        continue;
      const double rows_per_call = static_cast<double>(parent.rows) / static_cast<double>(parent.calls);
      const double fan_out = static_cast<double>(child.calls) / static_cast<double>(parent.calls);
      const double coverage = static_cast<double>(child.calls) / static_cast<double>(parent.rows);
      if (rows_per_call < thresholds_.min_parent_rows_per_call || fan_out < thresholds_.min_fan_out ||
          coverage < thresholds_.min_coverage || coverage > thresholds_.max_coverage)
        continue;
      const sql::Parsed parent_parsed = sql::parse(parent.now->query);
      if (!is_select(parent_parsed)) continue;

      const PairKey pair{parent.key, child.key};
      auto [hit, first_time] = history_.try_emplace(pair);
      if (first_time)
        hit->second.points.emplace_back(static_cast<double>(parent.rows),
                                        static_cast<double>(child.calls));
      const auto& points = hit->second.points;
      std::optional<double> corr;
      if (points.size() >= thresholds_.correlation_intervals) corr = correlation(points);
      const bool correlated = corr && *corr >= thresholds_.min_correlation;
      const std::string fk = foreign_key_link(parent.now->query, child.now->query, child.key);
      if (fk.empty() && !correlated) continue;  // a chatty lookup, nothing more
      const bool likely = !fk.empty() && correlated;

      const std::string child_sql = normalized_sql(child.now->query);
      const std::string parent_sql = normalized_sql(parent.now->query);
      core::Finding f;
      f.rule = "n-plus-one";
      f.severity = likely ? core::Severity::warning : core::Severity::info;
      f.id = core::make_finding_id("n-plus-one", {child.now->database, parent_sql, child_sql});
      char rate[64];
      std::snprintf(rate, sizeof rate, "%.0f/s", static_cast<double>(child.calls) / seconds);
      f.message = std::string(likely ? "likely" : "possible") + " N+1: " + child_sql + " ran " +
                  std::to_string(child.calls) + " times (" + rate + ") for the " +
                  std::to_string(parent.rows) + " rows of " + std::to_string(parent.calls) +
                  " runs of " + parent_sql;
      const std::string any_sql = "SELECT ... FROM " + shape->table + " WHERE " + shape->column +
                                  " = ANY($1)";
      f.help = "fetch the " + shape->table + " rows for all parent rows at once (" + any_sql +
               ") or join them into the parent query";
      core::SessionRef who;
      who.user = child.now->user;
      who.database = child.now->database;
      f.sessions = {who};
      core::Evidence ce;
      ce.role = "child";
      ce.sql = child_sql;
      ce.duration_ms = child.mean_ms();
      ce.time = interval.to;
      core::Evidence pe;
      pe.role = "parent";
      pe.sql = parent_sql;
      pe.duration_ms = parent.mean_ms();
      pe.time = interval.to;
      f.evidence = {ce, pe};
      f.first_seen = interval.from;
      f.last_seen = interval.to;
      const double waste = static_cast<double>(child.calls - parent.calls) *
                           (child.mean_ms() + thresholds_.rtt_ms);
      f.details = {
          {"source", "pg_stat_statements"},
          {"confidence", likely ? "likely" : "possible"},
          {"foreign_key", fk.empty() ? nlohmann::json(nullptr) : nlohmann::json(fk)},
          {"correlation", corr ? nlohmann::json(*corr) : nlohmann::json(nullptr)},
          {"correlation_intervals", points.size()},
          {"interval_seconds", interval.seconds()},
          {"child_calls", child.calls},
          {"child_rows", child.rows},
          {"child_mean_ms", child.mean_ms()},
          {"child_kind",
           static_cast<double>(child.rows) <= 1.5 * static_cast<double>(child.calls) ? "lookup"
                                                                                     : "collection"},
          {"parent_calls", parent.calls},
          {"parent_rows", parent.rows},
          {"fan_out", fan_out},
          {"coverage", coverage},
          {"estimated_waste_ms", waste},
          {"assumed_rtt_ms", thresholds_.rtt_ms},
          {"lower_bound", child.is_new || parent.is_new || interval.evictions > 0},
      };
      findings.push_back(std::move(f));
    }
  }
  return findings;
}

}  // namespace pgsift::cli::live
