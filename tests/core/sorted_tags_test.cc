// The sorted tag list (sorted_tags.h): pages of a repository with many tags come from it while it
// matches the tag directory, and the directory stays the truth.
#include "sorted_tags.h"

#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "leftovers.h"
#include "regd/fault_storage.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class SortedTagsTest : public RegistryTest {
 protected:
  SortedTagsTest() {
    m_counted = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
    m_counted->set_hook([this](StorageOp op, const std::string& path) {
      if (op == StorageOp::list && path.ends_with("_manifests/tags")) {
        ++m_tag_dir_reads;
      }
    });
    RegistryOptions options;
    options.tag_list_min = 10;
    m_indexed = make_registry(m_counted, options);
  }

  fs::path tags_path() const { return repo_path("r") / "_manifests/tags"; }
  fs::path list_path() const { return repo_path("r") / "_manifests/tags.regd-index"; }

  void make_tag(const std::string& tag, bool with_link = true) {
    write_disk(repo_path("r") / "_manifests/revisions/sha256" / digest_of("m").hex() / "link", digest_of("m").str());
    fs::create_directories(tags_path() / tag);
    if (with_link) {
      write_disk(tags_path() / tag / "current/link", digest_of("m").str());
    }
  }
  // The directory as it is some time after its last change: its listing may be kept.
  void settle() { fs::last_write_time(tags_path(), fs::file_time_type::clock::now() - std::chrono::seconds(30)); }

  std::vector<std::string> all_tags(Registry& registry) {
    auto page = registry.list_tags("r", std::numeric_limits<size_t>::max(), "");
    EXPECT_TRUE(page.has_value()) << (page ? "" : page.error().message);
    return page ? page->items : std::vector<std::string>{};
  }

  std::shared_ptr<FaultStorage> m_counted;
  std::unique_ptr<Registry> m_indexed;
  int m_tag_dir_reads = 0;
};

std::vector<std::string> numbered(int count) {
  std::vector<std::string> tags;
  for (int i = 0; i < count; ++i) {
    std::string number = std::to_string(i);
    tags.push_back("t" + std::string(4 - number.size(), '0') + number);
  }
  return tags;
}

TEST_F(SortedTagsTest, ASettledDirectoryIsListedOnceThenPagedFromTheList) {
  auto tags = numbered(300);
  for (const std::string& tag : tags) {
    make_tag(tag);
  }
  settle();
  EXPECT_EQ(all_tags(*m_indexed), tags);
  ASSERT_TRUE(fs::exists(list_path()));
  int reads = m_tag_dir_reads;
  for (const std::string last : {"", "t0149", "t0150x", "t0289", "t0299", "zzz", "a"}) {
    uint64_t before = m_counted->operations();
    auto page = m_indexed->list_tags("r", 10, last);
    ASSERT_OK(page);
    std::vector<std::string> expected;
    for (auto it = std::upper_bound(tags.begin(), tags.end(), last); it != tags.end() && expected.size() < 10; ++it) {
      expected.push_back(*it);
    }
    EXPECT_EQ(page->items, expected) << "last=" << last;
    EXPECT_EQ(page->more, !expected.empty() && expected.back() != tags.back()) << "last=" << last;
    // The page's tags and the one after it, a binary search, a few more: not the 300 tags.
    EXPECT_LE(m_counted->operations() - before, 40u) << "last=" << last;
  }
  EXPECT_EQ(m_tag_dir_reads, reads) << "pages came from the directory, not the list";
}

TEST_F(SortedTagsTest, TheDirectoryStaysTheTruth) {
  for (const std::string& tag : numbered(20)) {
    make_tag(tag);
  }
  settle();
  ASSERT_EQ(all_tags(*m_indexed).size(), 20u);
  ASSERT_TRUE(fs::exists(list_path()));
  auto recorded = fs::last_write_time(tags_path());

  // A tag made behind the list's back while the directory's mtime is the recorded one is not
  // seen: the list is what answered.
  make_tag("t0005a");
  fs::last_write_time(tags_path(), recorded);
  EXPECT_EQ(all_tags(*m_indexed).size(), 20u);

  // Any change moves the mtime: the list is stale and rebuilt from the directory.
  ASSERT_OK(m_indexed->set_tag("r", "t0005b", digest_of("m")));
  auto now = all_tags(*m_indexed);
  EXPECT_EQ(now.size(), 22u);
  EXPECT_TRUE(std::is_sorted(now.begin(), now.end()));
  ASSERT_OK(m_indexed->delete_tag("r", "t0000"));
  now = all_tags(*m_indexed);
  EXPECT_EQ(now.size(), 21u);
  EXPECT_EQ(now.front(), "t0001");
  // Another process (registry:2, regctl) sees the same.
  EXPECT_EQ(all_tags(*another_registry()), now);
}

TEST_F(SortedTagsTest, ADirectoryChangedMomentsAgoIsNotPersisted) {
  for (const std::string& tag : numbered(20)) {
    make_tag(tag);
  }
  EXPECT_EQ(all_tags(*m_indexed).size(), 20u);
  EXPECT_FALSE(fs::exists(list_path())) << "a change within the settle time could share the recorded mtime";
  settle();
  EXPECT_EQ(all_tags(*m_indexed).size(), 20u);
  EXPECT_TRUE(fs::exists(list_path()));
}

TEST_F(SortedTagsTest, FewTagsKeepNoList) {
  for (const std::string& tag : numbered(20)) {
    make_tag(tag);
  }
  settle();
  ASSERT_EQ(all_tags(*m_indexed).size(), 20u);
  ASSERT_TRUE(fs::exists(list_path()));
  for (int i = 0; i < 15; ++i) {
    ASSERT_OK(m_indexed->delete_tag("r", numbered(20)[i]));
  }
  EXPECT_EQ(all_tags(*m_indexed).size(), 5u);
  EXPECT_FALSE(fs::exists(list_path()));
  EXPECT_EQ(all_tags(*m_registry).size(), 5u);
}

TEST_F(SortedTagsTest, LeftoverTagDirectoriesAreNoTagsOnEitherPath) {
  auto tags = numbered(30);
  for (size_t i = 0; i < tags.size(); ++i) {
    make_tag(tags[i], i % 3 != 0);
  }
  settle();
  std::vector<std::string> expected;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i % 3 != 0) {
      expected.push_back(tags[i]);
    }
  }
  for (int round = 0; round < 2; ++round) {  // from the directory, then from the list
    EXPECT_EQ(all_tags(*m_indexed), expected);
    auto page = m_indexed->list_tags("r", 2, "t0000");
    ASSERT_OK(page);
    EXPECT_EQ(page->items, (std::vector<std::string>{"t0001", "t0002"}));
    EXPECT_TRUE(page->more);
    // The last tag is a leftover: the page before it has no more.
    auto end = m_indexed->list_tags("r", 1, "t0028");
    ASSERT_OK(end);
    EXPECT_EQ(end->items, (std::vector<std::string>{"t0029"}));
    EXPECT_FALSE(end->more);
    EXPECT_TRUE(fs::exists(list_path()));
  }
}

TEST_F(SortedTagsTest, AListThatIsNotOneIsRebuilt) {
  auto tags = numbered(40);
  for (const std::string& tag : tags) {
    make_tag(tag);
  }
  settle();
  ASSERT_EQ(all_tags(*m_indexed), tags);
  std::string good = read_disk(list_path());
  for (const std::string& bad : {std::string(), std::string("garbage\n"), good.substr(0, good.size() - 3),
                                 std::string("regd-sorted-tags 1 12345\nt0000\n")}) {
    write_disk(list_path(), bad);
    EXPECT_EQ(all_tags(*m_indexed), tags);
    EXPECT_EQ(read_disk(list_path()), good);
  }
}

TEST_F(SortedTagsTest, BinarySearchMatchesABruteForceForAnyLast) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> length(1, 128);
  std::uniform_int_distribution<int> letter(0, 2);
  const std::string alphabet = "ab.";
  std::set<std::string> tags;
  while (tags.size() < 200) {
    std::string tag = "a";  // a tag starts with a word character
    for (int i = length(random); i > 1; --i) {
      tag += alphabet[letter(random)];
    }
    tags.insert(tag);
  }
  for (const std::string& tag : tags) {
    make_tag(tag);
  }
  settle();
  std::vector<std::string> sorted(tags.begin(), tags.end());
  ASSERT_EQ(all_tags(*m_indexed), sorted);
  ASSERT_TRUE(fs::exists(list_path()));
  std::vector<std::string> lasts(sorted.begin(), sorted.end());
  for (const std::string& tag : sorted) {
    lasts.push_back(tag + "a");
    lasts.push_back(tag.substr(0, tag.size() - 1));
  }
  lasts.insert(lasts.end(), {"", "0", "b", "a"});
  int reads = m_tag_dir_reads;
  for (const std::string& last : lasts) {
    auto page = m_indexed->list_tags("r", 3, last);
    ASSERT_OK(page);
    std::vector<std::string> expected;
    for (auto it = std::upper_bound(sorted.begin(), sorted.end(), last); it != sorted.end() && expected.size() < 3;
         ++it) {
      expected.push_back(*it);
    }
    ASSERT_EQ(page->items, expected) << "last=" << last;
  }
  EXPECT_EQ(m_tag_dir_reads, reads);
}

TEST_F(SortedTagsTest, AStorageThatRefusesWritesStillLists) {
  auto tags = numbered(20);
  for (const std::string& tag : tags) {
    make_tag(tag);
  }
  settle();
  m_counted->add_rule({StorageOp::create, "", 1, true, Errc::denied});
  EXPECT_EQ(all_tags(*m_indexed), tags);
  EXPECT_FALSE(fs::exists(list_path()));
}

TEST_F(SortedTagsTest, AnInterruptedWriteOfTheListIsALeftover) {
  for (const std::string& tag : numbered(20)) {
    make_tag(tag);
  }
  write_disk(repo_path("r") / "_manifests/.tmp-0123", "regd-sorted-tags 1 1\nt0");
  std::vector<Leftover> found;
  ASSERT_OK(find_leftovers(*m_storage, {"r"}, Clock::now() + std::chrono::hours(1), false, found));
  bool seen = std::any_of(found.begin(), found.end(), [](const Leftover& leftover) {
    return leftover.path.ends_with("_manifests/.tmp-0123") && leftover.kind == LeftoverKind::temp_file;
  });
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace regd::testing
