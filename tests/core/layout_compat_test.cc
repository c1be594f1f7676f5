// The layout is registry:2's: Debian's docker-registry serves what regd wrote, and regd serves
// (and continues the uploads of) what docker-registry wrote. Skipped when it is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "regd/manifest.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_registry2 = "/usr/bin/docker-registry";

class LayoutCompat : public RegistryTest {
 protected:
  void SetUp() override {
    if (::access(k_registry2, X_OK) != 0) {
      GTEST_SKIP() << k_registry2 << " is not installed";
    }
    m_port = free_port();
    fs::path config = m_dir.path() / "registry2.yml";
    write_disk(config, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: " + m_dir.path().string() +
                           "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" + std::to_string(m_port) + "\n");
    std::string log = (m_dir.path() / "registry2.log").string();
    m_pid = ::fork();
    if (m_pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(k_registry2, k_registry2, "serve", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    m_client = std::make_unique<httplib::Client>("127.0.0.1", m_port);
    for (int i = 0; i < 200; ++i) {
      if (auto res = m_client->Get("/v2/"); res && res->status == 200) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "docker-registry did not start: " << read_disk(log);
  }

  void TearDown() override {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      (void)wait_child(m_pid, std::chrono::seconds(10));
    }
  }

  // Monolithic upload through docker-registry's API.
  void registry2_push_blob(const std::string& repo, const std::string& content) {
    auto started = m_client->Post(("/v2/" + repo + "/blobs/uploads/").c_str());
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202);
    std::string location = path_of(started->get_header_value("Location"));
    location += location.find('?') == std::string::npos ? "?" : "&";
    auto put =
        m_client->Put((location + "digest=" + digest_of(content).str()).c_str(), content, "application/octet-stream");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
  }

  // Path of a URL docker-registry returned (it may be absolute).
  static std::string path_of(const std::string& url) {
    size_t start = url.find("/v2/");
    return start == std::string::npos ? url : url.substr(start);
  }

  int m_port = 0;
  pid_t m_pid = -1;
  std::unique_ptr<httplib::Client> m_client;
};

TEST_F(LayoutCompat, Registry2ServesWhatRegdWrote) {
  ImageSpec spec(R"({"architecture":"amd64"})", {"first layer", std::string(2 << 20, 'z')});
  auto digest = push_image(*m_registry, "lib/app", "v1", spec);
  ASSERT_OK(digest);
  // regd's sorted tag list beside tags/ (sorted_tags.h) and the catalog's lists under _regd/
  // are invisible to registry:2.
  auto past = fs::file_time_type::clock::now() - std::chrono::seconds(30);
  for (const fs::path& dir : {repo_path("lib/app") / "_manifests/tags", v2() / "repositories", repo_path("lib")}) {
    fs::last_write_time(dir, past);
  }
  RegistryOptions listing;
  listing.tag_list_min = 1;
  listing.catalog_list_min = 1;
  ASSERT_OK(make_registry(m_storage, listing)->list_tags("lib/app", 10, ""));
  ASSERT_OK(make_registry(m_storage, listing)->list_repositories(10, ""));
  ASSERT_TRUE(fs::exists(repo_path("lib/app") / "_manifests/tags.regd-index"));
  ASSERT_TRUE(fs::exists(m_dir.path() / "_regd/catalog/_list"));
  ASSERT_TRUE(fs::exists(m_dir.path() / "_regd/catalog/lib/_list"));
  auto catalog = m_client->Get("/v2/_catalog");
  ASSERT_TRUE(catalog);
  EXPECT_EQ(nlohmann::json::parse(catalog->body)["repositories"], nlohmann::json::array({"lib/app"}));
  auto tags = m_client->Get("/v2/lib/app/tags/list");
  ASSERT_TRUE(tags);
  EXPECT_EQ(nlohmann::json::parse(tags->body)["tags"], nlohmann::json::array({"v1"}));
  auto manifest = m_client->Get("/v2/lib/app/manifests/v1", {{"Accept", std::string(media_type::oci_manifest)}});
  ASSERT_TRUE(manifest);
  ASSERT_EQ(manifest->status, 200);
  EXPECT_EQ(manifest->body, image_manifest(spec));
  EXPECT_EQ(manifest->get_header_value("Docker-Content-Digest"), digest->str());
  auto layer = m_client->Get(("/v2/lib/app/blobs/" + digest_of(spec.layers[1]).str()).c_str());
  ASSERT_TRUE(layer);
  ASSERT_EQ(layer->status, 200);
  EXPECT_EQ(digest_of(layer->body), digest_of(spec.layers[1]));
}

TEST_F(LayoutCompat, RegdServesWhatRegistry2Wrote) {
  ImageSpec spec("{}", {"registry2 layer"});
  registry2_push_blob("other/r2", spec.config);
  registry2_push_blob("other/r2", spec.layers[0]);
  std::string content = image_manifest(spec);
  auto put = m_client->Put("/v2/other/r2/manifests/latest", content, std::string(media_type::oci_manifest).c_str());
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 201) << put->body;
  auto manifest = m_registry->get_manifest("other/r2", "latest");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->content, content);
  EXPECT_EQ(manifest->media_type, media_type::oci_manifest);
  auto info = m_registry->stat_blob("other/r2", digest_of(spec.layers[0]));
  ASSERT_OK(info);
  EXPECT_EQ(info->size, spec.layers[0].size());
  auto tags = m_registry->list_tags("other/r2", 10, "");
  ASSERT_OK(tags);
  EXPECT_EQ(tags->items, std::vector<std::string>{"latest"});

  auto deleted = m_client->Delete(("/v2/other/r2/manifests/" + manifest->digest.str()).c_str());
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 202);
  EXPECT_ERRC(m_registry->get_manifest("other/r2", manifest->digest.str()), Errc::manifest_unknown);
  auto digests = m_registry->list_manifests("other/r2");
  ASSERT_OK(digests);
  EXPECT_TRUE(digests->empty());
}

TEST_F(LayoutCompat, RegdFinishesAnUploadRegistry2Started) {
  auto started = m_client->Post("/v2/r/blobs/uploads/");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202);
  std::string id = started->get_header_value("Docker-Upload-UUID");
  auto patched = m_client->Patch(path_of(started->get_header_value("Location")).c_str(), "from registry:2,",
                                 "application/octet-stream");
  ASSERT_TRUE(patched);
  ASSERT_EQ(patched->status, 202);
  EXPECT_EQ(fs::file_size(repo_path("r") / "_uploads" / id / "hashstates/sha256/16"), 108u);

  auto writer = m_registry->append_upload("r", id, 16);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write(std::string_view(" then regd")));
  ASSERT_OK((*writer)->close());
  Digest digest = digest_of("from registry:2, then regd");
  ASSERT_OK(m_registry->finish_upload("r", id, digest));
  auto blob = m_client->Get(("/v2/r/blobs/" + digest.str()).c_str());
  ASSERT_TRUE(blob);
  ASSERT_EQ(blob->status, 200);
  EXPECT_EQ(blob->body, "from registry:2, then regd");
}

}  // namespace
}  // namespace regd::testing
