// The process's metrics, exported at /metrics in the Prometheus text format (docs/regd.md,
// "Metrics"). Built on prometheus-cpp's registry and text serializer; regd's own listener serves
// them. Labels are low-cardinality only: route group, method, status code, reasons; never a
// repository or a user. Every series the request path updates is resolved once (at start, or
// the first time a route, method and code meet), so counting a request takes no map lookup and
// no lock but the histogram's own. The storage backend's counters (regd/storage_stats.h) are
// read when the metrics are rendered. Every member function is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http_types.h"
#include "regd/gc.h"
#include "route_kind.h"

namespace regd::daemon {

// Why the auth step refused a request (regd_auth_failures_total{reason}).
enum class AuthFailure {
  unauthenticated,      // no credentials where the route needs some (401)
  invalid_credentials,  // a wrong password, an invalid or expired token, an unknown scheme (401)
  insufficient_scope,   // a token without the access the request needs (401)
  denied,               // an authenticated caller without the right (403)
};

// Which limit refused a request with 429 (regd_rate_limited_requests_total{limit}).
enum class RateLimit {
  address,             // --rate-limit-address
  user,                // --rate-limit-user
  concurrent_uploads,  // --max-concurrent-uploads
  upload_sessions,     // --max-uploads-per-repository, --max-uploads-per-user
};

// What the pull-through cache did for one request (regd_upstream_requests_total{outcome}).
enum class UpstreamEvent {
  hit,          // served from the cache without asking the upstream (a tag within --upstream-ttl)
  miss,         // fetched from the upstream and stored
  revalidated,  // a HEAD found the cached tag unchanged
  updated,      // a HEAD found the tag moved: the new manifest was fetched
  stale,        // the upstream failed: the cached tag was served with a Warning
  error,        // the upstream failed and nothing was cached
};

// A background sync run: success (every rule ran), skipped (another instance held the lease),
// failure (a rule failed, or the run could not start); what the rules that ran copied.
enum class SyncOutcome { success, skipped, failure };
struct SyncRunMetrics {
  SyncOutcome outcome = SyncOutcome::success;
  uint64_t rules_failed = 0;
  uint64_t manifests_copied = 0;
  uint64_t blobs_copied = 0;
  uint64_t bytes_copied = 0;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void connection_opened();
  void connection_closed();
  // A blocking storage call handed to the storage pool (storage_pool.h): queued, picked up by a
  // worker, done (regd_storage_pool_queued, regd_storage_pool_busy).
  void storage_call_queued();
  void storage_call_started();
  void storage_call_finished();
  // Around every request the session serves (regd_http_requests_in_flight).
  void request_started();
  void request_finished(RouteKind route);
  // dispatch() found the request's route: requests in upload routes are counted in
  // regd_uploads_in_progress until request_finished(route).
  void request_routed(RouteKind route);
  // One finished request: its route group, method, status code, the body bytes received and
  // sent, and how long it took from its header to its last byte.
  void record(RouteKind route, Method method, unsigned status, uint64_t bytes_in, uint64_t bytes_out,
              std::chrono::steady_clock::duration duration);
  void auth_failed(AuthFailure reason);
  void rate_limited(RateLimit limit);
  void upstream(UpstreamEvent event);
  // One background GC run and how long it took; an error of code conflict means the lease was
  // held by another instance (outcome "skipped").
  void gc_finished(const Result<GcReport>& report, std::chrono::steady_clock::duration duration);
  // One background sync run (sync_task.h) and how long it took.
  void sync_finished(const SyncRunMetrics& run, std::chrono::steady_clock::duration duration);

  // The exposition text (text/plain; version=0.0.4).
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace regd::daemon
