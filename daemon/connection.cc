#include "connection.h"

#include <boost/asio/post.hpp>

namespace regd::daemon {

void ConnectionTracker::add(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(m_mutex);
  m_connections[connection.get()] = connection;
}

void ConnectionTracker::remove(const Connection* connection) {
  std::lock_guard lock(m_mutex);
  m_connections.erase(connection);
}

void ConnectionTracker::close_idle() {
  std::lock_guard lock(m_mutex);
  for (auto& [key, weak] : m_connections) {
    if (auto c = weak.lock()) {
      boost::asio::post(c->stream.get_executor(), [c] {
        if (c->idle) {
          c->stream.cancel();
        }
      });
    }
  }
}

size_t ConnectionTracker::size() const {
  std::lock_guard lock(m_mutex);
  return m_connections.size();
}

}  // namespace regd::daemon
