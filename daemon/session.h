// HTTP/1.1 connections on Boost.Beast: one coroutine per connection on its event loop. Reads a
// request header, dispatches it, streams any body in >= 1 MiB pieces into the handler's sink,
// writes the response (blobs with sendfile) and loops while the connection is kept alive.
// Internal to the daemon: only the engine files (session, connection, http_convert, server)
// include Asio and Beast.
#pragma once

#include <utility>  // before Asio (its awaitable header needs std::exchange)

#include <boost/asio/ip/tcp.hpp>

#include "connection.h"
#include "context.h"
#include "storage_pool.h"

namespace regd::daemon {

// Starts serving an accepted socket (bound to one event loop, run by one thread); blocking storage calls of its
// requests run on `pool`. Returns at once.
void start_session(boost::asio::ip::tcp::socket socket, Context& ctx, StoragePool& pool, ConnectionTracker& tracker);

}  // namespace regd::daemon
