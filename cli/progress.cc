#include "progress.h"

#include <cstdio>

#include "output.h"

namespace regd::cli {

Progress::Progress(bool enabled, std::string label) : m_enabled(enabled), m_label(std::move(label)) {}

void Progress::finish() {
  std::lock_guard lock(m_mutex);
  if (m_enabled.exchange(false)) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

void Progress::expect(uint64_t items, uint64_t bytes) {
  m_total_items += items;
  m_total_bytes += bytes;
  draw(false);
}

void Progress::add_bytes(uint64_t bytes) {
  m_bytes += bytes;
  draw(false);
}

void Progress::add_item() {
  ++m_items;
  draw(true);
}

void Progress::draw(bool force) {
  if (!m_enabled) {
    return;
  }
  std::lock_guard lock(m_mutex);
  if (!m_enabled) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (!force && now - m_last_draw < std::chrono::milliseconds(100)) {
    return;
  }
  m_last_draw = now;
  std::string line = m_label + ": " + std::to_string(m_items.load());
  if (m_total_items > 0) {
    line += "/" + std::to_string(m_total_items.load());
  }
  line += " items, " + human_size(m_bytes.load());
  if (m_total_bytes > 0) {
    line += " of " + human_size(m_total_bytes.load());
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace regd::cli
