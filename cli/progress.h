// A one-line progress indicator on stderr for push, pull and verify. Draws only when enabled
// (stderr is a terminal and --quiet is off: see show_progress()); otherwise every call is a no-op.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "regd/remote_copy.h"

namespace regd::cli {

// Thread-safe. Copies of images (regd/remote_copy.h) report to it too.
class Progress final : public sync::CopyProgress {
 public:
  Progress(bool enabled, std::string label);
  ~Progress() override { finish(); }
  // Clears the line and stops drawing: call before printing results.
  void finish();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds to the expected totals (0 when unknown).
  void expect(uint64_t items, uint64_t bytes) override;
  void add_bytes(uint64_t bytes) override;
  void add_item() override;

 private:
  void draw(bool force);

  std::atomic<bool> m_enabled;
  std::string m_label;
  std::atomic<uint64_t> m_items{0};
  std::atomic<uint64_t> m_bytes{0};
  std::atomic<uint64_t> m_total_items{0};
  std::atomic<uint64_t> m_total_bytes{0};
  std::mutex m_mutex;  // guards the terminal and m_last_draw
  std::chrono::steady_clock::time_point m_last_draw;
};

}  // namespace regd::cli
