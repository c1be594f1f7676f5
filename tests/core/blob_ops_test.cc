#include <thread>

#include <gtest/gtest.h>

#include "regd/fault_storage.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

class BlobOps : public RegistryTest {};

// Every file under `dir` (recursively), as paths relative to it.
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) {
    return files;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(fs::relative(entry.path(), dir).string());
    }
  }
  return files;
}

std::string read_all(ReadFile& file) {
  std::string out(file.size(), '\0');
  size_t done = 0;
  while (done < out.size()) {
    auto got = file.read_at(done, std::span<char>(out.data() + done, out.size() - done));
    if (!got || *got == 0) {
      break;
    }
    done += *got;
  }
  return out;
}

TEST_F(BlobOps, PutBlobStoresDataThenLink) {
  auto digest = push_blob(*m_registry, "lib/app", "hello");
  ASSERT_OK(digest);
  EXPECT_EQ(read_disk(blob_path(*digest)), "hello");
  fs::path link = repo_path("lib/app") / "_layers/sha256" / digest->hex() / "link";
  EXPECT_EQ(read_disk(link), digest->str());
  auto info = m_registry->stat_blob("lib/app", *digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->digest, *digest);
  auto file = m_registry->open_blob("lib/app", *digest);
  ASSERT_OK(file);
  EXPECT_EQ(read_all(**file), "hello");
}

// Only storage that hands out URLs (S3's presigned GETs) has one for a blob; a filesystem has none.
TEST_F(BlobOps, BlobUrlIsNoneOnAFilesystem) {
  auto digest = push_blob(*m_registry, "lib/app", "hello");
  ASSERT_OK(digest);
  EXPECT_EQ(m_registry->blob_url(*digest, std::chrono::seconds(60)), std::nullopt);
}

// A single POST whose content does not match its digest, or that is abandoned, leaves no
// blobs/sha256/<xx>/<hex>/ directory (each would be an inode per refused request).
TEST_F(BlobOps, RefusedOrAbandonedPutBlobLeavesNoDirectory) {
  Digest claimed = digest_of("what was promised");
  fs::path dir = blob_path(claimed).parent_path();
  {
    auto writer = m_registry->put_blob("lib/app", claimed);
    ASSERT_OK(writer);
    ASSERT_TRUE(*writer);
    ASSERT_OK((**writer).write("something else"sv));
    EXPECT_TRUE(fs::exists(dir));
    EXPECT_ERRC((**writer).commit(), Errc::digest_invalid);
  }
  EXPECT_FALSE(fs::exists(dir));
  {
    auto writer = m_registry->put_blob("lib/app", claimed);
    ASSERT_OK(writer);
    ASSERT_OK((**writer).write("what was"sv));
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(repo_path("lib/app") / "_layers/sha256" / claimed.hex()));
}

TEST_F(BlobOps, PutBlobOfStoredDataOnlyLinksIt) {
  ASSERT_OK(push_blob(*m_registry, "one", "shared"));
  Digest digest = digest_of("shared");
  auto writer = m_registry->put_blob("two", digest);
  ASSERT_OK(writer);
  EXPECT_EQ(*writer, nullptr);
  EXPECT_EQ(read_disk(repo_path("two") / "_layers/sha256" / digest.hex() / "link"), digest.str());
  ASSERT_OK(m_registry->stat_blob("two", digest));
}

TEST_F(BlobOps, PutBlobRejectsContentNotMatchingTheDigest) {
  Digest digest = digest_of("expected");
  auto writer = m_registry->put_blob("r", digest);
  ASSERT_OK(writer);
  ASSERT_NE(*writer, nullptr);
  ASSERT_OK((*writer)->write("something else"sv));
  EXPECT_ERRC((*writer)->commit(), Errc::digest_invalid);
  writer->reset();
  EXPECT_FALSE(fs::exists(blob_path(digest)));
  EXPECT_TRUE(files_under(v2() / "blobs").empty());
  EXPECT_FALSE(fs::exists(repo_path("r") / "_layers"));
  EXPECT_ERRC(m_registry->stat_blob("r", digest), Errc::blob_unknown);
}

TEST_F(BlobOps, AbandonedWriterLeavesNoTrace) {
  Digest digest = digest_of("abandoned");
  {
    auto writer = m_registry->put_blob("r", digest);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->write("aband"sv));
  }
  EXPECT_TRUE(files_under(v2() / "blobs").empty());
  EXPECT_ERRC(m_registry->stat_blob("r", digest), Errc::blob_unknown);
}

TEST_F(BlobOps, TwoWritersOfTheSameDigestBothSucceed) {
  std::string content(3 << 20, 'x');
  Digest digest = digest_of(content);
  auto first = m_registry->put_blob("a", digest);
  auto second = another_registry()->put_blob("b", digest);
  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_NE(*first, nullptr);
  ASSERT_NE(*second, nullptr);
  for (size_t offset = 0; offset < content.size(); offset += 1 << 20) {
    std::string_view piece = std::string_view(content).substr(offset, 1 << 20);
    ASSERT_OK((*first)->write(piece));
    ASSERT_OK((*second)->write(piece));
  }
  ASSERT_OK((*first)->commit());
  ASSERT_OK((*second)->commit());
  EXPECT_EQ(digest_of(read_disk(blob_path(digest))), digest);
  ASSERT_OK(m_registry->stat_blob("a", digest));
  ASSERT_OK(m_registry->stat_blob("b", digest));
}

TEST_F(BlobOps, StoresEmptyBlobs) {
  auto digest = push_blob(*m_registry, "r", "");
  ASSERT_OK(digest);
  auto info = m_registry->stat_blob("r", *digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 0u);
}

TEST_F(BlobOps, StoresSha512Blobs) {
  auto digest = push_blob(*m_registry, "r", "sixty-four", DigestAlgorithm::sha512);
  ASSERT_OK(digest);
  EXPECT_EQ(digest->algorithm(), DigestAlgorithm::sha512);
  EXPECT_EQ(read_disk(blob_path(*digest)), "sixty-four");
  EXPECT_EQ(read_disk(repo_path("r") / "_layers/sha512" / digest->hex() / "link"), digest->str());
  auto info = m_registry->stat_blob("r", *digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 10u);
  EXPECT_ERRC(m_registry->stat_blob("r", digest_of("sixty-four")), Errc::blob_unknown);
}

TEST_F(BlobOps, BlobsAreVisibleOnlyInLinkedRepositories) {
  auto digest = push_blob(*m_registry, "a", "data");
  ASSERT_OK(digest);
  EXPECT_ERRC(m_registry->stat_blob("b", *digest), Errc::blob_unknown);
  EXPECT_ERRC(m_registry->open_blob("b", *digest), Errc::blob_unknown);
  EXPECT_ERRC(m_registry->stat_blob("Bad", *digest), Errc::name_invalid);
  EXPECT_ERRC(m_registry->stat_blob("../x", *digest), Errc::name_invalid);
}

TEST_F(BlobOps, LinkWithoutDataIsUnknown) {
  Digest digest = digest_of("gone");
  write_disk(repo_path("r") / "_layers/sha256" / digest.hex() / "link", digest.str());
  EXPECT_ERRC(m_registry->stat_blob("r", digest), Errc::blob_unknown);
  EXPECT_ERRC(m_registry->open_blob("r", digest), Errc::blob_unknown);
}

TEST_F(BlobOps, StatRefreshesAnOldLinkOnly) {
  auto digest = push_blob(*m_registry, "r", "old");
  ASSERT_OK(digest);
  fs::path link = repo_path("r") / "_layers/sha256" / digest->hex() / "link";
  auto recent = fs::last_write_time(link) - std::chrono::seconds(60);
  fs::last_write_time(link, recent);
  ASSERT_OK(m_registry->stat_blob("r", *digest));
  EXPECT_EQ(fs::last_write_time(link), recent);
  auto old = fs::last_write_time(link) - std::chrono::hours(2);
  fs::last_write_time(link, old);
  ASSERT_OK(m_registry->stat_blob("r", *digest));
  EXPECT_GT(fs::last_write_time(link), old + std::chrono::hours(1));
}

TEST_F(BlobOps, PutAndMountOfStoredDataRefreshAnOldLink) {
  auto digest = push_blob(*m_registry, "r", "kept alive");
  ASSERT_OK(digest);
  fs::path link = repo_path("r") / "_layers/sha256" / digest->hex() / "link";
  auto old = fs::last_write_time(link) - std::chrono::hours(2);
  fs::last_write_time(link, old);
  auto writer = m_registry->put_blob("r", *digest);
  ASSERT_OK(writer);
  EXPECT_EQ(*writer, nullptr);
  EXPECT_GT(fs::last_write_time(link), old + std::chrono::hours(1));
  fs::last_write_time(link, old);
  ASSERT_OK(m_registry->mount_blob("r", *digest, "r"));
  EXPECT_GT(fs::last_write_time(link), old + std::chrono::hours(1));
}

TEST_F(BlobOps, DeleteBlobRemovesTheLinkButKeepsTheData) {
  auto digest = push_blob(*m_registry, "r", "doomed");
  ASSERT_OK(digest);
  ASSERT_OK(m_registry->delete_blob("r", *digest));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_layers/sha256" / digest->hex()));
  EXPECT_TRUE(fs::exists(blob_path(*digest)));
  EXPECT_ERRC(m_registry->stat_blob("r", *digest), Errc::blob_unknown);
  EXPECT_ERRC(m_registry->delete_blob("r", *digest), Errc::blob_unknown);
}

TEST_F(BlobOps, MountLinksABlobFromAnotherRepository) {
  auto digest = push_blob(*m_registry, "src", "mounted");
  ASSERT_OK(digest);
  auto info = m_registry->mount_blob("dst", *digest, "src");
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 7u);
  EXPECT_EQ(read_disk(repo_path("dst") / "_layers/sha256" / digest->hex() / "link"), digest->str());
  ASSERT_OK(m_registry->stat_blob("dst", *digest));
}

TEST_F(BlobOps, MountRequiresTheSourceToServeTheBlob) {
  auto digest = push_blob(*m_registry, "src", "mounted");
  ASSERT_OK(digest);
  EXPECT_ERRC(m_registry->mount_blob("dst", *digest, "other"), Errc::blob_unknown);
  EXPECT_ERRC(m_registry->mount_blob("dst", digest_of("missing"), "src"), Errc::blob_unknown);
  EXPECT_ERRC(m_registry->mount_blob("dst", *digest, "Bad"), Errc::name_invalid);
  EXPECT_FALSE(fs::exists(repo_path("dst")));
}

TEST_F(BlobOps, MountWithoutSourceNeedsOnlyTheData) {
  auto digest = push_blob(*m_registry, "src", "anywhere");
  ASSERT_OK(digest);
  ASSERT_OK(m_registry->mount_blob("dst", *digest, std::nullopt));
  ASSERT_OK(m_registry->stat_blob("dst", *digest));
  EXPECT_ERRC(m_registry->mount_blob("dst", digest_of("nowhere"), std::nullopt), Errc::blob_unknown);
}

TEST_F(BlobOps, FailedCommitLeavesNoPartialBlobAndNoLink) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  faulty->add_rule({StorageOp::commit, "/blobs/", 1, false, Errc::no_space});
  auto registry = make_registry(faulty);
  Digest digest = digest_of("full disk");
  auto writer = registry->put_blob("r", digest);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write("full disk"sv));
  EXPECT_ERRC((*writer)->commit(), Errc::no_space);
  writer->reset();
  EXPECT_EQ(faulty->injected(), 1u);
  EXPECT_TRUE(files_under(v2() / "blobs").empty());
  EXPECT_TRUE(files_under(repo_path("r")).empty());
  EXPECT_ERRC(registry->stat_blob("r", digest), Errc::blob_unknown);
  ASSERT_OK(push_blob(*registry, "r", "full disk"));
  ASSERT_OK(registry->stat_blob("r", digest));
}

TEST_F(BlobOps, FailedLinkWriteLeavesTheBlobUnlinked) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  faulty->add_rule({StorageOp::commit, "/_layers/", 1, false, Errc::io_error});
  auto registry = make_registry(faulty);
  EXPECT_ERRC(push_blob(*registry, "r", "linkless"), Errc::io_error);
  EXPECT_ERRC(registry->stat_blob("r", digest_of("linkless")), Errc::blob_unknown);
  ASSERT_OK(push_blob(*registry, "r", "linkless"));
  ASSERT_OK(registry->stat_blob("r", digest_of("linkless")));
}

// A read replica on a read-only mount: the touch that refreshes an old link fails, the read does
// not (issue 11); writers that rely on the link still fail.
TEST_F(BlobOps, ReadsServeAnOldLinkTheStorageRefusesToTouch) {
  auto digest = push_blob(*m_registry, "r", "old layer");
  ASSERT_OK(digest);
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  faulty->add_rule({StorageOp::touch, "/_layers/", 1, true, Errc::denied});
  RegistryOptions options;
  options.refresh_after = std::chrono::seconds(0);  // every link is old enough to be refreshed
  auto registry = make_registry(faulty, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto info = registry->stat_blob("r", *digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 9u);
  auto file = registry->open_blob("r", *digest);
  ASSERT_OK(file);
  EXPECT_EQ(read_all(**file), "old layer");
  EXPECT_GE(faulty->injected(), 2u);
  EXPECT_ERRC(registry->mount_blob("dst", *digest, "r"), Errc::denied);
}

TEST_F(BlobOps, NotFoundMessagesNameTheRepository) {
  auto missing = m_registry->stat_blob("team/app", digest_of("nothing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "blob " + digest_of("nothing").str() + " not in repository team/app");
}

}  // namespace
}  // namespace regd::testing
