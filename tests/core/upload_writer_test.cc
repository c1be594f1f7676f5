#include <gtest/gtest.h>

#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

class UploadWriter : public RegistryTest {
 protected:
  fs::path session(const std::string& id) const { return repo_path("r") / "_uploads" / id; }

  std::string start() {
    auto status = m_registry->start_upload("r");
    EXPECT_TRUE(status.has_value());
    return status ? status->id : std::string();
  }

  Result<UploadStatus> append(const std::string& id, std::optional<uint64_t> offset, std::string_view chunk) {
    auto writer = m_registry->append_upload("r", id, offset);
    if (!writer) {
      return std::unexpected(writer.error());
    }
    if (auto written = (*writer)->write(chunk); !written) {
      return std::unexpected(written.error());
    }
    return (*writer)->close();
  }
};

TEST_F(UploadWriter, AppendsDataAndStoresTheHashStateInGoFormat) {
  std::string id = start();
  auto first = append(id, 0, "hello ");
  ASSERT_OK(first);
  EXPECT_EQ(first->size, 6u);
  EXPECT_EQ(first->id, id);
  Hasher expected;
  expected.update("hello "sv);
  std::string state = read_disk(session(id) / "hashstates/sha256/6");
  EXPECT_EQ(state.size(), 108u);
  EXPECT_EQ(state, expected.export_state());
  EXPECT_EQ(state.substr(0, 4), std::string("sha\x03", 4));

  auto second = append(id, 6, "world");
  ASSERT_OK(second);
  EXPECT_EQ(second->size, 11u);
  expected.update("world"sv);
  EXPECT_EQ(read_disk(session(id) / "hashstates/sha256/11"), expected.export_state());
  EXPECT_EQ(read_disk(session(id) / "data"), "hello world");
}

TEST_F(UploadWriter, SizeCountsTheWholeSession) {
  std::string id = start();
  ASSERT_OK(append(id, 0, "abc"));
  auto writer = m_registry->append_upload("r", id, 3);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write("de"sv));
  EXPECT_EQ((*writer)->size(), 5u);
  ASSERT_OK((*writer)->close());
  EXPECT_ERRC((*writer)->write("more"sv), Errc::invalid_argument);
}

TEST_F(UploadWriter, RejectsAnOffsetOtherThanTheCurrentSize) {
  std::string id = start();
  ASSERT_OK(append(id, 0, "hello "));
  auto ahead = m_registry->append_upload("r", id, 7);
  EXPECT_ERRC(ahead, Errc::range_invalid);
  EXPECT_NE(ahead.error().message.find("6"), std::string::npos) << ahead.error().message;
  EXPECT_ERRC(m_registry->append_upload("r", id, 0), Errc::range_invalid);
  EXPECT_EQ(read_disk(session(id) / "data"), "hello ");
}

TEST_F(UploadWriter, AppendsAtTheEndWithoutAnOffset) {
  std::string id = start();
  ASSERT_OK(append(id, std::nullopt, "ab"));
  ASSERT_OK(append(id, std::nullopt, "cd"));
  EXPECT_EQ(read_disk(session(id) / "data"), "abcd");
}

TEST_F(UploadWriter, OneAppenderAtATime) {
  std::string id = start();
  auto first = m_registry->append_upload("r", id, 0);
  ASSERT_OK(first);
  EXPECT_ERRC(another_registry()->append_upload("r", id, 0), Errc::conflict);
  EXPECT_ERRC(m_registry->finish_upload("r", id, digest_of("")), Errc::conflict);
  ASSERT_OK((*first)->write("x"sv));
  ASSERT_OK((*first)->close());
  ASSERT_OK(append(id, 1, "y"));
}

TEST_F(UploadWriter, AnAbandonedChunkIsCutBack) {
  std::string id = start();
  ASSERT_OK(append(id, 0, "kept"));
  {
    auto writer = m_registry->append_upload("r", id, 4);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->write("lost"sv));
  }
  EXPECT_EQ(read_disk(session(id) / "data"), "kept");
  EXPECT_FALSE(fs::exists(session(id) / "hashstates/sha256/8"));
  ASSERT_OK(append(id, 4, "more"));
  ASSERT_OK(m_registry->finish_upload("r", id, digest_of("keptmore")));
}

TEST_F(UploadWriter, ResumesByRehashingWhenTheStateIsMissing) {
  std::string id = start();
  ASSERT_OK(append(id, 0, "part one,"));
  fs::remove_all(session(id) / "hashstates");
  ASSERT_OK(append(id, 9, "part two"));
  Hasher expected;
  expected.update("part one,part two"sv);
  EXPECT_EQ(read_disk(session(id) / "hashstates/sha256/17"), expected.export_state());
}

TEST_F(UploadWriter, IgnoresACorruptHashState) {
  std::string id = start();
  ASSERT_OK(append(id, 0, "payload"));
  write_disk(session(id) / "hashstates/sha256/7", "not a state");
  ASSERT_OK(append(id, 7, "!"));
  ASSERT_OK(m_registry->finish_upload("r", id, digest_of("payload!")));
}

TEST_F(UploadWriter, RefusesIdsThatAreNotSessions) {
  EXPECT_ERRC(m_registry->append_upload("r", "not-a-uuid", 0), Errc::upload_unknown);
  EXPECT_ERRC(m_registry->append_upload("r", "../../../../../tmp/x", 0), Errc::upload_unknown);
  EXPECT_ERRC(m_registry->append_upload("r", "0b6a4b4e-9c0e-4d5c-8a4b-0f1e2d3c4b5a", 0), Errc::upload_unknown);
  std::string id = start();
  EXPECT_ERRC(m_registry->append_upload("other", id, 0), Errc::upload_unknown);
  EXPECT_ERRC(m_registry->append_upload("Bad", id, 0), Errc::name_invalid);
  EXPECT_FALSE(fs::exists(repo_path("other")));
}

}  // namespace
}  // namespace regd::testing
