#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "regd/sync.h"
#include "test_util.h"

namespace regd::sync {
namespace {

TEST(SyncConfig, ParsesMirrorsWithGlobsRegexesNewestAndReferrers) {
  auto rules = parse_sync_config(R"({"mirrors": [
    {"source": "docker://127.0.0.1:5000/team/app", "target": "mirror/app",
     "tags": ["v*", "/^release-[0-9]+$/"], "newest": 2, "referrers": true},
    {"source": "mirror/app", "target": "docker://[::1]:5001/team/app", "tags": ["*"]}]})");
  ASSERT_OK(rules);
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].source, "docker://127.0.0.1:5000/team/app");
  EXPECT_EQ((*rules)[0].newest, 2u);
  EXPECT_TRUE((*rules)[0].referrers);
  ASSERT_EQ((*rules)[0].tags.size(), 2u);
  EXPECT_FALSE((*rules)[0].tags[0].regex.has_value());
  EXPECT_TRUE((*rules)[0].tags[1].regex.has_value());
  EXPECT_FALSE((*rules)[1].referrers);
}

TEST(SyncConfig, RejectsWhatItCannotMirror) {
  for (const char* text : {
           "[]",
           R"({"mirrors": {}})",
           R"({"mirrors": [], "extra": 1})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "b"}]})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "b", "tags": []}]})",
           R"({"mirrors": [{"source": "docker://h/a:v1", "target": "b", "tags": ["*"]}]})",
           R"({"mirrors": [{"source": "a", "target": "b", "tags": ["*"]}]})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "B", "tags": ["*"]}]})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "b", "tags": ["/([/"]}]})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "b", "tags": ["a b"]}]})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "b", "tags": ["*"], "newest": 0}]})",
           R"({"mirrors": [{"source": "docker://h/a", "target": "b", "tags": ["*"], "typo": 1}]})",
       }) {
    SCOPED_TRACE(text);
    EXPECT_ERRC(parse_sync_config(text), Errc::invalid_argument);
  }
}

TEST(SyncConfig, OrdersTagsAsVersions) {
  EXPECT_TRUE(version_less("v1.9", "v1.10"));
  EXPECT_FALSE(version_less("v1.10", "v1.9"));
  EXPECT_TRUE(version_less("1.2", "1.2.1"));
  EXPECT_TRUE(version_less("a", "b"));
  EXPECT_TRUE(version_less("v2", "v10"));
  EXPECT_FALSE(version_less("v2", "v2"));
}

TEST(SyncConfig, SelectsMatchingTagsAndTheNewestN) {
  auto rules = parse_sync_config(R"({"mirrors": [
    {"source": "docker://h/a", "target": "b", "tags": ["v*", "/^rc-[0-9]+$/"], "newest": 3},
    {"source": "docker://h/a", "target": "b", "tags": ["v1.*"]}]})");
  ASSERT_OK(rules);
  std::vector<std::string> all{"v1.9", "v1.10", "v2.0", "latest", "rc-7", "rc-x", "v1.2", "xv1"};
  EXPECT_EQ(select_tags((*rules)[0], all), (std::vector<std::string>{"v2.0", "v1.10", "v1.9"}));
  EXPECT_EQ(select_tags((*rules)[1], all), (std::vector<std::string>{"v1.10", "v1.2", "v1.9"}));
  EXPECT_EQ(select_tags((*rules)[1], {}), std::vector<std::string>{});
}

TEST(SyncConfig, LoadsAFileAndNamesItInErrors) {
  testing::TempDir tmp;
  auto path = (tmp.path() / "mirrors.json").string();
  std::ofstream(path) << R"({"mirrors": [{"source": "docker://h/a", "target": "b", "tags": ["*"]}]})";
  auto rules = load_sync_file(path);
  ASSERT_OK(rules);
  EXPECT_TRUE(writes_storage(*rules));
  EXPECT_FALSE(reads_storage(*rules));
  std::ofstream(path) << "{";
  auto bad = load_sync_file(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  EXPECT_TRUE(bad.error().message.starts_with(path + ": ")) << bad.error().message;
  EXPECT_ERRC(load_sync_file((tmp.path() / "absent.json").string()), Errc::invalid_argument);
  EXPECT_ERRC(load_sync_file(tmp.path().string()), Errc::invalid_argument);
}

}  // namespace
}  // namespace regd::sync
