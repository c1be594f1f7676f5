// Tag lists, the catalog (n/last pagination, Link) and the referrers API.
#include "regd_process.h"

namespace regd::testing {
namespace {

using Listing = RegdTest;

std::vector<std::string> json_list(const std::string& body, const char* key) {
  return nlohmann::json::parse(body)[key].get<std::vector<std::string>>();
}

TEST_F(Listing, TagsListIsSorted) {
  auto c = client();
  for (auto tag : {"b", "a", "c"}) {
    push_image(c, "lib/tags", tag);
  }
  auto r = c.Get("/v2/lib/tags/tags/list");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["name"], "lib/tags");
  EXPECT_EQ(j["tags"], nlohmann::json({"a", "b", "c"}));
  EXPECT_EQ(r->get_header_value("Link"), "");
}

TEST_F(Listing, TagsListPaginatesWithLink) {
  auto c = client();
  for (auto tag : {"t1", "t2", "t3", "t4", "t5"}) {
    push_image(c, "pages", tag);
  }
  auto first = c.Get("/v2/pages/tags/list?n=2");
  ASSERT_TRUE(first);
  EXPECT_EQ(json_list(first->body, "tags"), (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(first->get_header_value("Link"), "</v2/pages/tags/list?n=2&last=t2>; rel=\"next\"");
  auto second = c.Get("/v2/pages/tags/list?n=2&last=t2");
  EXPECT_EQ(json_list(second->body, "tags"), (std::vector<std::string>{"t3", "t4"}));
  auto third = c.Get("/v2/pages/tags/list?n=2&last=t4");
  EXPECT_EQ(json_list(third->body, "tags"), (std::vector<std::string>{"t5"}));
  EXPECT_EQ(third->get_header_value("Link"), "");
  auto zero = c.Get("/v2/pages/tags/list?n=0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->status, 200);
  EXPECT_TRUE(json_list(zero->body, "tags").empty());
}

TEST_F(Listing, TagsOfAnUnknownRepositoryIsNameUnknown) {
  auto c = client();
  auto r = c.Get("/v2/nope/tags/list");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_code(r->body), "NAME_UNKNOWN");
}

// As docs/http-api.md says and registry:2 does: a repository whose tags are all deleted lists
// none (200); one that holds no manifest any more is unknown (404) and leaves the catalog.
TEST_F(Listing, ARepositoryWithoutTagsListsNoneAndAnEmptiedOneIsGoneFromTheCatalog) {
  auto c = client();
  push_image(c, "keep/app", "v1");
  std::string manifest = push_image(c, "gone/app", "v1", 2);
  ASSERT_EQ(c.Delete("/v2/gone/app/manifests/v1")->status, 202);
  auto untagged = c.Get("/v2/gone/app/tags/list");
  ASSERT_TRUE(untagged);
  EXPECT_EQ(untagged->status, 200);
  EXPECT_EQ(nlohmann::json::parse(untagged->body), nlohmann::json::parse(R"({"name":"gone/app","tags":[]})"));
  EXPECT_EQ(json_list(c.Get("/v2/_catalog")->body, "repositories"), (std::vector<std::string>{"gone/app", "keep/app"}));

  ASSERT_EQ(c.Delete(("/v2/gone/app/manifests/" + sha256_of(manifest)).c_str())->status, 202);
  auto gone = c.Get("/v2/gone/app/tags/list");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(error_code(gone->body), "NAME_UNKNOWN");
  EXPECT_EQ(json_list(c.Get("/v2/_catalog")->body, "repositories"), (std::vector<std::string>{"keep/app"}));
}

TEST_F(Listing, BadPageSizeIs400) {
  auto c = client();
  push_image(c, "n", "v1");
  auto r = c.Get("/v2/n/tags/list?n=abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(Listing, CatalogPaginatesWithLink) {
  auto c = client();
  for (auto repo : {"r/one", "r/two", "r/three"}) {
    push_image(c, repo, "v1");
  }
  auto all = c.Get("/v2/_catalog");
  ASSERT_TRUE(all);
  EXPECT_EQ(json_list(all->body, "repositories"), (std::vector<std::string>{"r/one", "r/three", "r/two"}));
  auto first = c.Get("/v2/_catalog?n=2");
  EXPECT_EQ(json_list(first->body, "repositories"), (std::vector<std::string>{"r/one", "r/three"}));
  // cpp-httplib 0.11 percent-decodes header values, so read this one raw.
  RawConnection raw(regd().port());
  raw.send("GET /v2/_catalog?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(raw.read_response().find("Link: </v2/_catalog?n=2&last=r%2Fthree>; rel=\"next\""), std::string::npos);
  auto second = c.Get("/v2/_catalog?n=2&last=r%2Fthree");
  EXPECT_EQ(json_list(second->body, "repositories"), (std::vector<std::string>{"r/two"}));
  EXPECT_EQ(second->get_header_value("Link"), "");
}

class Referrers : public RegdTest {
 protected:
  // Pushes a manifest with `artifact_type` whose subject is `subject`; returns its content.
  std::string push_referrer(httplib::Client& c, const std::string& subject, const std::string& artifact_type,
                            unsigned seed) {
    std::string config = "{}";
    push_blob(c, "ref", config);
    nlohmann::json extra = {{"artifactType", artifact_type},
                            {"subject", descriptor("application/vnd.oci.image.manifest.v1+json", subject)},
                            {"annotations", {{"seed", std::to_string(seed)}}}};
    nlohmann::json m = nlohmann::json::parse(image_manifest(config, {}, extra));
    m["config"]["mediaType"] = "application/vnd.oci.empty.v1+json";
    auto body = m.dump();
    auto r =
        c.Put(("/v2/ref/manifests/" + sha256_of(body)).c_str(), body, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "");
    return body;
  }
};

TEST_F(Referrers, ListsAndFiltersByArtifactType) {
  auto c = client();
  auto subject = push_image(c, "ref", "v1");
  auto sig = push_referrer(c, subject, "application/vnd.example.sig", 1);
  auto sbom = push_referrer(c, subject, "application/vnd.example.sbom", 2);
  auto all = c.Get(("/v2/ref/referrers/" + sha256_of(subject)).c_str());
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  EXPECT_EQ(all->get_header_value("Content-Type"), "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(all->get_header_value("OCI-Filters-Applied"), "");
  auto index = nlohmann::json::parse(all->body);
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 2u);
  std::set<std::string> digests;
  for (auto& d : index["manifests"]) {
    digests.insert(d["digest"].get<std::string>());
    EXPECT_EQ(d["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    EXPECT_TRUE(d.contains("artifactType"));
  }
  EXPECT_EQ(digests, (std::set<std::string>{sha256_of(sig), sha256_of(sbom)}));
  auto filtered =
      c.Get(("/v2/ref/referrers/" + sha256_of(subject) + "?artifactType=application%2Fvnd.example.sbom").c_str());
  ASSERT_TRUE(filtered);
  EXPECT_EQ(filtered->get_header_value("OCI-Filters-Applied"), "artifactType");
  auto only = nlohmann::json::parse(filtered->body)["manifests"];
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0]["digest"], sha256_of(sbom));
  EXPECT_EQ(only[0]["artifactType"], "application/vnd.example.sbom");
  EXPECT_EQ(only[0]["annotations"]["seed"], "2");
}

TEST_F(Referrers, UnknownSubjectIsAnEmptyIndex) {
  auto c = client();
  push_image(c, "ref", "v1");
  auto r = c.Get(("/v2/ref/referrers/" + sha256_of("nothing")).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(nlohmann::json::parse(r->body)["manifests"].empty());
}

TEST_F(Referrers, MalformedDigestIs400) {
  auto c = client();
  auto r = c.Get("/v2/ref/referrers/sha256:xyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
}

}  // namespace
}  // namespace regd::testing
