// Polling helper for tests that wait on another process or thread (a server
// log line, a session entering a lock wait, a pgbench run).
#pragma once

#include <chrono>
#include <thread>

namespace pgsift::testing {

/// Calls `condition` every `interval` until it returns true (-> true) or
/// `timeout` passed (-> false). The condition is always tried at least once.
template <typename Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace pgsift::testing
