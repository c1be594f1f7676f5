// Output on stdout: JSON for scripts (--json) or aligned text for people.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace regd::cli {

// Prints `json` indented by two spaces, followed by a newline.
void print_json(const nlohmann::json& json);

// Prints rows with columns padded to equal width (the last column unpadded).
void print_table(const std::vector<std::vector<std::string>>& rows);

// "512 B", "1.5 KiB", "3.2 GiB".
std::string human_size(uint64_t bytes);

}  // namespace regd::cli
