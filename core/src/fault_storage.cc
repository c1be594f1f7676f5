#include "regd/fault_storage.h"

#include <atomic>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include <unistd.h>

namespace regd {

namespace {

std::string_view op_name(StorageOp op) {
  switch (op) {
    case StorageOp::read:
      return "read";
    case StorageOp::open_read:
      return "open_read";
    case StorageOp::create:
      return "create";
    case StorageOp::write:
      return "write";
    case StorageOp::commit:
      return "commit";
    case StorageOp::open_append:
      return "open_append";
    case StorageOp::append:
      return "append";
    case StorageOp::rename:
      return "rename";
    case StorageOp::list:
      return "list";
    case StorageOp::remove:
      return "remove";
    case StorageOp::stat:
      return "stat";
    case StorageOp::touch:
      return "touch";
    case StorageOp::lock:
      return "lock";
  }
  return "unknown";
}

// Rules and counters, shared with the file handles so they outlive the storage if need be.
class Faults {
 public:
  void add(FaultRule rule) {
    std::lock_guard guard(m_mutex);
    m_rules.push_back({std::move(rule), 0});
  }
  void clear() {
    std::lock_guard guard(m_mutex);
    m_rules.clear();
  }
  uint64_t injected() const {
    std::lock_guard guard(m_mutex);
    return m_injected;
  }

  uint64_t operations() const { return m_operations.load(); }
  void arm(uint64_t n, int exit_code, bool torn) {
    m_exit_code = exit_code;
    m_torn = torn;
    m_crash_at = n;
    m_armed = true;
  }
  bool armed() const { return m_armed.load(); }

  // Counts one operation, or ends the process when it is past the crash point; `tear` (may be
  // empty) then performs the first half of a torn write.
  void enter(const std::function<void()>& tear = {}) {
    if (m_operations.fetch_add(1) < m_crash_at.load()) {
      return;
    }
    if (m_torn && tear) {
      tear();
    }
    // No exit handlers, no destructors, no flushing: what a kill -9 leaves.
    ::_exit(m_exit_code.load());
  }

  void set_hook(FaultStorage::Hook hook) { m_hook = std::move(hook); }

  // Runs the hook, then counts this call against every matching rule; fails when one of them
  // fires.
  Status check(StorageOp op, const std::string& path) {
    if (m_hook) {
      m_hook(op, path);
    }
    std::lock_guard guard(m_mutex);
    std::optional<Errc> code;
    for (auto& [rule, count] : m_rules) {
      if (rule.op != op || path.find(rule.path_contains) == std::string::npos) {
        continue;
      }
      ++count;
      if (!code && (count == rule.nth || (rule.sticky && count > rule.nth))) {
        code = rule.code;
      }
    }
    if (!code) {
      return {};
    }
    ++m_injected;
    return fail(*code, "injected fault: " + std::string(op_name(op)) + " " + path);
  }

 private:
  struct RuleState {
    FaultRule rule;
    uint64_t count;
  };
  FaultStorage::Hook m_hook;  // set before sharing: read without the lock
  mutable std::mutex m_mutex;
  std::vector<RuleState> m_rules;
  uint64_t m_injected = 0;
  std::atomic<uint64_t> m_operations{0};
  std::atomic<uint64_t> m_crash_at{std::numeric_limits<uint64_t>::max()};
  std::atomic<bool> m_armed{false};
  std::atomic<int> m_exit_code{0};
  std::atomic<bool> m_torn{false};
};

std::span<const char> first_half(std::span<const char> data) {
  return data.first(data.size() / 2);
}

class FaultReadFile final : public ReadFile {
 public:
  FaultReadFile(std::unique_ptr<ReadFile> inner, std::shared_ptr<Faults> faults)
      : m_inner(std::move(inner)), m_faults(std::move(faults)) {}
  uint64_t size() const override { return m_inner->size(); }
  Result<size_t> read_at(uint64_t offset, std::span<char> buf) override {
    m_faults->enter();
    return m_inner->read_at(offset, buf);
  }
  int native_handle() const override { return m_inner->native_handle(); }

 private:
  std::unique_ptr<ReadFile> m_inner;
  std::shared_ptr<Faults> m_faults;
};

class FaultWriteFile final : public WriteFile {
 public:
  FaultWriteFile(std::unique_ptr<WriteFile> inner, std::shared_ptr<Faults> faults, std::string path)
      : m_inner(std::move(inner)), m_faults(std::move(faults)), m_path(std::move(path)) {}
  Status write(std::span<const char> data) override {
    m_faults->enter([&] { (void)m_inner->write(first_half(data)); });
    if (auto ok = m_faults->check(StorageOp::write, m_path); !ok) {
      return ok;
    }
    return m_inner->write(data);
  }
  uint64_t size() const override { return m_inner->size(); }
  Status commit() override {
    m_faults->enter();
    if (auto ok = m_faults->check(StorageOp::commit, m_path); !ok) {
      return ok;
    }
    return m_inner->commit();
  }

 private:
  std::unique_ptr<WriteFile> m_inner;
  std::shared_ptr<Faults> m_faults;
  std::string m_path;
};

class FaultAppendFile final : public AppendFile {
 public:
  FaultAppendFile(std::unique_ptr<AppendFile> inner, std::shared_ptr<Faults> faults, std::string path)
      : m_inner(std::move(inner)), m_faults(std::move(faults)), m_path(std::move(path)) {}
  uint64_t size() const override { return m_inner->size(); }
  Status append(std::span<const char> data) override {
    m_faults->enter([&] { (void)m_inner->append(first_half(data)); });
    if (auto ok = m_faults->check(StorageOp::append, m_path); !ok) {
      return ok;
    }
    return m_inner->append(data);
  }
  Status truncate(uint64_t size) override {
    m_faults->enter();
    return m_inner->truncate(size);
  }
  Status sync() override {
    m_faults->enter();
    return m_inner->sync();
  }

 private:
  std::unique_ptr<AppendFile> m_inner;
  std::shared_ptr<Faults> m_faults;
  std::string m_path;
};

class FaultStorageImpl final : public FaultStorage {
 public:
  explicit FaultStorageImpl(std::shared_ptr<Storage> inner) : m_inner(std::move(inner)) {}

  void add_rule(FaultRule rule) override { m_faults->add(std::move(rule)); }
  void clear_rules() override { m_faults->clear(); }
  void set_hook(Hook hook) override { m_faults->set_hook(std::move(hook)); }
  uint64_t injected() const override { return m_faults->injected(); }
  uint64_t operations() const override { return m_faults->operations(); }
  void crash_after(uint64_t n, int exit_code, bool torn) override { m_faults->arm(n, exit_code, torn); }

  Result<std::string> read(const std::string& path, size_t max_size) override {
    return guarded(StorageOp::read, path, [&] { return m_inner->read(path, max_size); });
  }
  Result<std::unique_ptr<ReadFile>> open_read(const std::string& path) override {
    auto file = guarded(StorageOp::open_read, path, [&] { return m_inner->open_read(path); });
    if (!file) {
      return file;
    }
    return std::make_unique<FaultReadFile>(std::move(*file), m_faults);
  }
  Result<std::unique_ptr<WriteFile>> create(const std::string& path) override {
    m_faults->enter();
    if (auto ok = m_faults->check(StorageOp::create, path); !ok) {
      return std::unexpected(ok.error());
    }
    auto file = m_inner->create(path);
    if (!file) {
      return file;
    }
    return std::make_unique<FaultWriteFile>(std::move(*file), m_faults, path);
  }
  Result<std::unique_ptr<AppendFile>> open_append(const std::string& path, bool create) override {
    m_faults->enter();
    if (auto ok = m_faults->check(StorageOp::open_append, path); !ok) {
      return std::unexpected(ok.error());
    }
    auto file = m_inner->open_append(path, create);
    if (!file) {
      return file;
    }
    return std::make_unique<FaultAppendFile>(std::move(*file), m_faults, path);
  }
  // A rule's path filter matches either side of a rename.
  Status rename(const std::string& from, const std::string& to) override {
    return guarded(StorageOp::rename, from + " -> " + to, [&] { return m_inner->rename(from, to); });
  }
  Status list(const std::string& dir, const std::function<Status(const DirEntry&)>& visit) override {
    return guarded(StorageOp::list, dir, [&] { return m_inner->list(dir, visit); });
  }
  Status list_temps(const std::string& dir,
                    const std::function<Status(const DirEntry&, const FileInfo&)>& visit) override {
    return guarded(StorageOp::list, dir, [&] { return m_inner->list_temps(dir, visit); });
  }
  Status remove(const std::string& path) override {
    return guarded(StorageOp::remove, path, [&] { return m_inner->remove(path); });
  }
  Status remove_all(const std::string& path) override {
    if (m_faults->armed()) {
      // As std::filesystem::remove_all, a directory a writer refills meanwhile is tried again.
      for (int attempt = 0; attempt < 3; ++attempt) {
        auto removed = remove_tree(path);
        if (removed || removed.error().code != Errc::conflict) {
          return removed;
        }
      }
      return fail(Errc::io_error, "remove " + path + ": directory keeps refilling");
    }
    return guarded(StorageOp::remove, path, [&] { return m_inner->remove_all(path); });
  }
  Result<FileInfo> stat(const std::string& path) override {
    return guarded(StorageOp::stat, path, [&] { return m_inner->stat(path); });
  }
  Status touch(const std::string& path) override {
    return guarded(StorageOp::touch, path, [&] { return m_inner->touch(path); });
  }
  Result<std::unique_ptr<Lock>> lock(const std::string& path, bool wait) override {
    return guarded(StorageOp::lock, path, [&] { return m_inner->lock(path, wait); });
  }
  Result<Clock::time_point> now(const std::string& path) override {
    m_faults->enter();
    return m_inner->now(path);
  }

 private:
  template <class Call>
  auto guarded(StorageOp op, const std::string& path, Call call) -> decltype(call()) {
    m_faults->enter();
    if (auto ok = m_faults->check(op, path); !ok) {
      return std::unexpected(ok.error());
    }
    return call();
  }

  // remove_all as a kill -9 can interrupt it: one remove per entry, a directory's entries
  // (temp names included) before the directory. The listings read only and do not count.
  Status remove_tree(const std::string& path) {
    auto info = m_inner->stat(path);
    if (!info) {
      return info.error().code == Errc::not_found ? Status{} : Status(std::unexpected(info.error()));
    }
    if (info->type == EntryType::directory) {
      std::vector<std::string> children;
      auto listed = m_inner->list(path, [&](const DirEntry& entry) -> Status {
        children.push_back(entry.name);
        return {};
      });
      if (listed) {
        listed = m_inner->list_temps(path, [&](const DirEntry& entry, const FileInfo&) -> Status {
          children.push_back(entry.name);
          return {};
        });
      }
      if (!listed) {
        return listed.error().code == Errc::not_found ? Status{} : listed;
      }
      for (const std::string& child : children) {
        if (auto removed = remove_tree(path + "/" + child); !removed) {
          return removed;
        }
      }
    }
    auto removed = guarded(StorageOp::remove, path, [&] { return m_inner->remove(path); });
    return removed || removed.error().code == Errc::not_found ? Status{} : removed;
  }

  std::shared_ptr<Storage> m_inner;
  std::shared_ptr<Faults> m_faults = std::make_shared<Faults>();
};

}  // namespace

std::unique_ptr<FaultStorage> make_fault_storage(std::shared_ptr<Storage> inner) {
  return std::make_unique<FaultStorageImpl>(std::move(inner));
}

}  // namespace regd
