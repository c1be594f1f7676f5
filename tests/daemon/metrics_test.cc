#include "metrics.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace regd::daemon {
namespace {

using regd::testing::metric_sample;
using std::chrono::milliseconds;

TEST(MetricsUnit, CountsRequestsByRouteMethodAndCode) {
  Metrics m;
  m.record(RouteKind::manifest, Method::get, 200, 0, 512, milliseconds(2));
  m.record(RouteKind::manifest, Method::get, 200, 0, 512, milliseconds(2));
  m.record(RouteKind::upload, Method::patch, 202, 4096, 0, milliseconds(30));
  auto text = m.render();
  EXPECT_EQ(metric_sample(text, R"(regd_http_requests_total{code="200",method="GET",route="manifest"})"),
            R"(regd_http_requests_total{code="200",method="GET",route="manifest"} 2)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_requests_total{code="202",method="PATCH",route="upload"})"),
            R"(regd_http_requests_total{code="202",method="PATCH",route="upload"} 1)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_sent_bytes_total{route="manifest"})"),
            R"(regd_http_sent_bytes_total{route="manifest"} 1024)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_received_bytes_total{route="upload"})"),
            R"(regd_http_received_bytes_total{route="upload"} 4096)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_request_duration_seconds_bucket{route="manifest",le="0.0025"})"),
            R"(regd_http_request_duration_seconds_bucket{route="manifest",le="0.0025"} 2)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_request_duration_seconds_bucket{route="upload",le="0.025"})"),
            R"(regd_http_request_duration_seconds_bucket{route="upload",le="0.025"} 0)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_request_duration_seconds_bucket{route="upload",le="0.05"})"),
            R"(regd_http_request_duration_seconds_bucket{route="upload",le="0.05"} 1)");
  // No series for what never happened: a code appears the first time it is sent.
  EXPECT_EQ(text.find(R"(code="404")"), std::string::npos);
}

// Codes outside the table of those regd sends take the family's slow path, and still count.
TEST(MetricsUnit, CountsUnlistedStatusCodes) {
  Metrics m;
  m.record(RouteKind::blob, Method::other, 418, 0, 0, milliseconds(1));
  m.record(RouteKind::blob, Method::other, 418, 0, 0, milliseconds(1));
  m.record(RouteKind::not_found, Method::get, 999, 0, 0, milliseconds(1));
  auto text = m.render();
  EXPECT_EQ(metric_sample(text, R"(regd_http_requests_total{code="418",method="OTHER",route="blob"})"),
            R"(regd_http_requests_total{code="418",method="OTHER",route="blob"} 2)");
  EXPECT_EQ(metric_sample(text, R"(regd_http_requests_total{code="999",method="GET",route="not_found"})"),
            R"(regd_http_requests_total{code="999",method="GET",route="not_found"} 1)");
}

TEST(MetricsUnit, UploadsInProgressFollowTheUploadRoutes) {
  Metrics m;
  for (auto route : {RouteKind::upload_start, RouteKind::upload, RouteKind::manifest}) {
    m.request_started();
    m.request_routed(route);
  }
  auto text = m.render();
  EXPECT_EQ(metric_sample(text, "regd_uploads_in_progress"), "regd_uploads_in_progress 2");
  EXPECT_EQ(metric_sample(text, "regd_http_requests_in_flight"), "regd_http_requests_in_flight 3");
  m.request_finished(RouteKind::upload);
  m.request_finished(RouteKind::manifest);
  text = m.render();
  EXPECT_EQ(metric_sample(text, "regd_uploads_in_progress"), "regd_uploads_in_progress 1");
  EXPECT_EQ(metric_sample(text, "regd_http_requests_in_flight"), "regd_http_requests_in_flight 1");
}

TEST(MetricsUnit, CountsGcRunsByOutcome) {
  Metrics m;
  m.gc_finished(fail(Errc::conflict, "lease held"), milliseconds(1));
  m.gc_finished(fail(Errc::io_error, "list failed"), milliseconds(1500));
  auto text = m.render();
  EXPECT_EQ(metric_sample(text, R"(regd_gc_runs_total{outcome="skipped"})"),
            R"(regd_gc_runs_total{outcome="skipped"} 1)");
  EXPECT_EQ(metric_sample(text, R"(regd_gc_runs_total{outcome="failure"})"),
            R"(regd_gc_runs_total{outcome="failure"} 1)");
  EXPECT_EQ(metric_sample(text, "regd_gc_last_success_timestamp_seconds"), "regd_gc_last_success_timestamp_seconds 0");
  EXPECT_EQ(metric_sample(text, "regd_gc_duration_seconds_count"), "regd_gc_duration_seconds_count 1");  // not the skip
  GcReport report;
  report.blobs_removed = 3;
  report.bytes_removed = 3000;
  report.uploads_removed = 1;
  m.gc_finished(report, milliseconds(200));
  text = m.render();
  EXPECT_EQ(metric_sample(text, R"(regd_gc_runs_total{outcome="success"})"),
            R"(regd_gc_runs_total{outcome="success"} 1)");
  EXPECT_EQ(metric_sample(text, "regd_gc_reclaimed_blobs_total"), "regd_gc_reclaimed_blobs_total 3");
  EXPECT_EQ(metric_sample(text, "regd_gc_reclaimed_bytes_total"), "regd_gc_reclaimed_bytes_total 3000");
  EXPECT_EQ(metric_sample(text, "regd_gc_purged_uploads_total"), "regd_gc_purged_uploads_total 1");
  EXPECT_EQ(metric_sample(text, "regd_gc_duration_seconds_count"), "regd_gc_duration_seconds_count 2");
  EXPECT_EQ(text.find("regd_gc_last_success_timestamp_seconds 0\n"), std::string::npos);
}

TEST(MetricsUnit, CountsAuthFailuresAndRateLimits) {
  Metrics m;
  m.auth_failed(AuthFailure::denied);
  m.auth_failed(AuthFailure::invalid_credentials);
  m.auth_failed(AuthFailure::invalid_credentials);
  m.rate_limited(RateLimit::concurrent_uploads);
  auto text = m.render();
  EXPECT_EQ(metric_sample(text, R"(regd_auth_failures_total{reason="denied"})"),
            R"(regd_auth_failures_total{reason="denied"} 1)");
  EXPECT_EQ(metric_sample(text, R"(regd_auth_failures_total{reason="invalid_credentials"})"),
            R"(regd_auth_failures_total{reason="invalid_credentials"} 2)");
  EXPECT_EQ(metric_sample(text, R"(regd_auth_failures_total{reason="unauthenticated"})"),
            R"(regd_auth_failures_total{reason="unauthenticated"} 0)");
  EXPECT_EQ(metric_sample(text, R"(regd_rate_limited_requests_total{limit="concurrent_uploads"})"),
            R"(regd_rate_limited_requests_total{limit="concurrent_uploads"} 1)");
}

TEST(MetricsUnit, CountsUpstreamOutcomes) {
  Metrics m;
  m.upstream(UpstreamEvent::stale);
  m.upstream(UpstreamEvent::stale);
  m.upstream(UpstreamEvent::miss);
  auto text = m.render();
  EXPECT_EQ(metric_sample(text, R"(regd_upstream_requests_total{outcome="stale"})"),
            R"(regd_upstream_requests_total{outcome="stale"} 2)");
  EXPECT_EQ(metric_sample(text, R"(regd_upstream_requests_total{outcome="miss"})"),
            R"(regd_upstream_requests_total{outcome="miss"} 1)");
  EXPECT_EQ(metric_sample(text, R"(regd_upstream_requests_total{outcome="hit"})"),
            R"(regd_upstream_requests_total{outcome="hit"} 0)");
}

TEST(MetricsUnit, ExportsTypesHelpAndBuildInfo) {
  auto text = Metrics().render();
  EXPECT_NE(text.find("# TYPE regd_http_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE regd_http_received_bytes_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE regd_storage_errors_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP regd_uploads_in_progress "), std::string::npos);
  EXPECT_NE(text.find("\nregd_build_info{version=\""), std::string::npos);
  EXPECT_NE(text.find("\nregd_storage_miss_rechecks_total{result=\"found\"} "), std::string::npos);
}

}  // namespace
}  // namespace regd::daemon
