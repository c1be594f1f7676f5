#include "regd/inspect.h"

#include <algorithm>

#include "registry_test_util.h"

namespace regd::testing {
namespace {

class InspectTest : public RegistryTest {
 protected:
  InspectTest() : m_inspector(make_inspector(m_storage)) {}

  const LinkEntry* find(const std::vector<LinkEntry>& links, LinkKind kind, const Digest& digest) {
    auto it = std::find_if(links.begin(), links.end(), [&](const LinkEntry& link) {
      return link.kind == kind && link.target && *link.target == digest;
    });
    return it == links.end() ? nullptr : &*it;
  }

  std::unique_ptr<Inspector> m_inspector;
};

TEST_F(InspectTest, ForEachBlobVisitsEveryStoredBlobWithItsSize) {
  ASSERT_OK(push_blob(*m_registry, "a", "first"));
  ASSERT_OK(push_blob(*m_registry, "b", "second one", DigestAlgorithm::sha512));
  std::map<Digest, uint64_t> seen;
  ASSERT_OK(m_inspector->for_each_blob([&](const BlobInfo& blob) -> Status {
    seen[blob.digest] = blob.size;
    return {};
  }));
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[digest_of("first")], 5u);
  EXPECT_EQ(seen[digest_of("second one", DigestAlgorithm::sha512)], 10u);
}

TEST_F(InspectTest, HashBlobFindsCorruptionAndQuarantineMovesItAside) {
  auto digest = push_blob(*m_registry, "a", std::string(3 << 20, 'z'));
  ASSERT_OK(digest);
  uint64_t reported = 0;
  auto clean = m_inspector->hash_blob(*digest, [&](uint64_t n) { reported += n; });
  ASSERT_OK(clean);
  EXPECT_EQ(clean->digest, *digest);
  EXPECT_EQ(reported, 3u << 20);
  write_disk(blob_path(*digest), "tampered");
  auto dirty = m_inspector->hash_blob(*digest, {});
  ASSERT_OK(dirty);
  EXPECT_EQ(dirty->digest, digest_of("tampered"));
  auto moved = m_inspector->quarantine_blob(*digest);
  ASSERT_OK(moved);
  EXPECT_EQ(read_disk(m_dir.path() / *moved), "tampered");
  EXPECT_FALSE(std::filesystem::exists(blob_path(*digest)));
  EXPECT_ERRC(m_inspector->blob_size(*digest), Errc::not_found);
  EXPECT_ERRC(m_inspector->hash_blob(*digest, {}), Errc::not_found);
  // A re-push stores the blob afresh.
  ASSERT_OK(push_blob(*m_registry, "a", std::string(3 << 20, 'z')));
  EXPECT_EQ(*m_inspector->blob_size(*digest), 3u << 20);
}

TEST_F(InspectTest, ListLinksReportsEveryKindAndMalformedContent) {
  ImageSpec spec("{\"os\":\"linux\"}", {"layer"});
  auto manifest = push_image(*m_registry, "team/app", "v1", spec);
  ASSERT_OK(manifest);
  auto links = m_inspector->list_links("team/app");
  ASSERT_OK(links);
  EXPECT_NE(find(*links, LinkKind::layer, digest_of("layer")), nullptr);
  EXPECT_NE(find(*links, LinkKind::revision, *manifest), nullptr);
  const LinkEntry* current = find(*links, LinkKind::tag_current, *manifest);
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->tag, "v1");
  EXPECT_FALSE(current->named.has_value());
  const LinkEntry* index = find(*links, LinkKind::tag_index, *manifest);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(*index->named, *manifest);

  write_disk(m_dir.path() / current->path, "sha256:zz");
  auto after = m_inspector->list_links("team/app");
  ASSERT_OK(after);
  auto broken = std::find_if(after->begin(), after->end(),
                             [](const LinkEntry& link) { return link.kind == LinkKind::tag_current; });
  ASSERT_NE(broken, after->end());
  EXPECT_FALSE(broken->target.has_value());
  EXPECT_FALSE(broken->error.empty());
  EXPECT_ERRC(m_inspector->list_links("no/such"), Errc::name_unknown);
  EXPECT_ERRC(m_inspector->list_links("Bad"), Errc::name_invalid);
}

TEST_F(InspectTest, ListUploadsChecksSessions) {
  auto started = m_registry->start_upload("a");
  ASSERT_OK(started);
  {
    auto writer = m_registry->append_upload("a", started->id, 0);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->write(std::string_view("hello")));
    ASSERT_OK((*writer)->close());
  }
  auto uploads = m_inspector->list_uploads("a");
  ASSERT_OK(uploads);
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_EQ((*uploads)[0].size, 5u);
  EXPECT_TRUE((*uploads)[0].problems.empty()) << (*uploads)[0].problems.front();

  auto session = repo_path("a") / "_uploads" / started->id;
  write_disk(session / "startedat", "yesterday");
  write_disk(session / "hashstates/sha256/99", "junk");
  std::filesystem::create_directories(repo_path("a") / "_uploads" / "not-a-uuid");
  uploads = m_inspector->list_uploads("a");
  ASSERT_OK(uploads);
  ASSERT_EQ(uploads->size(), 2u);
  size_t problems = 0;
  for (const auto& upload : *uploads) {
    problems += upload.problems.size();
  }
  EXPECT_GE(problems, 4u);  // startedat, offset beyond data, unparsable state, bad id
  EXPECT_TRUE(m_inspector->list_uploads("empty")->empty());
}

}  // namespace
}  // namespace regd::testing
