#include "sd_notify.h"

#ifdef REGD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace regd::daemon {

void notify_ready() {
#ifdef REGD_HAVE_SYSTEMD
  sd_notify(0, "READY=1");
#endif
}

void notify_stopping() {
#ifdef REGD_HAVE_SYSTEMD
  sd_notify(0, "STOPPING=1");
#endif
}

}  // namespace regd::daemon
