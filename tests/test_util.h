// Helpers shared by every C++ test: ASSERT_OK, a private temp directory per test, free ports.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "regd/error.h"

namespace regd::testing {

// Prints the error of a failed Result.
#define ASSERT_OK(expr)                                                                                           \
  do {                                                                                                            \
    const auto& regd_result_ = (expr);                                                                            \
    ASSERT_TRUE(regd_result_.has_value())                                                                         \
        << #expr << ": " << ::regd::errc_name(regd_result_.error().code) << ": " << regd_result_.error().message; \
  } while (false)
#define EXPECT_OK(expr)                                                                                           \
  do {                                                                                                            \
    const auto& regd_result_ = (expr);                                                                            \
    EXPECT_TRUE(regd_result_.has_value())                                                                         \
        << #expr << ": " << ::regd::errc_name(regd_result_.error().code) << ": " << regd_result_.error().message; \
  } while (false)
// Expects a failed Result with the given Errc.
#define EXPECT_ERRC(expr, errc)                                                                                       \
  do {                                                                                                                \
    const auto& regd_result_ = (expr);                                                                                \
    ASSERT_FALSE(regd_result_.has_value()) << #expr << " succeeded unexpectedly";                                     \
    EXPECT_EQ(::regd::errc_name(regd_result_.error().code), ::regd::errc_name(errc)) << regd_result_.error().message; \
  } while (false)

// The value of an environment variable, or "" when it is unset.
inline std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// A fresh directory under TMPDIR, removed with its contents when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (;;) {
      m_path = base / ("regd-test-" + std::to_string(rd()));
      if (std::filesystem::create_directory(m_path)) {
        break;
      }
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// The sample line of `series` in a Prometheus text exposition (e.g. "regd_x{a=\"b\"} 3"), or ""
// when the text has none.
inline std::string metric_sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) {
    return "";
  }
  auto end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

// A TCP port on 127.0.0.1 free at the time of the call (the kernel picks it).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace regd::testing
