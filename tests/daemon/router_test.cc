#include "router.h"

#include <gtest/gtest.h>

namespace regd::daemon {
namespace {

TEST(MatchRoute, RecognisesFixedEndpoints) {
  EXPECT_EQ(match_route("/v2/").kind, RouteKind::base);
  EXPECT_EQ(match_route("/v2").kind, RouteKind::base);
  EXPECT_EQ(match_route("/v2/_catalog").kind, RouteKind::catalog);
  EXPECT_EQ(match_route("/healthz").kind, RouteKind::healthz);
  EXPECT_EQ(match_route("/readyz").kind, RouteKind::readyz);
  EXPECT_EQ(match_route("/metrics").kind, RouteKind::metrics);
}

TEST(MatchRoute, KeepsSlashesInRepositoryNames) {
  auto r = match_route("/v2/a/b/c/manifests/latest");
  EXPECT_EQ(r.kind, RouteKind::manifest);
  EXPECT_EQ(r.name, "a/b/c");
  EXPECT_EQ(r.ref, "latest");
}

TEST(MatchRoute, MatchesTheGroupFromTheRight) {
  auto r = match_route("/v2/x/blobs/manifests/sha256:00");
  EXPECT_EQ(r.kind, RouteKind::manifest);
  EXPECT_EQ(r.name, "x/blobs");
  auto u = match_route("/v2/a/blobs/blobs/uploads/");
  EXPECT_EQ(u.kind, RouteKind::upload_start);
  EXPECT_EQ(u.name, "a/blobs");
}

TEST(MatchRoute, RecognisesBlobAndUploadRoutes) {
  EXPECT_EQ(match_route("/v2/a/blobs/sha256:00").kind, RouteKind::blob);
  EXPECT_EQ(match_route("/v2/a/blobs/uploads/").kind, RouteKind::upload_start);
  EXPECT_EQ(match_route("/v2/a/blobs/uploads").kind, RouteKind::upload_start);
  auto u = match_route("/v2/a/b/blobs/uploads/1234-abcd");
  EXPECT_EQ(u.kind, RouteKind::upload);
  EXPECT_EQ(u.name, "a/b");
  EXPECT_EQ(u.ref, "1234-abcd");
}

TEST(MatchRoute, RecognisesTagsAndReferrers) {
  auto t = match_route("/v2/a/b/tags/list");
  EXPECT_EQ(t.kind, RouteKind::tags_list);
  EXPECT_EQ(t.name, "a/b");
  auto r = match_route("/v2/a/referrers/sha256:00");
  EXPECT_EQ(r.kind, RouteKind::referrers);
  EXPECT_EQ(r.ref, "sha256:00");
}

TEST(MatchRoute, RejectsEverythingElse) {
  EXPECT_EQ(match_route("/").kind, RouteKind::not_found);
  EXPECT_EQ(match_route("/v2/a").kind, RouteKind::not_found);
  EXPECT_EQ(match_route("/v2/a/tags/other").kind, RouteKind::not_found);
  EXPECT_EQ(match_route("/v3/a/manifests/x").kind, RouteKind::not_found);
  EXPECT_EQ(match_route("/v2/manifests/x").kind, RouteKind::not_found);
}

}  // namespace
}  // namespace regd::daemon
