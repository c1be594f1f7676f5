// What SIGHUP reloads (docs/regd.md, "Reload"): the configuration is read again (flags,
// REGD_* variables, the --config file) and handed to every registered part, which applies what
// it owns or keeps its previous state; then one summary line says what was reloaded, what was
// unchanged and what failed. Options no part applies (listen, root, ...) need a restart: when
// the new configuration changes them, a warning names them.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config.h"
#include "regd/error.h"

namespace regd::daemon {

// The configuration a reload compares and applies.
struct ConfigSnapshot {
  Config config;
  std::map<std::string, std::string> values;  // config_values(): option key -> value text
};

enum class Reloaded { changed, unchanged };

// What one SIGHUP did, part by part (the names given to Reloaders::add).
struct ReloadSummary {
  std::vector<std::string> reloaded;
  std::vector<std::string> unchanged;
  std::vector<std::string> failed;          // each kept its previous state
  std::vector<std::string> errors;          // "<part>: why", one per failure
  std::vector<std::string> restart_needed;  // changed option keys no part applies
};

class Reloaders {
 public:
  // Applies the configuration `next`. Returns whether it changed anything, or the error that
  // made it keep its previous state.
  using Reload = std::function<Result<Reloaded>(const Config& next)>;
  // Several parts at once (the auth files): reports each into the summary itself.
  using ReloadParts = std::function<void(const Config& next, ReloadSummary& summary)>;
  // Reads the configuration again. Errors: as regd's start-up would refuse it.
  using Load = std::function<Result<ConfigSnapshot>()>;

  // The configuration regd started with, and how to read it again. Without it, a reload hands
  // every part the default Config and checks no option for a needed restart (unit tests). When
  // the configuration cannot be read again, the parts get the one read last (the summary lists
  // "config" as failed), so file-backed parts still re-read their files.
  void set_config(ConfigSnapshot running, Load load);

  // Registers a part under `name`, applying the option keys `options` (a change to them needs no
  // restart). Parts run in registration order. REQUIRES: before Server::run.
  void add(std::string name, Reload reload, std::vector<std::string> options = {});
  void add_parts(ReloadParts reload, std::vector<std::string> options = {});

  // One SIGHUP: reads the configuration again, runs every part, logs the warning about options
  // that need a restart and the summary line, and returns the summary. One at a time.
  ReloadSummary run();

 private:
  struct Part {
    std::string name;  // empty for add_parts
    Reload reload;
    ReloadParts parts;
  };
  std::vector<Part> m_parts;
  std::vector<std::string> m_options;            // keys some part applies
  std::map<std::string, std::string> m_started;  // the values regd started with
  Config m_last;                                 // the configuration last read (parts' input when a read fails)
  Load m_load;
};

// Records one part's outcome into `summary`.
void record(ReloadSummary& summary, const std::string& part, const Result<Reloaded>& outcome);

}  // namespace regd::daemon
