// What the commands that delete garbage (gc, verify --repair) share: --grace, --link-refresh and
// --force, parsed and checked the same way for both, and the name they take the GC lease under (docs/gc.md, "What
// writers do"). Nothing younger than the grace window is removed, and the window must exceed the link refresh interval
// regd instances run with, or a blob a writer relies on could be collected.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "regd/error.h"

namespace regd::cli {

struct GraceOptions {
  std::string grace = "1h";
  std::string link_refresh;  // empty: regd's default (RegistryOptions::refresh_after)
  bool force = false;        // skip the grace > link refresh rule (a stopped registry)
};

// Binds --grace, --link-refresh and --force to `cmd`. `what` names what the grace window
// protects in the --grace help text. `options` must outlive parsing.
void add_grace_options(CLI::App& cmd, GraceOptions& options, std::string_view what);

// Binds --link-refresh alone (prune, whose windows follow the same rule without --force).
void add_link_refresh_option(CLI::App& cmd, std::string& link_refresh);

// Parses a duration given to `flag` as regd::parse_duration does, except that a number needs a
// unit ("10" is refused: seconds or minutes?); "0" alone is zero. Errors: invalid_argument,
// naming the flag and the units accepted.
[[nodiscard]] Result<std::chrono::seconds> parse_duration_flag(std::string_view flag, std::string_view text);

// A window given to `flag` within which nothing is deleted: parsed, and longer than the link
// refresh interval (`link_refresh`, empty: regd's default) unless `force`.
// Errors: invalid_argument (malformed duration, or window <= link refresh without force).
[[nodiscard]] Result<std::chrono::seconds> checked_window(std::string_view flag, std::string_view text,
                                                          std::string_view link_refresh, bool force);

// The grace window to delete with: parsed, and longer than the link refresh unless --force.
// Errors: invalid_argument (malformed duration, or grace <= link refresh without --force).
[[nodiscard]] Result<std::chrono::seconds> checked_grace(const GraceOptions& options);

// "regctl@<host>:<pid>": the GC lease holder, shown to a GC that finds the lease taken.
std::string lease_holder();

}  // namespace regd::cli
