// A forwarding Storage that injects failures: how tests prove crash, full-disk and GC behaviour.
#pragma once

#include <atomic>
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
};

[[nodiscard]] std::unique_ptr<FaultStorage> make_fault_storage(std::shared_ptr<Storage> inner);

}  // namespace regd
