#include "tests/testing/report_checks.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace pgsift::testing {

namespace {

bool nonempty_string(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string() &&
         !object[key].get<std::string>().empty();
}

bool nonempty_text(const nlohmann::json& object, const char* key, std::size_t max = 1u << 30) {
  return object.is_object() && object.contains(key) && nonempty_string(object[key], "text") &&
         object[key]["text"].get<std::string>().size() <= max;
}

// object[key], or null when object is not an object or lacks the key.
nlohmann::json member(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) ? object[key] : nlohmann::json();
}

}  // namespace

std::vector<std::string> sarif_problems(const nlohmann::json& sarif) {
  std::vector<std::string> problems;
  auto fail = [&problems](std::string message) { problems.push_back(std::move(message)); };
  if (!nonempty_string(sarif, "$schema")) fail("missing $schema");
  if (!sarif.contains("version") || sarif["version"] != "2.1.0") fail("version is not 2.1.0");
  if (!sarif.contains("runs") || !sarif["runs"].is_array() || sarif["runs"].empty()) {
    fail("no runs");
    return problems;
  }
  for (const auto& run : sarif["runs"]) {
    const auto driver = member(member(run, "tool"), "driver");
    if (!nonempty_string(driver, "name")) fail("tool.driver.name missing");
    if (!driver.contains("rules") || !driver["rules"].is_array()) fail("tool.driver.rules missing");
    const auto rules = member(driver, "rules").is_array() ? driver["rules"] : nlohmann::json::array();
    for (const auto& rule : rules) {
      const std::string id = member(rule, "id").is_string() ? rule["id"].get<std::string>() : "";
      if (id.empty()) fail("rule without id");
      if (!nonempty_text(rule, "shortDescription", 1024)) fail("rule " + id + ": shortDescription.text");
      if (!nonempty_text(rule, "fullDescription", 1024)) fail("rule " + id + ": fullDescription.text");
      if (!nonempty_text(rule, "help")) fail("rule " + id + ": help.text");
    }
    if (!run.contains("results") || !run["results"].is_array()) {
      fail("results missing");
      continue;
    }
    std::size_t index = 0;
    for (const auto& result : run["results"]) {
      const std::string where = "result " + std::to_string(index++);
      if (!nonempty_text(result, "message")) fail(where + ": message.text");
      if (!result.contains("partialFingerprints") || !result["partialFingerprints"].is_object() ||
          result["partialFingerprints"].empty()) {
        fail(where + ": partialFingerprints");
      }
      if (result.contains("ruleIndex")) {
        const auto i = result["ruleIndex"].get<std::size_t>();
        if (i >= rules.size() || rules[i].value("id", "") != result.value("ruleId", "")) {
          fail(where + ": ruleIndex does not match ruleId");
        }
      }
      if (!result.contains("locations") || !result["locations"].is_array() || result["locations"].empty()) {
        fail(where + ": no location");
        continue;
      }
      for (const auto& location : result["locations"]) {
        const auto physical = member(location, "physicalLocation");
        const auto artifact = member(physical, "artifactLocation");
        if (!nonempty_string(artifact, "uri")) fail(where + ": location without physicalLocation.artifactLocation.uri");
        const auto region = member(physical, "region");
        if (!member(region, "startLine").is_number_integer() ||
            region["startLine"].get<long>() < 1) {
          fail(where + ": location without region.startLine >= 1");
        }
      }
    }
  }
  return problems;
}

namespace {

// A small recursive-descent checker for the XML we write: prolog, elements,
// attributes (quoted, unique entities), character data, the five predefined
// entities and character references. No DTDs, CDATA or processing
// instructions past the prolog (we never write them).
class XmlChecker {
 public:
  explicit XmlChecker(const std::string& text) : s_(text) {}

  std::string check() {
    if (s_.rfind("<?xml", 0) == 0) {
      const auto end = s_.find("?>");
      if (end == std::string::npos) return "unterminated XML declaration";
      pos_ = end + 2;
    }
    skip_space();
    if (!element()) return error_;
    skip_space();
    if (pos_ != s_.size()) return "content after the root element at offset " + std::to_string(pos_);
    return "";
  }

 private:
  bool fail(const std::string& message) {
    if (error_.empty()) error_ = message + " at offset " + std::to_string(pos_);
    return false;
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  static bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  std::string name() {
    const auto start = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  bool reference() {
    const auto end = s_.find(';', pos_);
    if (end == std::string::npos || end - pos_ > 12) return fail("bad entity reference");
    const std::string ref = s_.substr(pos_ + 1, end - pos_ - 1);
    static const char* const kNamed[] = {"amp", "lt", "gt", "quot", "apos"};
    bool ok = false;
    for (const char* named : kNamed) ok = ok || ref == named;
    if (!ok && ref.size() > 1 && ref[0] == '#') {
      ok = ref[1] == 'x' ? ref.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos && ref.size() > 2
                         : ref.find_first_not_of("0123456789", 1) == std::string::npos;
    }
    if (!ok) return fail("unknown entity &" + ref + ";");
    pos_ = end + 1;
    return true;
  }
  bool char_data(char stop) {
    while (pos_ < s_.size() && s_[pos_] != stop) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '&') {
        if (!reference()) return false;
        continue;
      }
      if (c == '<') return fail("raw '<' in text");
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return fail("control character");
      ++pos_;
    }
    return true;
  }
  bool element() {
    if (pos_ >= s_.size() || s_[pos_] != '<') return fail("expected '<'");
    ++pos_;
    const std::string tag = name();
    if (tag.empty()) return fail("element without a name");
    std::vector<std::string> attributes;
    while (true) {
      skip_space();
      if (pos_ >= s_.size()) return fail("unterminated start tag");
      if (s_.compare(pos_, 2, "/>") == 0) {
        pos_ += 2;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      const std::string attribute = name();
      if (attribute.empty()) return fail("bad attribute");
      for (const auto& seen : attributes) {
        if (seen == attribute) return fail("duplicate attribute " + attribute);
      }
      attributes.push_back(attribute);
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '=') return fail("attribute without '='");
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return fail("unquoted attribute");
      const char quote = s_[pos_++];
      if (!char_data(quote)) return false;
      if (pos_ >= s_.size()) return fail("unterminated attribute");
      ++pos_;
    }
    while (true) {
      if (!char_data('<')) return false;
      if (pos_ >= s_.size()) return fail("unclosed element <" + tag + ">");
      if (s_.compare(pos_, 2, "</") == 0) {
        pos_ += 2;
        if (name() != tag) return fail("mismatched end tag for <" + tag + ">");
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '>') return fail("bad end tag");
        ++pos_;
        return true;
      }
      if (!element()) return false;
    }
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::string xml_problem(const std::string& xml) { return XmlChecker(xml).check(); }

std::string xmllint_problem(const std::string& xml) {
  char dir_template[] = "/tmp/pgsift-xmllint-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) return "cannot create a temporary directory";
  const std::filesystem::path file = std::filesystem::path(dir) / "report.xml";
  const std::filesystem::path log = std::filesystem::path(dir) / "xmllint.txt";
  std::ofstream(file, std::ios::binary) << xml;
  const std::string command = "xmllint --noout '" + file.string() + "' > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove_all(dir);
  if (status != 0) return "xmllint failed (" + std::to_string(status) + "): " + text.str();
  return "";
}

}  // namespace pgsift::testing
