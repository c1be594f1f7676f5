#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "regd/fault_storage.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class Listing : public RegistryTest {
 protected:
  // A repository, as the catalog sees one: a directory whose _manifests holds a revision link.
  void make_repo(const std::string& name) {
    write_disk(repo_path(name) / "_manifests/revisions/sha256" / digest_of(name).hex() / "link", digest_of(name).str());
  }
  void make_tag(const std::string& tag) {
    make_repo("r");
    write_disk(repo_path("r") / "_manifests/tags" / tag / "current/link", digest_of(tag).str());
  }

  // Pages through a listing n at a time; fails the test on a page that breaks the contract.
  std::vector<std::string> page_through(const std::function<Result<Page>(size_t, std::string)>& list, size_t n) {
    std::vector<std::string> all;
    std::string last;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = list(n, last);
      EXPECT_TRUE(page.has_value());
      if (!page) {
        break;
      }
      EXPECT_LE(page->items.size(), n);
      EXPECT_TRUE(std::is_sorted(page->items.begin(), page->items.end()));
      all.insert(all.end(), page->items.begin(), page->items.end());
      if (!page->more) {
        break;
      }
      EXPECT_FALSE(page->items.empty());
      last = page->items.back();
    }
    return all;
  }
};

TEST_F(Listing, ListsTagsSortedAndPaged) {
  std::vector<std::string> tags = {"v2", "latest", "v10", "V1", "1.0", "_x", "v1-rc"};
  for (const std::string& tag : tags) {
    make_tag(tag);
  }
  std::sort(tags.begin(), tags.end());
  auto all = m_registry->list_tags("r", 100, "");
  ASSERT_OK(all);
  EXPECT_EQ(all->items, tags);
  EXPECT_FALSE(all->more);
  for (size_t n = 1; n <= tags.size() + 1; ++n) {
    EXPECT_EQ(page_through([&](size_t k, std::string last) { return m_registry->list_tags("r", k, last); }, n), tags);
  }
}

TEST_F(Listing, TagPagesHonourNAndLast) {
  for (const char* tag : {"a", "b", "c"}) {
    make_tag(tag);
  }
  auto first = m_registry->list_tags("r", 2, "");
  ASSERT_OK(first);
  EXPECT_EQ(first->items, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(first->more);
  auto exact = m_registry->list_tags("r", 3, "");
  ASSERT_OK(exact);
  EXPECT_EQ(exact->items.size(), 3u);
  EXPECT_FALSE(exact->more);
  auto after = m_registry->list_tags("r", 10, "a");
  ASSERT_OK(after);
  EXPECT_EQ(after->items, (std::vector<std::string>{"b", "c"}));
  auto between = m_registry->list_tags("r", 10, "bb");
  ASSERT_OK(between);
  EXPECT_EQ(between->items, (std::vector<std::string>{"c"}));
  auto beyond = m_registry->list_tags("r", 10, "z");
  ASSERT_OK(beyond);
  EXPECT_TRUE(beyond->items.empty());
  EXPECT_FALSE(beyond->more);
  auto none = m_registry->list_tags("r", 0, "");
  ASSERT_OK(none);
  EXPECT_TRUE(none->items.empty());
  EXPECT_TRUE(none->more);
}

TEST_F(Listing, TagsOfAnUnknownRepository) {
  EXPECT_ERRC(m_registry->list_tags("nowhere", 10, ""), Errc::name_unknown);
  EXPECT_ERRC(m_registry->list_tags("Bad", 10, ""), Errc::name_invalid);
  // Blobs alone (a push in progress) make no repository, as in registry:2.
  ASSERT_OK(push_blob(*m_registry, "blobs-only", "x"));
  EXPECT_ERRC(m_registry->list_tags("blobs-only", 10, ""), Errc::name_unknown);
  auto untagged =
      push_image(*m_registry, "untagged", digest_of(image_manifest(ImageSpec("{}"))).str(), ImageSpec("{}"));
  ASSERT_OK(untagged);
  auto empty = m_registry->list_tags("untagged", 10, "");
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->items.empty());
}

TEST_F(Listing, ARepositoryWhoseTagsAreGoneListsNoTagsAndOneEmptiedLeavesTheCatalog) {
  auto digest = push_image(*m_registry, "team/app", "v1", ImageSpec(R"({"a":1})", {"layer"}));
  ASSERT_OK(digest);
  ASSERT_OK(m_registry->delete_tag("team/app", "v1"));
  auto no_tags = m_registry->list_tags("team/app", 10, "");
  ASSERT_OK(no_tags);
  EXPECT_TRUE(no_tags->items.empty());
  auto listed = m_registry->list_repositories(10, "");
  ASSERT_OK(listed);
  EXPECT_EQ(listed->items, (std::vector<std::string>{"team/app"}));

  ASSERT_OK(m_registry->delete_manifest("team/app", *digest));
  EXPECT_ERRC(m_registry->list_tags("team/app", 10, ""), Errc::name_unknown);
  listed = m_registry->list_repositories(10, "");
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->items.empty());
}

TEST_F(Listing, CatalogIsInExactLexicalOrder) {
  // '-' and '.' sort before '/', '_' and alphanumerics after it.
  std::vector<std::string> repos = {"a", "a/b", "a-b", "a.b", "a_b", "a/b/c", "a0", "b", "a/a", "a/b-c", "a/b/c/d"};
  for (const std::string& repo : repos) {
    make_repo(repo);
  }
  fs::create_directories(repo_path("uploads-only") / "_uploads");
  fs::create_directories(repo_path("x/y/z"));
  std::sort(repos.begin(), repos.end());
  auto all = m_registry->list_repositories(100, "");
  ASSERT_OK(all);
  EXPECT_EQ(all->items, repos);
  EXPECT_FALSE(all->more);
  for (size_t n = 1; n <= repos.size(); ++n) {
    auto paged = page_through([&](size_t k, std::string last) { return m_registry->list_repositories(k, last); }, n);
    EXPECT_EQ(paged, repos) << "n=" << n;
  }
}

TEST_F(Listing, CatalogStartsAfterLastEvenInsideASubtree) {
  for (const char* repo : {"a", "a/b", "a/c", "a-b", "b"}) {
    make_repo(repo);
  }
  auto page = m_registry->list_repositories(2, "a-b");
  ASSERT_OK(page);
  EXPECT_EQ(page->items, (std::vector<std::string>{"a/b", "a/c"}));
  EXPECT_TRUE(page->more);
  auto rest = m_registry->list_repositories(2, "a/c");
  ASSERT_OK(rest);
  EXPECT_EQ(rest->items, (std::vector<std::string>{"b"}));
  EXPECT_FALSE(rest->more);
  auto none = m_registry->list_repositories(5, "c");
  ASSERT_OK(none);
  EXPECT_TRUE(none->items.empty());
}

TEST_F(Listing, CatalogOfAnEmptyStoreIsEmpty) {
  auto page = m_registry->list_repositories(10, "");
  ASSERT_OK(page);
  EXPECT_TRUE(page->items.empty());
  EXPECT_FALSE(page->more);
}

TEST_F(Listing, CatalogPagesThroughManyNestedRepositories) {
  std::vector<std::string> repos;
  for (int i = 0; i < 12; ++i) {
    std::string top = "team" + std::to_string(i % 4) + (i % 3 == 0 ? "-x" : "");
    repos.push_back(top + "/svc" + std::to_string(i));
    repos.push_back(top + "/svc" + std::to_string(i) + "/sub");
  }
  repos.push_back("team1");
  for (const std::string& repo : repos) {
    make_repo(repo);
  }
  std::set<std::string> unique(repos.begin(), repos.end());
  std::vector<std::string> expected(unique.begin(), unique.end());
  for (size_t n : {1u, 2u, 5u, 7u, 100u}) {
    EXPECT_EQ(page_through([&](size_t k, std::string last) { return m_registry->list_repositories(k, last); }, n),
              expected);
  }
}

TEST_F(Listing, CatalogMatchesABruteForceSortForAnyLast) {
  const std::vector<std::string> parts = {"a", "a-b", "a.b", "a_b", "a__b", "a0", "b", "ab"};
  auto names = random_repository_names(parts, 7, 50);
  for (const std::string& name : names) {
    make_repo(name);
  }
  std::vector<std::string> lasts = {"", "a", "a-", "a/", "a/a/", "a0/", "a_b/z", "b/", "zz"};
  lasts.insert(lasts.end(), names.begin(), names.end());
  expect_catalog_matches(*m_registry, names, lasts);
}

// A catalog page visits about a page of repositories wherever it starts: the subdirectories are
// descended in name order and the walk stops once the page is full. Counted in storage
// operations (listings, stats), which an unordered walk needs for every repository.
TEST_F(Listing, CatalogPageCostIsBoundedByThePageNotTheRepositories) {
  for (int i = 0; i < 300; ++i) {
    std::string number = std::to_string(i);
    make_repo("cat/r" + std::string(3 - number.size(), '0') + number);
  }
  auto counted = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  auto registry = make_registry(counted);
  for (const std::string last : {"", "cat/r149", "cat/r289"}) {
    uint64_t before = counted->operations();
    auto page = registry->list_repositories(10, last);
    ASSERT_OK(page);
    EXPECT_EQ(page->items.size(), 10u) << "last=" << last;
    // 11 repositories (the page and the one that tells there is more), a few operations each.
    EXPECT_LE(counted->operations() - before, 80u) << "last=" << last;
  }
}

// Directories that hold no repository take up the walk's batch of subdirectories without adding
// to the page: the walk lists the directory again after them until the page fills.
TEST_F(Listing, CatalogWalksPastDirectoriesWithoutRepositories) {
  for (int i = 0; i < 25; ++i) {
    fs::create_directories(repo_path("e" + std::to_string(100 + i)) / "_uploads");
  }
  make_repo("f/one");
  make_repo("f/two");
  make_repo("g");
  for (size_t n : {1u, 2u, 5u}) {
    EXPECT_EQ(page_through([&](size_t k, std::string last) { return m_registry->list_repositories(k, last); }, n),
              (std::vector<std::string>{"f/one", "f/two", "g"}))
        << "n=" << n;
  }
}

TEST_F(Listing, ListsStoredManifests) {
  auto one = push_image(*m_registry, "r", "v1", ImageSpec{"{}", {"1"}});
  auto two = push_image(*m_registry, "r", "v2", ImageSpec{"{}", {"2"}});
  ASSERT_OK(one);
  ASSERT_OK(two);
  // registry:2 deletes only the link file; such a directory is no manifest.
  fs::create_directories(repo_path("r") / "_manifests/revisions/sha256" / digest_of("gone").hex());
  auto digests = m_registry->list_manifests("r");
  ASSERT_OK(digests);
  std::set<Digest> got(digests->begin(), digests->end());
  EXPECT_EQ(got, (std::set<Digest>{*one, *two}));
  EXPECT_ERRC(m_registry->list_manifests("nowhere"), Errc::name_unknown);
}

}  // namespace
}  // namespace regd::testing
