#include "gc_lease.h"

#include <nlohmann/json.hpp>

#include "layout.h"

namespace regd {

namespace {

constexpr size_t k_max_lease_size = 4096;

struct LeaseDoc {
  std::string holder;
  std::string token;
  Clock::time_point expires;
};

// A missing or unreadable lease counts as free: the worst case is a GC that waited for nothing.
std::optional<LeaseDoc> read_lease(Storage& storage) {
  auto content = storage.read(layout::gc_lease(), k_max_lease_size);
  if (!content) {
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(*content, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("expires") || !doc["expires"].is_string()) {
    return std::nullopt;
  }
  auto expires = layout::parse_time(doc["expires"].get<std::string>());
  if (!expires) {
    return std::nullopt;
  }
  return LeaseDoc{doc.value("holder", ""), doc.value("token", ""), *expires};
}

}  // namespace

GcLease::GcLease(Storage& storage, std::string holder, std::string token, std::chrono::seconds ttl)
    : m_storage(storage), m_holder(std::move(holder)), m_token(std::move(token)), m_ttl(ttl) {}

Result<std::unique_ptr<GcLease>> GcLease::acquire(Storage& storage, const std::string& holder,
                                                  std::chrono::seconds ttl) {
  std::unique_ptr<GcLease> lease(new GcLease(storage, holder, layout::random_hex(16), ttl));
  if (auto taken = lease->write_if_free(); !taken) {
    lease->m_token.clear();  // not ours: the destructor must not remove it
    return std::unexpected(taken.error());
  }
  return lease;
}

Status GcLease::write_if_free() {
  auto guard = m_storage.lock(layout::gc_lease_lock(), true);
  if (!guard) {
    return std::unexpected(guard.error());
  }
  auto now = m_storage.now(layout::gc_clock());
  if (!now) {
    return std::unexpected(now.error());
  }
  auto current = read_lease(m_storage);
  if (current && current->token != m_token && current->expires > *now) {
    return fail(Errc::conflict, "garbage collection already running (" + current->holder + ", lease until " +
                                    layout::format_time(current->expires) + ")");
  }
  nlohmann::json doc = {{"holder", m_holder}, {"token", m_token}, {"expires", layout::format_time(*now + m_ttl)}};
  if (auto written = m_storage.write_file(layout::gc_lease(), doc.dump()); !written) {
    return written;
  }
  m_renewed = std::chrono::steady_clock::now();
  return {};
}

Status GcLease::renew() {
  if (std::chrono::steady_clock::now() - m_renewed < m_ttl / 3) {
    return {};
  }
  auto current = read_lease(m_storage);
  if (!current || current->token != m_token) {
    return fail(Errc::conflict, "garbage collection lease lost to " + (current ? current->holder : "nobody"));
  }
  return write_if_free();
}

GcLease::~GcLease() {
  if (m_token.empty()) {
    return;
  }
  auto guard = m_storage.lock(layout::gc_lease_lock(), true);
  auto current = read_lease(m_storage);
  if (guard && current && current->token == m_token) {
    (void)m_storage.remove(layout::gc_lease());
  }
}

Result<GcRunStart> start_gc_run(Storage& storage, bool dry_run, const std::string& holder, std::chrono::seconds ttl) {
  if (dry_run) {
    return GcRunStart{nullptr, Clock::now()};
  }
  auto lease = GcLease::acquire(storage, holder, ttl);
  if (!lease) {
    return std::unexpected(lease.error());
  }
  auto t0 = storage.now(layout::gc_clock());
  if (!t0) {
    return std::unexpected(t0.error());
  }
  return GcRunStart{std::move(*lease), *t0};
}

}  // namespace regd
