// The configuration file (TOML or INI, CLI11's reader) applied to every regd option, then the
// checks regd runs before it starts. Invariant: a configuration that validates has a listen
// address that parses.
#include "config.h"

#include <CLI/CLI.hpp>

#include "fuzz_util.h"

using regd::fuzz::require;
namespace d = regd::daemon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = regd::fuzz::text_of(data, size);
  CLI::App app("regd");
  d::Config config;
  d::add_config_options(app, config);
  try {
    app.parse(std::vector<std::string>{});
  } catch (const CLI::Error&) {
    require(false, "an empty command line parses");
  }
  if (!d::apply_config_text(app, std::string(text), "fuzz.toml")) {
    return 0;
  }
  if (d::validate_config(config)) {
    require(d::parse_listen(config.listen).has_value(), "a valid configuration listens somewhere", text);
  }
  return 0;
}
