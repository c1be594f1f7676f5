#include "regd/fault_storage.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace regd {
namespace {

using testing::TempDir;

FaultRule rule(StorageOp op, uint64_t nth, bool sticky, Errc code, std::string path_contains) {
  FaultRule out;
  out.op = op;
  out.nth = nth;
  out.sticky = sticky;
  out.code = code;
  out.path_contains = std::move(path_contains);
  return out;
}

class FaultStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = make_posix_storage(m_dir.path());
    ASSERT_OK(made);
    m_inner = std::shared_ptr<Storage>(std::move(*made));
    m_faults = make_fault_storage(m_inner);
  }
  TempDir m_dir;
  std::shared_ptr<Storage> m_inner;
  std::unique_ptr<FaultStorage> m_faults;
};

TEST_F(FaultStorageTest, ForwardsWhenNoRuleMatches) {
  ASSERT_OK(m_faults->write_file("a/b", "data"));
  EXPECT_EQ(m_inner->read("a/b", 10).value(), "data");
  EXPECT_EQ(m_faults->read("a/b", 10).value(), "data");
  EXPECT_EQ(m_faults->stat("a/b").value().size, 4u);
  int entries = 0;
  ASSERT_OK(m_faults->list("a", [&](const DirEntry&) -> Status {
    ++entries;
    return {};
  }));
  EXPECT_EQ(entries, 1);
  EXPECT_ERRC(m_faults->read("missing", 10), Errc::not_found);
  EXPECT_EQ(m_faults->injected(), 0u);
}

TEST_F(FaultStorageTest, FailsTheSecondWriteOnly) {
  m_faults->add_rule(rule(StorageOp::write, 2, false, Errc::no_space, ""));
  auto file = m_faults->create("f");
  ASSERT_OK(file);
  ASSERT_OK((*file)->write(std::string_view("one")));
  EXPECT_ERRC((*file)->write(std::string_view("two")), Errc::no_space);
  ASSERT_OK((*file)->write(std::string_view("three")));
  EXPECT_EQ((*file)->size(), 8u);
  ASSERT_OK((*file)->commit());
  EXPECT_EQ(m_inner->read("f", 100).value(), "onethree");
  EXPECT_EQ(m_faults->injected(), 1u);
}

TEST_F(FaultStorageTest, StickyRenameFailureRepeatsUntilCleared) {
  ASSERT_OK(m_inner->write_file("src", "x"));
  m_faults->add_rule(rule(StorageOp::rename, 1, true, Errc::io_error, ""));
  EXPECT_ERRC(m_faults->rename("src", "dst"), Errc::io_error);
  EXPECT_ERRC(m_faults->rename("src", "dst"), Errc::io_error);
  EXPECT_ERRC(m_faults->rename("src", "dst"), Errc::io_error);
  EXPECT_EQ(m_faults->injected(), 3u);
  EXPECT_ERRC(m_inner->stat("dst"), Errc::not_found);
  m_faults->clear_rules();
  ASSERT_OK(m_faults->rename("src", "dst"));
  EXPECT_EQ(m_inner->read("dst", 10).value(), "x");
}

TEST_F(FaultStorageTest, StickyRuleStartsAtTheNthCall) {
  m_faults->add_rule(rule(StorageOp::stat, 3, true, Errc::io_error, ""));
  ASSERT_OK(m_inner->write_file("f", "x"));
  EXPECT_OK(m_faults->stat("f"));
  EXPECT_OK(m_faults->stat("f"));
  EXPECT_ERRC(m_faults->stat("f"), Errc::io_error);
  EXPECT_ERRC(m_faults->stat("f"), Errc::io_error);
}

TEST_F(FaultStorageTest, PathFilterSelectsTheCalls) {
  m_faults->add_rule(rule(StorageOp::create, 1, false, Errc::denied, "blobs/"));
  ASSERT_OK(m_faults->write_file("other/file", "x"));
  EXPECT_ERRC(m_faults->write_file("repo/blobs/one", "x"), Errc::denied);
  ASSERT_OK(m_faults->write_file("repo/blobs/two", "x"));
  EXPECT_EQ(m_faults->injected(), 1u);
  EXPECT_ERRC(m_inner->stat("repo/blobs/one"), Errc::not_found);
}

TEST_F(FaultStorageTest, RenameFilterMatchesEitherSide) {
  ASSERT_OK(m_inner->write_file("a", "x"));
  ASSERT_OK(m_inner->write_file("b", "x"));
  m_faults->add_rule(rule(StorageOp::rename, 1, true, Errc::io_error, "trash"));
  EXPECT_ERRC(m_faults->rename("a", "trash/a"), Errc::io_error);
  ASSERT_OK(m_faults->rename("b", "c"));
}

TEST_F(FaultStorageTest, FailedCommitLeavesNoFile) {
  m_faults->add_rule(rule(StorageOp::commit, 1, false, Errc::io_error, ""));
  EXPECT_ERRC(m_faults->write_file("dir/f", "content"), Errc::io_error);
  EXPECT_ERRC(m_inner->stat("dir/f"), Errc::not_found);
  int entries = 0;
  ASSERT_OK(m_inner->list("dir", [&](const DirEntry&) -> Status {
    ++entries;
    return {};
  }));
  EXPECT_EQ(entries, 0);
  for (const auto& entry : std::filesystem::directory_iterator(m_dir.path() / "dir")) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

TEST_F(FaultStorageTest, FailsAppends) {
  m_faults->add_rule(rule(StorageOp::append, 2, false, Errc::no_space, "data"));
  auto file = m_faults->open_append("up/data", true);
  ASSERT_OK(file);
  ASSERT_OK((*file)->append(std::span<const char>("ab", 2)));
  EXPECT_ERRC((*file)->append(std::span<const char>("cd", 2)), Errc::no_space);
  EXPECT_EQ((*file)->size(), 2u);
  ASSERT_OK((*file)->sync());
  EXPECT_EQ(m_inner->read("up/data", 10).value(), "ab");
}

TEST_F(FaultStorageTest, FailsEveryKindOfCall) {
  ASSERT_OK(m_inner->write_file("f", "x"));
  const std::vector<StorageOp> ops = {StorageOp::read,   StorageOp::open_read, StorageOp::open_append, StorageOp::list,
                                      StorageOp::remove, StorageOp::touch,     StorageOp::lock};
  for (auto op : ops) {
    m_faults->add_rule(rule(op, 1, false, Errc::corrupt, ""));
  }
  EXPECT_ERRC(m_faults->read("f", 10), Errc::corrupt);
  EXPECT_ERRC(m_faults->open_read("f"), Errc::corrupt);
  EXPECT_ERRC(m_faults->open_append("f", false), Errc::corrupt);
  EXPECT_ERRC(m_faults->list("f", [](const DirEntry&) -> Status { return {}; }), Errc::corrupt);
  EXPECT_ERRC(m_faults->remove("f"), Errc::corrupt);
  EXPECT_ERRC(m_faults->touch("f"), Errc::corrupt);
  EXPECT_ERRC(m_faults->lock("l", false), Errc::corrupt);
  EXPECT_EQ(m_faults->injected(), ops.size());
  EXPECT_OK(m_inner->stat("f"));
}

TEST_F(FaultStorageTest, CountsCallsAcrossThreads) {
  ASSERT_OK(m_inner->write_file("f", "x"));
  m_faults->add_rule(rule(StorageOp::stat, 50, false, Errc::io_error, ""));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (!m_faults->stat("f")) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(m_faults->injected(), 1u);
}

constexpr int k_crashed = 42;

// Runs `body` in a forked child, which exits 0 when body returns; returns its exit status
// (-1 when it died of a signal).
int exit_status_of(const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(FaultStorageTest, CountsEveryStorageAndHandleCall) {
  ASSERT_OK(m_faults->write_file("d/f", "abc"));  // create, write, commit
  EXPECT_EQ(m_faults->operations(), 3u);
  ASSERT_OK(m_faults->read("d/f", 10));
  ASSERT_OK(m_faults->stat("d/f"));
  ASSERT_OK(m_faults->touch("d/f"));
  ASSERT_OK(m_faults->list("d", [](const DirEntry&) -> Status { return {}; }));
  EXPECT_EQ(m_faults->operations(), 7u);
  auto reader = m_faults->open_read("d/f");
  ASSERT_OK(reader);
  char buf[8];
  ASSERT_OK((*reader)->read_at(0, buf));
  EXPECT_EQ((*reader)->size(), 3u);
  EXPECT_EQ(m_faults->operations(), 9u);
  auto appender = m_faults->open_append("d/f", false);
  ASSERT_OK(appender);
  ASSERT_OK((*appender)->append(std::span<const char>("de", 2)));
  ASSERT_OK((*appender)->truncate(4));
  ASSERT_OK((*appender)->sync());
  EXPECT_EQ(m_faults->operations(), 13u);
  ASSERT_OK(m_faults->lock("d/lock", false));
  ASSERT_OK(m_faults->now("d/clock"));
  ASSERT_OK(m_faults->rename("d/f", "d/g"));
  ASSERT_OK(m_faults->remove("d/g"));
  EXPECT_EQ(m_faults->operations(), 17u);
  m_faults->add_rule(rule(StorageOp::stat, 1, false, Errc::io_error, ""));
  EXPECT_ERRC(m_faults->stat("d"), Errc::io_error);
  EXPECT_EQ(m_faults->operations(), 18u);
}

TEST_F(FaultStorageTest, CrashEndsTheProcessBeforeTheNextOperation) {
  // write_file is create, write, commit: after two operations the commit never happens.
  int status = exit_status_of([&] {
    m_faults->crash_after(2, k_crashed);
    (void)m_faults->write_file("d/f", "content");
  });
  EXPECT_EQ(status, k_crashed);
  EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "d/f"));
  // No destructor ran: the temp file of the interrupted write is still there, complete.
  auto left = names_in(m_dir.path() / "d");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].starts_with(".tmp-")) << left[0];
  EXPECT_EQ(std::filesystem::file_size(m_dir.path() / "d" / left[0]), 7u);
}

TEST_F(FaultStorageTest, CrashPointCountsFromTheStorageCreation) {
  ASSERT_OK(m_faults->write_file("a", "1"));
  int status = exit_status_of([&] {
    m_faults->crash_after(4, k_crashed);  // one more operation runs
    (void)m_faults->rename("a", "b");
    (void)m_faults->rename("b", "c");
  });
  EXPECT_EQ(status, k_crashed);
  EXPECT_EQ(names_in(m_dir.path()), std::vector<std::string>{"b"});
}

TEST_F(FaultStorageTest, CrashAfterZeroRunsNothing) {
  int status = exit_status_of([&] {
    m_faults->crash_after(0, k_crashed);
    (void)m_faults->write_file("f", "x");
  });
  EXPECT_EQ(status, k_crashed);
  EXPECT_TRUE(names_in(m_dir.path()).empty());
}

TEST_F(FaultStorageTest, PathShorterThanTheCrashPointCompletes) {
  int status = exit_status_of([&] {
    m_faults->crash_after(3, k_crashed);
    if (!m_faults->write_file("f", "x")) {
      ::_exit(1);
    }
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(m_inner->read("f", 10).value(), "x");
}

TEST_F(FaultStorageTest, TornAppendPassesHalfOfItsBytes) {
  ASSERT_OK(m_inner->write_file("up/data", "start-"));
  int status = exit_status_of([&] {
    auto file = m_faults->open_append("up/data", false);
    if (!file) {
      ::_exit(1);
    }
    m_faults->crash_after(m_faults->operations(), k_crashed, true);
    (void)(*file)->append(std::span<const char>("abcdef", 6));
  });
  EXPECT_EQ(status, k_crashed);
  EXPECT_EQ(m_inner->read("up/data", 100).value(), "start-abc");
}

TEST_F(FaultStorageTest, UntornCrashPassesNothing) {
  ASSERT_OK(m_inner->write_file("up/data", "start-"));
  int status = exit_status_of([&] {
    auto file = m_faults->open_append("up/data", false);
    if (!file) {
      ::_exit(1);
    }
    m_faults->crash_after(m_faults->operations(), k_crashed, false);
    (void)(*file)->append(std::span<const char>("abcdef", 6));
  });
  EXPECT_EQ(status, k_crashed);
  EXPECT_EQ(m_inner->read("up/data", 100).value(), "start-");
}

TEST_F(FaultStorageTest, ArmedRemoveAllRemovesOneEntryPerOperation) {
  for (const char* name : {"t/a", "t/b", "t/sub/c"}) {
    ASSERT_OK(m_inner->write_file(name, "x"));
  }
  auto temp = m_inner->create("t/d");  // a .tmp- file, which remove_all takes too
  ASSERT_OK(temp);
  // Entries of t: a, b, sub (c, then sub itself), the temp file, then t: six removes.
  m_faults->crash_after(std::numeric_limits<uint64_t>::max(), k_crashed);
  ASSERT_OK(m_faults->remove_all("t"));
  EXPECT_EQ(m_faults->operations(), 6u);
  EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "t"));
  ASSERT_OK(m_faults->remove_all("t"));  // missing is success, and no operation
  EXPECT_EQ(m_faults->operations(), 6u);
}

TEST_F(FaultStorageTest, CrashCanFallInsideARecursiveDelete) {
  for (const char* name : {"t/a", "t/b", "t/c"}) {
    ASSERT_OK(m_inner->write_file(name, "x"));
  }
  int status = exit_status_of([&] {
    m_faults->crash_after(2, k_crashed);
    (void)m_faults->remove_all("t");
  });
  EXPECT_EQ(status, k_crashed);
  EXPECT_EQ(names_in(m_dir.path() / "t").size(), 1u);
}

TEST_F(FaultStorageTest, UnarmedRemoveAllIsOneOperation) {
  for (const char* name : {"t/a", "t/b"}) {
    ASSERT_OK(m_inner->write_file(name, "x"));
  }
  ASSERT_OK(m_faults->remove_all("t"));
  EXPECT_EQ(m_faults->operations(), 1u);
  EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "t"));
}

}  // namespace
}  // namespace regd
