// The configuration commands of the regd binary (--version, --print-config, --check-config) and
// SIGHUP's reload of the rate limits from the config file, with its one summary line.
#include <regex>

#include "auth_fixture.h"
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

struct Run {
  int status = -1;  // exit status, or -1 when it did not stop within 20 s
  std::string out;
  std::string err;
};

// Runs `program` with `args` to completion, capturing stdout and stderr.
Run run(const fs::path& dir, const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), program);
  auto out_path = dir / "stdout.txt";
  auto err_path = dir / "stderr.txt";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Run result;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

Run regd(const TempDir& tmp, std::vector<std::string> args) {
  return run(tmp.path(), REGD_BINARY, std::move(args));
}

TEST(ConfigCommands, VersionPrintsTheVersionAndTheGitRevision) {
  TempDir tmp;
  std::regex line(R"((regd|regctl) 0\.1\.0 \(rev ([0-9a-f]{7,}(-dirty)?|unknown)\)\n)");
  auto d = regd(tmp, {"--version"});
  EXPECT_EQ(d.status, 0);
  EXPECT_TRUE(std::regex_match(d.out, line)) << d.out;
  EXPECT_TRUE(d.out.starts_with("regd ")) << d.out;
  auto c = run(tmp.path(), REGCTL_BINARY, {"--version"});
  EXPECT_EQ(c.status, 0);
  EXPECT_TRUE(std::regex_match(c.out, line)) << c.out;
  EXPECT_EQ(c.out.substr(c.out.find(' ')), d.out.substr(d.out.find(' '))) << "the same version and revision";
}

// Print, save, start from the saved file alone, print again: the same text.
TEST(ConfigCommands, PrintConfigReadsBackAsTheSameConfiguration) {
  TempDir tmp;
  auto config = tmp.path() / "regd.toml";
  std::ofstream(config) << "threads = 3\nrate-limit-user = 2.5\nimmutable-tags = \"v*,release-*\"\n";
  ::setenv("REGD_GC_GRACE", "2h", 1);
  auto first = regd(tmp, {"--config", config.string(), "--print-config", "--root", "/srv/registry", "--read-only"});
  ::unsetenv("REGD_GC_GRACE");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.out.find("root = \"/srv/registry\"  # --root\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("threads = 3  # " + config.string() + "\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("gc-grace = \"2h\"  # REGD_GC_GRACE\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("listen = \"127.0.0.1:5000\"\n"), std::string::npos) << first.out;
  auto saved = tmp.path() / "printed.toml";
  std::ofstream(saved) << first.out;
  auto second = regd(tmp, {"--config", saved.string(), "--print-config"});
  ASSERT_EQ(second.status, 0) << second.err;
  auto strip = [](std::string text) { return std::regex_replace(text, std::regex("  # [^\n]*"), ""); };
  EXPECT_EQ(strip(second.out), strip(first.out));
}

TEST(ConfigCommands, PrintConfigRedactsAPasswordInAUrl) {
  TempDir tmp;
  auto r = regd(tmp, {"--print-config", "--token-realm", "https://ci:s3cret@auth.example/token"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("s3cret"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("token-realm = \"https://ci:<redacted>@auth.example/token\""), std::string::npos) << r.out;
}

TEST(ConfigCommands, CheckConfigPassesAGoodConfigurationWithoutListening) {
  TempDir tmp;
  fs::path htpasswd = htpasswd_file(tmp.path(), {{"alice", "alice-pw"}});
  auto rules = tmp.path() / "rules";
  std::ofstream(rules) << "user:alice team/** pull,push\n";
  int port = free_port();
  // The port is taken: --check-config does not bind it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto r =
      regd(tmp, {"--check-config", "--root", (tmp.path() / "root").string(), "--listen",
                 "127.0.0.1:" + std::to_string(port), "--htpasswd", htpasswd.string(), "--auth-rules", rules.string()});
  ::close(fd);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "config OK\n");
  EXPECT_FALSE(fs::exists(tmp.path() / "root")) << "a missing root is checked, not created";
}

// Each class of problem start-up stops at is found, named, and exits 2; all of them at once.
TEST(ConfigCommands, CheckConfigNamesEveryProblemAndExits2) {
  TempDir tmp;
  auto bad_rules = tmp.path() / "rules";
  std::ofstream(bad_rules) << "user:alice team/** fly\n";
  auto bad_key = tmp.path() / "token-key.pem";
  std::ofstream(bad_key) << "not a key\n";
  auto cert = tmp.path() / "cert.pem";
  std::ofstream(cert) << "not a certificate\n";
  auto file_root = tmp.path() / "a-file";
  std::ofstream(file_root) << "x";
  auto r = regd(tmp, {"--check-config", "--root", (file_root / "root").string(), "--htpasswd",
                      (tmp.path() / "absent").string(), "--auth-rules", bad_rules.string(), "--token-key",
                      bad_key.string(), "--tls-cert", cert.string(), "--tls-key", cert.string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  std::vector<std::string> lines;
  std::stringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 5u) << r.err;
  for (const auto& line : lines) {
    EXPECT_TRUE(line.starts_with("regd: error: ")) << line;
  }
  EXPECT_NE(r.err.find((tmp.path() / "absent").string() + ": cannot "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad_rules.string() + ": line 1: unknown action 'fly'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad_key.string() + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot load the TLS files: " + cert.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("storage root " + (file_root / "root").string() + ": missing"), std::string::npos) << r.err;
}

TEST(ConfigCommands, CheckConfigRefusesAnUnwritableRootUnlessReadOnly) {
  TempDir tmp;
  auto root = tmp.path() / "procroot";  // /proc/self: not writable even by root, but listable
  fs::create_directory_symlink("/proc/self", root);
  auto r = regd(tmp, {"--check-config", "--root", root.string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("regd: error: cannot use the storage root " + root.string() + ": storage not writable"),
            std::string::npos)
      << r.err;
  auto ro = regd(tmp, {"--check-config", "--root", root.string(), "--read-only"});
  EXPECT_EQ(ro.status, 0) << ro.err;
  EXPECT_EQ(ro.out, "config OK\n");
}

TEST(ConfigCommands, CheckConfigStopsAtAConfigurationError) {
  TempDir tmp;
  auto config = tmp.path() / "regd.ini";
  std::ofstream(config) << "; an INI file\nthreads=2\nread_onyl=true\n";
  auto r = regd(tmp, {"--check-config", "--config", config.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.err.starts_with("regd: error: " + config.string() + ": unknown key 'read_onyl'\n")) << r.err;
  auto listen = regd(tmp, {"--check-config", "--listen", "nowhere"});
  EXPECT_EQ(listen.status, 2);
  EXPECT_TRUE(listen.err.starts_with("regd: error: --listen must be HOST:PORT")) << listen.err;
}

// Requests from this client admitted before the first 429 (bounded).
int admitted(const RegdProcess& regd) {
  auto c = regd.client();
  int n = 0;
  for (; n < 50; ++n) {
    auto r = c.Get("/v2/");
    if (!r || r->status != 200) {
      break;
    }
  }
  return n;
}

// The log's lines with `text`, once there are `count` of them (at most 10 s).
std::vector<std::string> log_lines(const RegdProcess& regd, const std::string& text, size_t count) {
  std::vector<std::string> found;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    found.clear();
    std::stringstream log(regd.log());
    for (std::string line; std::getline(log, line);) {
      if (line.find(text) != std::string::npos) {
        found.push_back(line);
      }
    }
    if (found.size() >= count) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return found;
}

TEST(ConfigReload, SighupAppliesNewRateLimitsFromTheFileAndSaysWhatItDid) {
  TempDir tmp;
  auto config = tmp.path() / "regd.toml";
  std::ofstream(config) << "rate-limit-address = 0.001\nrate-limit-burst = 2\n";
  RegdProcess server(tmp.path() / "root", {"--config", config.string()});
  ASSERT_TRUE(server.ready()) << server.log();
  EXPECT_EQ(admitted(server), 2);

  std::ofstream(config) << "rate-limit-address = 0.001\nrate-limit-burst = 6\nmax-manifest-size = 1000\n";
  ::kill(server.pid(), SIGHUP);
  auto summary = log_lines(server, R"("msg":"reloaded")", 1);
  ASSERT_EQ(summary.size(), 1u) << server.log();
  auto line = nlohmann::json::parse(summary[0]);
  EXPECT_EQ(line["reloaded"], "limits") << summary[0];
  EXPECT_EQ(line["failed"], "") << summary[0];
  auto restart = log_lines(server, "need a restart", 1);
  ASSERT_EQ(restart.size(), 1u) << server.log();
  EXPECT_EQ(nlohmann::json::parse(restart[0])["options"], "max-manifest-size") << restart[0];
  EXPECT_EQ(admitted(server), 6) << "the new burst applies";

  std::ofstream(config) << "rate-limit-address = 0.001\nrate-limit-burst = 6\nrate-limit = 1\n";
  ::kill(server.pid(), SIGHUP);
  summary = log_lines(server, R"("msg":"reloaded")", 2);
  ASSERT_EQ(summary.size(), 2u) << server.log();
  line = nlohmann::json::parse(summary[1]);
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["failed"], "config") << summary[1];
  EXPECT_EQ(line["unchanged"], "log-level,limits") << summary[1];
  EXPECT_NE(line["errors"].get<std::string>().find(config.string() + ": unknown key 'rate-limit'"), std::string::npos)
      << summary[1];
  EXPECT_EQ(admitted(server), 0) << "the limits read last stay";
  EXPECT_EQ(server.client().Get("/healthz")->status, 200);
}

TEST(ConfigReload, TheSummaryNamesEachAuthFileAndWhetherItLoaded) {
  TempDir tmp;
  fs::path htpasswd = htpasswd_file(tmp.path(), {{"alice", "alice-pw"}});
  auto rules = tmp.path() / "rules";
  std::ofstream(rules) << "user:alice team/** pull\n";
  RegdProcess server(tmp.path() / "root", {"--htpasswd", htpasswd.string(), "--auth-rules", rules.string()});
  ASSERT_TRUE(server.ready()) << server.log();
  std::ofstream(rules) << "user:alice team/** fly\n";
  ::kill(server.pid(), SIGHUP);
  auto summary = log_lines(server, R"("msg":"reloaded")", 1);
  ASSERT_EQ(summary.size(), 1u) << server.log();
  auto line = nlohmann::json::parse(summary[0]);
  EXPECT_EQ(line["reloaded"], "htpasswd") << summary[0];
  EXPECT_EQ(line["failed"], "auth-rules") << summary[0];
  EXPECT_EQ(line["unchanged"], "log-level,limits") << summary[0];
  EXPECT_NE(line["errors"].get<std::string>().find("auth-rules: " + rules.string() + ": line 1"), std::string::npos)
      << summary[0];
}

}  // namespace
}  // namespace regd::testing
