// The catalog's sorted lists (listing.cc, sorted_names.h): a large directory of repositories is
// paged from its list while that matches the directory, and the directory stays the truth.
#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "regd/fault_storage.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class CatalogLists : public RegistryTest {
 protected:
  CatalogLists() {
    m_counted = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
    m_counted->set_hook([this](StorageOp op, const std::string& path) {
      if (op == StorageOp::list && path.ends_with("/repositories")) {
        ++m_root_reads;
      }
    });
    RegistryOptions options;
    options.catalog_list_min = 10;
    m_indexed = make_registry(m_counted, options);
  }

  void make_repo(const std::string& name) {
    write_disk(repo_path(name) / "_manifests/revisions/sha256" / digest_of(name).hex() / "link", digest_of(name).str());
  }
  fs::path root() const { return v2() / "repositories"; }
  fs::path list_path(const std::string& prefix = "") const { return m_dir.path() / "_regd/catalog" / prefix / "_list"; }
  // Every directory as it is some time after its last change: their listings may be kept.
  void settle() {
    auto past = fs::file_time_type::clock::now() - std::chrono::seconds(30);
    fs::last_write_time(root(), past);
    for (const auto& entry : fs::recursive_directory_iterator(root())) {
      if (entry.is_directory()) {
        fs::last_write_time(entry.path(), past);
      }
    }
  }
  std::vector<std::string> all(Registry& registry) {
    auto page = registry.list_repositories(std::numeric_limits<size_t>::max(), "");
    EXPECT_TRUE(page.has_value()) << (page ? "" : page.error().message);
    return page ? page->items : std::vector<std::string>{};
  }

  std::shared_ptr<FaultStorage> m_counted;
  std::unique_ptr<Registry> m_indexed;
  int m_root_reads = 0;
};

std::vector<std::string> numbered(const std::string& prefix, int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) {
    std::string number = std::to_string(i);
    names.push_back(prefix + std::string(4 - number.size(), '0') + number);
  }
  return names;
}

TEST_F(CatalogLists, ASettledDirectoryIsListedOnceThenPagedFromTheList) {
  auto names = numbered("r", 300);
  for (const std::string& name : names) {
    make_repo(name);
  }
  settle();
  EXPECT_EQ(all(*m_indexed), names);
  ASSERT_TRUE(fs::exists(list_path()));
  int reads = m_root_reads;
  for (const std::string last : {"", "r0149", "r0150x", "r0289", "r0299", "zzz", "a"}) {
    uint64_t before = m_counted->operations();
    auto page = m_indexed->list_repositories(10, last);
    ASSERT_OK(page);
    std::vector<std::string> expected;
    for (auto it = std::upper_bound(names.begin(), names.end(), last); it != names.end() && expected.size() < 10;
         ++it) {
      expected.push_back(*it);
    }
    EXPECT_EQ(page->items, expected) << "last=" << last;
    EXPECT_EQ(page->more, !expected.empty() && expected.back() != names.back()) << "last=" << last;
    // The page's repositories and the one after it, a binary search: not the 300.
    EXPECT_LE(m_counted->operations() - before, 90u) << "last=" << last;
  }
  EXPECT_EQ(m_root_reads, reads) << "pages came from the directory, not the list";
  // A process with the default threshold uses a current list all the same.
  EXPECT_EQ(all(*m_registry), names);
}

// Nested names whose order interleaves across directories ("a-b" < "a/b" < "a_b"), with lists at
// every level, against a brute-force sort for every `last`.
TEST_F(CatalogLists, PagesMatchABruteForceSortForAnyLast) {
  const std::vector<std::string> parts = {"a", "a-b", "a.b", "a_b", "a__b", "a0", "b", "ab", "a-b-c", "a.b-c"};
  auto names = random_repository_names(parts, 11, 150);
  for (const std::string& name : names) {
    make_repo(name);
  }
  settle();
  RegistryOptions options;
  options.catalog_list_min = 3;
  auto small_lists = make_registry(m_counted, options);
  ASSERT_EQ(all(*small_lists), std::vector<std::string>(names.begin(), names.end()));
  ASSERT_TRUE(fs::exists(list_path()));
  ASSERT_TRUE(fs::exists(list_path("a")));
  std::vector<std::string> lasts = {"",     "a",        "a-",  "a-b-",  "a-b.", "a/",
                                    "a/a/", "a/a-b-c/", "a0/", "a_b/z", "b/",   "zz"};
  lasts.insert(lasts.end(), names.begin(), names.end());
  int reads = m_root_reads;
  expect_catalog_matches(*small_lists, names, lasts);
  EXPECT_EQ(m_root_reads, reads);
}

TEST_F(CatalogLists, TheDirectoryStaysTheTruth) {
  for (const std::string& name : numbered("r", 20)) {
    make_repo(name);
  }
  settle();
  ASSERT_EQ(all(*m_indexed).size(), 20u);
  ASSERT_TRUE(fs::exists(list_path()));
  auto recorded = fs::last_write_time(root());

  // A repository made behind the list's back while the directory keeps the recorded mtime is
  // not seen: the list is what answered.
  make_repo("r0005a");
  fs::last_write_time(root(), recorded);
  EXPECT_EQ(all(*m_indexed).size(), 20u);

  // Any change moves the mtime: the list is stale, the directory answers, and the list is
  // rebuilt once it has settled.
  make_repo("r0005b");
  auto now = all(*m_indexed);
  EXPECT_EQ(now.size(), 22u);
  EXPECT_TRUE(std::is_sorted(now.begin(), now.end()));
  settle();
  EXPECT_EQ(all(*m_indexed), now);
  int reads = m_root_reads;
  EXPECT_EQ(all(*m_indexed), now);
  EXPECT_EQ(m_root_reads, reads) << "the rebuilt list answers";
  fs::remove_all(repo_path("r0000"));
  now = all(*m_indexed);
  EXPECT_EQ(now.size(), 21u);
  EXPECT_EQ(now.front(), "r0001");
  EXPECT_EQ(all(*another_registry()), now);
}

TEST_F(CatalogLists, ADirectoryChangedMomentsAgoIsNotPersisted) {
  for (const std::string& name : numbered("r", 20)) {
    make_repo(name);
  }
  EXPECT_EQ(all(*m_indexed).size(), 20u);
  EXPECT_FALSE(fs::exists(list_path())) << "a change within the settle time could share the recorded mtime";
  settle();
  EXPECT_EQ(all(*m_indexed).size(), 20u);
  EXPECT_TRUE(fs::exists(list_path()));
}

TEST_F(CatalogLists, ANamespaceGetsItsOwnListAndSmallDirectoriesNone) {
  for (const std::string& name : numbered("org/r", 30)) {
    make_repo(name);
  }
  make_repo("solo");
  settle();
  ASSERT_EQ(all(*m_indexed).size(), 31u);
  EXPECT_TRUE(fs::exists(list_path("org")));
  EXPECT_FALSE(fs::exists(list_path())) << "two entries at the root";
  auto page = m_indexed->list_repositories(2, "org/r0014");
  ASSERT_OK(page);
  EXPECT_EQ(page->items, (std::vector<std::string>{"org/r0015", "org/r0016"}));
}

TEST_F(CatalogLists, AShrunkDirectoryLosesItsList) {
  auto names = numbered("r", 12);
  for (const std::string& name : names) {
    make_repo(name);
  }
  settle();
  ASSERT_EQ(all(*m_indexed).size(), 12u);
  ASSERT_TRUE(fs::exists(list_path()));
  for (int i = 0; i < 5; ++i) {
    fs::remove_all(repo_path(names[i]));
  }
  settle();
  EXPECT_EQ(all(*m_indexed).size(), 7u);
  EXPECT_FALSE(fs::exists(list_path()));
}

TEST_F(CatalogLists, AListThatIsNotOneIsRebuilt) {
  auto names = numbered("r", 40);
  for (const std::string& name : names) {
    make_repo(name);
  }
  settle();
  ASSERT_EQ(all(*m_indexed), names);
  std::string good = read_disk(list_path());
  for (const std::string& bad : {std::string(), std::string("garbage\n"), good.substr(0, good.size() - 3),
                                 std::string("regd-sorted-repositories 1 12345\nr0000\n")}) {
    write_disk(list_path(), bad);
    EXPECT_EQ(all(*m_indexed), names);
    EXPECT_EQ(read_disk(list_path()), good);
  }
}

// Lists live outside the registry tree: a registry:2 layout check and regctl verify never see
// them, and a list never shadows a repository.
TEST_F(CatalogLists, ListsStayOutsideTheRegistryTree) {
  for (const std::string& name : numbered("r", 15)) {
    make_repo(name);
  }
  settle();
  ASSERT_EQ(all(*m_indexed).size(), 15u);
  for (const auto& entry : fs::recursive_directory_iterator(v2())) {
    EXPECT_EQ(entry.path().filename().string().find("_list"), std::string::npos) << entry.path();
  }
  EXPECT_TRUE(fs::exists(list_path()));
}

}  // namespace
}  // namespace regd::testing
