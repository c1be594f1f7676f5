#include "gc_options.h"

#include <cctype>

#include <unistd.h>

#include "regd/duration.h"
#include "regd/registry.h"

namespace regd::cli {
namespace {

std::string default_link_refresh() {
  return format_duration(RegistryOptions{}.refresh_after);
}

}  // namespace

void add_link_refresh_option(CLI::App& cmd, std::string& link_refresh) {
  cmd.add_option("--link-refresh", link_refresh,
                 "The link refresh interval regd instances run with (regd --link-refresh; default " +
                     default_link_refresh() + ")");
}

void add_grace_options(CLI::App& cmd, GraceOptions& options, std::string_view what) {
  cmd.add_option("--grace", options.grace,
                 "Keep " + std::string(what) + " younger than this (units s, m, h, d; must exceed --link-refresh)")
      ->capture_default_str();
  add_link_refresh_option(cmd, options.link_refresh);
  cmd.add_flag("--force", options.force,
               "Allow a grace window not longer than the link refresh (only on a stopped registry)");
}

Result<std::chrono::seconds> parse_duration_flag(std::string_view flag, std::string_view text) {
  // A bare number is seconds to regd::parse_duration, but "--grace 10" may well mean minutes.
  if (text != "0" && !text.empty() && std::isdigit(static_cast<unsigned char>(text.back())) != 0) {
    return fail(Errc::invalid_argument, std::string(flag) + " " + std::string(text) +
                                            ": a number needs a unit: s, m, h or d (e.g. 90s, 10m, 1h30m, 7d)");
  }
  auto parsed = parse_duration(text);
  if (!parsed) {
    return fail(Errc::invalid_argument, std::string(flag) + ": " + parsed.error().message);
  }
  return parsed;
}

Result<std::chrono::seconds> checked_window(std::string_view flag, std::string_view text, std::string_view link_refresh,
                                            bool force) {
  auto window = parse_duration_flag(flag, text);
  if (!window) {
    return window;
  }
  std::string refresh_text = link_refresh.empty() ? default_link_refresh() : std::string(link_refresh);
  auto refresh = parse_duration_flag("--link-refresh", refresh_text);
  if (!refresh) {
    return refresh;
  }
  if (*window <= *refresh && !force) {
    return fail(Errc::invalid_argument,
                std::string(flag) + " " + format_duration(*window) + " must be longer than the link refresh interval " +
                    format_duration(*refresh) +
                    " of the regd instances (--link-refresh), or data a writer relies on could be removed "
                    "(docs/gc.md)" +
                    (flag == "--grace" ? "; on a stopped registry, add --force" : ""));
  }
  return window;
}

Result<std::chrono::seconds> checked_grace(const GraceOptions& options) {
  return checked_window("--grace", options.grace, options.link_refresh, options.force);
}

std::string lease_holder() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string("regctl@") + host + ":" + std::to_string(::getpid());
}

}  // namespace regd::cli
