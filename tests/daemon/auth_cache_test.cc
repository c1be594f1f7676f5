#include "auth_cache.h"

#include <gtest/gtest.h>

#include "auth.h"

namespace regd::daemon {
namespace {

using Clock = CredentialCache::Clock;
using std::chrono::seconds;

std::shared_ptr<const Identity> who(const char* user) {
  auto identity = std::make_shared<Identity>();
  identity->caller = {user, true};
  return identity;
}

TEST(CredentialCache, RemembersAnIdentityUntilTheTtl) {
  CredentialCache cache(seconds(60), 10);
  auto t0 = Clock::now();
  cache.insert("Basic YWxpY2U6c2VjcmV0", who("alice"), t0);
  auto hit = cache.find("Basic YWxpY2U6c2VjcmV0", t0 + seconds(59));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->caller.user, "alice");
  EXPECT_FALSE(cache.find("Basic YWxpY2U6c2VjcmV0", t0 + seconds(60)));
  EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped when found";
}

TEST(CredentialCache, KeysOnTheWholeHeader) {
  CredentialCache cache(seconds(60), 10);
  auto t0 = Clock::now();
  cache.insert("Basic YWxpY2U6c2VjcmV0", who("alice"), t0);
  EXPECT_FALSE(cache.find("Basic YWxpY2U6c2VjcmV1", t0));
  EXPECT_FALSE(cache.find("basic YWxpY2U6c2VjcmV0", t0));
  EXPECT_FALSE(cache.find("", t0));
}

TEST(CredentialCache, ATokenExpiresWithItsExpiry) {
  CredentialCache cache(seconds(60), 10);
  auto t0 = Clock::now();
  cache.insert("Bearer x", who("bob"), t0, t0 + seconds(5));
  EXPECT_TRUE(cache.find("Bearer x", t0 + seconds(4)));
  EXPECT_FALSE(cache.find("Bearer x", t0 + seconds(5)));
}

TEST(CredentialCache, IsBoundedOldestFirst) {
  CredentialCache cache(seconds(60), 3);
  auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) {
    cache.insert("Basic " + std::to_string(i), who("u"), t0);
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("Basic 0", t0));
  EXPECT_FALSE(cache.find("Basic 1", t0));
  EXPECT_TRUE(cache.find("Basic 4", t0));
  for (int i = 0; i < 1000; ++i) {
    cache.insert("Basic many" + std::to_string(i), who("u"), t0);
  }
  EXPECT_EQ(cache.size(), 3u);
}

TEST(CredentialCache, StaysBoundedWhenEntriesExpireAndComeBack) {
  CredentialCache cache(seconds(1), 4);
  auto t = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    t += seconds(2);
    cache.insert("Basic same", who("u"), t);
    EXPECT_TRUE(cache.find("Basic same", t));
  }
  EXPECT_LE(cache.size(), 4u);
}

TEST(CredentialCache, ATtlOfZeroRemembersNothing) {
  CredentialCache cache(seconds(0), 10);
  auto t0 = Clock::now();
  cache.insert("Basic x", who("u"), t0);
  EXPECT_FALSE(cache.find("Basic x", t0));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace regd::daemon
