// The storage pool (daemon/storage_pool.h) against a server run in this process over a storage
// whose calls a test can hold: a request waiting on the disk occupies a storage worker, never
// the I/O thread, so with a single I/O thread other connections are still served meanwhile.
#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "context.h"
#include "core/registry_test_util.h"
#include "regd/fault_storage.h"
#include "server.h"

namespace regd::daemon {
namespace {

using regd::testing::ImageSpec;
using regd::testing::metric_sample;

// The first append to an upload's data blocks until release() (an fsync stuck on a slow disk).
// Released on destruction too, so a failing test ends instead of hanging the server's shutdown.
class HeldUpload {
 public:
  explicit HeldUpload(FaultStorage& storage) : m_state(std::make_shared<State>()) {
    storage.set_hook([state = m_state](StorageOp op, const std::string& path) {
      if (op == StorageOp::append && path.find("_uploads") != std::string::npos && !state->held.exchange(true)) {
        state->entered.set_value();
        state->released.wait();
      }
    });
  }
  ~HeldUpload() { release(); }
  HeldUpload(const HeldUpload&) = delete;
  HeldUpload& operator=(const HeldUpload&) = delete;

  // True once the append is being held; waits at most `limit` (a hung test fails, not stalls).
  bool wait_entered(std::chrono::seconds limit) {
    return m_state->entered_future.wait_for(limit) == std::future_status::ready;
  }
  void release() {
    if (!m_state->release_sent.exchange(true)) {
      m_state->release.set_value();
    }
  }

 private:
  struct State {
    std::atomic<bool> held{false};
    std::atomic<bool> release_sent{false};
    std::promise<void> entered;
    std::future<void> entered_future = entered.get_future();
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
  };
  std::shared_ptr<State> m_state;
};

class SessionPool : public ::testing::Test {
 protected:
  void SetUp() override {
    m_storage = std::shared_ptr<FaultStorage>(make_fault_storage(regd::testing::open_storage(m_dir.path())));
    m_registry = make_registry(m_storage);
    m_config.storage_threads = 2;
    m_config.access_log = false;
    m_ctx.emplace(Context{*m_registry, *m_storage, m_config, m_state});
    m_server.emplace(*m_ctx);
    ASSERT_TRUE(m_server->listen(ListenAddress{"127.0.0.1", 0}));
  }
  void TearDown() override {
    if (m_serving.joinable()) {
      m_server->stop();
      m_serving.join();
    }
  }
  // Serves on a single I/O thread: anything blocking it would stall every connection.
  void serve() {
    m_serving = std::thread([this] { m_server->run(1); });
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", m_server->port());
    c.set_connection_timeout(30);
    c.set_read_timeout(30);
    return c;
  }

  regd::testing::TempDir m_dir;
  std::shared_ptr<FaultStorage> m_storage;
  std::unique_ptr<Registry> m_registry;
  Config m_config;
  ServerState m_state;
  std::optional<Context> m_ctx;
  std::optional<Server> m_server;
  std::thread m_serving;
};

TEST_F(SessionPool, ManifestGetAnswersWhileAnUploadIsStuckOnTheDisk) {
  auto digest = regd::testing::push_image(*m_registry, "app", "v1", ImageSpec(R"({"a":1})", {"layer"}));
  ASSERT_TRUE(digest);
  HeldUpload held(*m_storage);
  serve();

  auto uploader = client();
  auto started = uploader.Post("/v2/app/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202);
  auto location = started->get_header_value("Location");
  std::atomic<bool> patched{false};
  auto patch = std::async(std::launch::async, [&] {
    auto r = uploader.Patch(location, std::string(4096, 'x'), "application/octet-stream");
    patched = true;
    return r ? r->status : -1;
  });
  ASSERT_TRUE(held.wait_entered(std::chrono::seconds(60))) << "the PATCH never reached the storage";

  // Another connection, while the PATCH holds its storage call: served, and before the PATCH.
  auto reader = client();
  auto got = reader.Get("/v2/app/manifests/v1");
  bool answered_while_held = !patched;
  auto head = reader.Head("/v2/app/manifests/" + digest->str());
  auto metrics = reader.Get("/metrics");
  held.release();
  EXPECT_EQ(patch.get(), 202);

  ASSERT_TRUE(got) << "the manifest GET got no answer while the upload was held";
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->get_header_value("Docker-Content-Digest"), digest->str());
  EXPECT_TRUE(answered_while_held);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metric_sample(metrics->body, "regd_storage_pool_busy"), "regd_storage_pool_busy 1");
  EXPECT_EQ(metric_sample(metrics->body, "regd_storage_pool_queued"), "regd_storage_pool_queued 0");

  // The upload goes on normally afterwards.
  auto status = uploader.Get(location);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 204);
  EXPECT_EQ(status->get_header_value("Range"), "0-4095");
}

TEST_F(SessionPool, WritesStillWorkThroughThePool) {
  serve();
  auto c = client();
  std::string body(3 * 1024 * 1024 + 17, 'b');
  auto digest = digest_of(body);
  auto put = c.Post("/v2/app/blobs/uploads/?digest=" + digest.str(), body, "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201);
  auto got = c.Get("/v2/app/blobs/" + digest.str());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, body);
  auto deleted = c.Delete("/v2/app/blobs/" + digest.str());
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 202);
  auto gone = c.Head("/v2/app/blobs/" + digest.str());
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metric_sample(metrics->body, "regd_storage_pool_busy"), "regd_storage_pool_busy 0");
}

}  // namespace
}  // namespace regd::daemon
