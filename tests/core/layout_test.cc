#include "layout.h"

#include <set>

#include <gtest/gtest.h>

#include "test_util.h"

namespace regd {
namespace {

Digest sha256_of(std::string_view text) {
  return digest_of(text);
}

TEST(Layout, SpellsTheRegistry2Paths) {
  Digest d = sha256_of("x");
  const std::string& hex = d.hex();
  std::string repo = "docker/registry/v2/repositories/a/b";
  EXPECT_EQ(layout::blob_data(d), "docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data");
  EXPECT_EQ(layout::layer_link("a/b", d), repo + "/_layers/sha256/" + hex + "/link");
  EXPECT_EQ(layout::revision_link("a/b", d), repo + "/_manifests/revisions/sha256/" + hex + "/link");
  EXPECT_EQ(layout::tag_current_link("a/b", "v1"), repo + "/_manifests/tags/v1/current/link");
  EXPECT_EQ(layout::tag_index_link("a/b", "v1", d), repo + "/_manifests/tags/v1/index/sha256/" + hex + "/link");
  std::string id = "0b6a4b4e-9c0e-4d5c-8a4b-0f1e2d3c4b5a";
  EXPECT_EQ(layout::upload_data("a/b", id), repo + "/_uploads/" + id + "/data");
  EXPECT_EQ(layout::upload_started_at("a/b", id), repo + "/_uploads/" + id + "/startedat");
  EXPECT_EQ(layout::upload_hash_state("a/b", id, DigestAlgorithm::sha256, 42),
            repo + "/_uploads/" + id + "/hashstates/sha256/42");
}

TEST(Layout, SpellsSha512AndReferrerPaths) {
  Digest d = digest_of("x", DigestAlgorithm::sha512);
  Digest s = sha256_of("subject");
  EXPECT_EQ(layout::blob_data(d), "docker/registry/v2/blobs/sha512/" + d.hex().substr(0, 2) + "/" + d.hex() + "/data");
  EXPECT_EQ(layout::referrer_link("r", s, d),
            "docker/registry/v2/repositories/r/_referrers/sha256/" + s.hex() + "/sha512/" + d.hex() + "/link");
}

TEST(Layout, LinkContentHasNoNewlineAndParsesBack) {
  Digest d = sha256_of("x");
  EXPECT_EQ(layout::link_content(d), d.str());
  auto parsed = layout::parse_link(layout::link_content(d), "p");
  ASSERT_OK(parsed);
  EXPECT_EQ(*parsed, d);
  EXPECT_ERRC(layout::parse_link(d.str() + "\n", "p"), Errc::corrupt);
  EXPECT_ERRC(layout::parse_link("garbage", "p"), Errc::corrupt);
}

TEST(Layout, AcceptsOnlyLowercaseUuidUploadIds) {
  EXPECT_TRUE(layout::is_upload_id("0b6a4b4e-9c0e-4d5c-8a4b-0f1e2d3c4b5a"));
  EXPECT_FALSE(layout::is_upload_id("0B6A4B4E-9C0E-4D5C-8A4B-0F1E2D3C4B5A"));
  EXPECT_FALSE(layout::is_upload_id("../../../../etc/passwd"));
  EXPECT_FALSE(layout::is_upload_id("0b6a4b4e-9c0e-4d5c-8a4b-0f1e2d3c4b5"));
  EXPECT_FALSE(layout::is_upload_id("0b6a4b4e/9c0e-4d5c-8a4b-0f1e2d3c4b5a"));
  EXPECT_FALSE(layout::is_upload_id(""));
}

TEST(Layout, MintsDistinctVersion4Uuids) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = layout::new_upload_id();
    EXPECT_TRUE(layout::is_upload_id(id)) << id;
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Layout, FormatsAndParsesRfc3339Utc) {
  auto time = Clock::from_time_t(1795378703);  // 2026-11-22T20:18:23Z
  EXPECT_EQ(layout::format_time(time), "2026-11-22T20:18:23Z");
  auto parsed = layout::parse_time("2026-11-22T20:18:23Z");
  ASSERT_OK(parsed);
  EXPECT_EQ(*parsed, time);
  auto fractional = layout::parse_time("2026-11-22T20:18:23.123456789Z");
  ASSERT_OK(fractional);
  EXPECT_EQ(*fractional, time);
  EXPECT_ERRC(layout::parse_time("2026-11-22 20:18:23"), Errc::corrupt);
  EXPECT_ERRC(layout::parse_time("2026-11-22T20:18:23+01:00"), Errc::corrupt);
  EXPECT_ERRC(layout::parse_time(""), Errc::corrupt);
  // A startedat a foreign writer or damage left: beyond the clock's range it is corrupt, not UB.
  EXPECT_ERRC(layout::parse_time("9999-12-31T23:59:59Z"), Errc::corrupt);
  EXPECT_ERRC(layout::parse_time("0001-01-01T00:00:00Z"), Errc::corrupt);
  EXPECT_OK(layout::parse_time("2200-12-31T23:59:59Z"));
  EXPECT_ERRC(layout::parse_time("2201-01-01T00:00:00Z"), Errc::corrupt);
}

TEST(Layout, ClockFromSecondsKeepsToWhatTheClockHolds) {
  EXPECT_EQ(clock_from_seconds(1795378703), Clock::from_time_t(1795378703));
  EXPECT_EQ(clock_from_seconds(-2208988800), Clock::from_time_t(-2208988800));  // 1900
  EXPECT_EQ(clock_from_seconds(7258118400), Clock::from_time_t(7258118400));    // 2200
  EXPECT_EQ(clock_from_seconds(7289654400), std::nullopt);                      // 2201
  EXPECT_EQ(clock_from_seconds(9223372036), std::nullopt);
  EXPECT_EQ(clock_from_seconds(INT64_MIN), std::nullopt);
}

}  // namespace
}  // namespace regd
