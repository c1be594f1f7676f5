#include "leftover_report.h"

#include "output.h"
#include "regd/duration.h"
#include "text_format.h"

namespace regd::cli {

nlohmann::json leftover_json(const Leftover& leftover, Clock::time_point t0) {
  nlohmann::json item = {
      {"kind", leftover_kind_name(leftover.kind)},      {"path", leftover.path},   {"mtime", utc_time(leftover.mtime)},
      {"age_seconds", age_seconds(leftover.mtime, t0)}, {"bytes", leftover.bytes}, {"removable", leftover.removable}};
  if (!leftover.repository.empty()) {
    item["repository"] = leftover.repository;
  }
  return item;
}

std::string leftover_line(const Leftover& leftover, Clock::time_point t0) {
  std::string line(leftover_kind_name(leftover.kind));
  line += ": ";
  if (!leftover.repository.empty()) {
    line += leftover.repository + ": ";
  }
  line += leftover.path + " (" + format_duration(std::chrono::seconds(age_seconds(leftover.mtime, t0))) + " old";
  if (leftover.bytes > 0) {
    line += ", " + human_size(leftover.bytes);
  }
  line += leftover.removable ? ")" : "; younger than the grace window)";
  return line;
}

}  // namespace regd::cli
