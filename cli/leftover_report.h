// How verify and gc show a crash leftover (regd::Leftover): one text line, or one JSON object
// {kind, repository (omitted for the blob store), path, mtime, age_seconds, bytes, removable}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "regd/gc.h"

namespace regd::cli {

// Ages are relative to `t0`, the storage time of the run that found the leftover.
nlohmann::json leftover_json(const Leftover& leftover, Clock::time_point t0);

// "<kind>: [<repository>: ]<path> (<age> old[, <size>])", plus "; younger than the grace window"
// when it is not removable.
std::string leftover_line(const Leftover& leftover, Clock::time_point t0);

}  // namespace regd::cli
