// systemd's service notification protocol (sd_notify(3)) for Type=notify units: readiness,
// reloads, the stop, status lines and watchdog keep-alives. Every call is a no-op without
// libsystemd at build time or without NOTIFY_SOCKET in the environment; all are thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace regd::daemon {

// READY=1 with STATUS=`status`: serving (after start-up, and again after a reload).
void notify_ready(std::string_view status);
// RELOADING=1 with STATUS=`status`: a SIGHUP reload started; notify_ready ends it.
void notify_reloading(std::string_view status);
// STOPPING=1 with STATUS=`status`: the drain started.
void notify_stopping(std::string_view status);
// WATCHDOG=1: the keep-alive of WatchdogSec=.
void notify_watchdog();

// The watchdog interval the service manager expects keep-alives within (WATCHDOG_USEC, for this
// process when WATCHDOG_PID is set), or nullopt when the watchdog is off.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace regd::daemon
