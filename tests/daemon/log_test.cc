// daemon/log.cc and daemon/config_log.cc: levels, formats, the access-log buffer and its flushing,
// and the log level SIGHUP re-reads.
#include "log.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "config_log.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

using regd::testing::TempDir;

// Sends every log line to a file for its lifetime; then back to stderr, json, info.
class LogCapture {
 public:
  LogCapture() : m_path(m_tmp.path() / "log") {
    flush_log();
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    set_log_fd(m_fd);
  }
  ~LogCapture() {
    flush_log();
    set_log_fd(STDERR_FILENO);
    ::close(m_fd);
    set_log_format(LogFormat::json);
    set_log_level(LogLevel::info);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const {
    std::ifstream in(m_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The "msg" of every line written so far, in order; a line that is not JSON fails the test.
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    std::stringstream lines(text());
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << line;
      out.push_back(j.is_discarded() ? "" : j.value("msg", ""));
    }
    return out;
  }

 private:
  TempDir m_tmp;
  std::filesystem::path m_path;
  int m_fd = -1;
};

using Messages = std::vector<std::string>;

TEST(Log, BufferedLinesWaitForAFlush) {
  LogCapture capture;
  log_buffered(LogLevel::info, "request", {{"status", 200}});
  EXPECT_EQ(capture.text(), "");
  flush_log();
  auto j = nlohmann::json::parse(capture.text());
  EXPECT_EQ(j["msg"], "request");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["status"], 200);
}

TEST(Log, AnImmediateLineComesAfterTheBufferedOnes) {
  LogCapture capture;
  log_buffered(LogLevel::info, "first");
  log_buffered(LogLevel::info, "second");
  log(LogLevel::warn, "third");
  EXPECT_EQ(capture.messages(), (Messages{"first", "second", "third"}));
}

TEST(Log, TheBufferIsWrittenOnceItHoldsItsSize) {
  LogCapture capture;
  std::string pad(1000, 'x');
  for (int i = 0; i < 100; ++i) {
    log_buffered(LogLevel::info, std::to_string(i), {{"pad", pad}});
  }
  auto written = capture.messages().size();
  EXPECT_GE(written, k_log_buffer_size / 1100);  // ~1060 bytes a line
  EXPECT_LT(written, 100u);
  flush_log();
  auto all = capture.messages();
  ASSERT_EQ(all.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(all[i], std::to_string(i));
  }
}

TEST(Log, TheFlusherWritesAfterItsIntervalAndWhenItStops) {
  LogCapture capture;
  {
    LogFlusher flusher(std::chrono::milliseconds(20));
    log_buffered(LogLevel::info, "timed");
    for (int i = 0; i < 500 && capture.text().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(capture.messages(), (Messages{"timed"}));
  }
  {
    LogFlusher flusher(std::chrono::hours(1));
    log_buffered(LogLevel::info, "at exit");
    EXPECT_EQ(capture.messages(), (Messages{"timed"}));
  }
  EXPECT_EQ(capture.messages(), (Messages{"timed", "at exit"}));
}

TEST(Log, LinesBelowTheLevelAreDropped) {
  LogCapture capture;
  set_log_level(LogLevel::warn);
  EXPECT_FALSE(log_enabled(LogLevel::info));
  EXPECT_TRUE(log_enabled(LogLevel::error));
  log(LogLevel::info, "a");
  log_buffered(LogLevel::info, "b");
  log(LogLevel::warn, "c");
  log(LogLevel::error, "d");
  set_log_level(LogLevel::debug);
  log(LogLevel::debug, "e");
  flush_log();
  EXPECT_EQ(capture.messages(), (Messages{"c", "d", "e"}));
}

TEST(Log, LevelNamesRoundTrip) {
  for (auto level : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    EXPECT_EQ(parse_log_level(log_level_name(level)), level);
  }
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
}

TEST(Log, JsonLinesEscapeWhatClientsSendAndKeepTypes) {
  LogCapture capture;
  std::string hostile = "q\"b\\s\nn\tt\x01\x7f caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 \xf0\x9f\x93\xa6";
  log(LogLevel::error, "m\"sg",
      {{"path", hostile}, {"n", -3}, {"big", uint64_t{1} << 40}, {"ok", false}, {"ms", 0.25}, {"nan", std::nan("")}});
  auto text = capture.text();
  auto j = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text;
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "m\"sg");
  EXPECT_EQ(j["path"],
            "q\"b\\s\nn\tt\x01\x7f caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
            "\xf0\x9f\x93\xa6");
  EXPECT_EQ(j["n"], -3);
  EXPECT_EQ(j["big"], uint64_t{1} << 40);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["ms"], 0.25);
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << "one line";
  EXPECT_TRUE(std::string(j["time"]).ends_with("Z")) << text;
}

TEST(Log, TextLinesQuoteTheValuesThatNeedIt) {
  LogCapture capture;
  set_log_format(LogFormat::text);
  log(LogLevel::info, "request",
      {{"plain", "abc"}, {"spaced", "a b"}, {"empty", ""}, {"equals", "k=v"}, {"n", 3}, {"ok", true}, {"ms", 0.5}});
  auto text = capture.text();
  EXPECT_NE(text.find(R"( info request plain=abc spaced="a b" empty="" equals="k=v" n=3 ok=true ms=0.5)"),
            std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with("\n"));
}

TEST(Log, LinesFromManyThreadsStayWhole) {
  LogCapture capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 500; ++i) {
        log_buffered(LogLevel::info, "request", {{"thread", t}, {"i", i}, {"pad", std::string(100, 'y')}});
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  flush_log();
  EXPECT_EQ(capture.messages(), Messages(2000, "request"));
}

TEST(LogConfig, TheReloadSetsTheLevelOrRefusesAnUnknownOne) {
  LogCapture capture;
  Config next;
  next.log_level = "warn";
  EXPECT_EQ(reload_log_level(next), Reloaded::changed);
  EXPECT_EQ(log_level(), LogLevel::warn);
  EXPECT_NE(capture.text().find(R"("msg":"log level reloaded","from":"info","to":"warn")"), std::string::npos)
      << capture.text();
  EXPECT_EQ(reload_log_level(next), Reloaded::unchanged);
  next.log_level = "noisy";
  EXPECT_FALSE(reload_log_level(next));
  EXPECT_EQ(log_level(), LogLevel::warn);
  next.log_level = "info";
  EXPECT_EQ(reload_log_level(next), Reloaded::changed);
}

TEST(LogConfig, ValidatesFormatAndLevel) {
  Config config;
  EXPECT_EQ(config.log_format, "auto");
  EXPECT_EQ(config.log_level, "info");
  EXPECT_TRUE(validate_log_config(config));
  config.log_format = "xml";
  EXPECT_FALSE(validate_log_config(config));
  config.log_format = "text";
  config.log_level = "trace";
  EXPECT_FALSE(validate_log_config(config));
}

}  // namespace
}  // namespace regd::daemon
