#include "regd/duration.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace regd::testing {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("90").value(), 90s);
  EXPECT_EQ(parse_duration("90s").value(), 90s);
  EXPECT_EQ(parse_duration("15m").value(), 15min);
  EXPECT_EQ(parse_duration("1h30m").value(), 90min);
  EXPECT_EQ(parse_duration("7d").value(), 168h);
  EXPECT_EQ(parse_duration("0").value(), 0s);
  EXPECT_EQ(parse_duration("36500d").value(), 876000h);
}

TEST(Duration, RejectsMalformedText) {
  for (const char* bad :
       {"", "h", "1x", "-5s", "1h30", "1.5h", "99999999999999999999d", "36501d", "36500d1s", "200000d", "5 m"}) {
    EXPECT_ERRC(parse_duration(bad), Errc::invalid_argument);
  }
}

TEST(Duration, FormatsWhatItParses) {
  for (auto d : {0s, 59s, 3600s, 5400s, 604800s, 90061s}) {
    auto text = format_duration(d);
    ASSERT_OK(parse_duration(text));
    EXPECT_EQ(parse_duration(text).value(), d) << text;
  }
  EXPECT_EQ(format_duration(5400s), "1h30m");
}

}  // namespace
}  // namespace regd::testing
