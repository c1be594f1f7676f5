// A blob on its way from an upstream registry to storage and to the client that asked for it
// (the pull-through cache's tee, docs/mirror.md). The fetch runs on an upstream worker thread;
// the client's session reads through a bounded buffer and never blocks its thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "http_types.h"
#include "regd/registry.h"
#include "regd/remote.h"

namespace regd::daemon {

// A bounded buffer between one producer (the fetch) and one reader (a session). Thread-safe.
class BlobPipe : public std::enable_shared_from_this<BlobPipe> {
 public:
  // The producer waits at most `stall` for a reader that does not read; then the reader is
  // dropped (its connection is cut) and the fetch goes on for storage alone.
  BlobPipe(size_t capacity, std::chrono::milliseconds stall);

  // The reader's end, for Response::stream. Destroying it (the session is done or gone) drops
  // the reader: the fetch goes on for storage alone.
  std::shared_ptr<BodyStream> reader();

  // Producer: queues bytes for the reader, waiting while the buffer is full.
  void push(std::span<const char> data);
  // Producer: every byte was pushed (the blob is committed).
  void finish();
  // Producer: the fetch failed; the reader's connection is cut.
  void fail();

 private:
  class Reader;
  enum class State { open, finished, failed };
  Result<size_t> read(uint64_t offset, std::span<char> buf);
  void on_ready(uint64_t offset, std::function<void()> ready);
  void detach();
  // Calls the waiting reader's callback, if any. REQUIRES: m_mutex not held.
  void wake(std::function<void()> waiter);

  const size_t m_capacity;
  const std::chrono::milliseconds m_stall;
  std::mutex m_mutex;
  std::condition_variable m_drained;
  std::string m_buffer;  // bytes [m_base, m_base + size) of the blob
  uint64_t m_base = 0;
  State m_state = State::open;
  bool m_detached = false;
  std::function<void()> m_waiter;
};

// Streams `digest` (`size` bytes) of `repository` at the upstream into `writer` and `pipe`, and
// commits the writer only after the client verified the whole content. The pipe's last byte is
// held back until the commit succeeded, so a client never receives a complete body that was not
// stored verified; on any failure the pipe fails and nothing is committed (the writer's temp
// file goes with it). Errors: the client's (io_error, digest_invalid, blob_unknown) and the
// writer's.
[[nodiscard]] Status fill_blob(remote::Client& client, const std::string& repository, const Digest& digest,
                               uint64_t size, BlobWriter& writer, BlobPipe& pipe);

}  // namespace regd::daemon
