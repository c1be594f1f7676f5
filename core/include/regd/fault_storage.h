// A forwarding Storage that injects failures: how tests prove crash, full-disk and GC behaviour.
// Two independent mechanisms:
//  - rules (FaultRule): a chosen call fails with an error code, the process goes on;
//  - a crash point (crash_after): the process ends at once after a chosen number of operations,
//    as a kill -9 would, leaving the tree exactly as the operations done so far made it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "regd/storage.h"

namespace regd {

enum class StorageOp {
  read,
  open_read,
  create,
  write,
  commit,
  open_append,
  append,
  rename,
  list,
  remove,
  stat,
  touch,
  lock
};

// Fails the `nth` (1-based) call of `op` whose path contains `path_contains` (empty: any path),
// and every later one too when `sticky`, with error `code`. Thread-safe.
struct FaultRule {
  StorageOp op = StorageOp::write;
  std::string path_contains;
  uint64_t nth = 1;
  bool sticky = false;
  Errc code = Errc::io_error;
};

class FaultStorage : public Storage {
 public:
  // Shares `inner` with the caller, which may keep using it directly.
  virtual void add_rule(FaultRule rule) = 0;
  virtual void clear_rules() = 0;
  // Number of failures injected so far.
  virtual uint64_t injected() const = 0;
  // Called with the operation and its path before every call the rules see (each StorageOp),
  // outside any lock: a test blocks in it to make a call slow (an fsync stuck on the disk).
  // Empty: none. Set it before the storage is shared between threads.
  using Hook = std::function<void(StorageOp op, const std::string& path)>;
  virtual void set_hook(Hook hook) = 0;

  // ---- crash points ----
  // An operation is one call that reaches storage: each Storage method (so write_file counts as
  // create + write + commit), and each call on a handle it returned: ReadFile::read_at,
  // WriteFile::write and commit, AppendFile::append, truncate and sync. Taking a lock is one
  // operation (Storage::lock); releasing it, sizes, native handles and destructors are none.
  // A call that a rule fails still counts.

  // Operations executed so far by this storage and its handles, since it was made.
  virtual uint64_t operations() const = 0;
  // Arms the crash point: operations keep running until operations() reaches `n`; the next one
  // ends the process with _exit(exit_code) before it reaches the inner storage (at once when
  // operations() >= n already; n = UINT64_MAX arms crash mode without ever crashing, to learn a
  // path's length under the same counting). Nothing runs after it, no destructor either: temp files, upload
  // data and directories stay as they are, locks go with the process, as after a kill -9.
  // With `torn`, a crashing WriteFile::write or AppendFile::append first passes the first half
  // of its bytes on, as a write(2) cut short by SIGKILL may.
  // While armed, remove_all runs as one Storage::remove per entry (the entries of a directory,
  // then the directory itself), each an operation, so that a crash may fall inside a recursive
  // delete as it may inside std::filesystem::remove_all.
  // REQUIRES: the process may die at any storage call (a forked child in tests). Thread-safe.
  virtual void crash_after(uint64_t n, int exit_code, bool torn = false) = 0;
};

[[nodiscard]] std::unique_ptr<FaultStorage> make_fault_storage(std::shared_ptr<Storage> inner);

}  // namespace regd
