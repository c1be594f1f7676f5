#include "metrics.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "regd/storage_stats.h"
#include "router.h"

#ifndef REGD_VERSION
#error "REGD_VERSION must be defined by the build"
#endif

namespace regd::daemon {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr size_t k_routes = static_cast<size_t>(RouteKind::token) + 1;
constexpr size_t k_methods = static_cast<size_t>(Method::other) + 1;
// The status codes regd sends, each with its own slot per route and method; any other code is
// counted through the family's map (a lock), which only a new code in the code would cause.
constexpr std::array<unsigned, 24> k_codes = {200, 201, 202, 204, 206, 304, 307, 400, 401, 403, 404, 405,
                                              409, 413, 415, 416, 429, 431, 499, 500, 502, 503, 504, 507};
constexpr size_t k_no_slot = k_codes.size();

// Seconds: a manifest GET takes about a millisecond, a large upload minutes.
const Histogram::BucketBoundaries k_request_buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                       0.5,   1,      2.5,   5,    10,    30,   60,  300};
const Histogram::BucketBoundaries k_gc_buckets = {0.1, 1, 10, 60, 300, 900, 1800, 3600, 7200, 14400};

std::string_view method_label(Method method) {
  switch (method) {
    case Method::get:
      return "GET";
    case Method::head:
      return "HEAD";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::del:
      return "DELETE";
    case Method::other:
      break;
  }
  return "OTHER";
}

constexpr std::array<uint8_t, 600> code_slots() {
  std::array<uint8_t, 600> slots{};
  slots.fill(static_cast<uint8_t>(k_no_slot));
  for (size_t i = 0; i < k_codes.size(); ++i) {
    slots[k_codes[i]] = static_cast<uint8_t>(i);
  }
  return slots;
}
constexpr std::array<uint8_t, 600> k_code_slot = code_slots();

bool is_upload(RouteKind route) {
  return route == RouteKind::upload || route == RouteKind::upload_start;
}

double seconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

template <class T>
Family<T>& family(prometheus::detail::Builder<T> builder, prometheus::Registry& registry, const std::string& name,
                  const std::string& help) {
  return builder.Name(name).Help(help).Register(registry);
}

double count(const std::atomic<uint64_t>& counter) {
  return static_cast<double>(counter.load(std::memory_order_relaxed));
}

// A counter family made at render time from values read elsewhere (the storage backend's
// counters); `label` names what tells the series apart, empty for a single series.
prometheus::MetricFamily read_counter(const std::string& name, const std::string& help, const std::string& label,
                                      const std::vector<std::pair<std::string, double>>& series) {
  prometheus::MetricFamily out{name, help, prometheus::MetricType::Counter, {}};
  for (const auto& [value, counted] : series) {
    prometheus::ClientMetric metric;
    if (!label.empty()) {
      metric.label.push_back({label, value});
    }
    metric.counter.value = counted;
    out.metric.push_back(std::move(metric));
  }
  return out;
}

}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;

  Family<Counter>& requests = family(prometheus::BuildCounter(), registry, "regd_http_requests_total",
                                     "HTTP requests served, by route group, method and status code.");
  Family<Histogram>& durations = family(prometheus::BuildHistogram(), registry, "regd_http_request_duration_seconds",
                                        "Time from a request's header to its response's last byte, by route group.");
  Family<Counter>& received = family(prometheus::BuildCounter(), registry, "regd_http_received_bytes_total",
                                     "Request body bytes received, by route group.");
  Family<Counter>& sent = family(prometheus::BuildCounter(), registry, "regd_http_sent_bytes_total",
                                 "Response body bytes sent, by route group.");
  Gauge& in_flight =
      family(prometheus::BuildGauge(), registry, "regd_http_requests_in_flight", "Requests being served.").Add({});
  Gauge& uploads = family(prometheus::BuildGauge(), registry, "regd_uploads_in_progress",
                          "Requests being served in the upload routes (starts, chunks, commits, status).")
                       .Add({});
  Gauge& connections_open =
      family(prometheus::BuildGauge(), registry, "regd_connections_open", "Open client connections.").Add({});
  Gauge& storage_queued = family(prometheus::BuildGauge(), registry, "regd_storage_pool_queued",
                                 "Storage calls waiting for a worker of the storage pool (--storage-threads).")
                              .Add({});
  Gauge& storage_busy = family(prometheus::BuildGauge(), registry, "regd_storage_pool_busy",
                               "Workers of the storage pool running a storage call.")
                            .Add({});
  Counter& connections =
      family(prometheus::BuildCounter(), registry, "regd_connections_accepted_total", "Client connections accepted.")
          .Add({});
  Family<Counter>& auth_failures = family(prometheus::BuildCounter(), registry, "regd_auth_failures_total",
                                          "Requests the auth step refused, by reason.");
  Family<Counter>& limited = family(prometheus::BuildCounter(), registry, "regd_rate_limited_requests_total",
                                    "Requests refused with 429, by the limit that refused them.");
  Family<Counter>& upstream = family(prometheus::BuildCounter(), registry, "regd_upstream_requests_total",
                                     "Pull-through cache lookups (--upstream), by outcome.");
  Family<Counter>& gc_runs = family(prometheus::BuildCounter(), registry, "regd_gc_runs_total",
                                    "Background garbage collection runs, by outcome.");
  Counter& gc_blobs = family(prometheus::BuildCounter(), registry, "regd_gc_reclaimed_blobs_total",
                             "Blobs background garbage collection removed.")
                          .Add({});
  Counter& gc_bytes = family(prometheus::BuildCounter(), registry, "regd_gc_reclaimed_bytes_total",
                             "Bytes of the blobs background garbage collection removed.")
                          .Add({});
  Counter& gc_manifests = family(prometheus::BuildCounter(), registry, "regd_gc_removed_manifests_total",
                                 "Untagged manifests background garbage collection removed.")
                              .Add({});
  Counter& gc_uploads = family(prometheus::BuildCounter(), registry, "regd_gc_purged_uploads_total",
                               "Expired upload sessions background garbage collection removed.")
                            .Add({});
  Histogram& gc_duration = family(prometheus::BuildHistogram(), registry, "regd_gc_duration_seconds",
                                  "Duration of the background garbage collection runs that took the lease.")
                               .Add({}, k_gc_buckets);
  Gauge& gc_last_success = family(prometheus::BuildGauge(), registry, "regd_gc_last_success_timestamp_seconds",
                                  "Unix time of this instance's last successful GC run; 0: none since start.")
                               .Add({});
  Family<Counter>& sync_runs = family(prometheus::BuildCounter(), registry, "regd_sync_runs_total",
                                      "Background sync runs (--sync-file), by outcome.");
  Counter& sync_rule_failures = family(prometheus::BuildCounter(), registry, "regd_sync_rule_failures_total",
                                       "Sync rules that failed in background sync runs.")
                                    .Add({});
  Counter& sync_manifests = family(prometheus::BuildCounter(), registry, "regd_sync_copied_manifests_total",
                                   "Manifests background sync copied.")
                                .Add({});
  Counter& sync_blobs =
      family(prometheus::BuildCounter(), registry, "regd_sync_copied_blobs_total", "Blobs background sync copied.")
          .Add({});
  Counter& sync_bytes = family(prometheus::BuildCounter(), registry, "regd_sync_copied_bytes_total",
                               "Bytes of the blobs background sync copied.")
                            .Add({});
  Histogram& sync_duration = family(prometheus::BuildHistogram(), registry, "regd_sync_duration_seconds",
                                    "Duration of the background sync runs that took the lease.")
                                 .Add({}, k_gc_buckets);
  Gauge& sync_last_success = family(prometheus::BuildGauge(), registry, "regd_sync_last_success_timestamp_seconds",
                                    "Unix time of this instance's last sync run whose rules all succeeded; 0: none.")
                                 .Add({});

  std::array<Histogram*, k_routes> duration_by_route{};
  std::array<Counter*, k_routes> received_by_route{};
  std::array<Counter*, k_routes> sent_by_route{};
  std::array<std::atomic<Counter*>, k_routes * k_methods * k_codes.size()> request_slots{};
  std::array<Counter*, 4> auth_by_reason{};
  std::array<Counter*, 4> limited_by_limit{};
  std::array<Counter*, 3> gc_by_outcome{};    // success, skipped, failure
  std::array<Counter*, 3> sync_by_outcome{};  // SyncOutcome
  std::array<Counter*, 6> upstream_by_outcome{};

  Impl();
  Counter& requests_of(RouteKind route, Method method, unsigned status);
};

Metrics::Impl::Impl() {
  for (size_t i = 0; i < k_routes; ++i) {
    prometheus::Labels route{{"route", std::string(route_name(static_cast<RouteKind>(i)))}};
    duration_by_route[i] = &durations.Add(route, k_request_buckets);
    received_by_route[i] = &received.Add(route);
    sent_by_route[i] = &sent.Add(route);
  }
  size_t i = 0;
  for (auto reason : {"unauthenticated", "invalid_credentials", "insufficient_scope", "denied"}) {
    auth_by_reason[i++] = &auth_failures.Add({{"reason", reason}});
  }
  i = 0;
  for (auto limit : {"address", "user", "concurrent_uploads", "upload_sessions"}) {
    limited_by_limit[i++] = &limited.Add({{"limit", limit}});
  }
  i = 0;
  for (auto outcome : {"hit", "miss", "revalidated", "updated", "stale", "error"}) {
    upstream_by_outcome[i++] = &upstream.Add({{"outcome", outcome}});
  }
  i = 0;
  for (auto outcome : {"success", "skipped", "failure"}) {
    gc_by_outcome[i++] = &gc_runs.Add({{"outcome", outcome}});
  }
  i = 0;
  for (auto outcome : {"success", "skipped", "failure"}) {
    sync_by_outcome[i++] = &sync_runs.Add({{"outcome", outcome}});
  }
  family(prometheus::BuildGauge(), registry, "regd_build_info", "The regd build; the value is always 1.")
      .Add({{"version", REGD_VERSION}})
      .Set(1);
  family(prometheus::BuildGauge(), registry, "regd_start_time_seconds", "Unix time this process started.")
      .Add({})
      .Set(unix_now());
}

// The series of one route, method and code: found in its slot, or added to the family once
// (Family::Add returns the existing series when two threads race to add it).
Counter& Metrics::Impl::requests_of(RouteKind route, Method method, unsigned status) {
  size_t code = status < k_code_slot.size() ? k_code_slot[status] : k_no_slot;
  auto labels = [&] {
    return prometheus::Labels{{"route", std::string(route_name(route))},
                              {"method", std::string(method_label(method))},
                              {"code", std::to_string(status)}};
  };
  if (code == k_no_slot) {
    return requests.Add(labels());
  }
  auto& slot =
      request_slots[(static_cast<size_t>(route) * k_methods + static_cast<size_t>(method)) * k_codes.size() + code];
  Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &requests.Add(labels());
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

Metrics::Metrics() : m_impl(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::connection_opened() {
  m_impl->connections_open.Increment();
  m_impl->connections.Increment();
}

void Metrics::connection_closed() {
  m_impl->connections_open.Decrement();
}

void Metrics::storage_call_queued() {
  m_impl->storage_queued.Increment();
}

void Metrics::storage_call_started() {
  m_impl->storage_queued.Decrement();
  m_impl->storage_busy.Increment();
}

void Metrics::storage_call_finished() {
  m_impl->storage_busy.Decrement();
}

void Metrics::request_started() {
  m_impl->in_flight.Increment();
}

void Metrics::request_routed(RouteKind route) {
  if (is_upload(route)) {
    m_impl->uploads.Increment();
  }
}

void Metrics::request_finished(RouteKind route) {
  m_impl->in_flight.Decrement();
  if (is_upload(route)) {
    m_impl->uploads.Decrement();
  }
}

void Metrics::record(RouteKind route, Method method, unsigned status, uint64_t bytes_in, uint64_t bytes_out,
                     std::chrono::steady_clock::duration duration) {
  auto index = static_cast<size_t>(route);
  m_impl->requests_of(route, method, status).Increment();
  m_impl->duration_by_route[index]->Observe(seconds(duration));
  if (bytes_in > 0) {
    m_impl->received_by_route[index]->Increment(static_cast<double>(bytes_in));
  }
  if (bytes_out > 0) {
    m_impl->sent_by_route[index]->Increment(static_cast<double>(bytes_out));
  }
}

void Metrics::auth_failed(AuthFailure reason) {
  m_impl->auth_by_reason[static_cast<size_t>(reason)]->Increment();
}

void Metrics::rate_limited(RateLimit limit) {
  m_impl->limited_by_limit[static_cast<size_t>(limit)]->Increment();
}

void Metrics::upstream(UpstreamEvent event) {
  m_impl->upstream_by_outcome[static_cast<size_t>(event)]->Increment();
}

void Metrics::gc_finished(const Result<GcReport>& report, std::chrono::steady_clock::duration duration) {
  if (!report && report.error().code == Errc::conflict) {
    m_impl->gc_by_outcome[1]->Increment();
    return;
  }
  m_impl->gc_duration.Observe(seconds(duration));
  if (!report) {
    m_impl->gc_by_outcome[2]->Increment();
    return;
  }
  m_impl->gc_by_outcome[0]->Increment();
  m_impl->gc_blobs.Increment(static_cast<double>(report->blobs_removed));
  m_impl->gc_bytes.Increment(static_cast<double>(report->bytes_removed));
  m_impl->gc_manifests.Increment(static_cast<double>(report->manifests_removed));
  m_impl->gc_uploads.Increment(static_cast<double>(report->uploads_removed));
  m_impl->gc_last_success.Set(unix_now());
}

void Metrics::sync_finished(const SyncRunMetrics& run, std::chrono::steady_clock::duration duration) {
  m_impl->sync_by_outcome[static_cast<size_t>(run.outcome)]->Increment();
  if (run.outcome == SyncOutcome::skipped) {
    return;
  }
  m_impl->sync_duration.Observe(seconds(duration));
  m_impl->sync_rule_failures.Increment(static_cast<double>(run.rules_failed));
  m_impl->sync_manifests.Increment(static_cast<double>(run.manifests_copied));
  m_impl->sync_blobs.Increment(static_cast<double>(run.blobs_copied));
  m_impl->sync_bytes.Increment(static_cast<double>(run.bytes_copied));
  if (run.outcome == SyncOutcome::success) {
    m_impl->sync_last_success.Set(unix_now());
  }
}

std::string Metrics::render() const {
  auto families = m_impl->registry.Collect();
  const StorageStats& stats = storage_stats();
  families.push_back(read_counter("regd_storage_errors_total", "Errors the storage backend returned, by kind.", "kind",
                                  {{"io_error", count(stats.io_errors)},
                                   {"no_space", count(stats.no_space_errors)},
                                   {"denied", count(stats.denied_errors)}}));
  families.push_back(read_counter("regd_storage_estale_retries_total",
                                  "Storage calls retried after ESTALE (a stale network filesystem handle).", "",
                                  {{"", count(stats.estale_retries)}}));
  // Hits first: a re-check is counted before its hit (the clamp covers relaxed ordering).
  double hits = count(stats.miss_recheck_hits);
  double rechecks = std::max(hits, count(stats.miss_rechecks));
  families.push_back(read_counter("regd_storage_miss_rechecks_total",
                                  "Reads on a network filesystem that missed and were checked again, by result.",
                                  "result", {{"found", hits}, {"missing", rechecks - hits}}));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace regd::daemon
