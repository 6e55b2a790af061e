// Compiles a log_line_prefix (postgresql.conf) into a matcher for stderr and
// syslog lines, and lists the prefixes tried when none is given. Supports every
// escape of PostgreSQL 13-18 (see reference/logs.md §1.1): %a %u %d %r %h %L %b
// %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%, with padding (%-10u). Names may
// contain any character (the matcher backtracks over the following literal),
// and nothing needs to separate the prefix from the severity (RDS).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/model/log_record.h"

namespace pgsift::cli::input {

/// What a matched prefix said. Views point into the matched line.
struct PrefixFields {
  model::Timestamp time = model::kNoTime;
  bool zone_known = true;
  bool stopped_at_q = false;  // a non-session process's line: the prefix ended at %q
  std::int32_t pid = 0;
  std::uint64_t session_line = 0;
  std::uint64_t xid = 0;
  std::string_view session_id, user, database, application, client, virtual_xid,
      backend_type, sqlstate, query_id, ps_display;
};

/// The severity or tag word that follows the prefix.
struct LineTag {
  model::LogLevel level = model::LogLevel::unknown;
  bool localized = false;   // a non-English severity word ("FEHLER", "ERREUR")
  std::size_t text_start = 0;  // offset of the message text in the line
};

/// The level of a severity word ("LOG", "ERROR", "DETAIL"); unknown otherwise,
/// with `localized` set for a known translation ("FEHLER").
model::LogLevel level_from_word(std::string_view word, bool& localized);

/// Parses "LOG:  " / "DETAIL:  " ... at `pos`; false if no severity word is there.
bool parse_line_tag(std::string_view line, std::size_t pos, LineTag& tag);

class LogLinePrefix {
 public:
  /// Compiles `prefix`; an unknown escape prints nothing in PostgreSQL and is
  /// ignored here too.
  explicit LogLinePrefix(std::string_view prefix);

  const std::string& text() const { return text_; }
  bool has_time() const { return has_time_; }
  bool has_pid() const { return has_pid_; }

  /// Matches the prefix at the start of `line` and the severity word after it.
  /// Not for concurrent use: one matcher per reading thread.
  bool match(std::string_view line, PrefixFields& fields, LineTag& tag) const;

 private:
  struct Token {
    char escape = 0;  // 0 = literal
    int padding = 0;
    std::string literal;
    // Free-text escapes: index of the literal that ends the value (the next
    // token after any %q), or the token count when no literal follows.
    std::size_t end_literal = 0;
  };
  // One step of the first path: the tokens with the common cases
  // specialised (short literals compared as one word, one-byte delimiters
  // searched with memchr, %p/%l/%x digits and %m/%t times parsed in place).
  struct Step {
    enum Kind : std::uint8_t { word, literal, skip, free_char, free_text, time, digits, fixed };
    Kind kind = fixed;
    char escape = 0;
    char end_char = 0;          // free_char: the one-byte literal that ends the value
    int padding = 0;
    std::size_t size = 0;       // word / literal: bytes
    std::uint64_t bytes = 0;    // word: the literal's bytes, zero-padded
    std::uint64_t mask = 0;     // word: 0xff for each of its bytes
    std::size_t token = 0;      // literal / free_text: the token holding the literal
    std::string_view PrefixFields::*field = nullptr;  // free steps: where the value goes
  };
  void compile_first_path();
  bool run_step(const Step& s, std::string_view line, std::size_t& pos, PrefixFields& f) const;
  /// The first path; when `step_ends` is given, the offset after each step.
  bool match_first_path(std::string_view line, PrefixFields& fields, LineTag& tag,
                        std::size_t* step_ends = nullptr) const;
  // The lines of one session repeat what follows their timestamp
  // ("[1893] app@db/pgbench 0 LOG:  ") but for a few numbers (%l counts
  // lines, %x %v change with the transaction, %Q with the statement). The
  // first path's result is a function of those bytes, so the memo keeps
  // them as segments with "holes" where such a step is run again, and a line
  // whose segments repeat only has its time and its holes parsed. A hole's
  // neighbours are literals, so its bytes cannot change what they match; the
  // last segment runs through the byte that ended the spaces after the
  // severity word. Prefixes whose lines still rarely repeat switch the memo
  // off for a while.
  static constexpr std::size_t kMemoText = 120;
  static constexpr std::size_t kMemoSlots = 64;  // two entries each
  static constexpr int kMemoViews = 10;
  static constexpr int kMemoHoles = 6;
  struct MemoEntry {
    std::uint16_t size = 0;  // bytes of `text`, all segments (0: empty)
    std::uint8_t holes = 0;
    std::uint8_t hole_numbers = 0;  // session line, xid set by a hole
    std::uint8_t hole_step[kMemoHoles] = {};          // the step run after segment k
    char hole_escape[kMemoHoles] = {};                // its escape (%l %x %v %Q)
    std::uint16_t segment_end[kMemoHoles + 1] = {};   // in `text`
    std::uint8_t views = 0;  // the views set outside holes, first `views` of these:
    std::uint8_t view_index[kMemoViews] = {};    // which view (kViews order)
    std::uint8_t view_segment[kMemoViews] = {};
    std::uint16_t view_offset[kMemoViews] = {};  // from the segment's start
    std::uint16_t view_size[kMemoViews] = {};
    std::int32_t pid = 0;
    std::uint64_t session_line = 0, xid = 0;
    // The %x hole's last reading: the xid, and its digits with the byte
    // after them (a word masked to them; mask 0: none). A session's lines
    // mostly repeat their transaction's xid, and equal bytes read the same.
    std::uint64_t last_xid = 0, last_xid_bytes = 0, last_xid_mask = 0;
    std::uint8_t last_xid_digits = 0;
    LineTag tag;  // text_start counted from the last segment's start
    char text[kMemoText + 8] = {};  // 8 more: compared a word at a time
  };
  bool match_memo(std::string_view line, std::size_t pos, PrefixFields& fields,
                  LineTag& tag) const;
  void remember(std::string_view line, std::size_t pos, const PrefixFields& fields,
                const LineTag& tag) const;
  bool match_from(std::string_view line, std::size_t token, std::size_t pos,
                  PrefixFields& fields, LineTag& tag, int& budget) const;
  bool match_escape(const Token& t, std::string_view line, std::size_t token, std::size_t pos,
                    PrefixFields& fields, LineTag& tag, int& budget) const;

  std::string text_;
  std::vector<Token> tokens_;
  std::vector<Step> steps_;
  bool has_time_ = false;
  bool has_pid_ = false;
  bool first_path_ = false;  // every free-text escape is ended by a literal
  // The memo (empty unless the first path starts with a %m/%t time). It
  // makes match() unsafe to call from two threads at once on one matcher.
  std::vector<bool> hole_;  // steps_[k] is run again on a memo hit (a number that varies)
  mutable std::vector<MemoEntry> memo_;
  // Per slot: its two entries differ only in their last segment (the same
  // segments and holes before it), so a miss there on the first entry can
  // compare the second one's last segment in place.
  mutable std::vector<bool> memo_same_head_;
  mutable std::vector<std::size_t> step_ends_;  // scratch for remember()
  mutable std::uint32_t memo_lookups_ = 0, memo_hits_ = 0, memo_paused_ = 0;
};

/// Prefixes tried, most specific first, when none is given (stderr format).
const std::vector<std::string>& known_stderr_prefixes();
/// Prefixes tried inside syslog lines (time and pid come from syslog).
const std::vector<std::string>& known_syslog_prefixes();

}  // namespace pgsift::cli::input
