// Small wording helpers shared by the report commands (verify, gc): counted nouns, times and ages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "regd/storage.h"

namespace regd::cli {

// "<n> <singular>" when n == 1, else "<n> <plural>"; `plural` defaults to singular + "s":
// counted(1, "blob") is "1 blob", counted(2, "repository", "repositories") is "2 repositories".
std::string counted(uint64_t n, std::string_view singular, std::string_view plural = {});

// RFC 3339 UTC to the second, e.g. "2026-12-02T06:37:55Z".
std::string utc_time(Clock::time_point time);

// Whole seconds from `then` to `now`; 0 when `then` is later (clocks of different hosts).
int64_t age_seconds(Clock::time_point then, Clock::time_point now);

}  // namespace regd::cli
