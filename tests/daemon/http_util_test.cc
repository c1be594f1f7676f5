#include "http_util.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace regd::daemon {
namespace {

TEST(ParseRange, ReadsAClosedRange) {
  auto r = parse_range("bytes=10-19", 100);
  ASSERT_EQ(r.kind, RangeKind::single);
  EXPECT_EQ(r.range.first, 10u);
  EXPECT_EQ(r.range.last, 19u);
}

TEST(ParseRange, ReadsAnOpenRangeToTheEnd) {
  auto r = parse_range("bytes=90-", 100);
  ASSERT_EQ(r.kind, RangeKind::single);
  EXPECT_EQ(r.range.first, 90u);
  EXPECT_EQ(r.range.last, 99u);
}

TEST(ParseRange, ReadsASuffixRange) {
  auto r = parse_range("bytes=-5", 100);
  ASSERT_EQ(r.kind, RangeKind::single);
  EXPECT_EQ(r.range.first, 95u);
  EXPECT_EQ(r.range.last, 99u);
}

TEST(ParseRange, ClampsASuffixLongerThanTheContent) {
  auto r = parse_range("bytes=-500", 100);
  ASSERT_EQ(r.kind, RangeKind::single);
  EXPECT_EQ(r.range.first, 0u);
  EXPECT_EQ(r.range.last, 99u);
}

TEST(ParseRange, ClampsTheLastByteToTheContent) {
  auto r = parse_range("bytes=50-1000", 100);
  ASSERT_EQ(r.kind, RangeKind::single);
  EXPECT_EQ(r.range.last, 99u);
}

TEST(ParseRange, ReportsAStartPastTheEndAsUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=100-", 100).kind, RangeKind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).kind, RangeKind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-0", 0).kind, RangeKind::unsatisfiable);
}

TEST(ParseRange, ReportsALastPositionBeforeTheFirstAsUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=500-0", 1000).kind, RangeKind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=9-3", 100).kind, RangeKind::unsatisfiable);
}

TEST(ParseRange, IgnoresMalformedAndMultipleRanges) {
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 100).kind, RangeKind::none);
  EXPECT_EQ(parse_range("items=0-1", 100).kind, RangeKind::none);
  EXPECT_EQ(parse_range("bytes=a-b", 100).kind, RangeKind::none);
  EXPECT_EQ(parse_range("", 100).kind, RangeKind::none);
}

TEST(ParseContentRange, AcceptsTheSpecFormAndTheBytesForm) {
  auto a = parse_content_range("0-99");
  ASSERT_OK(a);
  EXPECT_EQ(a->first, 0u);
  EXPECT_EQ(a->last, 99u);
  auto b = parse_content_range("bytes 100-199/*");
  ASSERT_OK(b);
  EXPECT_EQ(b->first, 100u);
  EXPECT_EQ(b->last, 199u);
}

TEST(ParseContentRange, RejectsMalformedRanges) {
  EXPECT_ERRC(parse_content_range("abc"), Errc::range_invalid);
  EXPECT_ERRC(parse_content_range("10-5"), Errc::range_invalid);
  EXPECT_ERRC(parse_content_range("-5"), Errc::range_invalid);
}

TEST(PercentDecode, DecodesEscapesAndKeepsPlus) {
  auto d = percent_decode("sha256%3Aab+c%2Fd");
  ASSERT_OK(d);
  EXPECT_EQ(*d, "sha256:ab+c/d");
  EXPECT_ERRC(percent_decode("bad%2"), Errc::invalid_argument);
  EXPECT_ERRC(percent_decode("bad%zz"), Errc::invalid_argument);
}

TEST(QueryValues, ReturnsEveryValueInOrder) {
  auto tags = query_values("tag=a&n=3&tag=b%2Dc&tag", "tag");
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0], "a");
  EXPECT_EQ(tags[1], "b-c");
  EXPECT_EQ(tags[2], "");
  EXPECT_EQ(query_value("n=3", "n"), "3");
  EXPECT_FALSE(query_value("n=3", "last"));
}

TEST(PercentEncode, EscapesReservedCharacters) {
  EXPECT_EQ(percent_encode("a/b:c d"), "a%2Fb%3Ac%20d");
}

TEST(EtagMatches, MatchesListsWeakTagsAndStar) {
  EXPECT_TRUE(etag_matches("\"x\"", "\"x\""));
  EXPECT_TRUE(etag_matches("\"y\", W/\"x\"", "\"x\""));
  EXPECT_TRUE(etag_matches("*", "\"x\""));
  EXPECT_FALSE(etag_matches("\"y\"", "\"x\""));
}

TEST(ParseUint, RejectsTrailingGarbage) {
  EXPECT_EQ(parse_uint("42"), 42u);
  EXPECT_FALSE(parse_uint("42x"));
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint(""));
}

}  // namespace
}  // namespace regd::daemon
