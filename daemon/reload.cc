#include "reload.h"

#include <algorithm>

#include "log.h"

namespace regd::daemon {
namespace {

// Lists go into the log as comma-separated strings, which the text format prints as they are.
std::string joined(const std::vector<std::string>& items, const char* separator = ",") {
  std::string out;
  for (const std::string& item : items) {
    out += (out.empty() ? "" : separator) + item;
  }
  return out;
}

}  // namespace

void record(ReloadSummary& summary, const std::string& part, const Result<Reloaded>& outcome) {
  if (!outcome) {
    summary.failed.push_back(part);
    summary.errors.push_back(part + ": " + outcome.error().message);
  } else if (*outcome == Reloaded::changed) {
    summary.reloaded.push_back(part);
  } else {
    summary.unchanged.push_back(part);
  }
}

void Reloaders::set_config(ConfigSnapshot running, Load load) {
  m_started = running.values;
  m_last = std::move(running.config);
  m_load = std::move(load);
}

void Reloaders::add(std::string name, Reload reload, std::vector<std::string> options) {
  m_options.insert(m_options.end(), options.begin(), options.end());
  m_parts.push_back(Part{std::move(name), std::move(reload), nullptr});
}

void Reloaders::add_parts(ReloadParts reload, std::vector<std::string> options) {
  m_options.insert(m_options.end(), options.begin(), options.end());
  m_parts.push_back(Part{"", nullptr, std::move(reload)});
}

ReloadSummary Reloaders::run() {
  ReloadSummary summary;
  ConfigSnapshot next{m_last, m_started};
  if (m_load) {
    if (auto loaded = m_load()) {
      next = std::move(*loaded);
      m_last = next.config;
    } else {
      record(summary, "config", std::unexpected(loaded.error()));
    }
  }
  for (const auto& [key, value] : next.values) {
    auto started = m_started.find(key);
    bool applied = std::find(m_options.begin(), m_options.end(), key) != m_options.end();
    if (!applied && started != m_started.end() && started->second != value) {
      summary.restart_needed.push_back(key);
    }
  }
  for (const Part& part : m_parts) {
    if (part.reload) {
      record(summary, part.name, part.reload(next.config));
    } else {
      part.parts(next.config, summary);
    }
  }
  if (!summary.restart_needed.empty()) {
    log(LogLevel::warn, "SIGHUP: changed options need a restart, still running with the old values",
        {{"options", joined(summary.restart_needed)}});
  }
  log(summary.failed.empty() ? LogLevel::info : LogLevel::error, "reloaded",
      {{"reloaded", joined(summary.reloaded)},
       {"unchanged", joined(summary.unchanged)},
       {"failed", joined(summary.failed)},
       {"errors", joined(summary.errors, "; ")}});
  return summary;
}

}  // namespace regd::daemon
