// Starts a regd child process on a free port over a given root, for the daemon's API tests, and
// small helpers to talk to it (cpp-httplib client, raw sockets, pushing blobs and manifests).
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regd/digest.h"
#include "test_util.h"

namespace regd::testing {

class RegdProcess {
 public:
  // Starts regd over `root` with `extra` flags; waits (at most 10 s) until /healthz answers.
  // With REGD_TEST_S3_BUCKET set (tests/scale/s3_api_test.sh), `root` names a prefix of that
  // bucket instead (storage_root()); regd inherits the AWS_* variables.
  explicit RegdProcess(const std::filesystem::path& root, std::vector<std::string> extra = {})
      : m_root(root), m_extra(std::move(extra)) {
    for (int attempt = 0; attempt < 5 && !m_ready; ++attempt) {
      start();
    }
  }
  ~RegdProcess() { kill_now(); }
  RegdProcess(const RegdProcess&) = delete;
  RegdProcess& operator=(const RegdProcess&) = delete;

  bool ready() const { return m_ready; }
  // What regd gets as --root: `root`, or with REGD_TEST_S3_BUCKET set
  // s3://BUCKET/[REGD_TEST_S3_PREFIX/]<root relative to the temp directory>. Every test's temp
  // directory is new, so each test gets a prefix of its own; the instances one test starts over
  // one root share it, as they share the directory on POSIX.
  std::string storage_root() const {
    const char* bucket = std::getenv("REGD_TEST_S3_BUCKET");
    if (bucket == nullptr || *bucket == '\0') {
      return m_root.string();
    }
    auto relative = m_root.lexically_relative(std::filesystem::temp_directory_path());
    if (relative.empty() || *relative.begin() == "..") {
      relative = m_root.relative_path();
    }
    std::string prefix;
    if (const char* p = std::getenv("REGD_TEST_S3_PREFIX"); p != nullptr && *p != '\0') {
      prefix = std::string(p) + "/";
    }
    return "s3://" + std::string(bucket) + "/" + prefix + relative.generic_string();
  }
  int port() const { return m_port; }
  pid_t pid() const { return m_pid; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", m_port);
    c.set_read_timeout(20, 0);
    c.set_write_timeout(20, 0);
    return c;
  }
  std::string log() const {
    std::ifstream in(m_log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Sends `sig` and waits (at most `timeout`) for the exit; returns the exit status or -1.
  int stop(int sig = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(15)) {
    if (m_pid <= 0) {
      return -1;
    }
    ::kill(m_pid, sig);
    return wait_exit(timeout);
  }
  int wait_exit(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  // Resident set size in KiB (from /proc).
  long rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(m_pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("VmRSS:")) {
        return std::stol(line.substr(6));
      }
    }
    return -1;
  }

 private:
  void start() {
    m_port = free_port();
    m_log = m_root.parent_path() / ("regd-" + std::to_string(m_port) + ".log");
    std::vector<std::string> args = {
        REGD_BINARY, "--root", storage_root(), "--listen", "127.0.0.1:" + std::to_string(m_port), "--threads", "2"};
    args.insert(args.end(), m_extra.begin(), m_extra.end());
    m_pid = ::fork();
    if (m_pid == 0) {
      int fd = ::open(m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      httplib::Client c("127.0.0.1", m_port);
      c.set_connection_timeout(0, 200000);
      if (auto r = c.Get("/healthz"); r && r->status == 200) {
        m_ready = true;
        return;
      }
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {  // died (port taken?): try another
        m_pid = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_now();
  }
  void kill_now() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
      m_pid = -1;
    }
  }

  std::filesystem::path m_root;
  std::vector<std::string> m_extra;
  std::filesystem::path m_log;
  pid_t m_pid = -1;
  int m_port = 0;
  bool m_ready = false;
};

// A test with its own temp dir and one regd over <tmp>/root.
class RegdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_regd = std::make_unique<RegdProcess>(root());
    ASSERT_TRUE(m_regd->ready()) << "regd did not start";
  }
  std::filesystem::path root() const { return m_tmp.path() / "root"; }
  httplib::Client client() const { return m_regd->client(); }
  RegdProcess& regd() { return *m_regd; }

  TempDir m_tmp;
  std::unique_ptr<RegdProcess> m_regd;
};

inline std::string sha256_of(std::string_view data) {
  return digest_of(data).str();
}

inline std::string random_bytes(size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

// Monolithic push (POST ?digest=); returns the digest.
inline std::string push_blob(httplib::Client& c, const std::string& repo, const std::string& data) {
  auto digest = sha256_of(data);
  auto r = c.Post(("/v2/" + repo + "/blobs/uploads/?digest=" + digest).c_str(), data, "application/octet-stream");
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no response");
  return digest;
}

inline nlohmann::json descriptor(const std::string& media_type, const std::string& data) {
  return {{"mediaType", media_type}, {"digest", sha256_of(data)}, {"size", data.size()}};
}

// An OCI image manifest over a config and layers already pushed.
inline std::string image_manifest(const std::string& config, const std::vector<std::string>& layers,
                                  const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                      {"config", descriptor("application/vnd.oci.image.config.v1+json", config)},
                      {"layers", nlohmann::json::array()}};
  for (const auto& l : layers) {
    m["layers"].push_back(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l));
  }
  m.update(extra);
  return m.dump();
}

// Pushes a config and one layer, then an image manifest under `reference`; returns the
// manifest's content.
inline std::string push_image(httplib::Client& c, const std::string& repo, const std::string& reference,
                              unsigned seed = 1, const nlohmann::json& extra = nlohmann::json::object()) {
  std::string config = R"({"architecture":"amd64","os":"linux","seed":)" + std::to_string(seed) + "}";
  std::string layer = random_bytes(1000 + seed, seed);
  push_blob(c, repo, config);
  push_blob(c, repo, layer);
  auto manifest = image_manifest(config, {layer}, extra);
  auto r = c.Put(("/v2/" + repo + "/manifests/" + reference).c_str(), manifest,
                 "application/vnd.oci.image.manifest.v1+json");
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no response");
  return manifest;
}

// The "code" of the first error in a spec error body, or "" when the body is not one.
inline std::string error_code(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("errors") || j["errors"].empty()) {
    return "";
  }
  return j["errors"][0].value("code", "");
}

// The status code of a raw HTTP/1.1 response, or -1 when it is not one.
inline int status_of(const std::string& response) {
  return response.starts_with("HTTP/1.1 ") ? std::stoi(response.substr(9, 3)) : -1;
}

// A raw TCP connection for requests httplib cannot express.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() { ::close(m_fd); }
  bool connected() const { return m_connected; }
  // Sends everything; false when the peer stopped reading or closed.
  bool send(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until the peer closes, an error, or `max` bytes (a bounded wait: SO_RCVTIMEO).
  std::string read_all(size_t max = 1 << 20) {
    std::string out;
    char buf[4096];
    while (out.size() < max) {
      auto n = ::recv(m_fd, buf, sizeof buf, 0);
      if (n <= 0) {
        m_closed = n == 0;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads one response head (up to the blank line) and then, unless `head_request`,
  // `Content-Length` body bytes.
  std::string read_response(bool head_request = false) {
    std::string out;
    char c;
    while (out.find("\r\n\r\n") == std::string::npos && ::recv(m_fd, &c, 1, 0) == 1) {
      out.push_back(c);
    }
    auto pos = out.find("Content-Length: ");
    size_t length = pos == std::string::npos || head_request ? 0 : std::stoul(out.substr(pos + 16));
    while (length > 0 && ::recv(m_fd, &c, 1, 0) == 1) {
      out.push_back(c);
      --length;
    }
    return out;
  }
  bool closed_by_peer() const { return m_closed; }

 private:
  int m_fd = -1;
  bool m_connected = false;
  bool m_closed = false;
};

}  // namespace regd::testing
