// systemd readiness notification (Type=notify); no-ops without libsystemd or NOTIFY_SOCKET.
#pragma once

namespace regd::daemon {

void notify_ready();
void notify_stopping();

}  // namespace regd::daemon
