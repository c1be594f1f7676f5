// The pull-through cache's pieces without a network: option parsing, prefix lookup, the blob
// pipe between a fetch and its client, and fill_blob's commit-after-verify over a fake upstream.
#include "upstream.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config.h"
#include "config_print.h"
#include "regd/registry.h"
#include "test_util.h"
#include "upstream_blob.h"

namespace regd::daemon {
namespace {

using regd::testing::TempDir;

TEST(UpstreamConfig, ParsesPrefixesAndSchemes) {
  auto parsed = parse_upstreams({"hub=https://registry.example.net", "in/ternal=http://10.0.0.5:5000/"});
  ASSERT_OK(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].prefix, "hub");
  EXPECT_EQ((*parsed)[0].host, "registry.example.net");
  EXPECT_FALSE((*parsed)[0].plain_http);
  EXPECT_EQ((*parsed)[1].prefix, "in/ternal");
  EXPECT_EQ((*parsed)[1].host, "10.0.0.5:5000");
  EXPECT_TRUE((*parsed)[1].plain_http);
}

TEST(UpstreamConfig, RejectsBadMappings) {
  EXPECT_ERRC(parse_upstreams({"hub"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"Hub=https://x"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"hub=ftp://x"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"hub=https://x/v2/library"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"hub=https://user:pw@x"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"hub=https://"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"hub=https://a", "hub=https://b"}), Errc::invalid_argument);
  EXPECT_ERRC(parse_upstreams({"hub=https://a", "hub/x=https://b"}), Errc::invalid_argument);
  EXPECT_OK(parse_upstreams({"hub=https://a", "hubx=https://b"}));
}

TEST(UpstreamConfig, FlagsEnvironmentAndFileBind) {
  CLI::App app;
  Config c;
  add_config_options(app, c);
  std::vector<std::string> args = {
      "--upstream", "a=https://x",           "--upstream", "b=http://y:5000", "--upstream-ttl",
      "1m",         "--upstream-tls-verify", "false"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  EXPECT_EQ(c.upstream.upstreams, (std::vector<std::string>{"a=https://x", "b=http://y:5000"}));
  EXPECT_EQ(c.upstream.ttl, "1m");
  EXPECT_FALSE(c.upstream.tls_verify);
  EXPECT_OK(validate_config(c));

  CLI::App file_app;
  Config f;
  add_config_options(file_app, f);
  file_app.parse(std::vector<std::string>{});
  ASSERT_OK(apply_config_text(file_app, "upstream = [\"a=https://x\", \"b=http://y\"]\nupstream-timeout = \"3s\"\n",
                              "test.toml"));
  EXPECT_EQ(f.upstream.upstreams, (std::vector<std::string>{"a=https://x", "b=http://y"}));
  EXPECT_EQ(f.upstream.timeout, "3s");
}

TEST(UpstreamConfig, PrintsTheMappingsAsATomlArrayThatReadsBack) {
  CLI::App app;
  Config c;
  add_config_options(app, c);
  app.parse(std::vector<std::string>{});
  EXPECT_EQ(config_value(*app.get_option("--upstream")), "[]");
  std::vector<std::string> args = {"--upstream", "a=https://x", "--upstream", "b=http://y:5000"};
  std::reverse(args.begin(), args.end());
  CLI::App given;
  Config g;
  add_config_options(given, g);
  given.parse(args);
  auto printed = config_value(*given.get_option("--upstream"));
  EXPECT_EQ(printed, R"(["a=https://x", "b=http://y:5000"])");
  CLI::App back;
  Config b;
  add_config_options(back, b);
  back.parse(std::vector<std::string>{});
  ASSERT_OK(apply_config_text(back, "upstream = " + printed + "\n", "printed.toml"));
  EXPECT_EQ(b.upstream.upstreams, g.upstream.upstreams);
  CLI::App empty;
  Config e;
  add_config_options(empty, e);
  empty.parse(std::vector<std::string>{});
  ASSERT_OK(apply_config_text(empty, "upstream = []\n", "empty.toml"));
  EXPECT_TRUE(e.upstream.upstreams.empty());
}

TEST(UpstreamConfig, ValidationRejectsBadValues) {
  Config c;
  c.upstream.upstreams = {"a=https://x"};
  c.upstream.timeout = "0";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c.upstream.timeout = "10x";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c.upstream.timeout = "10s";
  c.upstream.fetches = 0;
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
}

TEST(Upstreams, FindsTheRepositoryBelowAPrefix) {
  UpstreamConfig config;
  config.upstreams = {"hub=https://h", "mirrors/quay=http://q:5000"};
  config.fetches = 1;
  auto upstreams = Upstreams::create(config);
  ASSERT_OK(upstreams);
  auto hub = (*upstreams)->find("hub/library/app");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->repository, "library/app");
  EXPECT_EQ(hub->mapping->host, "h");
  auto quay = (*upstreams)->find("mirrors/quay/x");
  ASSERT_TRUE(quay);
  EXPECT_EQ(quay->repository, "x");
  EXPECT_TRUE(quay->mapping->plain_http);
  EXPECT_FALSE((*upstreams)->find("hub"));
  EXPECT_FALSE((*upstreams)->find("hubx/app"));
  EXPECT_FALSE((*upstreams)->find("mirrors/app"));
}

TEST(Upstreams, RunsJobsOnWorkersAndRefusesWhenFull) {
  UpstreamConfig config;
  config.upstreams = {"hub=https://h"};
  config.fetches = 1;
  auto upstreams = Upstreams::create(config);
  ASSERT_OK(upstreams);
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> ran{0};
  auto blocker = [&] {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return release; });
    ++ran;
  };
  ASSERT_TRUE((*upstreams)->post(blocker));
  // One running (or about to), one queued; the queue holds as many as there are workers.
  int accepted = 1;
  bool refused = false;
  for (int i = 0; i < 3 && !refused; ++i) {
    refused = !(*upstreams)->post(blocker);
    accepted += refused ? 0 : 1;
  }
  EXPECT_TRUE(refused);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  upstreams->reset();  // finishes the queued jobs
  EXPECT_EQ(ran.load(), accepted);
}

std::span<const char> bytes(std::string_view s) {
  return {s.data(), s.size()};
}

TEST(BlobPipe, DeliversPushedBytesInOrderAndWakesTheReader) {
  auto pipe = std::make_shared<BlobPipe>(16, std::chrono::seconds(5));
  auto reader = pipe->reader();
  char buf[8];
  auto none = reader->read(0, buf);
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
  std::atomic<bool> woken{false};
  reader->on_ready(0, [&] { woken = true; });
  EXPECT_FALSE(woken);
  pipe->push(bytes("hello world"));
  EXPECT_TRUE(woken);
  auto n = reader->read(0, buf);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(buf, *n), "hello wo");
  n = reader->read(8, buf);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(buf, *n), "rld");
  pipe->finish();
  EXPECT_ERRC(reader->read(11, buf), Errc::io_error);  // finished short of the reader's length
}

TEST(BlobPipe, AFailedFetchFailsTheReader) {
  auto pipe = std::make_shared<BlobPipe>(16, std::chrono::seconds(5));
  auto reader = pipe->reader();
  pipe->push(bytes("abc"));
  std::atomic<bool> woken{false};
  reader->on_ready(3, [&] { woken = true; });
  pipe->fail();
  EXPECT_TRUE(woken);
  char buf[8];
  EXPECT_ERRC(reader->read(3, buf), Errc::io_error);
}

TEST(BlobPipe, AFullBufferWaitsForTheReaderThenDropsAStalledOne) {
  auto pipe = std::make_shared<BlobPipe>(4, std::chrono::milliseconds(50));
  auto reader = pipe->reader();
  pipe->push(bytes("abcd"));
  std::thread consumer([&] {
    char buf[4];
    auto n = reader->read(0, buf);
    EXPECT_TRUE(n && *n == 4);
  });
  pipe->push(bytes("efgh"));  // waits until the consumer drained the first four bytes (or the stall)
  consumer.join();
  pipe->push(bytes("ijkl"));  // nobody reads: dropped after the stall, the producer goes on
  char buf[16];
  EXPECT_ERRC(reader->read(4, buf), Errc::io_error);
}

TEST(BlobPipe, AGoneReaderNeverBlocksTheProducer) {
  auto pipe = std::make_shared<BlobPipe>(4, std::chrono::seconds(60));
  pipe->reader().reset();
  for (int i = 0; i < 10; ++i) {
    pipe->push(bytes("abcdefgh"));
  }
  pipe->finish();
}

// An upstream holding one blob; `corrupt` flips a byte of what it sends, `drop_after` stops
// the transfer with io_error after that many bytes (a killed upstream).
class FakeUpstream : public remote::Client {
 public:
  explicit FakeUpstream(std::string blob) : m_blob(std::move(blob)) {}
  bool corrupt = false;
  std::optional<size_t> drop_after;
  std::function<void()> before_last_piece;

  const std::string& host() const override { return m_host; }
  Result<Manifest> get_manifest(std::string_view, std::string_view) override { return unsupported(); }
  Result<std::optional<Digest>> head_manifest(std::string_view, std::string_view) override { return unsupported(); }
  Status put_manifest(std::string_view, std::string_view, std::string_view, std::string_view) override {
    return unsupported();
  }
  Result<std::optional<uint64_t>> stat_blob(std::string_view, const Digest&) override { return m_blob.size(); }
  Status get_blob(std::string_view, const Digest& digest, uint64_t size, const remote::BlobSink& sink) override {
    std::string sent = m_blob;
    if (corrupt) {
      sent[0] = static_cast<char>(sent[0] ^ 1);
    }
    size_t limit = drop_after.value_or(sent.size());
    size_t half = limit / 2;
    if (auto first = sink(std::span<const char>(sent.data(), half)); !first) {
      return first;
    }
    if (before_last_piece) {
      before_last_piece();
    }
    if (auto second = sink(std::span<const char>(sent.data() + half, limit - half)); !second) {
      return second;
    }
    if (limit < sent.size()) {
      return fail(Errc::io_error, "stream broken");
    }
    if (digest_of(sent, digest.algorithm()) != digest || sent.size() != size) {
      return fail(Errc::digest_invalid, "content does not match");
    }
    return {};
  }
  Status put_blob(std::string_view, const Digest&, uint64_t, const remote::BlobSource&) override {
    return unsupported();
  }
  Result<bool> mount_blob(std::string_view, const Digest&, std::string_view) override { return unsupported(); }
  Result<std::vector<std::string>> list_tags(std::string_view) override { return unsupported(); }
  Result<std::vector<Descriptor>> list_referrers(std::string_view, const Digest&) override { return unsupported(); }
  const remote::ClientStats& stats() const override { return m_stats; }

 private:
  static std::unexpected<Error> unsupported() { return std::unexpected(Error{Errc::unsupported, "fake"}); }
  std::string m_host = "fake";
  std::string m_blob;
  remote::ClientStats m_stats;
};

// Regular files under `dir`: an uncommitted writer leaves none (no data, no temp file).
size_t files_under(const std::filesystem::path& dir) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    n += entry.is_regular_file() ? 1 : 0;
  }
  return n;
}

class FillBlob : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = make_posix_storage(m_dir.path());
    ASSERT_OK(storage);
    m_registry = make_registry(std::shared_ptr<Storage>(std::move(*storage)));
  }

  // Reads everything the pipe lets through (on this thread, after the fill).
  std::string drain(BodyStream& reader, Status& status, uint64_t from = 0) {
    std::string got;
    char buf[65536];
    for (;;) {
      auto n = reader.read(from + got.size(), buf);
      if (!n) {
        status = std::unexpected(n.error());
        return got;
      }
      if (*n == 0) {
        return got;
      }
      got.append(buf, *n);
    }
  }

  TempDir m_dir;
  std::unique_ptr<Registry> m_registry;
  std::string m_blob = std::string(300000, 'x') + "the end";
  Digest m_digest = digest_of(m_blob, DigestAlgorithm::sha256);
};

TEST_F(FillBlob, StoresAVerifiedBlobAndDeliversEveryByte) {
  FakeUpstream upstream(m_blob);
  auto writer = m_registry->put_blob("hub/app", m_digest);
  ASSERT_OK(writer);
  ASSERT_TRUE(*writer);
  auto pipe = std::make_shared<BlobPipe>(1 << 20, std::chrono::seconds(5));
  auto reader = pipe->reader();
  ASSERT_OK(fill_blob(upstream, "app", m_digest, m_blob.size(), **writer, *pipe));
  Status status;
  EXPECT_EQ(drain(*reader, status), m_blob);
  auto stored = m_registry->stat_blob("hub/app", m_digest);
  ASSERT_OK(stored);
  EXPECT_EQ(stored->size, m_blob.size());
}

TEST_F(FillBlob, HoldsTheLastByteUntilTheBlobIsCommitted) {
  FakeUpstream upstream(m_blob);
  auto writer = m_registry->put_blob("hub/app", m_digest);
  ASSERT_OK(writer);
  auto pipe = std::make_shared<BlobPipe>(1 << 20, std::chrono::seconds(5));
  auto reader = pipe->reader();
  std::string before_commit;
  upstream.before_last_piece = [&] {
    Status ignored;
    before_commit = drain(*reader, ignored);
  };
  ASSERT_OK(fill_blob(upstream, "app", m_digest, m_blob.size(), **writer, *pipe));
  EXPECT_EQ(before_commit.size(), m_blob.size() / 2);
  Status status;
  std::string rest = drain(*reader, status, before_commit.size());  // ends with "ended early": past the blob
  EXPECT_TRUE(before_commit + rest == m_blob) << before_commit.size() << " + " << rest.size() << " bytes";
}

TEST_F(FillBlob, AMismatchCommitsNothingAndFailsTheClient) {
  FakeUpstream upstream(m_blob);
  upstream.corrupt = true;
  auto writer = m_registry->put_blob("hub/app", m_digest);
  ASSERT_OK(writer);
  auto pipe = std::make_shared<BlobPipe>(1 << 20, std::chrono::seconds(5));
  auto reader = pipe->reader();
  EXPECT_ERRC(fill_blob(upstream, "app", m_digest, m_blob.size(), **writer, *pipe), Errc::digest_invalid);
  Status status;
  std::string got = drain(*reader, status);
  EXPECT_FALSE(status);
  EXPECT_LT(got.size(), m_blob.size());
  writer->reset();
  EXPECT_ERRC(m_registry->stat_blob("hub/app", m_digest), Errc::blob_unknown);
  EXPECT_EQ(files_under(m_dir.path()), 0u);
}

TEST_F(FillBlob, AnUpstreamDroppedMidBlobCommitsNothing) {
  FakeUpstream upstream(m_blob);
  upstream.drop_after = 1000;
  auto writer = m_registry->put_blob("hub/app", m_digest);
  ASSERT_OK(writer);
  auto pipe = std::make_shared<BlobPipe>(1 << 20, std::chrono::seconds(5));
  auto reader = pipe->reader();
  EXPECT_ERRC(fill_blob(upstream, "app", m_digest, m_blob.size(), **writer, *pipe), Errc::io_error);
  Status status;
  EXPECT_EQ(drain(*reader, status).size(), 0u);  // the pipe failed: nothing more to read
  EXPECT_FALSE(status);
  writer->reset();
  EXPECT_ERRC(m_registry->stat_blob("hub/app", m_digest), Errc::blob_unknown);
  EXPECT_EQ(files_under(m_dir.path()), 0u);
}

}  // namespace
}  // namespace regd::daemon
