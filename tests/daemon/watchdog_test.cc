// daemon/watchdog.cc: the keep-alive is due only while every I/O thread beats.
#include "watchdog.h"

#include <gtest/gtest.h>

namespace regd::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = Watchdog::Clock;

TEST(Watchdog, ChecksAtHalfAndBeatsAtAQuarterOfTheInterval) {
  Watchdog watchdog(8s, 2, Clock::time_point{});
  EXPECT_EQ(watchdog.period(), 4s);
  EXPECT_EQ(watchdog.slice(), 2s);
}

TEST(Watchdog, AliveRightAfterStart) {
  Clock::time_point start{100s};
  Watchdog watchdog(8s, 3, start);
  EXPECT_TRUE(watchdog.alive(start));
  EXPECT_TRUE(watchdog.alive(start + 4s));
}

TEST(Watchdog, AliveWhileEveryThreadBeats) {
  Clock::time_point t{100s};
  Watchdog watchdog(8s, 3, t);
  for (int round = 0; round < 10; ++round) {
    t += 2s;
    for (unsigned i = 0; i < 3; ++i) {
      watchdog.beat(i, t);
    }
    EXPECT_TRUE(watchdog.alive(t + 1s)) << "round " << round;
  }
}

TEST(Watchdog, OneStuckThreadStopsTheKeepAlive) {
  Clock::time_point t{100s};
  Watchdog watchdog(8s, 3, t);
  for (int round = 0; round < 4; ++round) {
    t += 2s;
    watchdog.beat(0, t);
    watchdog.beat(2, t);  // thread 1 never comes back
  }
  EXPECT_FALSE(watchdog.alive(t));
  watchdog.beat(1, t);
  EXPECT_TRUE(watchdog.alive(t)) << "a thread that comes back revives the keep-alive";
}

TEST(Watchdog, NoBeatForLongerThanThePeriodIsDead) {
  Clock::time_point start{100s};
  Watchdog watchdog(8s, 1, start);
  EXPECT_TRUE(watchdog.alive(start + 4s));
  EXPECT_FALSE(watchdog.alive(start + 4s + 1ms));
}

}  // namespace
}  // namespace regd::daemon
