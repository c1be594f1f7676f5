#include "regd/error.h"

#include <gtest/gtest.h>

namespace regd {
namespace {

Result<int> half(int value) {
  if (value % 2 != 0) {
    return fail(Errc::invalid_argument, "odd value " + std::to_string(value));
  }
  return value / 2;
}

TEST(Error, FailCarriesCodeAndMessage) {
  auto result = half(3);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::invalid_argument);
  EXPECT_EQ(result.error().message, "odd value 3");
  EXPECT_EQ(half(4).value(), 2);
}

TEST(Error, EveryCodeHasAStableName) {
  EXPECT_EQ(errc_name(Errc::digest_invalid), "digest_invalid");
  EXPECT_EQ(errc_name(Errc::manifest_blob_unknown), "manifest_blob_unknown");
  EXPECT_EQ(errc_name(Errc::corrupt), "corrupt");
  EXPECT_EQ(errc_name(Errc::no_registry), "no_registry");
}

}  // namespace
}  // namespace regd
