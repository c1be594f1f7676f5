#include <regex>

#include <gtest/gtest.h>

#include "regd/fault_storage.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

class UploadOps : public RegistryTest {
 protected:
  fs::path session(const std::string& id) const { return repo_path("r") / "_uploads" / id; }

  static Status append(Registry& registry, const std::string& id, std::optional<uint64_t> offset,
                       std::string_view chunk) {
    auto writer = registry.append_upload("r", id, offset);
    if (!writer) {
      return std::unexpected(writer.error());
    }
    if (auto written = (*writer)->write(chunk); !written) {
      return written;
    }
    if (auto closed = (*writer)->close(); !closed) {
      return std::unexpected(closed.error());
    }
    return {};
  }

  std::string start() {
    auto status = m_registry->start_upload("r");
    EXPECT_TRUE(status.has_value());
    return status ? status->id : std::string();
  }
};

TEST_F(UploadOps, StartCreatesTheSessionOnDisk) {
  auto before = Clock::now() - std::chrono::seconds(2);
  auto status = m_registry->start_upload("r");
  ASSERT_OK(status);
  EXPECT_EQ(status->size, 0u);
  EXPECT_GE(status->started_at, before);
  std::string started = read_disk(session(status->id) / "startedat");
  EXPECT_TRUE(std::regex_match(started, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << started;
  EXPECT_TRUE(fs::exists(session(status->id) / "data"));
  EXPECT_EQ(fs::file_size(session(status->id) / "data"), 0u);
  auto again = another_registry()->upload_status("r", status->id);
  ASSERT_OK(again);
  EXPECT_EQ(again->size, 0u);
  EXPECT_EQ(again->started_at, status->started_at);
  EXPECT_ERRC(m_registry->start_upload("Bad"), Errc::name_invalid);
}

TEST_F(UploadOps, StatusReportsTheSize) {
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "12345"));
  auto status = m_registry->upload_status("r", id);
  ASSERT_OK(status);
  EXPECT_EQ(status->size, 5u);
  EXPECT_ERRC(m_registry->upload_status("r", "nope"), Errc::upload_unknown);
}

TEST_F(UploadOps, FinishMovesTheDataIntoTheBlobStore) {
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "chunk1"));
  ASSERT_OK(append(*m_registry, id, 6, "chunk2"));
  Digest digest = digest_of("chunk1chunk2");
  auto info = m_registry->finish_upload("r", id, digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 12u);
  EXPECT_EQ(read_disk(blob_path(digest)), "chunk1chunk2");
  EXPECT_EQ(read_disk(repo_path("r") / "_layers/sha256" / digest.hex() / "link"), digest.str());
  EXPECT_FALSE(fs::exists(session(id)));
  EXPECT_ERRC(m_registry->upload_status("r", id), Errc::upload_unknown);
  ASSERT_OK(m_registry->stat_blob("r", digest));
}

TEST_F(UploadOps, FinishRejectsAWrongDigestAndKeepsTheSession) {
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "content"));
  EXPECT_ERRC(m_registry->finish_upload("r", id, digest_of("other")), Errc::digest_invalid);
  EXPECT_FALSE(fs::exists(blob_path(digest_of("other"))));
  EXPECT_FALSE(fs::exists(blob_path(digest_of("content"))));
  auto status = m_registry->upload_status("r", id);
  ASSERT_OK(status);
  EXPECT_EQ(status->size, 7u);
  ASSERT_OK(m_registry->finish_upload("r", id, digest_of("content")));
}

TEST_F(UploadOps, FinishOfAStoredBlobDropsTheUpload) {
  ASSERT_OK(push_blob(*m_registry, "elsewhere", "dup"));
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "dup"));
  ASSERT_OK(m_registry->finish_upload("r", id, digest_of("dup")));
  EXPECT_FALSE(fs::exists(session(id)));
  EXPECT_EQ(read_disk(blob_path(digest_of("dup"))), "dup");
  ASSERT_OK(m_registry->stat_blob("r", digest_of("dup")));
}

TEST_F(UploadOps, FinishesAnEmptyUpload) {
  std::string id = start();
  auto info = m_registry->finish_upload("r", id, digest_of(""));
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 0u);
  EXPECT_EQ(fs::file_size(blob_path(digest_of(""))), 0u);
}

TEST_F(UploadOps, FinishesWithSha512ByRehashing) {
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "five-"));
  ASSERT_OK(append(*m_registry, id, 5, "twelve"));
  Digest digest = digest_of("five-twelve", DigestAlgorithm::sha512);
  EXPECT_ERRC(m_registry->finish_upload("r", id, digest_of("five-", DigestAlgorithm::sha512)), Errc::digest_invalid);
  ASSERT_OK(m_registry->finish_upload("r", id, digest));
  EXPECT_EQ(read_disk(blob_path(digest)), "five-twelve");
  EXPECT_EQ(read_disk(repo_path("r") / "_layers/sha512" / digest.hex() / "link"), digest.str());
  ASSERT_OK(m_registry->stat_blob("r", digest));
}

TEST_F(UploadOps, FinishRehashesLargeDataWithoutAState) {
  std::string content;
  for (int i = 0; content.size() < (3u << 20) + 17; ++i) {
    content += std::to_string(i) + ",";
  }
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, content));
  fs::remove_all(session(id) / "hashstates");
  ASSERT_OK(m_registry->finish_upload("r", id, digest_of(content)));
  EXPECT_EQ(digest_of(read_disk(blob_path(digest_of(content)))), digest_of(content));
}

TEST_F(UploadOps, CancelRemovesTheSession) {
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "bye"));
  ASSERT_OK(m_registry->cancel_upload("r", id));
  EXPECT_FALSE(fs::exists(session(id)));
  EXPECT_ERRC(m_registry->cancel_upload("r", id), Errc::upload_unknown);
  EXPECT_ERRC(m_registry->finish_upload("r", id, digest_of("bye")), Errc::upload_unknown);
  EXPECT_ERRC(m_registry->append_upload("r", id, 3), Errc::upload_unknown);
  EXPECT_FALSE(fs::exists(session(id)));
}

TEST_F(UploadOps, ProcessesShareOneSession) {
  std::string id = start();
  fs::path root = m_dir.path();
  pid_t a = spawn([&] { return append(*make_registry(open_storage(root)), id, 0, "chunk-one|").has_value(); });
  ASSERT_TRUE(wait_child(a));
  pid_t b = spawn([&] { return append(*make_registry(open_storage(root)), id, 10, "chunk-two").has_value(); });
  ASSERT_TRUE(wait_child(b));
  Digest digest = digest_of("chunk-one|chunk-two");
  pid_t c = spawn([&] {
    auto info = make_registry(open_storage(root))->finish_upload("r", id, digest);
    return info && info->size == 19;
  });
  ASSERT_TRUE(wait_child(c));
  EXPECT_EQ(digest_of(read_disk(blob_path(digest))), digest);
  ASSERT_OK(m_registry->stat_blob("r", digest));
  EXPECT_FALSE(fs::exists(session(id)));
}

TEST_F(UploadOps, ConcurrentFinishesStoreTheBlobOnce) {
  std::string id = start();
  ASSERT_OK(append(*m_registry, id, 0, "raced"));
  fs::path root = m_dir.path();
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    children.push_back(spawn([&] {
      auto info = make_registry(open_storage(root))->finish_upload("r", id, digest_of("raced"));
      // The winner stores it; a loser finds the session busy or gone, never a wrong blob.
      return info || info.error().code == Errc::conflict || info.error().code == Errc::upload_unknown;
    }));
  }
  for (pid_t child : children) {
    EXPECT_TRUE(wait_child(child));
  }
  EXPECT_EQ(read_disk(blob_path(digest_of("raced"))), "raced");
  ASSERT_OK(m_registry->stat_blob("r", digest_of("raced")));
  EXPECT_FALSE(fs::exists(session(id)));
}

TEST_F(UploadOps, FailedRenameKeepsTheSessionUsable) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  auto registry = make_registry(faulty);
  std::string id = start();
  ASSERT_OK(append(*registry, id, 0, "precious"));
  faulty->add_rule({StorageOp::rename, "_uploads", 1, false, Errc::io_error});
  EXPECT_ERRC(registry->finish_upload("r", id, digest_of("precious")), Errc::io_error);
  EXPECT_EQ(faulty->injected(), 1u);
  EXPECT_FALSE(fs::exists(blob_path(digest_of("precious"))));
  EXPECT_ERRC(registry->stat_blob("r", digest_of("precious")), Errc::blob_unknown);
  auto status = registry->upload_status("r", id);
  ASSERT_OK(status);
  EXPECT_EQ(status->size, 8u);
  ASSERT_OK(registry->finish_upload("r", id, digest_of("precious")));
  EXPECT_EQ(read_disk(blob_path(digest_of("precious"))), "precious");
}

TEST_F(UploadOps, ALostHashStateOnlyCostsARehash) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  faulty->add_rule({StorageOp::commit, "hashstates", 1, true, Errc::no_space});
  auto registry = make_registry(faulty);
  std::string id = start();
  ASSERT_OK(append(*registry, id, 0, "stateless"));
  EXPECT_FALSE(fs::exists(session(id) / "hashstates/sha256/9"));
  ASSERT_OK(registry->finish_upload("r", id, digest_of("stateless")));
}

TEST_F(UploadOps, FailedAppendIsCutBack) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  auto registry = make_registry(faulty);
  std::string id = start();
  ASSERT_OK(append(*registry, id, 0, "good"));
  faulty->add_rule({StorageOp::append, "_uploads", 2, false, Errc::no_space});
  {
    auto writer = registry->append_upload("r", id, 4);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->write("half"sv));
    EXPECT_ERRC((*writer)->write("fail"sv), Errc::no_space);
    EXPECT_ERRC((*writer)->close(), Errc::invalid_argument);
  }
  EXPECT_EQ(read_disk(session(id) / "data"), "good");
  ASSERT_OK(append(*registry, id, 4, "!"));
  ASSERT_OK(registry->finish_upload("r", id, digest_of("good!")));
}

// POST ?digest-algorithm=sha512: every chunk, on any instance, hashes with sha512 and stores a
// sha512 state, so finishing with the sha512 digest needs no re-read.
TEST_F(UploadOps, ASessionHashesWithTheAlgorithmItWasStartedWith) {
  auto status = m_registry->start_upload("r", DigestAlgorithm::sha512);
  ASSERT_OK(status);
  EXPECT_TRUE(fs::exists(session(status->id) / "hashstates/sha512/0"));
  ASSERT_OK(append(*another_registry(), status->id, 0, "abc"));
  ASSERT_OK(append(*m_registry, status->id, 3, "def"));
  EXPECT_TRUE(fs::exists(session(status->id) / "hashstates/sha512/6"));
  EXPECT_FALSE(fs::exists(session(status->id) / "hashstates/sha256"));
  Digest digest = digest_of("abcdef", DigestAlgorithm::sha512);
  auto info = another_registry()->finish_upload("r", status->id, digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->digest, digest);
  ASSERT_OK(m_registry->stat_blob("r", digest));
}

TEST_F(UploadOps, UnknownSessionMessagesNameTheRepository) {
  auto missing = m_registry->upload_status("r", "00000000-0000-4000-8000-000000000000");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "upload 00000000-0000-4000-8000-000000000000 not in repository r");
}

// count_uploads counts the published sessions of one repository, from storage.
TEST_F(UploadOps, CountsTheSessionsOfARepository) {
  auto none = m_registry->count_uploads("app");
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
  auto first = m_registry->start_upload("app");
  ASSERT_OK(first);
  ASSERT_OK(m_registry->start_upload("app"));
  ASSERT_OK(m_registry->start_upload("other"));
  auto two = another_registry()->count_uploads("app");
  ASSERT_OK(two);
  EXPECT_EQ(*two, 2u);
  ASSERT_OK(m_registry->cancel_upload("app", first->id));
  auto one = m_registry->count_uploads("app");
  ASSERT_OK(one);
  EXPECT_EQ(*one, 1u);
  EXPECT_ERRC(m_registry->count_uploads("../escape"), Errc::name_invalid);
}

}  // namespace
}  // namespace regd::testing
