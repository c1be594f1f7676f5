#include "rate_limit.h"

#include <thread>

#include <gtest/gtest.h>

#include "client_address.h"
#include "request_limits.h"

namespace regd::daemon {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
  RateLimiter::Clock::time_point now{std::chrono::hours(1)};
  RateLimiter::Now fn() {
    return [this] { return now; };
  }
};

TEST(RateLimiter, AllowsTheBurstThenRefusesWithTheWaitRoundedUp) {
  FakeClock clock;
  RateLimiter limiter(2, 3, 1000, clock.fn());
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_FALSE(limiter.take("a"));
  auto wait = limiter.take("a");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1s);             // half a second at 2/s, rounded up
  EXPECT_FALSE(limiter.take("b"));  // another key has its own bucket
}

TEST(RateLimiter, RefillsAtTheRateUpToTheBurst) {
  FakeClock clock;
  RateLimiter limiter(1, 2, 1000, clock.fn());
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_TRUE(limiter.take("a"));
  clock.now += 1s;
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_TRUE(limiter.take("a"));
  clock.now += 1h;  // refills to the burst, no further
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_TRUE(limiter.take("a"));
}

TEST(RateLimiter, SlowRatesWaitWholeSeconds) {
  FakeClock clock;
  RateLimiter limiter(0.1, 1, 1000, clock.fn());
  EXPECT_FALSE(limiter.take("a"));
  EXPECT_EQ(limiter.take("a"), 10s);
  clock.now += 2500ms;
  EXPECT_EQ(limiter.take("a"), 8s);  // 7.5 s left, rounded up
}

TEST(RateLimiter, KeepsAtMostItsEntries) {
  FakeClock clock;
  RateLimiter limiter(1, 5, 160, clock.fn());
  for (int i = 0; i < 10000; ++i) {
    (void)limiter.take("client-" + std::to_string(i));
    EXPECT_LE(limiter.size(), 160u);
  }
  EXPECT_GT(limiter.size(), 0u);
}

TEST(RateLimiter, ForgetsIdleBucketsFirst) {
  FakeClock clock;
  RateLimiter limiter(1, 1, 16, clock.fn());  // one bucket per shard
  EXPECT_FALSE(limiter.take("busy"));
  clock.now += 10s;  // "busy" is full again: forgetting it changes nothing
  for (int i = 0; i < 100; ++i) {
    (void)limiter.take("other-" + std::to_string(i));
  }
  EXPECT_LE(limiter.size(), 16u);
  EXPECT_FALSE(limiter.take("busy"));
}

TEST(RateLimiter, IsThreadSafe) {
  RateLimiter limiter(1000000, 1000000, 100000);
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (limiter.take("k" + std::to_string((i + t) % 50))) {
          refused++;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(limiter.size(), 50u);
}

Request from(std::string peer, std::vector<std::string> forwarded = {}) {
  Request request;
  request.remote_address = std::move(peer);
  for (auto& value : forwarded) {
    request.headers.push_back({"X-Forwarded-For", std::move(value)});
  }
  return request;
}

TEST(TrustedProxies, ParsesCidrsAndAddresses) {
  auto proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7 ,fd00::/8");
  ASSERT_TRUE(proxies);
  EXPECT_TRUE(proxies->contains("10.1.2.3"));
  EXPECT_TRUE(proxies->contains("192.0.2.7"));
  EXPECT_FALSE(proxies->contains("192.0.2.8"));
  EXPECT_TRUE(proxies->contains("fd12::1"));
  EXPECT_TRUE(proxies->contains("::ffff:10.9.9.9"));  // a dual-stack listener's IPv4 peer
  EXPECT_FALSE(proxies->contains("not an address"));
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/33"));
  EXPECT_FALSE(TrustedProxies::parse("example"));
  auto none = TrustedProxies::parse("");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(TrustedProxies, BelievesForwardedForOnlyFromTrustedPeers) {
  auto proxies = TrustedProxies::parse("127.0.0.0/8,10.0.0.0/8");
  ASSERT_TRUE(proxies);
  // An untrusted peer is the client, whatever it claims.
  EXPECT_EQ(proxies->client_of(from("203.0.113.9", {"198.51.100.1"})), "203.0.113.9");
  // The rightmost untrusted hop is the client; what it wrote further left is not believed.
  EXPECT_EQ(proxies->client_of(from("127.0.0.1", {"1.1.1.1, 198.51.100.1"})), "198.51.100.1");
  EXPECT_EQ(proxies->client_of(from("127.0.0.1", {"1.1.1.1, 198.51.100.1, 10.0.0.5"})), "198.51.100.1");
  EXPECT_EQ(proxies->client_of(from("127.0.0.1", {"1.1.1.1", "198.51.100.2"})), "198.51.100.2");
  // A trusted peer without the header, or garbage in it: the last trusted hop.
  EXPECT_EQ(proxies->client_of(from("127.0.0.1")), "127.0.0.1");
  EXPECT_EQ(proxies->client_of(from("127.0.0.1", {"garbage, 10.0.0.7"})), "10.0.0.7");
  // Every hop trusted: the leftmost.
  EXPECT_EQ(proxies->client_of(from("127.0.0.1", {"10.0.0.1, 10.0.0.2"})), "10.0.0.1");
  // No proxies configured: the header is ignored.
  EXPECT_EQ(TrustedProxies{}.client_of(from("127.0.0.1", {"198.51.100.1"})), "127.0.0.1");
}

TEST(Limits, AnswersTooManyRequestsWithRetryAfter) {
  FakeClock clock;
  LimitsConfig config;
  config.rate_limit_address = 0.5;
  config.rate_limit_user = 1;
  Limits limits(config, clock.fn());
  auto request = from("192.0.2.1");
  EXPECT_FALSE(limits.check_address(request));
  auto refused = limits.check_address(request);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429u);
  ASSERT_TRUE(refused->find("Retry-After"));
  EXPECT_EQ(*refused->find("Retry-After"), "2");
  EXPECT_NE(refused->body.find("TOOMANYREQUESTS"), std::string::npos);
  EXPECT_FALSE(limits.check_user(request));  // anonymous: no user bucket
  request.user = "alice";
  EXPECT_FALSE(limits.check_user(request));
  EXPECT_TRUE(limits.check_user(request));
  EXPECT_EQ(limits.user_buckets(), 1u);
}

TEST(Limits, CapsUploadsInFlight) {
  LimitsConfig config;
  config.max_concurrent_uploads = 2;
  Limits limits(config);
  auto first = limits.upload_slot();
  auto second = limits.upload_slot();
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  auto third = limits.upload_slot();
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().status, 429u);
  first->reset();
  EXPECT_TRUE(limits.upload_slot());
}

}  // namespace
}  // namespace regd::daemon
