#include "cli/analysis/rule_selection.h"

#include <algorithm>
#include <set>

namespace pgsift::cli::analysis {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> split_list(const std::vector<std::string>& specs) {
  std::vector<std::string> words;
  for (const std::string& spec : specs) {
    std::size_t start = 0;
    while (start <= spec.size()) {
      std::size_t comma = spec.find(',', start);
      if (comma == std::string::npos) comma = spec.size();
      std::string word = spec.substr(start, comma - start);
      word.erase(0, word.find_first_not_of(" \t"));
      word.erase(word.find_last_not_of(" \t") + 1);
      if (!word.empty()) words.push_back(word);
      start = comma + 1;
    }
  }
  return words;
}

std::string unknown_rule(std::string_view id) {
  std::string message = "unknown rule '" + std::string(id) + "'";
  const std::string guess = suggest_rule(id);
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  else message += " (see 'pgsift rules')";
  return message;
}

}  // namespace

std::string suggest_rule(std::string_view word) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(3, word.size() / 3) + 1;
  for (const core::RuleEntry& entry : core::rule_registry()) {
    const std::size_t distance = edit_distance(word, entry.info.id);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(entry.info.id);
    }
  }
  return best;
}

std::string select_rules(const std::vector<std::string>& specs,
                         std::vector<const core::RuleEntry*>& out) {
  std::set<std::string_view> keep, drop;
  bool all = false;
  for (const std::string& word : split_list(specs)) {
    const bool exclude = word[0] == '-';
    const std::string_view id = exclude ? std::string_view(word).substr(1) : std::string_view(word);
    if (id == "all") {
      all = true;
      continue;
    }
    const core::RuleEntry* entry = core::find_rule(id);
    if (entry == nullptr) return unknown_rule(id);
    (exclude ? drop : keep).insert(entry->info.id);
  }
  out.clear();
  for (const core::RuleEntry& entry : core::rule_registry()) {
    const bool wanted = all || keep.empty() || keep.count(entry.info.id) > 0;
    if (wanted && drop.count(entry.info.id) == 0) out.push_back(&entry);
  }
  return "";
}

const core::OptionMap& RuleOptions::of(std::string_view rule) const {
  static const core::OptionMap none;
  for (const auto& [id, options] : by_rule) {
    if (id == rule) return options;
  }
  return none;
}

std::string parse_rule_options(const std::vector<std::string>& settings, RuleOptions& out) {
  for (const std::string& setting : settings) {
    const auto equals = setting.find('=');
    const auto dot = setting.find('.');
    if (equals == std::string::npos || dot == std::string::npos || dot > equals) {
      return "option '" + setting + "': expected RULE.KEY=VALUE (e.g. n-plus-one.min-repetitions=5)";
    }
    const std::string rule = setting.substr(0, dot);
    const std::string key = setting.substr(dot + 1, equals - dot - 1);
    const std::string value = setting.substr(equals + 1);
    if (rule == "session") {
      out.session[setting.substr(0, equals)] = value;
      continue;
    }
    const core::RuleEntry* entry = core::find_rule(rule);
    if (entry == nullptr) return "option '" + setting + "': " + unknown_rule(rule);
    const bool known = std::any_of(entry->options.begin(), entry->options.end(),
                                   [&key](const auto& option) { return option.first == key; });
    if (!known) {
      std::string names;
      for (const auto& option : entry->options) names += (names.empty() ? "" : ", ") + option.first;
      return "option '" + setting + "': rule '" + rule + "' has no option '" + key + "'" +
             (names.empty() ? std::string(" (it has none)") : " (options: " + names + ")");
    }
    auto it = std::find_if(out.by_rule.begin(), out.by_rule.end(),
                           [&rule](const auto& pair) { return pair.first == rule; });
    if (it == out.by_rule.end()) it = out.by_rule.insert(out.by_rule.end(), {rule, {}});
    it->second[key] = value;
  }
  for (const auto& [rule, options] : out.by_rule) {
    const core::RuleEntry* entry = core::find_rule(rule);
    if (entry->validate) {
      std::string error = entry->validate(options);
      if (!error.empty()) return "option " + rule + "." + error;
    }
  }
  return "";
}

}  // namespace pgsift::cli::analysis
