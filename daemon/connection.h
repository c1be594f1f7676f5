// One client connection (a Beast TCP stream bound to the event loop that accepted it) and the set of open
// connections, so that shutdown can close the idle ones. Internal to the daemon.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>  // before Asio (its awaitable header needs std::exchange)

#include <boost/beast/core/tcp_stream.hpp>

namespace regd::daemon {

struct Connection {
  explicit Connection(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  boost::beast::tcp_stream stream;
  bool idle = false;  // waiting for the next request; touched only on the stream's loop
};

// Thread-safe.
class ConnectionTracker {
 public:
  void add(const std::shared_ptr<Connection>& connection);
  void remove(const Connection* connection);
  // Closes every connection waiting for its next request; busy ones close after their response
  // (they see ServerState::closing).
  void close_idle();
  size_t size() const;

 private:
  mutable std::mutex m_mutex;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> m_connections;
};

}  // namespace regd::daemon
