// Setting the reused string fields of a record (the csvlog/jsonlog readers
// and the stderr assembler): the values of consecutive records mostly
// repeat (user, database, application, session id) or keep their length
// (vxid), so the readers compare before they copy, and compare short texts
// with overlapping word loads rather than a memcmp call.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pgsift::cli::input {

inline std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline std::uint32_t load4(const char* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

/// field = v; clear() and append() take fewer steps than assign().
inline void replace_text(std::string& field, std::string_view v) {
  field.clear();
  field.append(v.data(), v.size());
}

/// a[0, n) == b[0, n); up to 32 bytes with overlapping loads.
[[gnu::always_inline]] inline bool same_text(const char* a, const char* b, std::size_t n) {
  if (n >= 8) {
    if (n > 32) return std::memcmp(a, b, n) == 0;
    std::uint64_t d = (load8(a) ^ load8(b)) | (load8(a + n - 8) ^ load8(b + n - 8));
    if (n > 16) d |= (load8(a + 8) ^ load8(b + 8)) | (load8(a + n - 16) ^ load8(b + n - 16));
    return d == 0;
  }
  if (n >= 4) return ((load4(a) ^ load4(b)) | (load4(a + n - 4) ^ load4(b + n - 4))) == 0;
  if (n == 0) return true;
  return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
}

/// field = v, compared first and overwritten in place when the length is
/// unchanged.
[[gnu::always_inline]] inline void set_text(std::string& field, std::string_view v) {
  const std::size_t n = v.size();
  if (field.size() != n) {
    replace_text(field, v);
    return;
  }
  char* d = field.data();
  if (same_text(d, v.data(), n)) return;
  if (n >= 8 && n <= 16) {
    const std::uint64_t head = load8(v.data()), tail = load8(v.data() + n - 8);
    std::memcpy(d, &head, 8);
    std::memcpy(d + n - 8, &tail, 8);
  } else {
    std::memcpy(d, v.data(), n);
  }
}

}  // namespace pgsift::cli::input
