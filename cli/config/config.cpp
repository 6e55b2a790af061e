#include "cli/config/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <toml++/toml.h>

#include "analyzers/core/analyzer.h"

namespace pgsift::cli::config {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string_view> kFormats = {"stderr", "csvlog", "jsonlog", "syslog", "cloudsql", "cnpg"};
const std::vector<std::string_view> kFailOn = {"info", "warning", "error", "never"};
const std::vector<std::string_view> kSeverities = {"info", "warning", "error"};

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : ", ") + std::string(word);
  return out;
}

bool one_of(std::string_view value, const std::vector<std::string_view>& allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

// Paths below the working directory are shown relative to it, as users typed them.
std::string display_path(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (!p.is_absolute()) return path;
  const auto cwd = fs::current_path(ec);
  if (ec) return path;
  const auto rel = p.lexically_normal().lexically_relative(cwd);
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.generic_string();
}

// Errors carry "FILE:LINE: "; `Located` builds them for one file.
struct Located {
  std::string path;
  std::string at(const toml::source_region& where) const {
    return path + ":" + std::to_string(where.begin.line);
  }
  std::string error(const toml::source_region& where, const std::string& message) const {
    return at(where) + ": " + message;
  }
};

// A scalar TOML value as the string rules receive in their OptionMap.
std::optional<std::string> scalar_text(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
  if (const auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out << f->get();
    return out.str();
  }
  return std::nullopt;
}

std::string expect_string(const Located& file, const toml::node& node, const std::string& key, std::string& out) {
  const auto* s = node.as_string();
  if (s == nullptr) return file.error(node.source(), "'" + key + "' must be a string");
  out = s->get();
  return "";
}

std::string expect_choice(const Located& file, const toml::node& node, const std::string& key,
                          const std::vector<std::string_view>& allowed, std::string& out) {
  if (auto error = expect_string(file, node, key, out); !error.empty()) return error;
  if (!one_of(out, allowed)) {
    return file.error(node.source(), "bad value '" + out + "' for '" + key + "' (expected " + join(allowed) + ")");
  }
  return "";
}

const RuleSchema* find_schema(const std::vector<RuleSchema>& rules, std::string_view id) {
  for (const auto& rule : rules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

std::string parse_rule_list(const Located& file, const toml::node& node, const std::string& key,
                            const std::vector<RuleSchema>& rules, std::vector<std::string>& out) {
  const auto* array = node.as_array();
  if (array == nullptr) return file.error(node.source(), "'" + key + "' must be an array of rule ids");
  out.clear();
  for (const auto& item : *array) {
    const auto* s = item.as_string();
    if (s == nullptr) return file.error(item.source(), "'" + key + "' must be an array of rule ids");
    if (find_schema(rules, s->get()) == nullptr) {
      return file.error(item.source(), "unknown rule '" + s->get() + "' in '" + key + "'");
    }
    out.push_back(s->get());
  }
  return "";
}

std::string apply_input(const Located& file, const toml::table& table, Config& out) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    std::string value;
    if (name == "format") {
      if (auto e = expect_choice(file, node, "input.format", kFormats, value); !e.empty()) return e;
      out.format.set(value, file.at(key.source()));
    } else if (name == "prefix") {
      if (auto e = expect_string(file, node, "input.prefix", value); !e.empty()) return e;
      out.prefix.set(value, file.at(key.source()));
    } else {
      return file.error(key.source(), "unknown key 'input." + name + "'");
    }
  }
  return "";
}

std::string apply_rule_table(const Located& file, const RuleSchema& rule, const toml::table& table, Config& out) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const std::string full = rule.id + "." + name;
    if (name == "enabled") {
      const auto* b = node.as_boolean();
      if (b == nullptr) return file.error(node.source(), "'" + full + "' must be true or false");
      out.enabled[rule.id].set(b->get(), file.at(key.source()));
    } else if (name == "severity") {
      std::string value;
      if (auto e = expect_choice(file, node, full, kSeverities, value); !e.empty()) return e;
      out.severities[rule.id].set(value, file.at(key.source()));
    } else if (std::find(rule.options.begin(), rule.options.end(), name) != rule.options.end()) {
      const auto text = scalar_text(node);
      if (!text) return file.error(node.source(), "'" + full + "' must be a string, number or boolean");
      out.options[rule.id][name].set(*text, file.at(key.source()));
    } else {
      return file.error(key.source(), "unknown key '" + full + "'");
    }
  }
  return "";
}

std::string apply_max_findings(const Located& file, const toml::table& table, const std::vector<RuleSchema>& rules,
                               Config& out) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (name != "all" && find_schema(rules, name) == nullptr) {
      return file.error(key.source(), "unknown rule 'max-findings." + name + "'");
    }
    const auto* i = node.as_integer();
    if (i == nullptr || i->get() < 0) {
      return file.error(node.source(), "'max-findings." + name + "' must be a non-negative integer");
    }
    out.max_findings[name].set(static_cast<std::uint64_t>(i->get()), file.at(key.source()));
  }
  return "";
}

std::string apply_ignore(const Located& file, const toml::node& node, const std::vector<RuleSchema>& rules,
                         Config& out) {
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return file.error(node.source(), "'ignore' must be an array of tables ([[ignore]])");
  }
  for (const auto& item : *array) {
    const auto& table = *item.as_table();
    IgnoreEntry entry;
    entry.origin = file.at(table.source());
    bool selective = false;
    for (const auto& [key, value] : table) {
      const std::string name(key.str());
      std::string* field = name == "id"            ? &entry.id
                           : name == "rule"        ? &entry.rule
                           : name == "table"       ? &entry.table
                           : name == "application" ? &entry.application
                           : name == "user"        ? &entry.user
                           : name == "database"    ? &entry.database
                           : name == "fingerprint" ? &entry.fingerprint
                           : name == "reason"      ? &entry.reason
                                                   : nullptr;
      if (field == nullptr) return file.error(key.source(), "unknown key 'ignore." + name + "'");
      if (auto e = expect_string(file, value, "ignore." + name, *field); !e.empty()) return e;
      if (field->empty()) return file.error(value.source(), "'ignore." + name + "' must not be empty");
      if (name != "reason") selective = true;
      if (name == "rule" && find_schema(rules, *field) == nullptr) {
        return file.error(value.source(), "unknown rule '" + *field + "' in 'ignore.rule'");
      }
      if (name == "fingerprint") {
        std::string& fp = *field;
        if (fp.rfind("0x", 0) == 0) fp.erase(0, 2);
        std::transform(fp.begin(), fp.end(), fp.begin(), [](unsigned char c) { return std::tolower(c); });
        if (fp.size() != 16 || fp.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return file.error(value.source(), "'ignore.fingerprint' must be 16 hex digits");
        }
      }
    }
    if (!selective) return file.error(table.source(), "an [[ignore]] entry needs at least one of id, rule, table, "
                                                      "application, user, database, fingerprint");
    if (entry.reason.empty()) return file.error(table.source(), "an [[ignore]] entry needs a 'reason'");
    out.ignores.push_back(std::move(entry));
  }
  return "";
}

std::string env_value(const LoadOptions& options, const std::string& name, bool& found) {
  if (options.environment) {
    const auto it = options.environment->find(name);
    found = it != options.environment->end();
    return found ? it->second : "";
  }
  const char* value = std::getenv(name.c_str());
  found = value != nullptr;
  return found ? value : "";
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off" || text.empty()) return false;
  return std::nullopt;
}

std::string apply_environment(const LoadOptions& options, Config& out) {
  bool found = false;
  std::string value = env_value(options, "PGSIFT_FAIL_ON", found);
  if (found) {
    if (!one_of(value, kFailOn)) return "env PGSIFT_FAIL_ON: bad value '" + value + "' (expected " + join(kFailOn) + ")";
    out.fail_on.set(value, "env PGSIFT_FAIL_ON");
  }
  value = env_value(options, "PGSIFT_SHOW_VALUES", found);
  if (found) {
    const auto flag = parse_bool(value);
    if (!flag) return "env PGSIFT_SHOW_VALUES: bad value '" + value + "' (expected 1 or 0)";
    out.show_values.set(*flag, "env PGSIFT_SHOW_VALUES");
  }
  value = env_value(options, "PGSIFT_FORMAT", found);
  if (found) {
    if (!one_of(value, kFormats)) return "env PGSIFT_FORMAT: bad value '" + value + "' (expected " + join(kFormats) + ")";
    out.format.set(value, "env PGSIFT_FORMAT");
  }
  value = env_value(options, "PGSIFT_PREFIX", found);
  if (found) out.prefix.set(value, "env PGSIFT_PREFIX");
  value = env_value(options, "PGSIFT_BASELINE", found);
  if (found) out.baseline.set(value, "env PGSIFT_BASELINE");
  value = env_value(options, "PGSIFT_RULES", found);
  if (found) {
    std::vector<std::string> rules;
    std::stringstream list(value);
    for (std::string item; std::getline(list, item, ',');) {
      if (item.empty()) continue;
      if (find_schema(options.rules, item) == nullptr) return "env PGSIFT_RULES: unknown rule '" + item + "'";
      rules.push_back(item);
    }
    out.rules.set(rules, "env PGSIFT_RULES");
  }
  return "";
}

}  // namespace

std::vector<RuleSchema> registered_rules() {
  std::vector<RuleSchema> out;
  for (const auto& entry : core::rule_registry()) {
    RuleSchema schema{std::string(entry.info.id), {}};
    for (const auto& [name, meaning] : entry.options) schema.options.push_back(name);
    out.push_back(std::move(schema));
  }
  return out;
}

std::vector<std::string> Config::selected_rules(const std::vector<RuleSchema>& known) const {
  std::vector<std::string> out;
  for (const auto& rule : known) {
    if (!rules.value.empty() && std::find(rules.value.begin(), rules.value.end(), rule.id) == rules.value.end()) continue;
    const auto it = enabled.find(rule.id);
    if (it != enabled.end() && !it->second.value) continue;
    out.push_back(rule.id);
  }
  return out;
}

std::optional<core::Severity> Config::severity_of(const std::string& rule) const {
  const auto it = severities.find(rule);
  if (it == severities.end()) return std::nullopt;
  return core::severity_from_string(it->second.value);
}

std::map<std::string, std::string> Config::rule_options(const std::string& rule) const {
  std::map<std::string, std::string> out;
  const auto it = options.find(rule);
  if (it == options.end()) return out;
  for (const auto& [key, setting] : it->second) out[key] = setting.value;
  return out;
}

std::string find_project_file(const std::string& start) {
  std::error_code ec;
  fs::path dir = start.empty() ? fs::current_path(ec) : fs::absolute(start, ec);
  if (ec) return "";
  while (true) {
    const fs::path candidate = dir / std::string(kFileName);
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    if (!dir.has_parent_path() || dir.parent_path() == dir) return "";
    dir = dir.parent_path();
  }
}

std::string apply_file(const std::string& text, const std::string& path, const std::vector<RuleSchema>& rules,
                       Config& out) {
  const Located file{display_path(path)};
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return file.error(e.source(), std::string(e.description()));
  }
  out.file = path;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    std::string value;
    if (name == "rules") {
      std::vector<std::string> list;
      if (auto e = parse_rule_list(file, node, "rules", rules, list); !e.empty()) return e;
      out.rules.set(list, file.at(key.source()));
    } else if (name == "fail-on") {
      if (auto e = expect_choice(file, node, "fail-on", kFailOn, value); !e.empty()) return e;
      out.fail_on.set(value, file.at(key.source()));
    } else if (name == "show-values") {
      const auto* b = node.as_boolean();
      if (b == nullptr) return file.error(node.source(), "'show-values' must be true or false");
      out.show_values.set(b->get(), file.at(key.source()));
    } else if (name == "baseline") {
      if (auto e = expect_string(file, node, "baseline", value); !e.empty()) return e;
      // Relative to the file, so the same config works from any subdirectory.
      const fs::path p(value);
      out.baseline.set(p.is_absolute() ? value : (fs::path(path).parent_path() / p).lexically_normal().string(),
                       file.at(key.source()));
    } else if (name == "max-findings") {
      const auto* table = node.as_table();
      if (table == nullptr) return file.error(node.source(), "'max-findings' must be a table of RULE = N");
      if (auto e = apply_max_findings(file, *table, rules, out); !e.empty()) return e;
    } else if (name == "input") {
      const auto* table = node.as_table();
      if (table == nullptr) return file.error(node.source(), "'input' must be a table");
      if (auto e = apply_input(file, *table, out); !e.empty()) return e;
    } else if (name == "ignore") {
      if (auto e = apply_ignore(file, node, rules, out); !e.empty()) return e;
    } else if (const RuleSchema* rule = find_schema(rules, name)) {
      const auto* table = node.as_table();
      if (table == nullptr) return file.error(node.source(), "'" + name + "' must be a table");
      if (auto e = apply_rule_table(file, *rule, *table, out); !e.empty()) return e;
    } else {
      return file.error(key.source(), "unknown key '" + name + "'");
    }
  }
  return "";
}

std::string load_config(const LoadOptions& options, Config& out) {
  out = Config{};
  std::string path = options.explicit_file;
  bool found = false;
  if (path.empty() && !options.no_config) {
    const std::string from_env = env_value(options, "PGSIFT_CONFIG", found);
    path = found ? from_env : find_project_file(options.start_dir);
  }
  if (!path.empty() && !options.no_config) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot read config file '" + path + "'";
    std::stringstream text;
    text << in.rdbuf();
    if (auto error = apply_file(text.str(), path, options.rules, out); !error.empty()) return error;
  }
  return apply_environment(options, out);
}

std::string check_value(std::string_view key, std::string_view value) {
  const std::vector<std::string_view>* allowed = key == "fail-on"    ? &kFailOn
                                                 : key == "format"   ? &kFormats
                                                 : key == "severity" ? &kSeverities
                                                                     : nullptr;
  if (allowed == nullptr || one_of(value, *allowed)) return "";
  return "bad value '" + std::string(value) + "' for " + std::string(key) + " (expected " + join(*allowed) + ")";
}

namespace {

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') { out += "\\n"; continue; }
    out.push_back(ch);
  }
  return out + "\"";
}

template <typename T>
void line(std::ostream& out, const std::string& key, const std::string& value, const Setting<T>& setting) {
  out << key << " = " << value << "  # " << setting.origin << '\n';
}

}  // namespace

void print_config(const Config& config, const std::vector<RuleSchema>& rules, std::ostream& out) {
  out << "# effective pgsift configuration; project file: "
      << (config.file.empty() ? std::string("none") : display_path(config.file)) << '\n';
  std::string list;
  for (const auto& rule : config.selected_rules(rules)) list += (list.empty() ? "" : ", ") + quote(rule);
  line(out, "rules", "[" + list + "]", config.rules);
  line(out, "fail-on", quote(config.fail_on.value), config.fail_on);
  line(out, "show-values", config.show_values.value ? "true" : "false", config.show_values);
  line(out, "baseline", quote(config.baseline.value), config.baseline);
  if (!config.max_findings.empty()) {
    out << "\n[max-findings]\n";
    for (const auto& [rule, setting] : config.max_findings) line(out, rule, std::to_string(setting.value), setting);
  }
  out << "\n[input]\n";
  line(out, "format", quote(config.format.value), config.format);
  line(out, "prefix", quote(config.prefix.value), config.prefix);
  for (const auto& rule : rules) {
    const auto en = config.enabled.find(rule.id);
    const auto sev = config.severities.find(rule.id);
    const auto opts = config.options.find(rule.id);
    if (en == config.enabled.end() && sev == config.severities.end() && opts == config.options.end()) continue;
    out << "\n[" << rule.id << "]\n";
    if (en != config.enabled.end()) line(out, "enabled", en->second.value ? "true" : "false", en->second);
    if (sev != config.severities.end()) line(out, "severity", quote(sev->second.value), sev->second);
    if (opts != config.options.end()) {
      for (const auto& [key, setting] : opts->second) line(out, key, quote(setting.value), setting);
    }
  }
  for (const auto& ignore : config.ignores) {
    out << "\n[[ignore]]  # " << ignore.origin << '\n';
    const std::pair<const char*, const std::string*> fields[] = {
        {"id", &ignore.id},       {"rule", &ignore.rule},         {"table", &ignore.table},
        {"application", &ignore.application}, {"user", &ignore.user}, {"database", &ignore.database},
        {"fingerprint", &ignore.fingerprint}, {"reason", &ignore.reason}};
    for (const auto& [name, value] : fields) {
      if (!value->empty()) out << name << " = " << quote(*value) << '\n';
    }
  }
}

}  // namespace pgsift::cli::config
