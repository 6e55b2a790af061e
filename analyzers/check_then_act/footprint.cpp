#include "analyzers/check_then_act/footprint.h"

#include <algorithm>

namespace pgsift::analyzers::cta {

namespace {

// ASCII only, like PostgreSQL's identifier folding (and no locale lookup per
// character: this runs for every table access of every statement).
char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = fold(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != b[i]) return false;  // b is lower case
  }
  return true;
}

bool intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) != b.end()) return true;
  }
  return false;
}

ColumnValues& column_entry(std::vector<ColumnValues>& columns, const std::string& name) {
  for (auto& c : columns) {
    if (c.column == name) return c;
  }
  columns.push_back(ColumnValues{name, {}, false});
  return columns.back();
}

void add_value(ColumnValues& entry, const sql::Value& value, const model::Execution& execution) {
  std::optional<std::string> text;
  if (value.kind == sql::Value::Kind::literal || value.kind == sql::Value::Kind::parameter) {
    text = sql::resolve(value, execution.parsed.literals, execution.parameters);
  }
  if (!text) {
    entry.unknown = true;
    return;
  }
  std::string v = canonical_value(std::move(*text));
  if (std::find(entry.values.begin(), entry.values.end(), v) == entry.values.end()) {
    entry.values.push_back(std::move(v));
  }
}

void sort_columns(Footprint& footprint) {
  std::sort(footprint.columns.begin(), footprint.columns.end(),
            [](const ColumnValues& a, const ColumnValues& b) { return a.column < b.column; });
}

}  // namespace

std::string canonical_table(std::string_view name) {
  // Unqualified names resolve through search_path, which is "public" almost
  // everywhere; comparing without it lets `acct` meet `public.acct`.
  if (name.size() >= 7 && iequals(name.substr(0, 7), "public.")) name.remove_prefix(7);
  return lowercase(name);
}

std::string canonical_value(std::string value) {
  if (value.size() <= 5) {
    for (std::string_view word : {"t", "true", "on", "yes"})
      if (iequals(value, word)) return "true";
    for (std::string_view word : {"f", "false", "off", "no"})
      if (iequals(value, word)) return "false";
  }
  return value;
}

const ColumnValues* Footprint::find(std::string_view column) const {
  for (const auto& c : columns) {
    if (c.column == column) return &c;
  }
  return nullptr;
}

std::vector<std::string> Footprint::column_names() const {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.column);
  return names;
}

std::vector<std::string> Footprint::value_texts() const {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    std::string text = c.column + " = ";
    if (c.values.empty()) {
      text += "?";
    } else {
      for (std::size_t i = 0; i < c.values.size(); ++i) text += (i ? ", " : "") + c.values[i];
    }
    out.push_back(std::move(text));
  }
  return out;
}

Footprint footprint_of(const model::Execution& execution, const sql::TableAccess& access) {
  Footprint footprint;
  footprint.table = canonical_table(access.name);
  for (const auto& key : access.keys) {
    ColumnValues& entry = column_entry(footprint.columns, key.column);
    for (const auto& value : key.values) add_value(entry, value, execution);
    if (key.values.empty()) entry.unknown = true;
  }
  sort_columns(footprint);
  return footprint;
}

std::vector<Footprint> insert_footprints(const model::Execution& execution,
                                         const sql::InsertInfo& insert) {
  std::vector<Footprint> out;
  const std::string table = canonical_table(insert.table);
  if (insert.rows.empty()) {
    // INSERT ... SELECT: the inserted values are computed; only the column set is known.
    Footprint footprint{table, {}};
    for (const auto& column : insert.columns) column_entry(footprint.columns, column).unknown = true;
    sort_columns(footprint);
    out.push_back(std::move(footprint));
    return out;
  }
  for (const auto& row : insert.rows) {
    Footprint footprint{table, {}};
    for (std::size_t i = 0; i < row.size() && i < insert.columns.size(); ++i) {
      add_value(column_entry(footprint.columns, insert.columns[i]), row[i], execution);
    }
    sort_columns(footprint);
    out.push_back(std::move(footprint));
  }
  return out;
}

Overlap overlap(const Footprint& a, const Footprint& b) {
  if (a.table != b.table) return Overlap::none;
  bool shared = false;
  bool unknown = false;
  for (const auto& ca : a.columns) {
    const ColumnValues* cb = b.find(ca.column);
    if (cb == nullptr) continue;
    shared = true;
    if (ca.unknown || cb->unknown) {
      // A known intersection still counts; only a proven disjointness excludes.
      if (!intersects(ca.values, cb->values)) unknown = true;
      continue;
    }
    if (!intersects(ca.values, cb->values)) return Overlap::none;
  }
  if (!shared) return Overlap::none;
  return unknown ? Overlap::pattern : Overlap::value;
}

Overlap insert_matches(const Footprint& read, const Footprint& inserted) {
  if (read.table != inserted.table || read.columns.empty()) return Overlap::none;
  bool unknown = false;
  for (const auto& rc : read.columns) {
    const ColumnValues* ic = inserted.find(rc.column);
    if (ic == nullptr) return Overlap::none;
    if (intersects(rc.values, ic->values)) continue;
    if (rc.unknown || ic->unknown) {
      unknown = true;
      continue;
    }
    return Overlap::none;
  }
  return unknown ? Overlap::pattern : Overlap::value;
}

std::optional<std::vector<std::string>> covering_unique_key(const core::Schema& schema,
                                                            const std::string& table,
                                                            const std::vector<std::string>& columns) {
  const auto contains = [&columns](const std::string& c) {
    return std::find(columns.begin(), columns.end(), c) != columns.end();
  };
  if (!schema.known) {
    if (contains("id")) return std::vector<std::string>{"id"};
    return std::nullopt;
  }
  for (const std::string& name : {table, "public." + table}) {
    auto it = schema.unique_keys.find(name);
    if (it == schema.unique_keys.end()) continue;
    for (const auto& key : it->second) {
      if (!key.empty() && std::all_of(key.begin(), key.end(), contains)) return key;
    }
  }
  return std::nullopt;
}

std::string normalized_sql(const model::Execution& execution) {
  if (!execution.parsed.shape || execution.statement_index >= execution.parsed.shape->statements.size()) {
    return "";
  }
  return execution.statement().normalized;
}

std::vector<std::string> execution_values(const model::Execution& execution) {
  std::vector<std::string> values = execution.parsed.literals;
  for (std::size_t i = 0; i < execution.parameters.size(); ++i) {
    values.push_back("$" + std::to_string(i + 1) + " = " +
                     execution.parameters[i].value_or("NULL"));
  }
  return values;
}

}  // namespace pgsift::analyzers::cta
