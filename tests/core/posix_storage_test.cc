#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posix_util.h"
#include "regd/storage.h"
#include "test_util.h"

namespace regd {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

class PosixStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = make_posix_storage(m_dir.path() / "root");
    ASSERT_OK(made);
    m_storage = std::move(*made);
  }
  fs::path root() const { return m_dir.path() / "root"; }
  std::vector<std::string> temp_files() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(root())) {
      if (entry.path().filename().string().starts_with(".tmp-")) {
        out.push_back(entry.path().string());
      }
    }
    return out;
  }

  TempDir m_dir;
  std::unique_ptr<Storage> m_storage;
};

TEST_F(PosixStorageTest, WritesThenReadsAFile) {
  ASSERT_OK(m_storage->write_file("a/b/c", "hello"));
  auto content = m_storage->read("a/b/c", 100);
  ASSERT_OK(content);
  EXPECT_EQ(*content, "hello");
  auto info = m_storage->stat("a/b/c");
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->type, EntryType::file);
  auto dir = m_storage->stat("a/b");
  ASSERT_OK(dir);
  EXPECT_EQ(dir->type, EntryType::directory);
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(PosixStorageTest, MissingFileIsNotFoundAndNamesThePath) {
  auto missing = m_storage->read("no/such/file", 100);
  EXPECT_ERRC(missing, Errc::not_found);
  EXPECT_NE(missing.error().message.find("no/such/file"), std::string::npos) << missing.error().message;
  EXPECT_ERRC(m_storage->open_read("no/such/file"), Errc::not_found);
  EXPECT_ERRC(m_storage->stat("missing"), Errc::not_found);
  ASSERT_OK(m_storage->write_file("file", "x"));
  EXPECT_ERRC(m_storage->stat("file/below"), Errc::not_found);
}

TEST_F(PosixStorageTest, ReadOverTheLimitIsTooLarge) {
  ASSERT_OK(m_storage->write_file("big", std::string(1000, 'x')));
  EXPECT_ERRC(m_storage->read("big", 999), Errc::too_large);
  auto exact = m_storage->read("big", 1000);
  ASSERT_OK(exact);
  EXPECT_EQ(exact->size(), 1000u);
}

TEST_F(PosixStorageTest, OpenReadReadsAtOffsets) {
  ASSERT_OK(m_storage->write_file("f", "0123456789"));
  auto file = m_storage->open_read("f");
  ASSERT_OK(file);
  EXPECT_EQ((*file)->size(), 10u);
  EXPECT_GE((*file)->native_handle(), 0);
  char buf[4];
  auto n = (*file)->read_at(3, buf);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(buf, *n), "3456");
  auto tail = (*file)->read_at(8, buf);
  ASSERT_OK(tail);
  EXPECT_EQ(std::string(buf, *tail), "89");
  auto end = (*file)->read_at(10, buf);
  ASSERT_OK(end);
  EXPECT_EQ(*end, 0u);
  // Still readable after the name is gone.
  ASSERT_OK(m_storage->remove("f"));
  auto again = (*file)->read_at(0, buf);
  ASSERT_OK(again);
  EXPECT_EQ(std::string(buf, *again), "0123");
}

TEST_F(PosixStorageTest, UncommittedWriteLeavesNoFileAndNoTemp) {
  {
    auto file = m_storage->create("d/target");
    ASSERT_OK(file);
    ASSERT_OK((*file)->write(std::string_view("partial")));
    EXPECT_EQ((*file)->size(), 7u);
    EXPECT_EQ(temp_files().size(), 1u);
    EXPECT_EQ(fs::path(temp_files()[0]).parent_path(), root() / "d");
  }
  EXPECT_FALSE(fs::exists(root() / "d/target"));
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(PosixStorageTest, CommitReplacesTheTargetAtomically) {
  ASSERT_OK(m_storage->write_file("t", "old"));
  auto file = m_storage->create("t");
  ASSERT_OK(file);
  ASSERT_OK((*file)->write(std::string_view("new content")));
  EXPECT_EQ(m_storage->read("t", 100).value(), "old");
  ASSERT_OK((*file)->commit());
  EXPECT_EQ(m_storage->read("t", 100).value(), "new content");
  EXPECT_ERRC((*file)->commit(), Errc::io_error);
  file->reset();
  EXPECT_EQ(m_storage->read("t", 100).value(), "new content");
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(PosixStorageTest, ReaderNeverSeesAPartialFile) {
  constexpr size_t k_size = 64 * 1024;
  ASSERT_OK(m_storage->write_file("shared", std::string(k_size, 'a')));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      auto status = m_storage->write_file("shared", std::string(k_size, static_cast<char>('a' + i % 26)));
      EXPECT_TRUE(status.has_value());
    }
    done = true;
  });
  int reads = 0;
  for (; reads < 2000 && (!done || reads < 10); ++reads) {
    auto content = m_storage->read("shared", k_size);
    ASSERT_OK(content);
    ASSERT_EQ(content->size(), k_size);
    ASSERT_EQ(content->find_first_not_of(content->front()), std::string::npos);
  }
  writer.join();
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(PosixStorageTest, ListSkipsTempsAndIsComplete) {
  std::set<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    auto name = "f" + std::to_string(i);
    if (i == 0) {
      ASSERT_OK(m_storage->write_file("dir/" + name, "x"));
    } else {
      std::ofstream(root() / "dir" / name) << "x";  // fast: this test is about listing
    }
    expected.insert(name);
  }
  ASSERT_OK(m_storage->write_file("dir/sub/inner", "x"));
  auto pending = m_storage->create("dir/pending");
  ASSERT_OK(pending);
  std::set<std::string> files;
  std::set<std::string> dirs;
  ASSERT_OK(m_storage->list("dir", [&](const DirEntry& entry) -> Status {
    (entry.type == EntryType::directory ? dirs : files).insert(entry.name);
    return {};
  }));
  EXPECT_EQ(files, expected);
  EXPECT_EQ(dirs, std::set<std::string>{"sub"});
  EXPECT_ERRC(m_storage->list("nodir", [](const DirEntry&) -> Status { return {}; }), Errc::not_found);
}

TEST_F(PosixStorageTest, ListStopsAtTheFirstVisitorError) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(m_storage->write_file("d/" + std::to_string(i), "x"));
  }
  int calls = 0;
  auto status = m_storage->list("d", [&](const DirEntry&) -> Status {
    if (++calls == 3) {
      return fail(Errc::corrupt, "stop");
    }
    return {};
  });
  EXPECT_ERRC(status, Errc::corrupt);
  EXPECT_EQ(calls, 3);
}

TEST_F(PosixStorageTest, RenameReplacesAndCreatesParents) {
  ASSERT_OK(m_storage->write_file("src", "one"));
  ASSERT_OK(m_storage->write_file("deep/dst", "two"));
  ASSERT_OK(m_storage->rename("src", "deep/dst"));
  EXPECT_EQ(m_storage->read("deep/dst", 10).value(), "one");
  EXPECT_ERRC(m_storage->stat("src"), Errc::not_found);
  ASSERT_OK(m_storage->rename("deep", "new/parent/moved"));
  EXPECT_EQ(m_storage->read("new/parent/moved/dst", 10).value(), "one");
  EXPECT_ERRC(m_storage->rename("nothing", "x"), Errc::not_found);
}

TEST_F(PosixStorageTest, RejectsPathTraversal) {
  for (const std::string path : {"", "/abs", "..", ".", "a/../b", "a//b", "a/", "./a", "a/.", "../x"}) {
    SCOPED_TRACE(path);
    EXPECT_ERRC(m_storage->read(path, 10), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->open_read(path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->create(path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->open_append(path, true), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->rename(path, "ok"), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->rename("ok", path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->list(path, [](const DirEntry&) -> Status { return {}; }), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->remove(path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->remove_all(path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->stat(path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->touch(path), Errc::invalid_argument);
    EXPECT_ERRC(m_storage->lock(path, false), Errc::invalid_argument);
  }
  EXPECT_FALSE(fs::exists(m_dir.path() / "x"));
}

TEST_F(PosixStorageTest, OpenAppendWritesAtTheEndAndTruncates) {
  EXPECT_ERRC(m_storage->open_append("up/data", false), Errc::not_found);
  {
    auto file = m_storage->open_append("up/data", true);
    ASSERT_OK(file);
    EXPECT_EQ((*file)->size(), 0u);
    ASSERT_OK((*file)->append(std::span<const char>("abc", 3)));
    ASSERT_OK((*file)->append(std::span<const char>("def", 3)));
    EXPECT_EQ((*file)->size(), 6u);
    ASSERT_OK((*file)->sync());
    EXPECT_EQ(m_storage->read("up/data", 100).value(), "abcdef");
    ASSERT_OK((*file)->truncate(4));
    EXPECT_EQ((*file)->size(), 4u);
    ASSERT_OK((*file)->append(std::span<const char>("X", 1)));
  }
  EXPECT_EQ(m_storage->read("up/data", 100).value(), "abcdX");
  auto reopened = m_storage->open_append("up/data", false);
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->size(), 5u);
  ASSERT_OK((*reopened)->append(std::span<const char>("yz", 2)));
  EXPECT_EQ(m_storage->read("up/data", 100).value(), "abcdXyz");
}

TEST_F(PosixStorageTest, RemovesFilesAndEmptyDirectories) {
  ASSERT_OK(m_storage->write_file("d/e/f", "x"));
  EXPECT_ERRC(m_storage->remove("d/e"), Errc::conflict);
  ASSERT_OK(m_storage->remove("d/e/f"));
  ASSERT_OK(m_storage->remove("d/e"));
  EXPECT_ERRC(m_storage->remove("d/e"), Errc::not_found);
  ASSERT_OK(m_storage->write_file("tree/a/b/c", "x"));
  ASSERT_OK(m_storage->write_file("tree/z", "x"));
  ASSERT_OK(m_storage->remove_all("tree"));
  EXPECT_FALSE(fs::exists(root() / "tree"));
  ASSERT_OK(m_storage->remove_all("tree"));
  EXPECT_TRUE(fs::exists(root() / "d"));
}

TEST_F(PosixStorageTest, TouchSetsTheMtimeToNow) {
  ASSERT_OK(m_storage->write_file("link", "x"));
  auto full = (root() / "link").string();
  timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, full.c_str(), old_times, 0), 0);
  auto before = m_storage->stat("link");
  ASSERT_OK(before);
  EXPECT_EQ(before->mtime, Clock::from_time_t(1000000000));
  ASSERT_OK(m_storage->touch("link"));
  auto after = m_storage->stat("link");
  ASSERT_OK(after);
  EXPECT_GT(after->mtime, Clock::from_time_t(1600000000));
  EXPECT_ERRC(m_storage->touch("missing"), Errc::not_found);
}

TEST_F(PosixStorageTest, NowIsTheMtimeOfAFreshMarker) {
  auto now = m_storage->now("_gc/marker");
  ASSERT_OK(now);
  auto info = m_storage->stat("_gc/marker");
  ASSERT_OK(info);
  EXPECT_EQ(info->mtime, *now);
  // Same host: the storage clock is the system clock (sanity bound, not a timing assertion).
  EXPECT_LT(std::chrono::abs(*now - Clock::now()), std::chrono::hours(1));
}

TEST_F(PosixStorageTest, LockExcludesASecondLockInTheSameProcess) {
  auto first = m_storage->lock("locks/upload", false);
  ASSERT_OK(first);
  EXPECT_ERRC(m_storage->lock("locks/upload", false), Errc::conflict);
  ASSERT_OK(m_storage->lock("locks/other", false));
  first->reset();
  ASSERT_OK(m_storage->lock("locks/upload", false));
}

// Runs `child` in a forked process and returns its exit code.
int run_in_child(const std::function<int()>& child) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(child());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(PosixStorageTest, LockExcludesAnotherProcess) {
  auto held = m_storage->lock("locks/x", false);
  ASSERT_OK(held);
  int code = run_in_child([&] {
    auto other = m_storage->lock("locks/x", false);
    return !other && other.error().code == Errc::conflict ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
  held->reset();
  code = run_in_child([&] { return m_storage->lock("locks/x", false) ? 0 : 1; });
  EXPECT_EQ(code, 0);
}

TEST_F(PosixStorageTest, LockIsFreedWhenTheHolderDies) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto held = m_storage->lock("locks/y", false);
    char byte = held ? '1' : '0';
    (void)!::write(ready[1], &byte, 1);
    ::sleep(30);  // killed long before
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_EQ(byte, '1');
  EXPECT_ERRC(m_storage->lock("locks/y", false), Errc::conflict);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_OK(m_storage->lock("locks/y", false));
}

TEST_F(PosixStorageTest, WaitingLockBlocksUntilReleased) {
  auto held = m_storage->lock("locks/w", false);
  ASSERT_OK(held);
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    auto lock = m_storage->lock("locks/w", true);
    EXPECT_TRUE(lock.has_value());
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(acquired);
  held->reset();
  waiter.join();
  EXPECT_TRUE(acquired);
}

TEST(PosixStorage, RootMustBeADirectory) {
  TempDir dir;
  auto file = dir.path() / "file";
  std::ofstream(file) << "x";
  EXPECT_ERRC(make_posix_storage(file), Errc::io_error);
  ASSERT_OK(make_posix_storage(dir.path() / "new" / "root"));
  EXPECT_TRUE(fs::is_directory(dir.path() / "new" / "root"));
}

// Fails with each errno of `errors` in turn, then succeeds; counts the calls.
struct FlakyCall {
  std::vector<int> errors;
  int calls = 0;
  int operator()() {
    if (static_cast<size_t>(calls) < errors.size()) {
      errno = errors[calls++];
      return -1;
    }
    ++calls;
    return 7;
  }
};

TEST(PosixStorage, RetriesStaleHandlesAndInterrupts) {
  FlakyCall flaky{{ESTALE, EINTR, ESTALE}};
  EXPECT_EQ(posix::with_retries(std::ref(flaky)), 7);
  EXPECT_EQ(flaky.calls, 4);
  // Six stale handles in a row are still outlasted; a seventh is reported.
  FlakyCall outlasted{{ESTALE, ESTALE, ESTALE, ESTALE, ESTALE, ESTALE}};
  EXPECT_EQ(posix::with_retries(std::ref(outlasted)), 7);
  FlakyCall always{{ESTALE, ESTALE, ESTALE, ESTALE, ESTALE, ESTALE, ESTALE, ESTALE}};
  EXPECT_EQ(posix::with_retries(std::ref(always)), -1);
  EXPECT_EQ(errno, ESTALE);
  EXPECT_EQ(always.calls, 7);
  FlakyCall io{{EIO}};
  EXPECT_EQ(posix::with_retries(std::ref(io)), -1);
  EXPECT_EQ(io.calls, 1);
}

TEST(PosixStorage, RetriesAMissingFileOnceOnlyWhenAsked) {
  std::string path = "/nonexistent-regd-test/file";
  FlakyCall local{{ENOENT}};
  EXPECT_EQ(posix::with_retries(std::ref(local)), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(local.calls, 1);
  FlakyCall network{{ENOENT}};
  EXPECT_EQ(posix::with_retries(std::ref(network), &path), 7);
  EXPECT_EQ(network.calls, 2);
  FlakyCall gone{{ENOENT, ENOENT}};
  EXPECT_EQ(posix::with_retries(std::ref(gone), &path), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(gone.calls, 2);
}

TEST(PosixStorage, MapsErrnoToErrorCodes) {
  EXPECT_EQ(posix::errc_from_errno(ENOENT), Errc::not_found);
  EXPECT_EQ(posix::errc_from_errno(ENOTDIR), Errc::not_found);
  EXPECT_EQ(posix::errc_from_errno(ENOSPC), Errc::no_space);
  EXPECT_EQ(posix::errc_from_errno(EDQUOT), Errc::no_space);
  EXPECT_EQ(posix::errc_from_errno(EEXIST), Errc::exists);
  EXPECT_EQ(posix::errc_from_errno(ENOTEMPTY), Errc::conflict);
  EXPECT_EQ(posix::errc_from_errno(EACCES), Errc::denied);
  EXPECT_EQ(posix::errc_from_errno(EPERM), Errc::denied);
  EXPECT_EQ(posix::errc_from_errno(EROFS), Errc::denied);
  EXPECT_EQ(posix::errc_from_errno(EIO), Errc::io_error);
  auto error = posix::errno_error(ENOSPC, "write", "/x/y");
  EXPECT_EQ(error.error().code, Errc::no_space);
  EXPECT_NE(error.error().message.find("/x/y"), std::string::npos);
  EXPECT_NE(error.error().message.find(std::strerror(ENOSPC)), std::string::npos);
}

}  // namespace
}  // namespace regd
