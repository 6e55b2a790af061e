#include "cli/input/text_assembler.h"

#include <charconv>
#include <cstring>

#include "cli/input/text_fields.h"

namespace pgsift::cli::input {
namespace {

bool is_tag_level(model::LogLevel level) {
  switch (level) {
    case model::LogLevel::detail: case model::LogLevel::hint: case model::LogLevel::context:
    case model::LogLevel::query: case model::LogLevel::statement: case model::LogLevel::location:
      return true;
    default:
      return false;
  }
}

// log_error_verbosity=verbose puts "SQLSTATE: " before the message text.
std::string_view strip_verbose_sqlstate(std::string_view text, std::string_view& sqlstate) {
  if (text.size() < 7 || text[5] != ':' || text[6] != ' ') return text;
  for (std::size_t i = 0; i < 5; ++i) {
    char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return text;
  }
  sqlstate = text.substr(0, 5);
  return text.substr(7);
}

std::int32_t pid_from_session_id(std::string_view session_id) {
  std::size_t dot = session_id.find('.');
  if (dot == std::string_view::npos) return 0;
  std::uint32_t pid = 0;
  auto r = std::from_chars(session_id.data() + dot + 1, session_id.data() + session_id.size(),
                           pid, 16);
  return r.ec == std::errc{} ? static_cast<std::int32_t>(pid) : 0;
}

}  // namespace

bool is_text_line(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t') return false;
      if (c == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

std::string_view normalize_client(std::string_view client, std::string& scratch) {
  if (client.size() < 3 || client.back() != ')') return client;
  std::size_t open = client.rfind('(');
  if (open == std::string_view::npos || open == 0) return client;
  scratch.assign(client.substr(0, open));
  scratch += ':';
  scratch.append(client.substr(open + 1, client.size() - open - 2));
  return scratch;
}

TextAssembler::TextAssembler(const LogLinePrefix& prefix, ReaderContext& context)
    : prefix_(prefix), context_(context) {}

std::string& TextAssembler::field(model::LogRecord& r, model::LogLevel level) {
  switch (level) {
    case model::LogLevel::detail: return r.detail;
    case model::LogLevel::hint: return r.hint;
    case model::LogLevel::context: return r.context;
    case model::LogLevel::query: return r.query;
    case model::LogLevel::statement: return r.statement;
    case model::LogLevel::location: return r.location;
    default: return r.message;
  }
}

bool TextAssembler::matches(std::string_view text) const {
  PrefixFields f;
  LineTag tag;
  return prefix_.match(text, f, tag);
}

TextAssembler::Slot* TextAssembler::newest_for(std::int32_t pid, std::string_view session_id) {
  for (std::size_t k = count_; k-- > 0;) {
    Slot& s = slots_[(head_ + k) % kWindow];
    if (s.record.header.pid == pid &&
        (session_id.empty() || s.record.header.session_id.empty() ||
         s.record.header.session_id == session_id)) {
      return &s;
    }
  }
  return nullptr;
}

void TextAssembler::emit_oldest() {
  Slot& s = slots_[head_];
  if (last_ == &s) last_ = nullptr;
  context_.emit(s.record);  // the reader counts and fixes up
  s.used = false;
  head_ = (head_ + 1) % kWindow;
  --count_;
}

TextAssembler::Slot& TextAssembler::open_slot() {
  if (count_ == kWindow) emit_oldest();
  Slot& s = slots_[(head_ + count_) % kWindow];
  ++count_;
  s.used = true;
  model::LogRecord& r = s.record;
  // Reuse the strings' capacity: clear, never reallocate per record.
  r.message.clear(); r.detail.clear(); r.hint.clear(); r.context.clear();
  r.query.clear(); r.statement.clear(); r.location.clear();
  s.last_field = model::LogLevel::unknown;
  return s;
}

void TextAssembler::fill_header(model::RecordHeader& h, const PrefixFields& f,
                                std::uint64_t number, const Envelope* envelope) {
  h.where.input = context_.input;
  h.where.line = number;
  h.time = f.time;
  h.pid = f.pid;
  if (envelope != nullptr) {
    if (h.time == model::kNoTime) h.time = envelope->time;
    if (h.pid == 0) h.pid = envelope->pid;
  }
  if (h.pid == 0 && !f.session_id.empty()) h.pid = pid_from_session_id(f.session_id);
  set_text(h.session_id, f.session_id);
  h.session_line = f.session_line;
  set_text(h.user, f.user);
  set_text(h.database, f.database);
  set_text(h.application, f.application);
  set_text(h.client, f.client.empty() ? f.client : normalize_client(f.client, scratch_));
  set_text(h.virtual_xid, f.virtual_xid);
  h.xid = f.xid;
  set_text(h.backend_type, f.backend_type);
  set_text(h.sqlstate, f.sqlstate);
  if (!f.zone_known && !warned_zone_) {
    warned_zone_ = true;
    context_.warn("unknown time zone abbreviation in timestamps; they are taken as UTC");
  }
}

bool TextAssembler::line(std::string_view text, std::uint64_t number, const Envelope* envelope) {
  if (!text.empty() && text.front() == '\t') {
    if (last_ == nullptr) {
      context_.skip(number);
      return false;
    }
    std::string& f = field(last_->record, last_->last_field);
    f += '\n';
    f.append(text.substr(1));
    return true;
  }
  // match() resets the fields: a member saves clearing them twice per line.
  PrefixFields& fields = fields_;
  LineTag tag;
  if (!prefix_.match(text, fields, tag)) {
    if (is_text_line(text)) {
      context_.noise();
    } else {
      context_.skip(number);
    }
    return false;
  }
  if (tag.localized && !warned_localized_) {
    warned_localized_ = true;
    context_.warn("line " + std::to_string(number) +
                  ": the server's messages are translated; pgsift recognises English "
                  "messages only: set lc_messages = 'C' in postgresql.conf");
  }
  std::string_view body = text.substr(tag.text_start);
  if (is_tag_level(tag.level)) {
    std::int32_t pid = fields.pid;
    if (pid == 0 && envelope != nullptr) pid = envelope->pid;
    if (pid == 0 && !fields.session_id.empty()) pid = pid_from_session_id(fields.session_id);
    Slot* s = newest_for(pid, fields.session_id);
    if (s == nullptr) {
      context_.skip(number);  // a DETAIL whose record is not in this input
      return false;
    }
    std::string& f = field(s->record, tag.level);
    if (!f.empty()) f += '\n';
    f.append(body);
    s->last_field = tag.level;
    last_ = s;
    return true;
  }
  Slot& s = open_slot();
  fill_header(s.record.header, fields, number, envelope);
  std::string_view sqlstate;
  if (tag.level != model::LogLevel::unknown) body = strip_verbose_sqlstate(body, sqlstate);
  if (!sqlstate.empty() && s.record.header.sqlstate.empty()) s.record.header.sqlstate.assign(sqlstate);
  s.record.level = tag.level;
  s.record.message.assign(body);
  s.last_field = model::LogLevel::unknown;
  last_ = &s;
  return true;
}

bool TextAssembler::continue_record(std::int32_t pid, std::string_view text, bool newline) {
  Slot* s = newest_for(pid, {});
  if (s == nullptr) return false;
  std::string& f = field(s->record, s->last_field);
  if (newline) f += '\n';
  f.append(text);
  last_ = s;
  return true;
}

void TextAssembler::finish() {
  while (count_ > 0) emit_oldest();
  last_ = nullptr;
}

}  // namespace pgsift::cli::input
