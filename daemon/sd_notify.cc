#include "sd_notify.h"

#include <string>

#ifdef REGD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace regd::daemon {
namespace {

// One datagram: the state line, then STATUS= (a status holds no newline: it would end the field).
void send(std::string_view state, std::string_view status) {
#ifdef REGD_HAVE_SYSTEMD
  std::string message(state);
  if (!status.empty()) {
    message += "\nSTATUS=";
    for (char c : status) {
      message += c == '\n' ? ' ' : c;
    }
  }
  sd_notify(0, message.c_str());
#else
  (void)state;
  (void)status;
#endif
}

}  // namespace

void notify_ready(std::string_view status) {
  send("READY=1", status);
}

void notify_reloading(std::string_view status) {
  send("RELOADING=1", status);
}

void notify_stopping(std::string_view status) {
  send("STOPPING=1", status);
}

void notify_watchdog() {
  send("WATCHDOG=1", {});
}

std::optional<std::chrono::microseconds> watchdog_interval() {
#ifdef REGD_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::microseconds(usec);
  }
#endif
  return std::nullopt;
}

}  // namespace regd::daemon
