#include <gtest/gtest.h>

#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class Referrers : public RegistryTest {
 protected:
  void SetUp() override {
    auto subject = push_image(*m_registry, "r", "latest", ImageSpec{"{}", {"base-layer"}});
    ASSERT_OK(subject);
    m_subject = *subject;
    m_subject_size = image_manifest(ImageSpec{"{}", {"base-layer"}}).size();
  }

  ImageSpec referrer(std::string artifact_type, std::string layer) const {
    ImageSpec spec("{}", {std::move(layer)});
    spec.subject = m_subject;
    spec.subject_size = m_subject_size;
    spec.artifact_type = std::move(artifact_type);
    return spec;
  }

  Digest push_referrer(const ImageSpec& spec) {
    for (const std::string& blob : {spec.config, spec.layers[0]}) {
      EXPECT_TRUE(push_blob(*m_registry, "r", blob).has_value());
    }
    auto put = m_registry->put_manifest("r", digest_of(image_manifest(spec)).str(), "", image_manifest(spec));
    EXPECT_TRUE(put.has_value());
    EXPECT_TRUE(put && put->subject == m_subject);
    return put ? put->digest : digest_of("");
  }

  Digest m_subject = digest_of("");
  uint64_t m_subject_size = 0;
};

TEST_F(Referrers, ListsReferrersWithTheirDescriptors) {
  ImageSpec sbom = referrer("application/vnd.example.sbom", "sbom");
  sbom.annotations = {{"org.opencontainers.image.created", "2026-11-22T20:00:00Z"}};
  Digest sbom_digest = push_referrer(sbom);
  Digest sig_digest = push_referrer(referrer("application/vnd.example.sig", "sig"));
  EXPECT_EQ(read_disk(repo_path("r") / "_referrers/sha256" / m_subject.hex() / "sha256" / sbom_digest.hex() / "link"),
            sbom_digest.str());
  auto listed = another_registry()->list_referrers("r", m_subject, std::nullopt);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const Descriptor& descriptor : *listed) {
    EXPECT_EQ(descriptor.media_type, media_type::oci_manifest);
    if (descriptor.digest == sbom_digest) {
      EXPECT_EQ(descriptor.artifact_type, "application/vnd.example.sbom");
      EXPECT_EQ(descriptor.size, image_manifest(sbom).size());
      EXPECT_EQ(descriptor.annotations, sbom.annotations);
    } else {
      EXPECT_EQ(descriptor.digest, sig_digest);
      EXPECT_EQ(descriptor.artifact_type, "application/vnd.example.sig");
    }
  }
}

TEST_F(Referrers, FiltersByArtifactType) {
  Digest sbom = push_referrer(referrer("application/vnd.example.sbom", "sbom"));
  push_referrer(referrer("application/vnd.example.sig", "sig"));
  auto filtered = m_registry->list_referrers("r", m_subject, "application/vnd.example.sbom");
  ASSERT_OK(filtered);
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ((*filtered)[0].digest, sbom);
  auto none = m_registry->list_referrers("r", m_subject, "application/vnd.example.none");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(Referrers, AnUnknownSubjectHasNoReferrers) {
  auto listed = m_registry->list_referrers("r", digest_of("unknown"), std::nullopt);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
  auto elsewhere = m_registry->list_referrers("other", m_subject, std::nullopt);
  ASSERT_OK(elsewhere);
  EXPECT_TRUE(elsewhere->empty());
}

TEST_F(Referrers, DeletingAReferrerRemovesItsEntry) {
  Digest sig = push_referrer(referrer("application/vnd.example.sig", "sig"));
  ASSERT_OK(m_registry->delete_manifest("r", sig));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_referrers/sha256" / m_subject.hex() / "sha256" / sig.hex()));
  auto listed = m_registry->list_referrers("r", m_subject, std::nullopt);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(Referrers, IgnoresEntriesWithoutARevision) {
  Digest sig = push_referrer(referrer("application/vnd.example.sig", "sig"));
  fs::remove_all(repo_path("r") / "_manifests/revisions/sha256" / sig.hex());
  auto listed = m_registry->list_referrers("r", m_subject, std::nullopt);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(Referrers, RebuildsTheIndexFromRevisionLinks) {
  Digest sbom = push_referrer(referrer("application/vnd.example.sbom", "sbom"));
  Digest sig = push_referrer(referrer("application/vnd.example.sig", "sig"));
  fs::remove_all(repo_path("r") / "_referrers");
  // A stale entry, for a manifest this repository does not hold, must go.
  Digest stale = digest_of("stale");
  write_disk(repo_path("r") / "_referrers/sha256" / m_subject.hex() / "sha256" / stale.hex() / "link", stale.str());
  ASSERT_OK(m_registry->rebuild_referrers("r"));
  fs::path dir = repo_path("r") / "_referrers/sha256" / m_subject.hex() / "sha256";
  EXPECT_EQ(read_disk(dir / sbom.hex() / "link"), sbom.str());
  EXPECT_EQ(read_disk(dir / sig.hex() / "link"), sig.str());
  EXPECT_FALSE(fs::exists(dir / stale.hex()));
  auto listed = m_registry->list_referrers("r", m_subject, std::nullopt);
  ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), 2u);
  EXPECT_ERRC(m_registry->rebuild_referrers("nowhere"), Errc::name_unknown);
}

}  // namespace
}  // namespace regd::testing
