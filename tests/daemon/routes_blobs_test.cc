// Blob GET with --s3-redirect, through dispatch() over a storage that hands out URLs as S3's
// presigned GETs do (the S3 service itself is tested in tests/scale): which requests get the
// 307, with what, and which are served as before.
#include <fstream>

#include <gtest/gtest.h>

#include "auth.h"
#include "context.h"
#include "core/registry_test_util.h"
#include "regd/base64.h"
#include "router.h"

namespace regd::daemon {
namespace {

using namespace std::chrono_literals;

// A filesystem storage with URLs: presign_get answers "https://store.example/<path>?ttl=<s>",
// or nothing after set_urls(false).
class UrlStorage final : public Storage {
 public:
  explicit UrlStorage(std::shared_ptr<Storage> inner) : m_inner(std::move(inner)) {}
  std::optional<std::string> presign_get(const std::string& p, std::chrono::seconds ttl) override {
    if (!m_urls) {
      return std::nullopt;
    }
    return "https://store.example/" + p + "?ttl=" + std::to_string(ttl.count());
  }
  Result<std::string> read(const std::string& p, size_t max) override { return m_inner->read(p, max); }
  Result<std::unique_ptr<ReadFile>> open_read(const std::string& p) override { return m_inner->open_read(p); }
  Result<std::unique_ptr<WriteFile>> create(const std::string& p) override { return m_inner->create(p); }
  Result<std::unique_ptr<AppendFile>> open_append(const std::string& p, bool c) override {
    return m_inner->open_append(p, c);
  }
  Status rename(const std::string& from, const std::string& to) override { return m_inner->rename(from, to); }
  Status list(const std::string& d, const std::function<Status(const DirEntry&)>& v) override {
    return m_inner->list(d, v);
  }
  Status list_temps(const std::string& d, const std::function<Status(const DirEntry&, const FileInfo&)>& v) override {
    return m_inner->list_temps(d, v);
  }
  Status remove(const std::string& p) override { return m_inner->remove(p); }
  Status remove_all(const std::string& p) override { return m_inner->remove_all(p); }
  Result<FileInfo> stat(const std::string& p) override { return m_inner->stat(p); }
  Status touch(const std::string& p) override { return m_inner->touch(p); }
  Result<std::unique_ptr<Lock>> lock(const std::string& p, bool w) override { return m_inner->lock(p, w); }
  Result<Clock::time_point> now(const std::string& p) override { return m_inner->now(p); }

  void set_urls(bool on) { m_urls = on; }

 private:
  std::shared_ptr<Storage> m_inner;
  bool m_urls = true;
};

class BlobRedirect : public ::testing::Test {
 protected:
  BlobRedirect()
      : m_storage(std::make_shared<UrlStorage>(regd::testing::open_storage(m_dir.path()))),
        m_registry(make_registry(m_storage)),
        m_ctx{*m_registry, *m_storage, m_config, m_state} {
    m_config.root = "s3://registry";
    m_config.s3.redirect = true;
    m_config.s3.redirect_ttl = "5m";
    m_config.access_log = false;
  }
  Response send(Method method, const std::string& path, std::vector<Header> headers = {}) {
    Request request;
    request.method = method;
    request.method_name = method == Method::head ? "HEAD" : "GET";
    request.target = path;
    request.path = path;
    request.headers = std::move(headers);
    auto outcome = dispatch(m_ctx, request, match_route(request.path));
    return std::move(outcome.response);
  }
  std::string blob_path(const Digest& digest) const { return "/v2/lib/app/blobs/" + digest.str(); }
  // Where the fake store keeps the blob's data: registry:2's key, as layout::blob_data has it.
  static std::string data_key(const Digest& digest) {
    return "docker/registry/v2/blobs/sha256/" + digest.hex().substr(0, 2) + "/" + digest.hex() + "/data";
  }

  regd::testing::TempDir m_dir;
  std::shared_ptr<UrlStorage> m_storage;
  std::unique_ptr<Registry> m_registry;
  Config m_config;
  ServerState m_state;
  Context m_ctx;
};

TEST_F(BlobRedirect, AGetIsA307ToThePresignedUrlWithTheDigestAndNoBody) {
  auto digest = regd::testing::push_blob(*m_registry, "lib/app", "layer bytes");
  ASSERT_OK(digest);
  auto r = send(Method::get, blob_path(*digest));
  EXPECT_EQ(r.status, 307u);
  ASSERT_NE(r.find("Location"), nullptr);
  EXPECT_EQ(*r.find("Location"), "https://store.example/" + data_key(*digest) + "?ttl=300");
  ASSERT_NE(r.find("Docker-Content-Digest"), nullptr);
  EXPECT_EQ(*r.find("Docker-Content-Digest"), digest->str());
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.file, nullptr);
  EXPECT_EQ(r.file_length, 0u);
}

TEST_F(BlobRedirect, ARangeIsRedirectedTooAndSentAgainByTheClient) {
  auto digest = regd::testing::push_blob(*m_registry, "lib/app", "layer bytes");
  ASSERT_OK(digest);
  EXPECT_EQ(send(Method::get, blob_path(*digest), {{"Range", "bytes=0-3"}}).status, 307u);
  EXPECT_EQ(send(Method::get, blob_path(*digest), {{"Range", "bytes=100-200"}}).status, 416u);
  EXPECT_EQ(send(Method::get, blob_path(*digest), {{"If-None-Match", "\"" + digest->str() + "\""}}).status, 304u);
}

TEST_F(BlobRedirect, HeadIsNeverRedirected) {
  auto digest = regd::testing::push_blob(*m_registry, "lib/app", "layer bytes");
  ASSERT_OK(digest);
  auto r = send(Method::head, blob_path(*digest));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.find("Location"), nullptr);
  ASSERT_NE(r.find("Content-Length"), nullptr);
  EXPECT_EQ(*r.find("Content-Length"), "11");
}

// The blob must be in the repository, as for the bytes: another repository's blob is unknown here.
TEST_F(BlobRedirect, ABlobTheRepositoryDoesNotHoldIs404NotARedirect) {
  auto digest = regd::testing::push_blob(*m_registry, "other/app", "layer bytes");
  ASSERT_OK(digest);
  auto r = send(Method::get, blob_path(*digest));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.find("Location"), nullptr);
  EXPECT_NE(r.body.find("BLOB_UNKNOWN"), std::string::npos) << r.body;
}

// Only a client allowed to pull gets the URL: authentication and authorization come first.
TEST_F(BlobRedirect, AuthIsCheckedBeforeTheRedirect) {
  auto digest = regd::testing::push_blob(*m_registry, "lib/app", "layer bytes");
  ASSERT_OK(digest);
  auto file = [&](const char* name, const std::string& text) {
    auto path = (m_dir.path() / name).string();
    std::ofstream(path) << text;
    return path;
  };
  // htpasswd -nbB -C 4: alice/secret.
  m_config.auth.htpasswd = file("htpasswd", "alice:$2y$04$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n");
  m_config.auth.auth_rules = file("rules", "user:alice lib/** pull\n");
  auto auth = Auth::create(m_config.auth);
  ASSERT_OK(auth);
  m_state.auth = *auth;

  auto anonymous = send(Method::get, blob_path(*digest));
  EXPECT_EQ(anonymous.status, 401u);
  EXPECT_EQ(anonymous.find("Location"), nullptr);
  auto alice = send(Method::get, blob_path(*digest), {{"Authorization", "Basic " + base64_encode("alice:secret")}});
  EXPECT_EQ(alice.status, 307u);
}

TEST_F(BlobRedirect, WithoutTheOptionOrWithoutAUrlTheBytesAreSent) {
  auto digest = regd::testing::push_blob(*m_registry, "lib/app", "layer bytes");
  ASSERT_OK(digest);
  m_config.s3.redirect = false;
  auto off = send(Method::get, blob_path(*digest));
  EXPECT_EQ(off.status, 200u);
  EXPECT_NE(off.file, nullptr);
  EXPECT_EQ(off.file_length, 11u);

  m_config.s3.redirect = true;
  m_storage->set_urls(false);
  auto none = send(Method::get, blob_path(*digest));
  EXPECT_EQ(none.status, 200u);
  EXPECT_NE(none.file, nullptr);
}

}  // namespace
}  // namespace regd::daemon
