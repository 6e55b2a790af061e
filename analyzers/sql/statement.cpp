// parse(): lexer -> cache lookup -> (on a miss) libpg_query + tree walk.
//
// Cache: key = XXH3-128 of the literal-masked token stream (lexer.h), so all
// executions of one statement shape share one immutable Analysis. 16 shards,
// each a mutex-protected hash map plus an LRU list, bounded in entries. A miss
// parses outside the lock (two threads may parse the same new shape once each;
// the first insert wins). Comment tags vary per request (traceparent), so they
// are not part of the key: a tagged text gets a copy of the cached Analysis
// with its own tags filled in.
//
// In front of it, each thread keeps a small direct-mapped cache keyed by the
// XXH3-128 of the raw text (ExactCache below): texts that repeat byte for byte
// (extended-protocol statements with $n parameters, BEGIN;, COMMIT) get their
// whole result back without being lexed. Per thread, so no lock; fixed slot
// count, so memory stays flat. Behind it, each thread also remembers the
// shapes it looked up (ShapeMemo) under references of its own, and counts
// its hits locally: when two threads parse the same statements (analyze
// --jobs 2), a shared mutex, hit counter or reference count written for
// every statement would move its cache line between the cores each time.
#include "analyzers/sql/statement.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <list>
#include <mutex>
#include <unordered_map>

#include "analyzers/sql/comment_tags.h"
#include "analyzers/sql/fingerprint.h"
#include "analyzers/sql/lexer.h"
#include "analyzers/sql/pg_query_adapter.h"
#include "analyzers/sql/statement_builder.h"

namespace pgsift::sql {

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::select: return "select";
    case Kind::insert: return "insert";
    case Kind::update: return "update";
    case Kind::delete_: return "delete";
    case Kind::merge: return "merge";
    case Kind::begin: return "begin";
    case Kind::commit: return "commit";
    case Kind::rollback: return "rollback";
    case Kind::savepoint: return "savepoint";
    case Kind::release: return "release";
    case Kind::rollback_to_savepoint: return "rollback to savepoint";
    case Kind::prepare_transaction: return "prepare transaction";
    case Kind::commit_prepared: return "commit prepared";
    case Kind::rollback_prepared: return "rollback prepared";
    case Kind::set: return "set";
    case Kind::show: return "show";
    case Kind::lock: return "lock";
    case Kind::copy: return "copy";
    case Kind::declare: return "declare";
    case Kind::fetch: return "fetch";
    case Kind::close: return "close";
    case Kind::discard: return "discard";
    case Kind::utility: return "utility";
    case Kind::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view to_string(IsolationLevel level) {
  switch (level) {
    case IsolationLevel::unspecified: return "unspecified";
    case IsolationLevel::read_uncommitted: return "read uncommitted";
    case IsolationLevel::read_committed: return "read committed";
    case IsolationLevel::repeatable_read: return "repeatable read";
    case IsolationLevel::serializable: return "serializable";
  }
  return "unspecified";
}

std::string_view to_string(RowLock lock) {
  switch (lock) {
    case RowLock::none: return "none";
    case RowLock::key_share: return "FOR KEY SHARE";
    case RowLock::share: return "FOR SHARE";
    case RowLock::no_key_update: return "FOR NO KEY UPDATE";
    case RowLock::update: return "FOR UPDATE";
  }
  return "none";
}

namespace {

constexpr std::size_t kShards = 16;
// About 1.3 KB per cached statement shape (measured with bench/sql_bench):
// 20000 entries bound the cache near 30-50 MB, far more shapes than a real
// application has (IN-list lengths of one shape are separate entries).
constexpr std::size_t kDefaultCapacity = 20000;

// Token index range [first, last) of the tokens starting in [begin, end),
// without trailing semicolons.
std::pair<std::size_t, std::size_t> token_range(const std::vector<lex::Token>& tokens, std::uint32_t begin,
                                                std::uint32_t end) {
  auto first = std::lower_bound(tokens.begin(), tokens.end(), begin,
                                [](const lex::Token& t, std::uint32_t b) { return t.begin < b; });
  auto last = std::lower_bound(first, tokens.end(), end,
                               [](const lex::Token& t, std::uint32_t e) { return t.begin < e; });
  std::size_t f = static_cast<std::size_t>(first - tokens.begin());
  std::size_t l = static_cast<std::size_t>(last - tokens.begin());
  return {f, l};
}

std::size_t trim_semicolons(std::string_view text, const std::vector<lex::Token>& tokens, std::size_t first,
                            std::size_t last) {
  while (last > first && tokens[last - 1].kind == lex::TokKind::punct && text[tokens[last - 1].begin] == ';')
    --last;
  return last;
}

void shape_text(std::string_view text, const lex::Lexed& lexed, std::size_t first, std::size_t last,
                Statement& st) {
  last = trim_semicolons(text, lexed.tokens, first, last);
  st.fingerprint = fp::fingerprint(text, lexed.tokens, first, last);
  st.normalized = fp::normalized(text, lexed.tokens, first, last);
}

Statement unknown_statement(std::string_view text, const lex::Lexed& lexed, std::string error, int position) {
  Statement st;
  st.kind = Kind::unknown;
  st.error = std::move(error);
  st.error_position = position;
  shape_text(text, lexed, 0, lexed.tokens.size(), st);
  return st;
}

// Statements of text[begin, end): parsed as one piece; false when the piece
// does not parse (error and its 1-based position in the whole text returned).
bool analyze_piece(std::string_view text, const lex::Lexed& lexed, std::uint32_t begin, std::uint32_t end,
                   std::vector<Statement>& out, std::string& error, int& position) {
  pgq::ParseOutput parsed = pgq::parse_json(text.substr(begin, end - begin));
  if (!parsed.ok) {
    error = parsed.error;
    position = parsed.error_position > 0 ? parsed.error_position + static_cast<int>(begin) : 0;
    return false;
  }
  std::vector<Statement> statements;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  build_statements(text, lexed, begin, end - begin, parsed.json, statements, ranges);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    auto [first, last] = token_range(lexed.tokens, ranges[i].first, ranges[i].second);
    shape_text(text, lexed, first, last, statements[i]);
    out.push_back(std::move(statements[i]));
  }
  return true;
}

// Byte ranges of the statements of a text, split at top-level semicolons
// (the lexer already skipped strings, comments and dollar quotes).
// libpg_query's scanner splitter is not used: it drops pieces that do not
// start with a keyword, exactly the broken ones we want to report.
std::vector<std::pair<std::uint32_t, std::uint32_t>> split_at_semicolons(std::string_view text,
                                                                         const lex::Lexed& lexed) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  int depth = 0;
  std::size_t first = 0;
  const auto& toks = lexed.tokens;
  for (std::size_t i = 0; i <= toks.size(); ++i) {
    bool end = i == toks.size();
    if (!end && toks[i].kind == lex::TokKind::punct) {
      char c = text[toks[i].begin];
      if (c == '(' || c == '[') ++depth;
      if ((c == ')' || c == ']') && depth > 0) --depth;
      end = c == ';' && depth == 0;
    }
    if (!end) continue;
    if (i > first) out.emplace_back(toks[first].begin, toks[i - 1].end);
    first = i + 1;
  }
  return out;
}

// The full (uncached) analysis of one text. A text of several statements
// that does not parse as a whole is split at its top-level semicolons and
// each statement analyzed alone, so one bad statement does not hide the
// others.
std::shared_ptr<Analysis> analyze(std::string_view text, const lex::Lexed& lexed) {
  auto analysis = std::make_shared<Analysis>();
  std::vector<Statement>& out = analysis->statements;
  const auto whole = static_cast<std::uint32_t>(text.size());
  try {
    std::string error;
    int position = 0;
    if (!analyze_piece(text, lexed, 0, whole, out, error, position)) {
      std::vector<std::pair<std::uint32_t, std::uint32_t>> pieces = split_at_semicolons(text, lexed);
      if (pieces.size() < 2) {
        out.push_back(unknown_statement(text, lexed, error, position));
        return analysis;
      }
      for (auto [b, e] : pieces) {
        std::string piece_error;
        int piece_position = 0;
        if (analyze_piece(text, lexed, b, e, out, piece_error, piece_position)) continue;
        Statement st;
        st.error = piece_error;
        st.error_position = piece_position;
        auto [first, last] = token_range(lexed.tokens, b, e);
        shape_text(text, lexed, first, last, st);
        out.push_back(std::move(st));
      }
    }
  } catch (const std::exception& e) {
    out.clear();
    out.push_back(unknown_statement(text, lexed, std::string("cannot analyze: ") + e.what(), 0));
    return analysis;
  }
  if (out.empty())  // empty query: valid, but nothing to analyze
    out.push_back(unknown_statement(text, lexed, std::string(), 0));
  return analysis;
}

bool has_error(const Analysis& a) {
  return std::any_of(a.statements.begin(), a.statements.end(), [](const Statement& s) { return !s.error.empty(); });
}

class Cache {
 public:
  struct Lookup {
    std::shared_ptr<const Analysis> analysis;
    bool error = false;
  };

  bool find(std::uint64_t low, std::uint64_t high, Lookup& out) {
    Shard& s = shard(low);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(low);
    if (it == s.map.end() || it->second.high != high) {
      ++s.misses;
      return false;
    }
    ++s.hits;
    if (it->second.error) ++s.parse_errors;
    s.lru.splice(s.lru.begin(), s.lru, it->second.pos);
    out.analysis = it->second.analysis;
    out.error = it->second.error;
    return true;
  }

  // Inserts a freshly built analysis; returns the one to use (an entry
  // another thread inserted meanwhile wins).
  std::shared_ptr<const Analysis> insert(std::uint64_t low, std::uint64_t high,
                                         std::shared_ptr<const Analysis> analysis) {
    bool error = has_error(*analysis);
    Shard& s = shard(low);
    std::lock_guard<std::mutex> lock(s.mu);
    if (error) ++s.parse_errors;
    auto it = s.map.find(low);
    if (it != s.map.end()) {
      if (it->second.high == high) return it->second.analysis;
      s.lru.erase(it->second.pos);
      s.map.erase(it);
    }
    s.lru.push_front(low);
    s.map.emplace(low, Entry{high, analysis, error, s.lru.begin()});
    evict(s);
    return analysis;
  }

  void set_capacity(std::size_t entries) {
    per_shard_.store(std::max<std::size_t>(1, entries / kShards), std::memory_order_relaxed);
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      evict(s);
    }
  }

  // Hits served by the threads' own caches (LocalHits), counted as hits
  // here so the statistics do not depend on which cache answered.
  void add_local_hits(std::uint64_t hits, std::uint64_t errors) {
    exact_hits_.fetch_add(hits, std::memory_order_relaxed);
    exact_errors_.fetch_add(errors, std::memory_order_relaxed);
  }

  CacheStats stats();

  CacheStats totals() {
    CacheStats out;
    out.hits = exact_hits_.load(std::memory_order_relaxed);
    out.parse_errors = exact_errors_.load(std::memory_order_relaxed);
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      out.hits += s.hits;
      out.misses += s.misses;
      out.parse_errors += s.parse_errors;
      out.entries += s.map.size();
    }
    return out;
  }

 private:
  struct Entry {
    std::uint64_t high;
    std::shared_ptr<const Analysis> analysis;
    bool error;
    std::list<std::uint64_t>::iterator pos;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::uint64_t, Entry> map;
    std::list<std::uint64_t> lru;  // most recently used first
    std::uint64_t hits = 0, misses = 0, parse_errors = 0;
  };

  Shard& shard(std::uint64_t low) { return shards_[(low >> 59) % kShards]; }

  void evict(Shard& s) {
    const std::size_t cap = per_shard_.load(std::memory_order_relaxed);
    while (s.map.size() > cap) {
      s.map.erase(s.lru.back());
      s.lru.pop_back();
    }
  }

  std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> per_shard_{kDefaultCapacity / kShards};
  std::atomic<std::uint64_t> exact_hits_{0}, exact_errors_{0};
};

Cache& cache() {
  static Cache c;  // never destroyed before its users: function-local static
  return c;
}

// A thread's hits from its own caches, added to the shared counters in
// groups, and when the thread ends.
struct LocalHits {
  std::uint64_t hits = 0, errors = 0;
  LocalHits() { cache(); }  // constructed first, so destroyed after this
  ~LocalHits() { flush(); }
  void add(bool error) {
    ++hits;
    errors += error ? 1 : 0;
    if (hits == 256) flush();
  }
  void flush() {
    if (hits != 0) cache().add_local_hits(hits, errors);
    hits = errors = 0;
  }
};
thread_local LocalHits local_hits;

CacheStats Cache::stats() {
  local_hits.flush();  // the calling thread's own
  return totals();
}

// A reference to `shape` whose count lives with this thread: copies of it
// never touch the count of the reference the shared cache holds.
std::shared_ptr<const Analysis> thread_reference(const std::shared_ptr<const Analysis>& shape) {
  auto holder = std::make_shared<const std::shared_ptr<const Analysis>>(shape);
  return std::shared_ptr<const Analysis>(holder, holder->get());
}

// The shapes a thread looked up, by shape key (direct-mapped): a hit takes
// no lock and touches no shared memory but the Analysis itself (read only).
// Holds each shape under a thread reference; a slot's next shape replaces it.
class ShapeMemo {
 public:
  static constexpr std::size_t kSlots = 1024;  // power of two
  struct Slot {
    std::uint64_t low = 0, high = 0;
    bool error = false;
    std::shared_ptr<const Analysis> shape;  // empty: unused
  };
  Slot& slot(std::uint64_t low) {
    if (slots_.empty()) slots_.resize(kSlots);
    return slots_[low & (kSlots - 1)];
  }

 private:
  std::vector<Slot> slots_;
};

// The per-thread exact-text cache. Only texts whose result does not vary
// between executions are worth a slot: texts without literals and
// extended-protocol texts (values arrive as $n parameters, the literals left
// are constants of the prepared text). Simple-protocol texts with inline
// values would only evict them. Direct-mapped: a colliding text replaces the
// slot's entry.
class ExactCache {
 public:
  static constexpr std::size_t kSlots = 1024;        // power of two
  static constexpr std::size_t kMaxLiteralBytes = 256;  // per entry, bounds the memory

  struct Slot {
    std::uint64_t low = 0, high = 0;
    bool used = false;
    bool error = false;
    Parsed parsed;
  };

  Slot& slot(std::uint64_t low) {
    if (slots_.empty()) slots_.resize(kSlots);
    return slots_[low & (kSlots - 1)];
  }

  static bool worth_keeping(const lex::Lexed& lexed, const Parsed& parsed) {
    if (lexed.literal_count == 0) return true;
    if (!lexed.has_param) return false;
    std::size_t bytes = 0;
    for (const std::string& l : parsed.literals) bytes += l.size();
    return bytes <= kMaxLiteralBytes;
  }

 private:
  std::vector<Slot> slots_;
};

std::shared_ptr<const Analysis> failure(std::string message) {
  auto a = std::make_shared<Analysis>();
  Statement st;
  st.error = std::move(message);
  a->statements.push_back(std::move(st));
  return a;
}

}  // namespace

Parsed parse(std::string_view text) {
  Parsed out;
  parse(text, out);
  return out;
}

void parse(std::string_view text, Parsed& out) {
  out.shape.reset();
  out.literals.clear();
  try {
    if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
      out.shape = failure("statement too long");
      return;
    }
    const XXH128_hash_t exact_key = XXH3_128bits(text.data(), text.size());
    thread_local ExactCache exact;
    ExactCache::Slot& slot = exact.slot(exact_key.low64);
    if (slot.used && slot.low == exact_key.low64 && slot.high == exact_key.high64) {
      local_hits.add(slot.error);
      out.shape = slot.parsed.shape;
      out.literals = slot.parsed.literals;
      return;
    }

    thread_local lex::Lexed lexed;
    lex::lex(text, lexed);
    out.literals.reserve(lexed.literal_count);
    for (const lex::Token& t : lexed.tokens) {
      if (t.kind == lex::TokKind::number)  // a number's value is its text: built in place
        out.literals.emplace_back(text.substr(t.begin, t.end - t.begin));
      else if (lex::is_literal(t.kind))
        out.literals.push_back(lex::literal_value(text, t));
    }

    bool error = false;
    thread_local ShapeMemo memo_of_shapes;
    ShapeMemo::Slot& known = memo_of_shapes.slot(lexed.key_low);
    if (known.shape && known.low == lexed.key_low && known.high == lexed.key_high) {
      out.shape = known.shape;
      error = known.error;
      local_hits.add(error);
    } else {
      Cache::Lookup hit;
      if (cache().find(lexed.key_low, lexed.key_high, hit)) {
        out.shape = std::move(hit.analysis);
        error = hit.error;
      } else {
        out.shape = cache().insert(lexed.key_low, lexed.key_high, analyze(text, lexed));
        error = has_error(*out.shape);
      }
      out.shape = thread_reference(out.shape);
      known.low = lexed.key_low;
      known.high = lexed.key_high;
      known.error = error;
      known.shape = out.shape;
    }
    if (has_edge_comment(lexed)) {
      auto tags = comment_tags(text, lexed);
      if (!tags.empty()) {
        // An N+1 loop repeats one shape with the same tags: reuse the last
        // tagged copy of this thread instead of copying again. The memo owns
        // its base, so the pointer comparison cannot see a recycled address.
        thread_local struct {
          std::shared_ptr<const Analysis> base, tagged;
          std::map<std::string, std::string> tags;
        } memo;
        if (memo.base == out.shape && memo.tags == tags) {
          out.shape = memo.tagged;
        } else {
          auto tagged = std::make_shared<Analysis>(*out.shape);
          for (Statement& st : tagged->statements) st.tags = tags;
          memo.base = out.shape;
          memo.tags = std::move(tags);
          memo.tagged = tagged;
          out.shape = std::move(tagged);
        }
      }
    }
    if (ExactCache::worth_keeping(lexed, out)) {
      slot.low = exact_key.low64;
      slot.high = exact_key.high64;
      slot.used = true;
      slot.error = error;
      slot.parsed = out;
    }
  } catch (const std::exception& e) {
    out.shape = failure(std::string("cannot analyze: ") + e.what());
  } catch (...) {
    out.shape = failure("cannot analyze");
  }
}

std::optional<std::string> resolve(const Value& value, const std::vector<std::string>& literals,
                                   const std::vector<std::optional<std::string>>& parameters) {
  switch (value.kind) {
    case Value::Kind::literal:
      if (value.slot < 0 || static_cast<std::size_t>(value.slot) >= literals.size()) return std::nullopt;
      if (value.negative) return "-" + literals[static_cast<std::size_t>(value.slot)];
      return literals[static_cast<std::size_t>(value.slot)];
    case Value::Kind::parameter:
      if (value.param < 1 || static_cast<std::size_t>(value.param) > parameters.size()) return std::nullopt;
      return parameters[static_cast<std::size_t>(value.param - 1)];
    default:
      return std::nullopt;  // NULL equals nothing; columns/expressions have no value here
  }
}

CacheStats cache_stats() { return cache().stats(); }

void set_cache_capacity(std::size_t entries) { cache().set_capacity(entries); }

}  // namespace pgsift::sql
