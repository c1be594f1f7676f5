// The logs of a running regd: access-line fields, request ids, the level (flag, SIGHUP), the
// buffered access log written out on SIGTERM, and the text format on a terminal.
#include <set>

#include <poll.h>
#include <pty.h>

#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

// The access lines ("msg":"request") of a log; a line that is not JSON fails the test.
std::vector<nlohmann::json> access_lines(const std::string& log) {
  std::vector<nlohmann::json> out;
  std::stringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (!j.is_discarded() && j.value("msg", "") == "request") {
      out.push_back(j);
    }
  }
  return out;
}

// The access line of `request_id`, waiting (at most 10 s) for the buffer to be written; null
// when it never comes.
nlohmann::json access_line(const RegdProcess& regd, const std::string& request_id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    for (auto& j : access_lines(regd.log())) {
      if (j.value("request_id", "") == request_id) {
        return j;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return nullptr;
}

// Waits (at most 10 s) until the log contains `text`.
bool log_contains(const RegdProcess& regd, const std::string& text) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (regd.log().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The value of response header `name` in a raw response head.
std::string header_of(const std::string& response, const std::string& name) {
  auto pos = response.find("\r\n" + name + ": ");
  if (pos == std::string::npos) {
    return "";
  }
  pos += name.size() + 4;
  return response.substr(pos, response.find("\r\n", pos) - pos);
}

bool is_generated_id(const std::string& id) {
  return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(Logs, AccessLinesNameTheRouteTheRepositoryAndTheRequest) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto manifest = push_image(c, "team/app", "v1");
  auto r = c.Get("/v2/team/app/manifests/v1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto id = r->get_header_value("X-Request-Id");
  EXPECT_TRUE(is_generated_id(id)) << id;
  auto line = access_line(regd, id);
  ASSERT_FALSE(line.is_null()) << regd.log();
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["route"], "manifest");
  EXPECT_EQ(line["repository"], "team/app");
  EXPECT_EQ(line["path"], "/v2/team/app/manifests/v1");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["bytes"], manifest.size());
  EXPECT_EQ(line["bytes_in"], 0);
  EXPECT_EQ(line["user"], "");
  EXPECT_TRUE(line["duration_ms"].is_number()) << line;
  EXPECT_TRUE(line.contains("remote")) << line;
  auto missing = c.Get("/v2/team/app/blobs/sha256:" + std::string(64, '0'));
  ASSERT_TRUE(missing);
  line = access_line(regd, missing->get_header_value("X-Request-Id"));
  ASSERT_FALSE(line.is_null()) << regd.log();
  EXPECT_EQ(line["route"], "blob");
  EXPECT_EQ(line["status"], 404);
  auto probe = c.Get("/healthz");
  ASSERT_TRUE(probe);
  line = access_line(regd, probe->get_header_value("X-Request-Id"));
  ASSERT_FALSE(line.is_null()) << regd.log();
  EXPECT_EQ(line["route"], "healthz");
  EXPECT_EQ(line["repository"], "");
  auto nowhere = c.Get("/v1/");
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(access_line(regd, nowhere->get_header_value("X-Request-Id"))["route"], "not_found");
}

TEST(Logs, AClientRequestIdIsKeptOnlyWhenItIsAShortToken) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  auto send = [&](const std::string& id) {
    RawConnection conn(regd.port());
    EXPECT_TRUE(conn.send("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + id + "\r\nConnection: close\r\n\r\n"));
    return header_of(conn.read_response(), "X-Request-Id");
  };
  for (std::string id : {std::string("trace-42.A_b~!#$%&'*+^`|"), std::string(64, 'a')}) {
    EXPECT_EQ(send(id), id);
    EXPECT_FALSE(access_line(regd, id).is_null()) << id << "\n" << regd.log();
  }
  for (std::string id : {std::string(65, 'a'), std::string("a/b"), std::string("x\"y"), std::string("k=v"),
                         std::string("two words"), std::string("caf\xc3\xa9")}) {
    auto echoed = send(id);
    EXPECT_TRUE(is_generated_id(echoed)) << id << " -> " << echoed;
    auto line = access_line(regd, echoed);
    ASSERT_FALSE(line.is_null()) << regd.log();
    EXPECT_EQ(line["route"], "base");
  }
  EXPECT_EQ(regd.log().find("a/b"), std::string::npos) << "a refused id is not logged";
}

TEST(Logs, AccessLinesNameTheAuthenticatedUser) {
  TempDir tmp;
  auto htpasswd = (tmp.path() / "htpasswd").string();
  ASSERT_EQ(std::system(("htpasswd -B -C 4 -b -c " + htpasswd + " alice alice-pw 2>/dev/null").c_str()), 0);
  RegdProcess regd(tmp.path() / "root", {"--htpasswd", htpasswd});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto anonymous = c.Get("/v2/lib/app/tags/list", {{"X-Request-Id", "anonymous-1"}});
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  c.set_basic_auth("alice", "alice-pw");
  auto r = c.Get("/v2/lib/app/tags/list", {{"X-Request-Id", "as-alice-1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  auto line = access_line(regd, "as-alice-1");
  ASSERT_FALSE(line.is_null()) << regd.log();
  EXPECT_EQ(line["user"], "alice");
  EXPECT_EQ(line["route"], "tags_list");
  EXPECT_EQ(line["repository"], "lib/app");
  line = access_line(regd, "anonymous-1");
  ASSERT_FALSE(line.is_null()) << regd.log();
  EXPECT_EQ(line["user"], "");
  EXPECT_EQ(line["status"], 401);
  EXPECT_EQ(line["repository"], "lib/app");
}

TEST(Logs, LevelWarnDropsAccessLinesButNotWarnings) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--log-level", "warn"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(c.Get("/v2/")->status, 200);
  }
  RawConnection conn(regd.port());
  conn.send("GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_NE(conn.read_all().find("400 Bad Request"), std::string::npos);
  EXPECT_EQ(regd.stop(SIGTERM), 0);
  auto log = regd.log();
  EXPECT_NE(log.find(R"("level":"warn","msg":"bad request")"), std::string::npos) << log;
  EXPECT_TRUE(access_lines(log).empty()) << log;
  EXPECT_EQ(log.find(R"("level":"info")"), std::string::npos) << log;
}

TEST(Logs, SighupRereadsTheLevelFromTheConfigFile) {
  TempDir tmp;
  auto config = tmp.path() / "regd.toml";
  std::ofstream(config) << "log-level = \"warn\"\n";
  RegdProcess regd(tmp.path() / "root", {"--config", config.string()});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  EXPECT_EQ(c.Get("/v2/", {{"X-Request-Id", "before-hup"}})->status, 200);
  std::ofstream(config) << "log-level = \"info\"\n";
  ::kill(regd.pid(), SIGHUP);
  EXPECT_TRUE(log_contains(regd, R"("msg":"log level reloaded","from":"warn","to":"info")")) << regd.log();
  EXPECT_EQ(c.Get("/v2/", {{"X-Request-Id", "after-hup"}})->status, 200);
  EXPECT_FALSE(access_line(regd, "after-hup").is_null()) << regd.log();
  std::ofstream(config) << "log-level = \"error\"\nno-such-key = 1\n";
  ::kill(regd.pid(), SIGHUP);
  EXPECT_TRUE(log_contains(regd, R"("msg":"reloaded","reloaded":"","unchanged":"log-level,limits","failed":"config")"))
      << regd.log();
  EXPECT_EQ(c.Get("/v2/", {{"X-Request-Id", "after-bad-hup"}})->status, 200);
  EXPECT_FALSE(access_line(regd, "after-bad-hup").is_null()) << "the level stayed info\n" << regd.log();
  EXPECT_EQ(regd.stop(SIGTERM), 0);
  EXPECT_EQ(regd.log().find("before-hup"), std::string::npos) << regd.log();
}

TEST(Logs, SigtermWritesEveryBufferedAccessLine) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  constexpr int k_requests = 300;
  for (int i = 0; i < k_requests; ++i) {
    ASSERT_EQ(c.Get("/v2/", {{"X-Request-Id", "flush-" + std::to_string(i)}})->status, 200);
  }
  EXPECT_EQ(regd.stop(SIGTERM), 0);
  std::set<std::string> seen;
  int lines = 0;
  for (auto& j : access_lines(regd.log())) {
    std::string id = j["request_id"];
    if (id.starts_with("flush-")) {
      seen.insert(id);
      ++lines;
    }
  }
  EXPECT_EQ(lines, k_requests);
  EXPECT_EQ(seen.size(), static_cast<size_t>(k_requests));
}

// Runs regd with stderr on a pseudo-terminal until it logs "listening"; returns what it wrote.
std::string run_on_terminal(const fs::path& root, std::vector<std::string> extra) {
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    return "openpty failed";
  }
  std::vector<std::string> args = {REGD_BINARY, "--root", root.string(), "--listen",
                                   "127.0.0.1:" + std::to_string(free_port())};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(slave, 2);
    ::close(master);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(slave);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.find("listening") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) == 1) {
      char buf[4096];
      auto n = ::read(master, buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(master);
  return out;
}

TEST(Logs, TextOnATerminalUnlessAFormatIsGiven) {
  TempDir tmp;
  auto text = run_on_terminal(tmp.path() / "root", {});
  EXPECT_NE(text.find(" info listening address=127.0.0.1 port="), std::string::npos) << text;
  EXPECT_EQ(text.find(R"("msg":"listening")"), std::string::npos) << text;
  auto json = run_on_terminal(tmp.path() / "root", {"--log-format", "json"});
  EXPECT_NE(json.find(R"("msg":"listening")"), std::string::npos) << json;
}

}  // namespace
}  // namespace regd::testing
