// What a new user meets first (issue 11): start-up checks, option errors and exit statuses,
// configuration mistakes, TLS clients on the plain port, log field types.
#include <cstdlib>
#include <regex>

#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Exit {
  int status = -1;  // exit status, 128 + signal, or -1 when it did not stop within the limit
  std::string err;  // everything on stderr
};

// Runs regd with `args` to completion (killed after `limit`), capturing stderr.
Exit run_regd(const fs::path& dir, std::vector<std::string> args,
              std::chrono::seconds limit = std::chrono::seconds(10)) {
  args.insert(args.begin(), REGD_BINARY);
  auto err_path = dir / "stderr.txt";
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Exit out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      out.err = read_file(err_path);
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.err = read_file(err_path);
  return out;
}

// The log once it contains `text` (access lines are written after the response is sent).
std::string log_with(const RegdProcess& regd, const std::string& text) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto log = regd.log();
  while (log.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = regd.log();
  }
  return log;
}

std::string listen_arg() {
  return "127.0.0.1:" + std::to_string(free_port());
}

// A root regd cannot write, even as root: /proc/self (through a symlink, so logs stay in tmp).
fs::path unwritable_root(const TempDir& tmp) {
  auto root = tmp.path() / "procroot";
  fs::create_directory_symlink("/proc/self", root);
  return root;
}

TEST(Startup, RefusesAnUnwritableRootWithTheReasonOnStderr) {
  TempDir tmp;
  auto run = run_regd(tmp.path(), {"--root", unwritable_root(tmp).string(), "--listen", listen_arg()});
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.err.find("cannot use the storage root"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("storage not writable"), std::string::npos) << run.err;
}

TEST(Startup, AReadOnlyInstanceNeedsAReadableRootOnly) {
  TempDir tmp;
  RegdProcess regd(unwritable_root(tmp), {"--read-only"});
  ASSERT_TRUE(regd.ready()) << regd.log();
  auto r = regd.client().Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(Startup, BadOptionsExitWithStatus2AndOnePrefix) {
  TempDir tmp;
  for (std::vector<std::string> args : {std::vector<std::string>{"--no-such-flag"},
                                        {"--threads", "many"},
                                        {"--log-format", "xml"},
                                        {"--listen", "nowhere"},
                                        {"--immutable-tags", "v/*"}}) {
    auto run = run_regd(tmp.path(), args);
    EXPECT_EQ(run.status, 2) << args[0] << ": " << run.err;
    EXPECT_TRUE(run.err.starts_with("regd: error: ")) << run.err;
  }
  auto help = run_regd(tmp.path(), {"--help"});
  EXPECT_EQ(help.status, 0);
}

TEST(Startup, AnUnknownConfigKeyIsAnErrorNamingKeyAndFile) {
  TempDir tmp;
  auto config = tmp.path() / "regd.toml";
  std::ofstream(config) << "readonly = true\n";
  auto run = run_regd(tmp.path(), {"--config", config.string(), "--root", (tmp.path() / "root").string()});
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_NE(run.err.find("regd: error: " + config.string() + ": unknown key 'readonly'"), std::string::npos) << run.err;
  std::ofstream(config) << "[regd]\nread-only = true\n";
  run = run_regd(tmp.path(), {"--config", config.string(), "--root", (tmp.path() / "root").string()});
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_NE(run.err.find("section [regd]"), std::string::npos) << run.err;
}

TEST(Startup, AnUnknownRegdVariableIsWarnedAbout) {
  TempDir tmp;
  ::setenv("REGD_READONLY", "true", 1);
  RegdProcess regd(tmp.path() / "root");
  ::unsetenv("REGD_READONLY");
  ASSERT_TRUE(regd.ready());
  auto log = regd.log();
  EXPECT_NE(log.find(R"("msg":"environment variable matches no option, ignored","name":"REGD_READONLY")"),
            std::string::npos)
      << log;
}

TEST(Startup, TheConfigFileIsOverriddenByEnvironmentAndFlags) {
  TempDir tmp;
  auto config = tmp.path() / "regd.toml";
  std::ofstream(config) << "read-only = true\nlog-format = \"text\"\n";
  ::setenv("REGD_LOG_FORMAT", "json", 1);
  RegdProcess regd(tmp.path() / "root", {"--config", config.string()});
  ::unsetenv("REGD_LOG_FORMAT");
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto r = c.Post("/v2/cfg/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);                                                            // read-only from the file
  EXPECT_NE(regd.log().find(R"("msg":"listening")"), std::string::npos) << regd.log();  // json from the env
}

TEST(Startup, ASecondSignalExitsWithStatus3) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--drain-delay", "20"});
  ASSERT_TRUE(regd.ready());
  ::kill(regd.pid(), SIGTERM);
  auto c = regd.client();
  for (int i = 0; i < 100; ++i) {
    auto r = c.Get("/readyz");
    if (r && r->status == 503) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(regd.stop(SIGTERM, std::chrono::seconds(10)), 3);
}

TEST(Startup, AGracefulStopExitsWithStatus0) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  EXPECT_EQ(regd.stop(SIGTERM), 0);
}

// skopeo and podman try HTTPS first: the ClientHello is recognised, noted once, closed.
TEST(Startup, ATlsHandshakeIsNotedOnceAndClosed) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  const std::string hello("\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03", 11);
  for (int i = 0; i < 3; ++i) {
    RawConnection raw(regd.port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.send(hello));
    EXPECT_EQ(raw.read_all(), "");
    EXPECT_TRUE(raw.closed_by_peer());
  }
  ASSERT_TRUE(regd.client().Get("/healthz"));
  auto log = log_with(regd, R"("path":"/healthz")");
  std::string note = "TLS handshake on a plain-HTTP listener: clients must use http://";
  auto first = log.find(note);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(note, first + 1), std::string::npos) << log;
  EXPECT_NE(log.find(R"("level":"info","msg":")" + note), std::string::npos) << log;
  EXPECT_EQ(log.find("bad method"), std::string::npos) << log;
}

TEST(Startup, JsonLogsUseJsonTypes) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  ASSERT_TRUE(regd.client().Get("/v2/"));
  bool listening = false;
  bool request = false;
  std::istringstream lines(log_with(regd, R"("msg":"request")"));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    if (j["msg"] == "listening") {
      listening = true;
      EXPECT_TRUE(j["read_only"].is_boolean()) << line;
    }
    if (j["msg"] == "request") {
      request = true;
      EXPECT_TRUE(j["duration_ms"].is_number()) << line;
    }
  }
  EXPECT_TRUE(listening && request);
}

TEST(Startup, TextLogsPrintBooleansAndShortDurations) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--log-format", "text"});
  ASSERT_TRUE(regd.ready());
  ASSERT_TRUE(regd.client().Get("/v2/"));
  auto log = log_with(regd, "path=/v2/ ");
  EXPECT_NE(log.find(" read_only=false"), std::string::npos) << log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(path=/v2/ .* duration_ms=(\S+))"))) << log;
  EXPECT_TRUE(std::regex_match(m[1].str(), std::regex(R"(\d+(\.\d{1,3})?)"))) << m[1];
}

}  // namespace
}  // namespace regd::testing
