// The S3 backend of the storage seam (core/src/s3/storage.h, docs/adr/0002) against Ceph's
// radosgw: the same promises as the POSIX backend where the core relies on them (atomic files,
// appends any instance continues, renames of files and directories, listings, locks that a dead
// holder loses after the TTL, the storage clock). Run by tests/scale/s3_rgw_test.sh; skipped
// without S3_ENDPOINT and the AWS_* keys.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "regd/storage_root.h"
#include "s3/client.h"
#include "s3/storage.h"
#include "test_util.h"

namespace regd::s3 {
namespace {

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(gen());
  }
  return out;
}

std::string read_all(Storage& storage, const std::string& path) {
  auto file = storage.open_read(path);
  EXPECT_TRUE(file) << path;
  if (!file) {
    return "";
  }
  std::string out((*file)->size(), '\0');
  auto got = read_full_at(**file, 0, out);
  EXPECT_TRUE(got);
  return out;
}

std::vector<std::string> names(Storage& storage, const std::string& dir) {
  std::vector<std::string> out;
  auto listed = storage.list(dir, [&](const DirEntry& entry) -> Status {
    out.push_back(entry.name + (entry.type == EntryType::directory ? "/" : ""));
    return {};
  });
  EXPECT_TRUE(listed) << dir;
  return out;
}

class S3Storage : public ::testing::Test {
 protected:
  void SetUp() override {
    m_endpoint.url = testing::env_or_empty("S3_ENDPOINT");
    m_endpoint.credentials = {testing::env_or_empty("AWS_ACCESS_KEY_ID"),
                              testing::env_or_empty("AWS_SECRET_ACCESS_KEY"), ""};
    if (m_endpoint.url.empty() || m_endpoint.credentials.access_key.empty()) {
      GTEST_SKIP() << "no S3 endpoint (tests/scale/s3_rgw_test.sh brings up radosgw)";
    }
    m_endpoint.bucket = "regd-storage";
    m_endpoint.scope.region =
        testing::env_or_empty("S3_REGION").empty() ? "us-east-1" : testing::env_or_empty("S3_REGION");
    Client client(m_endpoint);
    ASSERT_OK(client.create_bucket());
    // Each test in a prefix of its own.
    m_prefix = std::string("t/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    m_storage = make_storage(m_endpoint, m_prefix, std::chrono::seconds(3));
    ASSERT_OK(m_storage->remove_all("x"));
  }

  Endpoint m_endpoint;
  std::string m_prefix;
  std::unique_ptr<Storage> m_storage;
};

TEST_F(S3Storage, FilesDirectoriesAndListings) {
  Storage& s = *m_storage;
  ASSERT_OK(s.write_file("x/repo/_manifests/tags/v1/current/link", "sha256:1"));
  ASSERT_OK(s.write_file("x/repo/_layers/a", "1"));
  ASSERT_OK(s.write_file("x/repo/.tmp-leftover", "t"));
  ASSERT_OK(s.write_file("x/repo/b-file", "22"));
  EXPECT_EQ(*s.read("x/repo/b-file", 10), "22");
  EXPECT_ERRC(s.read("x/repo/b-file", 1), Errc::too_large);
  EXPECT_ERRC(s.read("x/repo/none", 10), Errc::not_found);
  EXPECT_ERRC(s.read("x/../etc", 10), Errc::invalid_argument);
  // In byte order, temp names hidden, directories marked.
  EXPECT_EQ(names(s, "x/repo"), (std::vector<std::string>{"_layers/", "_manifests/", "b-file"}));
  EXPECT_ERRC(s.list("x/nothing", [](const DirEntry&) -> Status { return {}; }), Errc::not_found);
  auto file = s.stat("x/repo/b-file");
  ASSERT_OK(file);
  EXPECT_EQ(file->type, EntryType::file);
  EXPECT_EQ(file->size, 2u);
  auto dir = s.stat("x/repo/_manifests");
  ASSERT_OK(dir);
  EXPECT_EQ(dir->type, EntryType::directory);
  EXPECT_ERRC(s.stat("x/repo/_man"), Errc::not_found);
  std::vector<std::string> temps;
  ASSERT_OK(s.list_temps("x/repo", [&](const DirEntry& entry, const FileInfo& info) -> Status {
    temps.push_back(entry.name);
    EXPECT_EQ(info.size, 1u);
    return {};
  }));
  EXPECT_EQ(temps, std::vector<std::string>{".tmp-leftover"});
  // remove: a file, never a directory with something in it, an empty (made) directory.
  EXPECT_ERRC(s.remove("x/repo/_layers"), Errc::conflict);
  ASSERT_OK(s.remove("x/repo/_layers/a"));
  EXPECT_ERRC(s.remove("x/repo/_layers/a"), Errc::not_found);
  ASSERT_OK(s.make_directory("x/empty"));
  EXPECT_EQ(s.stat("x/empty")->type, EntryType::directory);
  EXPECT_TRUE(names(s, "x/empty").empty());
  ASSERT_OK(s.remove("x/empty"));
  EXPECT_ERRC(s.stat("x/empty"), Errc::not_found);
  ASSERT_OK(s.remove_all("x/repo"));
  EXPECT_ERRC(s.stat("x/repo"), Errc::not_found);
  ASSERT_OK(s.remove_all("x/repo"));  // missing is success
}

TEST_F(S3Storage, LargeWritesBecomeMultipartAndAppearOnlyAtCommit) {
  Storage& s = *m_storage;
  std::string data = random_bytes((19u << 20) + 123, 1);
  auto file = s.create("x/blobs/big/data");
  ASSERT_OK(file);
  for (size_t at = 0; at < data.size(); at += 1u << 20) {
    ASSERT_OK((*file)->write(std::string_view(data).substr(at, 1u << 20)));
  }
  EXPECT_ERRC(s.stat("x/blobs/big/data"), Errc::not_found);
  ASSERT_OK((*file)->commit());
  EXPECT_EQ(s.stat("x/blobs/big/data")->size, data.size());
  EXPECT_TRUE(read_all(s, "x/blobs/big/data") == data);
  // Abandoned: nothing appears.
  {
    auto dropped = s.create("x/blobs/dropped/data");
    ASSERT_OK(dropped);
    ASSERT_OK((*dropped)->write(std::string_view(data).substr(0, 9u << 20)));
  }
  EXPECT_ERRC(s.stat("x/blobs/dropped/data"), Errc::not_found);
}

// An upload's data: appended by several handles (as several instances would), cut back, read,
// then committed by rename into a blob (parts copied server-side or streamed).
TEST_F(S3Storage, UploadDataAppendsTruncatesAndCommitsByRename) {
  Storage& s = *m_storage;
  const std::string data_path = "x/repositories/r/_uploads/u1/data";
  std::string data = random_bytes((23u << 20) + 77, 2);
  ASSERT_OK(s.write_file(data_path, ""));
  auto first = s.open_append(data_path, false);
  ASSERT_OK(first);
  ASSERT_OK((*first)->append(std::span<const char>(data.data(), 9u << 20)));  // one full piece
  ASSERT_OK((*first)->append(std::span<const char>(data.data() + (9u << 20), 1u << 20)));
  ASSERT_OK((*first)->sync());
  first->reset();
  EXPECT_EQ(s.stat(data_path)->size, 10u << 20);
  EXPECT_EQ(names(s, "x/repositories/r/_uploads/u1"), std::vector<std::string>{"data"});
  // A chunk that fails midway is cut off again.
  auto second = s.open_append(data_path, false);
  ASSERT_OK(second);
  EXPECT_EQ((*second)->size(), 10u << 20);
  ASSERT_OK((*second)->append(std::span<const char>(random_bytes(3u << 20, 9).data(), 3u << 20)));
  ASSERT_OK((*second)->sync());
  ASSERT_OK((*second)->truncate((10u << 20) + 5));  // inside the stored piece: rewritten
  EXPECT_EQ((*second)->size(), (10u << 20) + 5);
  ASSERT_OK((*second)->truncate(10u << 20));
  second->reset();
  EXPECT_EQ(s.stat(data_path)->size, 10u << 20);
  // Small chunks, then the rest.
  for (uint64_t at = 10u << 20; at < data.size();) {
    auto handle = s.open_append(data_path, false);
    ASSERT_OK(handle);
    size_t n = std::min<size_t>(at < (14u << 20) ? 700000 : 6u << 20, data.size() - at);
    ASSERT_OK((*handle)->append(std::span<const char>(data.data() + at, n)));
    ASSERT_OK((*handle)->sync());
    at += n;
  }
  EXPECT_EQ(s.stat(data_path)->size, data.size());
  auto reader = s.open_read(data_path);
  ASSERT_OK(reader);
  std::string middle(1000, '\0');
  ASSERT_EQ(*read_full_at(**reader, (9u << 20) - 500, middle), 1000u);
  EXPECT_TRUE(middle == data.substr((9u << 20) - 500, 1000));
  ASSERT_OK(s.rename(data_path, "x/blobs/sha256/ab/abcd/data"));
  EXPECT_TRUE(read_all(s, "x/blobs/sha256/ab/abcd/data") == data);
  EXPECT_ERRC(s.stat(data_path), Errc::not_found);
  EXPECT_ERRC(s.stat("x/repositories/r/_uploads/u1"), Errc::not_found);  // pieces gone too
  EXPECT_ERRC(s.open_append(data_path, false), Errc::not_found);
}

TEST_F(S3Storage, RenamesFilesAndDirectoriesButNeverOntoAFullDirectory) {
  Storage& s = *m_storage;
  ASSERT_OK(s.write_file("x/blobs/a/data", "A"));
  ASSERT_OK(s.write_file("x/blobs/b/data", "B"));
  ASSERT_OK(s.rename("x/blobs/a", "x/trash/a"));
  EXPECT_EQ(*s.read("x/trash/a/data", 10), "A");
  EXPECT_ERRC(s.stat("x/blobs/a"), Errc::not_found);
  EXPECT_ERRC(s.rename("x/trash/a", "x/blobs/b"), Errc::conflict);
  EXPECT_ERRC(s.rename("x/blobs/none", "x/trash/none"), Errc::not_found);
  ASSERT_OK(s.write_file("x/link", "1"));
  ASSERT_OK(s.write_file("x/link2", "2"));
  ASSERT_OK(s.rename("x/link2", "x/link"));  // replaces a file
  EXPECT_EQ(*s.read("x/link", 10), "2");
  EXPECT_ERRC(s.stat("x/link2"), Errc::not_found);
}

// GC parks an entry by renaming it and then judges it by its mtime: a rename must keep it, as
// rename(2) does, though the store stamps every copy anew.
TEST_F(S3Storage, RenamesKeepTheMtimeAndTouchMovesIt) {
  Storage& s = *m_storage;
  ASSERT_OK(s.write_file("x/_layers/sha256/aa/link", "sha256:aa"));
  auto before = s.stat("x/_layers/sha256/aa/link");
  ASSERT_OK(before);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_OK(s.rename("x/_layers/sha256/aa", "x/_layers/sha256/.tmp-gc-aa"));
  auto parked = s.stat("x/_layers/sha256/.tmp-gc-aa/link");
  ASSERT_OK(parked);
  EXPECT_EQ(parked->mtime, before->mtime);
  ASSERT_OK(s.rename("x/_layers/sha256/.tmp-gc-aa/link", "x/back/link"));
  EXPECT_EQ(s.stat("x/back/link")->mtime, before->mtime);
  ASSERT_OK(s.touch("x/back/link"));
  EXPECT_GT(s.stat("x/back/link")->mtime, before->mtime);
}

// Pieces are removed last first; a removal cut short (or a first piece lost) leaves a shorter
// file, and the next append drops what lies beyond the gap.
TEST_F(S3Storage, AGapEndsTheUploadDataAndTheNextAppendClearsWhatLiesBeyond) {
  Storage& s = *m_storage;
  const std::string data_path = "x/repositories/r/_uploads/u2/data";
  ASSERT_OK(s.write_file(data_path, ""));
  for (const char* chunk : {"first-", "second-", "third"}) {
    auto handle = s.open_append(data_path, false);
    ASSERT_OK(handle);
    ASSERT_OK((*handle)->append(std::span<const char>(chunk, std::strlen(chunk))));
    ASSERT_OK((*handle)->sync());
  }
  EXPECT_EQ(*s.read(data_path, 100), "first-second-third");
  Client client(m_endpoint);
  ASSERT_OK(client.remove(m_prefix + "/x/repositories/r/_uploads/u2/.pieces-data/00000000000000000006"));
  EXPECT_EQ(s.stat(data_path)->size, 6u);
  EXPECT_EQ(*s.read(data_path, 100), "first-");
  auto handle = s.open_append(data_path, false);
  ASSERT_OK(handle);
  ASSERT_OK((*handle)->append(std::span<const char>("again", 5)));
  ASSERT_OK((*handle)->sync());
  handle->reset();
  EXPECT_EQ(*s.read(data_path, 100), "first-again");
  ASSERT_OK(s.remove_all("x/repositories/r/_uploads/u2"));
  EXPECT_ERRC(s.stat("x/repositories/r/_uploads/u2"), Errc::not_found);
}

// Messages reach HTTP clients: they name storage paths, not the bucket's prefix.
TEST_F(S3Storage, ErrorsNameStoragePathsNotTheRootsPrefix) {
  Endpoint wrong = m_endpoint;
  wrong.credentials.secret_key = "wrong";
  auto refused = make_storage(wrong, "hidden-prefix")->write_file("x/some/file", "1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::denied);
  EXPECT_NE(refused.error().message.find("x/some/file"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("hidden-prefix"), std::string::npos) << refused.error().message;
  Endpoint gone = m_endpoint;
  gone.bucket = "regd-no-such-bucket";
  auto missing = make_storage(gone, "hidden-prefix")->read("x/file", 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::io_error) << "a vanished bucket is not a missing file";
  EXPECT_EQ(missing.error().message.find("hidden-prefix"), std::string::npos) << missing.error().message;
}

TEST_F(S3Storage, TouchAndTheStorageClockUseTheStoresTime) {
  Storage& s = *m_storage;
  ASSERT_OK(s.write_file("x/link", "1"));
  auto before = s.stat("x/link");
  ASSERT_OK(before);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_OK(s.touch("x/link"));
  auto after = s.stat("x/link");
  ASSERT_OK(after);
  EXPECT_GT(after->mtime, before->mtime);
  EXPECT_EQ(*s.read("x/link", 10), "1");
  EXPECT_ERRC(s.touch("x/none"), Errc::not_found);
  auto now = s.now("x/clock");
  ASSERT_OK(now);
  EXPECT_GE(*now, after->mtime);
  EXPECT_LE(std::chrono::abs(*now - Clock::now()), std::chrono::minutes(2));
}

TEST_F(S3Storage, LocksExcludeWaitAndExpireWhenTheHolderIsGone) {
  Storage& s = *m_storage;
  auto held = s.lock("x/uploads/u/lock", false);
  ASSERT_OK(held);
  auto other = make_storage(m_endpoint, m_prefix, std::chrono::seconds(3));  // another instance
  EXPECT_ERRC(other->lock("x/uploads/u/lock", false), Errc::conflict);
  // Renewed while held: still refused after more than the TTL.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_ERRC(other->lock("x/uploads/u/lock", false), Errc::conflict);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    held->reset();
  });
  auto waited = other->lock("x/uploads/u/lock", true);
  release.join();
  ASSERT_OK(waited);
  waited->reset();
  EXPECT_ERRC(s.stat("x/uploads/u/lock"), Errc::not_found);  // released: nothing left
  // A holder that died (its generation never renewed) loses the lock after the TTL.
  Client client(m_endpoint);
  ASSERT_OK(client.put(m_prefix + "/x/uploads/v/lock/00000000000000000007", "", true));
  EXPECT_ERRC(s.lock("x/uploads/v/lock", false), Errc::conflict);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  auto taken = s.lock("x/uploads/v/lock", false);
  ASSERT_OK(taken);
  EXPECT_ERRC(client.head(m_prefix + "/x/uploads/v/lock/00000000000000000007"), Errc::not_found);
  EXPECT_ERRC(other->lock("x/uploads/v/lock", false), Errc::conflict);
}

TEST_F(S3Storage, PresignedGetsServeTheBytesWithoutCredentials) {
  Storage& s = *m_storage;
  ASSERT_OK(s.write_file("x/blobs/p/data", "presigned bytes"));
  auto url = s.presign_get("x/blobs/p/data", std::chrono::seconds(60));
  ASSERT_TRUE(url);
  auto slash = url->find('/', url->find("://") + 3);
  httplib::Client anonymous(url->substr(0, slash));
  anonymous.set_url_encode(false);
  auto answer = anonymous.Get(url->substr(slash));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "presigned bytes");
}

TEST_F(S3Storage, RootsNameABucketThatMustExistUnlessCreated) {
  S3Options options{m_endpoint.url, m_endpoint.scope.region, "", ""};
  ::setenv("AWS_ACCESS_KEY_ID", m_endpoint.credentials.access_key.c_str(), 1);
  auto missing = open_storage_root("s3://regd-no-such-bucket/p", options, false);
  EXPECT_ERRC(missing, Errc::no_registry);
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  EXPECT_ERRC(open_storage_root("s3://Bad_Bucket", options, false), Errc::invalid_argument);
  EXPECT_ERRC(open_storage_root("s3://regd-storage/a//b", options, false), Errc::invalid_argument);
  EXPECT_ERRC(open_storage_root("s3://regd-storage/../b", options, false), Errc::invalid_argument);
  EXPECT_ERRC(open_storage_root("s3://regd-storage", S3Options{"ftp://x", "", "", ""}, false), Errc::invalid_argument);
  auto made = open_storage_root("s3://regd-made-by-init/reg", options, true);
  ASSERT_OK(made);
  ASSERT_OK(require_registry_tree(**made, true));
  ASSERT_OK(require_registry_tree(**made, false));  // the tree stays, though still empty
  auto opened = open_storage_root("s3://regd-made-by-init/reg/", options, false);
  ASSERT_OK(opened);
  EXPECT_OK(require_registry_tree(**opened, false));
  auto other_prefix = open_storage_root("s3://regd-made-by-init/elsewhere", options, false);
  ASSERT_OK(other_prefix);
  EXPECT_ERRC(require_registry_tree(**other_prefix, false), Errc::no_registry);
  Endpoint wrong = m_endpoint;
  wrong.credentials.secret_key = "wrong";
  auto refused = make_storage(wrong, "p")->read("x", 10);
  EXPECT_ERRC(refused, Errc::denied);
}

}  // namespace
}  // namespace regd::s3
