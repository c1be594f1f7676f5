// The registry client against a tiny registry served by cpp-httplib in the test: retries and
// Retry-After, Basic and Bearer authentication, blobs resumed with Range after a dropped
// connection, digest checks, monolithic and chunked uploads, mounts, tag pages.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "regd/base64.h"
#include "regd/remote.h"
#include "remote_auth.h"
#include "test_util.h"

namespace regd::remote {
namespace {

using namespace std::chrono_literals;

const std::string k_manifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";

// An httplib server on 127.0.0.1:<free port>, running while the object lives.
class TestServer {
 public:
  TestServer() { m_port = m_server.bind_to_any_port("127.0.0.1"); }
  ~TestServer() {
    m_server.stop();
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }
  httplib::Server& server() { return m_server; }
  void start() {
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    for (int i = 0; i < 500 && !m_server.is_running(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }

 private:
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
};

struct Recorder {
  std::vector<std::chrono::milliseconds> delays;
  ClientOptions options() {
    ClientOptions options;
    options.tls_verify = false;  // plain HTTP: the test server speaks no TLS
    options.auth_file = "/nonexistent-on-purpose";
    options.sleep = [this](std::chrono::milliseconds d) { delays.push_back(d); };
    return options;
  }
};

std::unique_ptr<Client> client_for(const TestServer& server, const ClientOptions& options) {
  ClientOptions with_creds = options;
  if (!with_creds.credentials) {
    with_creds.credentials = Credentials{"", ""};  // skips the auth file lookup
  }
  auto client = make_client(server.host(), with_creds);
  EXPECT_TRUE(client.has_value());
  return std::move(*client);
}

TEST(RemoteClient, WaitsWhatRetryAfterSaysThenSucceeds) {
  TestServer server;
  std::atomic<int> calls{0};
  server.server().Get("/v2/a/manifests/v1", [&](const httplib::Request&, httplib::Response& res) {
    if (calls++ == 0) {
      res.status = 429;
      res.set_header("Retry-After", "2");
      return;
    }
    res.set_content(k_manifest, "application/vnd.oci.image.index.v1+json");
  });
  server.start();
  Recorder recorder;
  auto client = client_for(server, recorder.options());
  auto manifest = client->get_manifest("a", "v1");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->content, k_manifest);
  EXPECT_EQ(manifest->media_type, "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(manifest->digest, digest_of(k_manifest));
  EXPECT_EQ(recorder.delays, std::vector<std::chrono::milliseconds>{2000ms});
  EXPECT_EQ(client->stats().retries, 1u);
}

TEST(RemoteClient, GivesUpAfterTheRetriesWithExponentialBackOff) {
  TestServer server;
  std::atomic<int> calls{0};
  server.server().Get("/v2/a/manifests/v1", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
  });
  server.start();
  Recorder recorder;
  auto options = recorder.options();
  options.max_retries = 2;
  auto client = client_for(server, options);
  EXPECT_ERRC(client->get_manifest("a", "v1"), Errc::io_error);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(recorder.delays, (std::vector<std::chrono::milliseconds>{500ms, 1000ms}));
}

TEST(RemoteClient, MapsSpecErrorCodesAndChecksDigests) {
  TestServer server;
  server.server().Get(R"(/v2/a/manifests/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == "gone") {
      res.status = 404;
      res.set_content(R"({"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]})", "application/json");
      return;
    }
    res.set_content(k_manifest, "application/vnd.oci.image.index.v1+json");  // whatever was asked
  });
  server.start();
  Recorder recorder;
  auto client = client_for(server, recorder.options());
  EXPECT_ERRC(client->get_manifest("a", "gone"), Errc::name_unknown);
  EXPECT_ERRC(client->get_manifest("a", "sha256:" + std::string(64, 'b')), Errc::digest_invalid);
  ASSERT_OK(client->get_manifest("a", digest_of(k_manifest).str()));
}

// A token server and a registry that wants "Bearer tok" for repository a.
TEST(RemoteClient, CompletesTheBearerFlowOnceAndReusesTheToken) {
  TestServer server;
  std::atomic<int> token_calls{0};
  std::string realm = "http://" + server.host() + "/token";
  std::string seen_query;
  server.server().Get("/token", [&](const httplib::Request& req, httplib::Response& res) {
    ++token_calls;
    seen_query = req.get_param_value("scope") + " " + req.get_param_value("service");
    if (req.get_header_value("Authorization") != "Basic " + base64_encode("alice:pw")) {
      res.status = 401;
      return;
    }
    res.set_content(R"({"token":"tok","expires_in":300})", "application/json");
  });
  server.server().Get("/v2/a/manifests/v1", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer tok") {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"svc\",scope=\"repository:a:pull\"");
      return;
    }
    res.set_content(k_manifest, "application/vnd.oci.image.index.v1+json");
  });
  server.start();
  Recorder recorder;
  auto options = recorder.options();
  options.credentials = Credentials{"alice", "pw"};
  auto client = client_for(server, options);
  ASSERT_OK(client->get_manifest("a", "v1"));
  ASSERT_OK(client->get_manifest("a", "v1"));
  EXPECT_EQ(token_calls.load(), 1);
  EXPECT_EQ(seen_query, "repository:a:pull svc");
  // HTTPS first (refused: the test server speaks plain HTTP), challenge, token, retry, second get.
  EXPECT_EQ(client->stats().requests, 5u);

  options.credentials = Credentials{"alice", "wrong"};
  auto wrong = client_for(server, options);
  EXPECT_ERRC(wrong->get_manifest("a", "v1"), Errc::denied);
}

TEST(RemoteClient, AnswersABasicChallengeWithTheCredentials) {
  TestServer server;
  server.server().Get("/v2/a/tags/list", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Basic " + base64_encode("bob:pw")) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"registry\"");
      return;
    }
    if (req.get_param_value("last").empty()) {
      res.set_header("Link", "</v2/a/tags/list?n=1000&last=t1>; rel=\"next\"");
      res.set_content(R"({"name":"a","tags":["t1"]})", "application/json");
    } else {
      res.set_content(R"({"name":"a","tags":["t2"]})", "application/json");
    }
  });
  server.start();
  Recorder recorder;
  auto options = recorder.options();
  auto anonymous = client_for(server, options);
  EXPECT_ERRC(anonymous->list_tags("a"), Errc::denied);
  options.credentials = Credentials{"bob", "pw"};
  auto client = client_for(server, options);
  auto tags = client->list_tags("a");
  ASSERT_OK(tags);
  EXPECT_EQ(*tags, (std::vector<std::string>{"t1", "t2"}));
}

// A blob whose first transfer stops half-way (the server drops the connection).
struct BlobServer {
  std::string blob = std::string(3 << 20, 'x') + "end";
  std::atomic<int> gets{0};
  std::vector<std::string> ranges;
  std::mutex mutex;
  bool honour_range = true;

  void install(httplib::Server& server) {
    server.Get(R"(/v2/a/blobs/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      int n = gets++;
      {
        std::lock_guard lock(mutex);
        ranges.push_back(req.get_header_value("Range"));
      }
      if (n > 0 && !honour_range) {
        // Chunked, so that httplib cannot answer the Range itself: the whole blob, 200.
        res.set_chunked_content_provider("application/octet-stream", [this](size_t, httplib::DataSink& sink) {
          sink.write(blob.data(), blob.size());
          sink.done();
          return true;
        });
        return;
      }
      if (n == 0) {
        size_t cut = blob.size() / 2;
        res.set_content_provider(blob.size(), "application/octet-stream",
                                 [this, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                                   if (offset >= cut) {
                                     return false;  // drops the connection
                                   }
                                   return sink.write(blob.data() + offset, std::min(length, cut - offset));
                                 });
        return;
      }
      res.set_content(blob, "application/octet-stream");  // httplib answers the Range with 206
    });
  }
};

TEST(RemoteClient, ResumesADroppedBlobWithRangeAndVerifiesIt) {
  TestServer server;
  BlobServer blobs;
  blobs.install(server.server());
  server.start();
  Recorder recorder;
  auto client = client_for(server, recorder.options());
  std::string received;
  auto sink = [&](std::span<const char> data) -> Status {
    received.append(data.data(), data.size());
    return {};
  };
  ASSERT_OK(client->get_blob("a", digest_of(blobs.blob), blobs.blob.size(), sink));
  EXPECT_TRUE(received == blobs.blob);
  EXPECT_EQ(client->stats().resumes, 1u);
  ASSERT_EQ(blobs.ranges.size(), 2u);
  EXPECT_EQ(blobs.ranges[0], "");
  EXPECT_EQ(blobs.ranges[1], "bytes=" + std::to_string(blobs.blob.size() / 2) + "-");
}

TEST(RemoteClient, RefusesABlobThatDoesNotMatchOrCannotResume) {
  TestServer server;
  BlobServer blobs;
  blobs.honour_range = false;
  blobs.install(server.server());
  server.start();
  Recorder recorder;
  auto client = client_for(server, recorder.options());
  auto sink = [](std::span<const char>) -> Status { return {}; };
  EXPECT_ERRC(client->get_blob("a", digest_of(blobs.blob), blobs.blob.size(), sink), Errc::io_error);
  blobs.gets = 1;  // no drop from now on
  EXPECT_ERRC(client->get_blob("a", digest_of("other"), blobs.blob.size(), sink), Errc::digest_invalid);
  EXPECT_ERRC(client->get_blob("a", digest_of(blobs.blob), 10, sink), Errc::digest_invalid);
}

// A registry keeping uploads in memory: POST, PATCH (Content-Range checked), PUT ?digest=, mount.
struct UploadServer {
  std::mutex mutex;
  std::string session;
  std::map<std::string, std::string> blobs;
  std::vector<std::string> patches;

  void install(httplib::Server& server) {
    server.Post("/v2/a/blobs/uploads/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      if (req.has_param("mount")) {
        bool known = blobs.contains(req.get_param_value("mount")) && req.get_param_value("from") == "b";
        res.status = known ? 201 : 202;
        res.set_header("Location", known ? "/v2/a/blobs/" + req.get_param_value("mount") : "/v2/a/blobs/uploads/u1");
        return;
      }
      session.clear();
      res.status = 202;
      res.set_header("Location", "/v2/a/blobs/uploads/u1?state=0");
    });
    server.Patch("/v2/a/blobs/uploads/u1", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      patches.push_back(req.get_header_value("Content-Range"));
      if (req.get_header_value("Content-Range") !=
          std::to_string(session.size()) + "-" + std::to_string(session.size() + req.body.size() - 1)) {
        res.status = 416;
        return;
      }
      session += req.body;
      res.status = 202;
      res.set_header("Location", "/v2/a/blobs/uploads/u1?state=" + std::to_string(session.size()));
    });
    server.Put("/v2/a/blobs/uploads/u1", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      std::string content = session + req.body;
      std::string digest = req.get_param_value("digest");
      if (digest_of(content).str() != digest) {
        res.status = 400;
        res.set_content(R"({"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]})",
                        "application/json");
        return;
      }
      blobs[digest] = content;
      res.status = 201;
    });
    server.Delete("/v2/a/blobs/uploads/u1", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  }
};

BlobSource source_of(const std::string& data) {
  return [&data](uint64_t offset, std::span<char> buf) -> Result<size_t> {
    size_t n = std::min<size_t>(buf.size(), data.size() - std::min<size_t>(offset, data.size()));
    std::copy_n(data.data() + offset, n, buf.data());
    return n;
  };
}

TEST(RemoteClient, UploadsMonolithicallyAndInChunks) {
  TestServer server;
  UploadServer registry;
  registry.install(server.server());
  server.start();
  Recorder recorder;
  std::string data(2500000, 'q');
  data += "tail";
  auto client = client_for(server, recorder.options());
  ASSERT_OK(client->put_blob("a", digest_of(data), data.size(), source_of(data)));
  EXPECT_TRUE(registry.blobs[digest_of(data).str()] == data);
  EXPECT_TRUE(registry.patches.empty());

  auto options = recorder.options();
  options.chunk_size = 1 << 20;
  auto chunked = client_for(server, options);
  std::string other = data + "!";
  ASSERT_OK(chunked->put_blob("a", digest_of(other), other.size(), source_of(other)));
  EXPECT_TRUE(registry.blobs[digest_of(other).str()] == other);
  EXPECT_EQ(registry.patches, (std::vector<std::string>{"0-1048575", "1048576-2097151", "2097152-2500004"}));

  std::string lie = "not what the digest says";
  EXPECT_ERRC(client->put_blob("a", digest_of("x"), lie.size(), source_of(lie)), Errc::digest_invalid);
}

TEST(RemoteClient, MountsFromAnotherRepositoryOrSaysItCannot) {
  TestServer server;
  UploadServer registry;
  registry.install(server.server());
  server.start();
  Recorder recorder;
  auto client = client_for(server, recorder.options());
  std::string data = "mounted";
  ASSERT_OK(client->put_blob("a", digest_of(data), data.size(), source_of(data)));
  auto mounted = client->mount_blob("a", digest_of(data), "b");
  ASSERT_OK(mounted);
  EXPECT_TRUE(*mounted);
  auto refused = client->mount_blob("a", digest_of("unknown"), "b");
  ASSERT_OK(refused);
  EXPECT_FALSE(*refused);
}

TEST(RemoteClient, ReportsAnUnreachableRegistryAfterItsRetries) {
  Recorder recorder;
  auto options = recorder.options();
  options.credentials = Credentials{"", ""};
  options.max_retries = 1;
  auto client = make_client("127.0.0.1:" + std::to_string(testing::free_port()), options);
  ASSERT_OK(client);
  EXPECT_ERRC((*client)->stat_blob("a", digest_of("x")), Errc::io_error);
  EXPECT_EQ(recorder.delays.size(), 1u);
}

}  // namespace
}  // namespace regd::remote

namespace regd::remote {
namespace {

TEST(RemoteClient, SpeaksPlainHttpOnlyWithoutTlsVerification) {
  TestServer server;
  server.server().Get("/v2/a/tags/list", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"name":"a","tags":["t"]})", "application/json");
  });
  server.start();
  Recorder recorder;
  auto options = recorder.options();
  options.tls_verify = true;
  options.max_retries = 0;
  auto verifying = client_for(server, options);
  EXPECT_FALSE(verifying->list_tags("a").has_value());  // HTTPS only: the plain server is refused
  options.tls_verify = false;
  auto relaxed = client_for(server, options);
  auto tags = relaxed->list_tags("a");
  ASSERT_OK(tags);
  EXPECT_EQ(*tags, std::vector<std::string>{"t"});
}

}  // namespace
}  // namespace regd::remote
