// /metrics (docs/regd.md, "Metrics"): scrapes a real regd before and after requests and checks
// that each series moved by exactly what the requests did: requests by route, method and code,
// latency histograms, bytes, uploads in progress, auth failures, rate-limited requests, GC runs.
#include <algorithm>
#include <map>

#include "auth_fixture.h"
#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

// One scrape: "name{labels}" (as rendered) -> value. The text format, minimally: comment lines
// skipped, the value after the last space of a sample line.
using Scrape = std::map<std::string, double>;

Scrape parse(const std::string& text) {
  Scrape out;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == std::string::npos) {
      continue;
    }
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

Scrape scrape(httplib::Client& c, const httplib::Headers& headers = {}) {
  auto r = c.Get("/metrics", headers);
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
  if (!r || r->status != 200) {
    return {};
  }
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  return parse(r->body);
}

// The value of `series`, failing the test when the scrape lacks it.
double value(const Scrape& s, const std::string& series) {
  auto found = s.find(series);
  EXPECT_NE(found, s.end()) << "no series " << series;
  return found == s.end() ? 0 : found->second;
}

double moved(const Scrape& before, const Scrape& after, const std::string& series) {
  // A labelled series appears the first time its labels are met: absent before means 0.
  double old = before.contains(series) ? before.at(series) : 0;
  auto now = after.find(series);
  return (now == after.end() ? 0 : now->second) - old;
}

// Scrapes until each series in `expected` moved by at least its amount since `before` (bounded:
// 10 s). regd counts a request just after writing its response, so the client that read the
// response may scrape before the count lands.
Scrape scrape_after(httplib::Client& c, const Scrape& before, const std::map<std::string, double>& expected,
                    const httplib::Headers& headers = {}) {
  Scrape after;
  for (int i = 0; i < 500; ++i) {
    after = scrape(c, headers);
    if (std::all_of(expected.begin(), expected.end(),
                    [&](const auto& e) { return moved(before, after, e.first) >= e.second; })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return after;
}

std::string requests(const std::string& route, const std::string& method, int code) {
  return "regd_http_requests_total{code=\"" + std::to_string(code) + "\",method=\"" + method + "\",route=\"" + route +
         "\"}";
}

std::string by_route(const std::string& name, const std::string& route) {
  return name + "{route=\"" + route + "\"}";
}

using Metrics = RegdTest;

TEST_F(Metrics, RequestsMoveTheirSeriesByExactlyWhatTheyDid) {
  auto c = client();
  auto before = scrape(c);
  std::string blob = random_bytes(5000, 7);
  auto digest = push_blob(c, "lib/app", blob);
  EXPECT_EQ(c.Get("/v2/lib/app/manifests/missing")->status, 404);
  EXPECT_EQ(c.Get("/nowhere")->status, 404);
  auto got = c.Get(("/v2/lib/app/blobs/" + digest).c_str());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  auto after = scrape_after(c, before,
                            {{requests("upload_start", "POST", 201), 1},
                             {requests("manifest", "GET", 404), 1},
                             {requests("not_found", "GET", 404), 1},
                             {requests("blob", "GET", 200), 1}});

  EXPECT_EQ(moved(before, after, requests("upload_start", "POST", 201)), 1);
  EXPECT_EQ(moved(before, after, requests("manifest", "GET", 404)), 1);
  EXPECT_EQ(moved(before, after, requests("not_found", "GET", 404)), 1);
  EXPECT_EQ(moved(before, after, requests("blob", "GET", 200)), 1);
  // A scrape is counted once it is answered: a later one sees it, not itself.
  EXPECT_GE(moved(before, after, requests("metrics", "GET", 200)), 1);
  EXPECT_EQ(moved(before, after, by_route("regd_http_request_duration_seconds_count", "manifest")), 1);
  EXPECT_EQ(moved(before, after, "regd_http_request_duration_seconds_bucket{route=\"blob\",le=\"+Inf\"}"), 1);
  EXPECT_EQ(moved(before, after, by_route("regd_http_request_duration_seconds_count", "catalog")), 0);
  EXPECT_GT(moved(before, after, by_route("regd_http_request_duration_seconds_sum", "blob")), 0);
  EXPECT_EQ(moved(before, after, by_route("regd_http_received_bytes_total", "upload_start")), 5000);
  EXPECT_EQ(moved(before, after, by_route("regd_http_sent_bytes_total", "blob")), 5000);
  EXPECT_EQ(moved(before, after, by_route("regd_http_received_bytes_total", "blob")), 0);
  // One connection per request (httplib does not keep them alive): a connection is accepted
  // before its request is served, so the four requests and at least this scrape's.
  EXPECT_EQ(moved(before, after, "regd_connections_accepted_total"),
            4 + moved(before, after, requests("metrics", "GET", 200)));
  // The scrape itself (an earlier one may still be finishing: its count lands after its write).
  EXPECT_GE(value(after, "regd_http_requests_in_flight"), 1);
  EXPECT_EQ(value(after, "regd_uploads_in_progress"), 0);
  EXPECT_GT(value(after, "regd_start_time_seconds"), 0);
  EXPECT_EQ(value(after, "regd_build_info{version=\"" REGD_VERSION "\"}"), 1);
  // The storage backend's counters are there (a local disk neither fails nor re-checks here).
  EXPECT_EQ(value(after, "regd_storage_errors_total{kind=\"io_error\"}"), 0);
  EXPECT_EQ(value(after, "regd_storage_estale_retries_total"), 0);
  EXPECT_EQ(value(after, "regd_storage_miss_rechecks_total{result=\"missing\"}"), 0);
}

// A PATCH whose body is still arriving is an upload in progress; once answered it is not.
TEST_F(Metrics, UploadsInProgressCountsRequestsInUploadRoutes) {
  auto c = client();
  auto started = c.Post("/v2/lib/app/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(started && started->status == 202);
  auto location = started->get_header_value("Location");
  RawConnection patch(regd().port());
  ASSERT_TRUE(patch.connected());
  ASSERT_TRUE(patch.send("PATCH " + location +
                         " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: 2000\r\n\r\n" +
                         std::string(1000, 'a')));
  double in_progress = 0;
  for (int i = 0; i < 250 && in_progress != 1; ++i) {  // until regd has read the header (bounded)
    in_progress = value(scrape(c), "regd_uploads_in_progress");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(in_progress, 1);
  ASSERT_TRUE(patch.send(std::string(1000, 'a')));
  auto response = patch.read_response();
  EXPECT_TRUE(response.starts_with("HTTP/1.1 202")) << response;
  auto after = scrape_after(c, {}, {{by_route("regd_http_received_bytes_total", "upload"), 2000}});
  EXPECT_EQ(value(after, "regd_uploads_in_progress"), 0);
  EXPECT_EQ(value(after, by_route("regd_http_received_bytes_total", "upload")), 2000);
}

TEST(MetricsAuth, AuthFailuresAreCountedByReason) {
  TempDir tmp;
  auto htpasswd = htpasswd_file(tmp.path(), {{"alice", "alice-pw"}, {"bob", "bob-pw"}});
  auto rules = (tmp.path() / "rules").string();
  std::ofstream(rules) << "user:alice ** *\n";
  RegdProcess regd(tmp.path() / "root", {"--htpasswd", htpasswd, "--auth-rules", rules});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  httplib::Headers alice = {{"Authorization", basic_header("alice", "alice-pw")}};
  auto before = scrape(c, alice);
  EXPECT_EQ(c.Get("/v2/")->status, 401);
  EXPECT_EQ(c.Get("/v2/", {{"Authorization", basic_header("alice", "wrong")}})->status, 401);
  EXPECT_EQ(c.Get("/v2/", {{"Authorization", "Digest whatever"}})->status, 401);
  EXPECT_EQ(c.Get("/v2/team/app/tags/list", {{"Authorization", basic_header("bob", "bob-pw")}})->status, 403);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  auto after = scrape_after(
      c, before,
      {{requests("base", "GET", 401), 3}, {requests("tags_list", "GET", 403), 1}, {requests("metrics", "GET", 401), 1}},
      alice);

  EXPECT_EQ(moved(before, after, "regd_auth_failures_total{reason=\"unauthenticated\"}"), 2);
  EXPECT_EQ(moved(before, after, "regd_auth_failures_total{reason=\"invalid_credentials\"}"), 2);
  EXPECT_EQ(moved(before, after, "regd_auth_failures_total{reason=\"denied\"}"), 1);
  EXPECT_EQ(moved(before, after, "regd_auth_failures_total{reason=\"insufficient_scope\"}"), 0);
  EXPECT_EQ(moved(before, after, requests("base", "GET", 401)), 3);
  EXPECT_EQ(moved(before, after, requests("tags_list", "GET", 403)), 1);
  EXPECT_EQ(moved(before, after, requests("metrics", "GET", 401)), 1);
  EXPECT_GE(moved(before, after, requests("metrics", "GET", 200)), 1);
}

TEST(MetricsLimits, RateLimitedRequestsAreCountedByLimit) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--rate-limit-address", "0.01", "--rate-limit-burst", "2"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto before = scrape(c);  // probes are never limited: the scrapes take no token
  EXPECT_EQ(c.Get("/v2/")->status, 200);
  EXPECT_EQ(c.Get("/v2/")->status, 200);
  EXPECT_EQ(c.Get("/v2/")->status, 429);
  EXPECT_EQ(c.Get("/v2/x/tags/list")->status, 429);
  auto after = scrape_after(
      c, before,
      {{requests("base", "GET", 429), 1}, {requests("tags_list", "GET", 429), 1}, {requests("base", "GET", 200), 2}});
  EXPECT_EQ(moved(before, after, "regd_rate_limited_requests_total{limit=\"address\"}"), 2);
  EXPECT_EQ(moved(before, after, "regd_rate_limited_requests_total{limit=\"user\"}"), 0);
  EXPECT_EQ(moved(before, after, requests("base", "GET", 429)), 1);
  EXPECT_EQ(moved(before, after, requests("tags_list", "GET", 429)), 1);
  EXPECT_EQ(moved(before, after, requests("base", "GET", 200)), 2);
}

// The background GC (--gc-interval 1s) reclaims an unreferenced blob once it is older than the
// grace window: one blob, its bytes, successful runs, their durations, the time of the last.
TEST(MetricsGc, BackgroundGcRunsAreCounted) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--gc-interval", "1s", "--gc-grace", "2s", "--link-refresh", "1s"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto before = scrape(c);
  push_blob(c, "lib/app", random_bytes(3000, 3));
  auto after = before;
  for (int i = 0; i < 120 && moved(before, after, "regd_gc_reclaimed_blobs_total") < 1; ++i) {  // bounded: 60 s
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    after = scrape(c);
  }
  EXPECT_EQ(moved(before, after, "regd_gc_reclaimed_blobs_total"), 1) << regd.log();
  EXPECT_EQ(moved(before, after, "regd_gc_reclaimed_bytes_total"), 3000);
  double successes = value(after, "regd_gc_runs_total{outcome=\"success\"}");
  EXPECT_GE(moved(before, after, "regd_gc_runs_total{outcome=\"success\"}"), 1);
  EXPECT_EQ(value(after, "regd_gc_runs_total{outcome=\"failure\"}"), 0);
  EXPECT_EQ(value(after, "regd_gc_runs_total{outcome=\"skipped\"}"), 0);  // the only instance
  // A run that ends while the scrape renders may be in one series and not yet in the other.
  EXPECT_NEAR(value(after, "regd_gc_duration_seconds_count"), successes, 1);
  EXPECT_GT(value(after, "regd_gc_last_success_timestamp_seconds"), 1.7e9);
}

}  // namespace
}  // namespace regd::testing
