#include "upstream_blob.h"

#include <algorithm>
#include <cstring>

namespace regd::daemon {

class BlobPipe::Reader : public BodyStream {
 public:
  explicit Reader(std::shared_ptr<BlobPipe> pipe) : m_pipe(std::move(pipe)) {}
  ~Reader() override { m_pipe->detach(); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  Result<size_t> read(uint64_t offset, std::span<char> buf) override { return m_pipe->read(offset, buf); }
  void on_ready(uint64_t offset, std::function<void()> ready) override { m_pipe->on_ready(offset, std::move(ready)); }

 private:
  std::shared_ptr<BlobPipe> m_pipe;
};

BlobPipe::BlobPipe(size_t capacity, std::chrono::milliseconds stall) : m_capacity(capacity), m_stall(stall) {}

std::shared_ptr<BodyStream> BlobPipe::reader() {
  return std::make_shared<Reader>(shared_from_this());
}

void BlobPipe::push(std::span<const char> data) {
  std::function<void()> waiter;
  {
    std::unique_lock lock(m_mutex);
    bool drained = m_drained.wait_for(lock, m_stall, [&] { return m_detached || m_buffer.size() < m_capacity; });
    if (!drained) {
      // The client stopped reading: it is cut off (its body stays short), storage still gets the blob.
      m_detached = true;
      m_state = State::failed;
      m_buffer.clear();
    }
    if (m_detached) {
      waiter = std::move(m_waiter);
      m_waiter = nullptr;
    } else {
      m_buffer.append(data.data(), data.size());
      waiter = std::move(m_waiter);
      m_waiter = nullptr;
    }
  }
  wake(std::move(waiter));
}

void BlobPipe::finish() {
  std::function<void()> waiter;
  {
    std::lock_guard lock(m_mutex);
    if (m_state == State::open) {
      m_state = State::finished;
    }
    waiter = std::move(m_waiter);
    m_waiter = nullptr;
  }
  wake(std::move(waiter));
}

void BlobPipe::fail() {
  std::function<void()> waiter;
  {
    std::lock_guard lock(m_mutex);
    m_state = State::failed;
    waiter = std::move(m_waiter);
    m_waiter = nullptr;
  }
  wake(std::move(waiter));
}

Result<size_t> BlobPipe::read(uint64_t offset, std::span<char> buf) {
  size_t n = 0;
  {
    std::lock_guard lock(m_mutex);
    if (m_state == State::failed) {
      return regd::fail(Errc::io_error, "upstream fetch failed");
    }
    if (offset < m_base || offset > m_base + m_buffer.size()) {
      return regd::fail(Errc::invalid_argument, "blob stream read out of order");
    }
    size_t skip = static_cast<size_t>(offset - m_base);
    n = std::min(buf.size(), m_buffer.size() - skip);
    if (n == 0) {
      if (m_state == State::finished) {
        return regd::fail(Errc::io_error, "blob stream ended early");
      }
      return 0;
    }
    std::memcpy(buf.data(), m_buffer.data() + skip, n);
    m_buffer.erase(0, skip + n);
    m_base = offset + n;
  }
  m_drained.notify_one();
  return n;
}

void BlobPipe::on_ready(uint64_t offset, std::function<void()> ready) {
  {
    std::lock_guard lock(m_mutex);
    bool has_bytes = offset < m_base + m_buffer.size();
    if (!has_bytes && m_state == State::open) {
      m_waiter = std::move(ready);
      return;
    }
  }
  ready();
}

void BlobPipe::detach() {
  {
    std::lock_guard lock(m_mutex);
    m_detached = true;
    m_buffer.clear();
    m_waiter = nullptr;
  }
  m_drained.notify_one();
}

void BlobPipe::wake(std::function<void()> waiter) {
  if (waiter) {
    waiter();
  }
}

Status fill_blob(remote::Client& client, const std::string& repository, const Digest& digest, uint64_t size,
                 BlobWriter& writer, BlobPipe& pipe) {
  uint64_t received = 0;
  std::string held;  // the last byte, sent once the blob is committed
  auto sink = [&](std::span<const char> data) -> Status {
    if (auto written = writer.write(data); !written) {
      return written;
    }
    received += data.size();
    if (received == size && !data.empty()) {
      held.assign(1, data.back());
      data = data.first(data.size() - 1);
    }
    pipe.push(data);
    return {};
  };
  auto fetched = client.get_blob(repository, digest, size, sink);
  if (fetched) {
    if (auto committed = writer.commit(); !committed) {
      fetched = std::unexpected(committed.error());
    }
  }
  if (!fetched) {
    pipe.fail();
    return fetched;
  }
  pipe.push(std::span<const char>(held.data(), held.size()));
  pipe.finish();
  return {};
}

}  // namespace regd::daemon
