#include "session.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <sys/sendfile.h>

#include "error_table.h"
#include "http_convert.h"
#include "log.h"
#include "router.h"
#include "storage_pool.h"
#include "tls.h"

namespace regd::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

namespace {

constexpr size_t k_body_buffer = 1024 * 1024;            // one read of an upload, one disk write
constexpr uint64_t k_discard_limit = 1024 * 1024;        // unwanted bodies up to this are read and dropped
constexpr uint64_t k_linger_bytes = 4 * 1024 * 1024;     // read at most this after refusing a body
constexpr auto k_linger_time = std::chrono::seconds(1);  // ... for at most this long
constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr size_t k_header_read = 16 * 1024;               // first read of a request
constexpr auto k_rate_window = std::chrono::seconds(10);  // --min-body-rate is averaged over this
// What a plain-HTTP client gets on the TLS port: readable by curl and humans, in the spec's form.
constexpr std::string_view k_plain_on_tls =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 88\r\n\r\n"
    "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"plain HTTP on the HTTPS port: use https://\"}]}\n";

std::chrono::steady_clock::duration seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

enum class BodyResult { ok, sink_error, broken };

// Requests served on the I/O thread itself: probes, /metrics and the reads of manifests and blobs,
// which open and read a few small files from the page cache (a hop to the storage pool would
// cost two context switches for less work than the hop). Everything else may wait on the disk
// or run long (fsync, rename, directory scans, bcrypt at /v2/token) and goes to the pool.
bool runs_inline(const Request& request, RouteKind route) {
  switch (route) {
    case RouteKind::base:
    case RouteKind::healthz:
    case RouteKind::metrics:
    case RouteKind::not_found:
      return true;
    case RouteKind::manifest:
    case RouteKind::blob:
      return request.method == Method::get || request.method == Method::head;
    default:
      return false;
  }
}

// The route's handler, with its exceptions turned into a 500.
Outcome dispatch_request(Context& ctx, Request& request, const Route& route) {
  RequestIdScope scope(request.request_id);
  try {
    return dispatch(ctx, request, route);
  } catch (const std::exception& e) {
    log(LogLevel::error, "handler failed", {{"request_id", request.request_id}, {"error", e.what()}});
    return Outcome(error_response(500, "UNKNOWN", "internal error"));
  }
}

// The byte streams a session speaks HTTP over. Both read and write through io(); timeouts and
// the socket stay on the connection's tcp_stream underneath.
struct PlainLayer {
  static constexpr bool k_tls = false;
  explicit PlainLayer(Connection& c) : tcp(c.stream) {}
  beast::tcp_stream& io() { return tcp; }
  beast::tcp_stream& tcp;
};

struct TlsLayer {
  static constexpr bool k_tls = true;
  TlsLayer(Connection& c, std::shared_ptr<asio::ssl::context> ctx)
      : context(std::move(ctx)), stream(c.stream, *context) {}
  beast::ssl_stream<beast::tcp_stream&>& io() { return stream; }
  std::shared_ptr<asio::ssl::context> context;  // the one this connection started with (reload swaps)
  beast::ssl_stream<beast::tcp_stream&> stream;
  std::string client_cn;  // subject CN of a verified client certificate
};

// --min-body-rate: every k_rate_window of a body must bring rate * window bytes; the first
// window is the grace period. A window whose quota is unmet ends the body at its end.
class BodyPace {
 public:
  explicit BodyPace(uint64_t rate) : m_quota(rate * static_cast<uint64_t>(k_rate_window.count())) {}
  void start() {
    m_window_end = std::chrono::steady_clock::now() + k_rate_window;
    m_bytes = 0;
  }
  void add(size_t n) {
    m_bytes += n;
    auto now = std::chrono::steady_clock::now();
    if (now >= m_window_end && m_bytes >= m_quota) {
      m_window_end = now + k_rate_window;
      m_bytes = 0;
    }
  }
  // The latest time the next read may end: the window's end while its quota is unmet.
  std::chrono::steady_clock::time_point deadline(std::chrono::steady_clock::duration timeout) const {
    auto limit = std::chrono::steady_clock::now() + timeout;
    return m_quota == 0 || m_bytes >= m_quota ? limit : std::min(limit, m_window_end);
  }
  bool too_slow() const { return m_quota > 0 && m_bytes < m_quota && std::chrono::steady_clock::now() >= m_window_end; }

 private:
  uint64_t m_quota;
  uint64_t m_bytes = 0;
  std::chrono::steady_clock::time_point m_window_end;
};

// Completes when `start` (which receives the completion) calls it, from any thread: the
// coroutine resumes on its own executor. Not a coroutine itself: g++ 12 destroys a coroutine's
// by-value lambda parameters twice.
template <class Start>
asio::awaitable<void> await_callback(Start start) {
  return asio::async_initiate<decltype(use_awaitable), void()>(
      [start = std::move(start)](auto handler) mutable {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared, work = std::move(work)]() mutable {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, std::move(*shared));
          work.reset();
        });
      },
      use_awaitable);
}

// The response of an Outcome::deferred, computed on another thread.
asio::awaitable<Response> await_deferred(const std::function<void(std::function<void(Response)>)>& deferred) {
  auto result = std::make_shared<Response>();
  // Named, not temporaries of the co_await expression (g++ 12 coroutine bugs).
  auto start = [&deferred, result](std::function<void()> resume) {
    deferred([result, resume = std::move(resume)](Response response) mutable {
      *result = std::move(response);
      resume();
    });
  };
  auto waiting = await_callback(std::move(start));
  co_await std::move(waiting);
  co_return std::move(*result);
}

asio::awaitable<void> await_ready(BodyStream& stream, uint64_t offset) {
  return await_callback([&stream, offset](std::function<void()> resume) { stream.on_ready(offset, resume); });
}

// Why a request's framing is unacceptable (RFC 9112 sections 3.2, 6.1, 6.3), or "".
std::string framing_error(const http::request<http::empty_body>& msg) {
  auto hosts = msg.count(http::field::host);
  if (msg.version() >= 11 && hosts != 1) {
    return hosts == 0 ? "no Host header" : "more than one Host header";
  }
  if (msg.count(http::field::content_length) > 1) {
    return "more than one Content-Length";
  }
  if (msg.count(http::field::transfer_encoding) == 0) {
    return "";
  }
  if (msg.count(http::field::content_length) > 0) {
    return "both Content-Length and Transfer-Encoding";
  }
  if (msg.version() < 11) {
    return "Transfer-Encoding in an HTTP/1.0 request";
  }
  std::string codings;
  for (auto it = msg.find(http::field::transfer_encoding); it != msg.end(); ++it) {
    if (it->name() == http::field::transfer_encoding) {
      codings += codings.empty() ? "" : ",";
      codings += std::string(it->value());
    }
  }
  std::erase_if(codings, [](char c) { return c == ' ' || c == '\t'; });
  return iequals(codings, "chunked") ? "" : "unsupported Transfer-Encoding '" + codings + "' (only chunked)";
}

template <class Layer>
class Session {
 public:
  Session(std::shared_ptr<Connection> connection, Context& ctx, StoragePool& pool, Layer layer)
      : m_conn(std::move(connection)),
        m_ctx(ctx),
        m_pool(pool),
        m_layer(std::move(layer)),
        m_pace(ctx.config.min_body_rate) {
    beast::error_code ec;
    auto endpoint = m_conn->stream.socket().remote_endpoint(ec);
    if (!ec) {
      m_address = endpoint.address().to_string();
      m_remote = m_address + ":" + std::to_string(endpoint.port());
    }
  }

  asio::awaitable<void> run();

 private:
  asio::awaitable<bool> handshake();
  asio::awaitable<bool> wait_for_request();
  asio::awaitable<bool> serve(http::request_parser<http::empty_body>& parser);
  asio::awaitable<Response> run_sink(http::request_parser<http::empty_body>& parser, const Request& request,
                                     Outcome& outcome, bool& body_done, bool& broken);
  asio::awaitable<BodyResult> read_body(http::request_parser<http::empty_body>& parser, const Request& request,
                                        BodySink& sink, uint64_t limit, Error& error);
  asio::awaitable<bool> fill_fixed(uint64_t& remaining, char* buf, size_t& filled, size_t want);
  asio::awaitable<bool> fill_chunked(http::request_parser<http::buffer_body>& parser, char* buf, size_t& filled);
  asio::awaitable<bool> discard_body(uint64_t length);
  asio::awaitable<bool> write_response(const Request& request, Response& response, unsigned version, bool keep_alive);
  asio::awaitable<bool> send_file(ReadFile& file, uint64_t offset, uint64_t length);
  asio::awaitable<bool> send_stream(BodyStream& stream, uint64_t length);
  asio::awaitable<bool> write_bytes(const char* buf, size_t n);
  asio::awaitable<bool> copy_file(ReadFile& file, uint64_t offset, uint64_t length);
  asio::awaitable<bool> wait_writable();
  asio::awaitable<void> answer_bad_request(unsigned status, std::string_view message);
  asio::awaitable<void> close(bool linger);
  void access_log(const Request& request, unsigned status, uint64_t bytes_in,
                  std::chrono::steady_clock::time_point start);
  void note_slow_body();

  auto& io() { return m_layer.io(); }
  beast::tcp_stream& raw() { return m_conn->stream; }
  // A buffer of at least `size` bytes (at most k_body_buffer are asked for); released after
  // each request, so an idle connection holds none.
  char* body_buffer(size_t size) {
    if (m_body[0].size() < size) {
      m_body[0] = std::vector<char>(size);
    }
    return m_body[0].data();
  }
  // Expiry of the next body read: --body-timeout, or sooner when --min-body-rate is not met.
  void expire_body_read() { raw().expires_at(m_pace.deadline(seconds(m_ctx.config.body_timeout))); }

  std::shared_ptr<Connection> m_conn;
  Context& m_ctx;
  StoragePool& m_pool;
  Layer m_layer;
  BodyPace m_pace;
  beast::flat_buffer m_buffer;
  // The current request's body buffers (an upload fills one while the other is written);
  // empty between requests.
  std::array<std::vector<char>, 2> m_body;
  std::string m_address;        // the peer's IP address
  std::string m_remote;         // address:port, for logs
  uint64_t m_bytes_out = 0;     // body bytes of the current response
  bool m_body_unread = false;   // the connection closes with request bytes unread
  bool m_body_started = false;  // the current request's body has been (partly) read
  bool m_bad_chunk = false;     // the chunked body of the current request does not parse
};

// TLS records start with content type 22 (handshake): no HTTP method starts with that byte.
bool starts_with_tls_handshake(const beast::flat_buffer& buffer) {
  return buffer.size() > 0 && static_cast<const unsigned char*>(buffer.data().data())[0] == 0x16;
}

// skopeo and podman try HTTPS first on every call: say so once per process, not per attempt.
void note_tls_handshake(const std::string& remote) {
  static std::atomic<bool> noted{false};
  if (!noted.exchange(true)) {
    log(LogLevel::info, "TLS handshake on a plain-HTTP listener: clients must use http://", {{"remote", remote}});
  }
}

// The mirror image, on the TLS listener: once per process too.
void note_plain_http(const std::string& remote) {
  static std::atomic<bool> noted{false};
  if (!noted.exchange(true)) {
    log(LogLevel::info, "plain HTTP on the TLS listener: clients must use https://", {{"remote", remote}});
  }
}

template <class Layer>
asio::awaitable<void> Session<Layer>::run() {
  if (!co_await handshake()) {
    co_await close(m_body_unread);
    co_return;
  }
  while (co_await wait_for_request()) {
    if (!Layer::k_tls && starts_with_tls_handshake(m_buffer)) {
      note_tls_handshake(m_remote);
      break;  // no HTTP answer: the client expects a TLS record and would only report garbage
    }
    http::request_parser<http::empty_body> parser;
    parser.header_limit(m_ctx.config.max_header_size);
    // boost::none here would reject every body; "no limit" is the largest value instead.
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    beast::error_code ec;
    raw().expires_after(seconds(m_ctx.config.header_timeout));
    co_await http::async_read_header(io(), m_buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::header_limit) {
      co_await answer_bad_request(431, "request header too large");
      break;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      co_await answer_bad_request(400, "malformed request: " + ec.message());
      break;
    }
    if (ec) {
      break;
    }
    if (auto framing = framing_error(parser.get()); !framing.empty()) {
      co_await answer_bad_request(400, "malformed request: " + framing);
      break;
    }
    if (!co_await serve(parser)) {
      break;
    }
  }
  co_await close(m_body_unread);
}

// TLS: reads the first bytes under the header timeout; a plain-HTTP client gets a readable 400,
// anything else goes to the TLS handshake. Plain listeners have nothing to do.
template <class Layer>
asio::awaitable<bool> Session<Layer>::handshake() {
  if constexpr (Layer::k_tls) {
    beast::error_code ec;
    raw().expires_after(seconds(m_ctx.config.header_timeout));
    auto n = co_await raw().async_read_some(m_buffer.prepare(k_header_read), asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_return false;
    }
    m_buffer.commit(n);
    if (!starts_with_tls_handshake(m_buffer)) {
      note_plain_http(m_remote);
      m_body_unread = true;
      co_await asio::async_write(raw(), asio::buffer(k_plain_on_tls), asio::redirect_error(use_awaitable, ec));
      co_return false;
    }
    auto used = co_await m_layer.stream.async_handshake(asio::ssl::stream_base::server, m_buffer.data(),
                                                        asio::redirect_error(use_awaitable, ec));
    if (ec) {
      // Refused protocol versions, unknown CAs, missing client certificates: routine, not errors.
      log(LogLevel::info, "TLS handshake failed", {{"remote", m_remote}, {"error", ec.message()}});
      co_return false;
    }
    m_buffer.consume(used);
    m_buffer.shrink_to_fit();
    m_layer.client_cn = verified_client_cn(m_layer.stream.native_handle());
    co_return m_buffer.size() == 0;  // the initial read held only handshake records
  }
  co_return true;
}

// Waits for the first byte of the next request, under the idle timeout; shutdown can cancel it.
template <class Layer>
asio::awaitable<bool> Session<Layer>::wait_for_request() {
  if (m_buffer.size() > 0) {
    co_return true;  // a pipelined request is already buffered
  }
  if (m_ctx.state.closing) {
    co_return false;
  }
  m_conn->idle = true;
  m_buffer.shrink_to_fit();  // an idle connection keeps no buffer beyond the pending read's
  beast::error_code ec;
  raw().expires_after(seconds(m_ctx.config.idle_timeout));
  auto n = co_await io().async_read_some(m_buffer.prepare(k_header_read), asio::redirect_error(use_awaitable, ec));
  m_conn->idle = false;
  if (ec) {
    co_return false;
  }
  m_buffer.commit(n);
  co_return true;
}

template <class Layer>
asio::awaitable<bool> Session<Layer>::serve(http::request_parser<http::empty_body>& parser) {
  auto start = std::chrono::steady_clock::now();
  m_body_started = false;
  m_bad_chunk = false;
  Request request = to_request(parser);
  request.remote_address = m_address;
  if constexpr (Layer::k_tls) {
    request.secure = true;
    request.tls_client_cn = m_layer.client_cn;
  }
  bool client_keep_alive = parser.keep_alive();
  unsigned version = parser.get().version();
  m_ctx.state.metrics.request_started();
  Outcome outcome;
  Route route = match_route(request.path);  // once per request: matching allocates its names
  if (runs_inline(request, route.kind)) {
    outcome = dispatch_request(m_ctx, request, route);
  } else {
    outcome = co_await m_pool.run([&] { return dispatch_request(m_ctx, request, route); });
  }
  bool body_done = !request.has_body();
  bool broken = false;
  // No co_await inside ?: below: g++ 12 miscompiles it.
  Response response;
  if (outcome.sink) {
    response = co_await run_sink(parser, request, outcome, body_done, broken);
    // A sink's destructor may cancel an upload session (a directory removed).
    co_await m_pool.run([&] {
      outcome.sink.reset();
      return true;
    });
  } else if (outcome.deferred) {
    response = co_await await_deferred(outcome.deferred);
  } else {
    response = std::move(outcome.response);
  }
  uint64_t bytes_in = request.content_length.value_or(0);
  if (broken) {
    m_body = {};
    m_ctx.state.metrics.request_finished(request.route);
    access_log(request, m_bad_chunk ? 400 : 499, 0, start);
    if (m_bad_chunk) {
      co_await answer_bad_request(400, "malformed request: bad chunked encoding");
    }
    co_return false;
  }
  if (!body_done) {
    // Nobody wants this body: a small one is read and dropped to keep the connection; a large
    // one is refused by closing the connection after the response, never buffered.
    if (!m_body_started && !request.chunked && request.content_length.value_or(0) <= k_discard_limit) {
      body_done = co_await discard_body(*request.content_length);
    }
    if (!body_done) {
      response.close = true;
      m_body_unread = true;
    }
  }
  bool keep_alive = client_keep_alive && !response.close && !m_ctx.state.closing;
  bool written = co_await write_response(request, response, version, keep_alive);
  m_body = {};
  m_ctx.state.metrics.request_finished(request.route);
  access_log(request, response.status, body_done ? bytes_in : 0, start);
  co_return written&& keep_alive;
}

template <class Layer>
asio::awaitable<Response> Session<Layer>::run_sink(http::request_parser<http::empty_body>& parser,
                                                   const Request& request, Outcome& outcome, bool& body_done,
                                                   bool& broken) {
  auto& sink = *outcome.sink;
  if (request.content_length && *request.content_length > outcome.body_limit) {
    Error too_large{Errc::too_large, "request body of " + std::to_string(*request.content_length) +
                                         " bytes over the limit of " + std::to_string(outcome.body_limit)};
    co_return co_await m_pool.run([&] {
      RequestIdScope scope(request.request_id);
      return sink.on_error(too_large);
    });
  }
  if (request.has_body() && iequals(request.header("Expect"), "100-continue")) {
    co_await write_bytes(k_continue.data(), k_continue.size());
  }
  Error error{Errc::io_error, ""};
  auto result = BodyResult::ok;
  if (request.has_body()) {
    result = co_await read_body(parser, request, sink, outcome.body_limit, error);
  }
  if (result == BodyResult::broken) {
    broken = true;
    co_return Response{};
  }
  body_done = result == BodyResult::ok;
  // The commit (fsync, rename) or the cleanup, on the storage pool.
  co_return co_await m_pool.run([&] {
    RequestIdScope scope(request.request_id);
    return result == BodyResult::ok ? sink.finish() : sink.on_error(error);
  });
}

// Streams the body into `sink` in pieces of at most k_body_buffer bytes.
template <class Layer>
asio::awaitable<BodyResult> Session<Layer>::read_body(http::request_parser<http::empty_body>& parser,
                                                      const Request& request, BodySink& sink, uint64_t limit,
                                                      Error& error) {
  m_body_started = true;
  m_pace.start();
  uint64_t total = 0;
  std::optional<http::request_parser<http::buffer_body>> chunked;
  uint64_t remaining = request.content_length.value_or(0);
  if (request.chunked) {
    chunked.emplace(std::move(parser));
    chunked->body_limit(std::numeric_limits<uint64_t>::max());
  }
  // Two buffers: the socket fills one while a storage worker hashes and writes the other, so
  // receiving and hashing overlap (a core each) instead of taking turns. The second buffer is
  // made only for a body longer than one.
  // A sink that splits takes each piece as two calls on two workers, the copy into the file and
  // the hashing at the same time.
  std::shared_ptr<StoragePool::Pending<Status>> writing;
  std::shared_ptr<StoragePool::Pending<bool>> hashing;
  auto finish_write = [&]() -> asio::awaitable<bool> {
    if (hashing) {
      co_await std::exchange(hashing, nullptr)->wait();
    }
    if (!writing) {
      co_return true;
    }
    auto written = co_await std::exchange(writing, nullptr)->wait();
    if (!written) {
      error = written.error();
      co_return false;
    }
    co_return true;
  };
  auto executor = co_await asio::this_coro::executor;
  int current = 0;
  while (chunked ? !chunked->is_done() : remaining > 0) {
    size_t filled = 0;
    bool ok = false;
    auto& buffer = m_body[current];
    size_t want = chunked ? k_body_buffer : static_cast<size_t>(std::min<uint64_t>(remaining, k_body_buffer));
    if (buffer.size() < want) {
      buffer = std::vector<char>(chunked || writing || remaining > want ? k_body_buffer : want);
    }
    if (chunked) {
      ok = co_await fill_chunked(*chunked, buffer.data(), filled);
    } else {
      ok = co_await fill_fixed(remaining, buffer.data(), filled, want);
    }
    // The previous buffer's write is waited for before anything else: it holds the sink.
    if (!co_await finish_write()) {
      co_return BodyResult::sink_error;
    }
    if (!ok) {
      note_slow_body();
      co_return BodyResult::broken;
    }
    total += filled;
    if (total > limit) {
      error = Error{Errc::too_large, "request body over the limit of " + std::to_string(limit) + " bytes"};
      co_return BodyResult::sink_error;
    }
    // The disk write on the storage pool; the socket is read here, so no worker waits for it.
    auto data = std::span<const char>(buffer.data(), filled);
    if (sink.splits()) {
      hashing = m_pool.start(
          [&sink, data] {
            sink.hash(data);
            return true;
          },
          executor);
      writing = m_pool.start([&sink, data] { return sink.store(data); }, executor);
    } else {
      writing = m_pool.start([&sink, data] { return sink.write(data); }, executor);
    }
    current = 1 - current;
  }
  if (!co_await finish_write()) {
    co_return BodyResult::sink_error;
  }
  co_return BodyResult::ok;
}

template <class Layer>
void Session<Layer>::note_slow_body() {
  if (m_pace.too_slow()) {
    log(LogLevel::warn, "request body slower than --min-body-rate, connection closed",
        {{"remote", m_remote}, {"min_body_rate", m_ctx.config.min_body_rate}});
  }
}

// Fills the body buffer with `want` bytes: first what the header read left over, then straight
// from the stream (large reads, no copy through Beast's buffer).
template <class Layer>
asio::awaitable<bool> Session<Layer>::fill_fixed(uint64_t& remaining, char* buf, size_t& filled, size_t want) {
  size_t buffered = std::min(m_buffer.size(), want);
  if (buffered > 0) {
    std::memcpy(buf, m_buffer.data().data(), buffered);
    m_buffer.consume(buffered);
    filled = buffered;
    m_pace.add(buffered);
  }
  while (filled < want) {
    beast::error_code ec;
    expire_body_read();
    auto n = co_await io().async_read_some(asio::buffer(buf + filled, want - filled),
                                           asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_return false;
    }
    filled += n;
    m_pace.add(n);
  }
  remaining -= filled;
  co_return true;
}

template <class Layer>
asio::awaitable<bool> Session<Layer>::fill_chunked(http::request_parser<http::buffer_body>& parser, char* buf,
                                                   size_t& filled) {
  while (filled < k_body_buffer && !parser.is_done()) {
    parser.get().body().data = buf + filled;
    parser.get().body().size = k_body_buffer - filled;
    beast::error_code ec;
    expire_body_read();
    auto n = co_await http::async_read_some(io(), m_buffer, parser, asio::redirect_error(use_awaitable, ec));
    m_pace.add(n);
    if (ec && ec != http::error::need_buffer) {
      // A bad chunk size or extension is the client's error: it gets a 400 before the close.
      m_bad_chunk = ec.category() == http::make_error_code(http::error::bad_chunk).category() &&
                    ec != http::error::end_of_stream && ec != http::error::partial_message;
      co_return false;
    }
    filled = k_body_buffer - parser.get().body().size;
  }
  co_return true;
}

template <class Layer>
asio::awaitable<bool> Session<Layer>::discard_body(uint64_t length) {
  m_pace.start();
  while (length > 0) {
    size_t filled = 0;
    auto want = static_cast<size_t>(std::min<uint64_t>(length, k_body_buffer));
    if (!co_await fill_fixed(length, body_buffer(want), filled, want)) {
      note_slow_body();
      co_return false;
    }
  }
  co_return true;
}

template <class Layer>
asio::awaitable<bool> Session<Layer>::write_response(const Request& request, Response& response, unsigned version,
                                                     bool keep_alive) {
  bool with_body = sends_body(response, request);
  bool with_file = sends_file(response, request);
  auto head = response_head(response, request, version, keep_alive);
  m_bytes_out = with_file ? response.file_length : with_body ? response.body.size() : 0;
  beast::error_code ec;
  raw().expires_after(seconds(m_ctx.config.body_timeout));
  // Header and an in-memory body leave in one sendmsg.
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                            with_body ? asio::buffer(response.body) : asio::const_buffer()};
  co_await asio::async_write(io(), buffers, asio::redirect_error(use_awaitable, ec));
  if (ec || !with_file) {
    co_return !ec;
  }
  if (response.stream) {
    co_return co_await send_stream(*response.stream, response.file_length);
  }
  co_return co_await send_file(*response.file, response.file_offset, response.file_length);
}

// Blob bytes go from the page cache to the socket with sendfile(2); over TLS, or from other
// backends, they are copied.
template <class Layer>
asio::awaitable<bool> Session<Layer>::send_file(ReadFile& file, uint64_t offset, uint64_t length) {
  int fd = file.native_handle();
  if (Layer::k_tls || fd < 0) {
    co_return co_await copy_file(file, offset, length);
  }
  raw().expires_never();
  auto& socket = raw().socket();
  if (!socket.native_non_blocking()) {
    socket.native_non_blocking(true);  // an ioctl: once per connection, not per blob
  }
  while (length > 0) {
    auto off = static_cast<off_t>(offset);
    auto n = ::sendfile(socket.native_handle(), fd, &off, std::min<uint64_t>(length, 1u << 30));
    if (n > 0) {
      offset += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!co_await wait_writable()) {
        co_return false;
      }
    } else {
      co_return false;  // peer gone, or the file is shorter than it said (n == 0)
    }
  }
  co_return true;
}

// Over TLS: the file is read on the storage pool (a cold read waits on the disk), a piece at a
// time, and encrypted and sent here.
template <class Layer>
asio::awaitable<bool> Session<Layer>::copy_file(ReadFile& file, uint64_t offset, uint64_t length) {
  char* buf = body_buffer(static_cast<size_t>(std::min<uint64_t>(length, k_body_buffer)));
  while (length > 0) {
    auto want = std::span<char>(buf, std::min<uint64_t>(length, k_body_buffer));
    auto n = co_await m_pool.run([&] { return file.read_at(offset, want); });
    if (!n || *n == 0) {
      co_return false;
    }
    if (!co_await write_bytes(buf, *n)) {
      co_return false;
    }
    offset += *n;
    length -= *n;
  }
  co_return true;
}

// Writes n bytes within the body timeout; false when the connection failed.
template <class Layer>
asio::awaitable<bool> Session<Layer>::write_bytes(const char* buf, size_t n) {
  beast::error_code ec;
  raw().expires_after(seconds(m_ctx.config.body_timeout));
  co_await asio::async_write(io(), asio::buffer(buf, n), asio::redirect_error(use_awaitable, ec));
  co_return !ec;
}

// Sends what the stream has, then waits for its next bytes (the producer bounds that wait with
// its own timeouts and then fails the stream).
template <class Layer>
asio::awaitable<bool> Session<Layer>::send_stream(BodyStream& stream, uint64_t length) {
  char* buf = body_buffer(static_cast<size_t>(std::min<uint64_t>(length, k_body_buffer)));
  uint64_t offset = 0;
  while (offset < length) {
    auto n = stream.read(offset, std::span<char>(buf, std::min<uint64_t>(length - offset, k_body_buffer)));
    if (!n) {
      co_return false;
    }
    if (*n == 0) {
      co_await await_ready(stream, offset);
      continue;
    }
    if (!co_await write_bytes(buf, *n)) {
      co_return false;
    }
    offset += *n;
  }
  co_return true;
}

template <class Layer>
asio::awaitable<bool> Session<Layer>::wait_writable() {
  asio::steady_timer timer(raw().get_executor());
  timer.expires_after(seconds(m_ctx.config.body_timeout));
  timer.async_wait([conn = m_conn](beast::error_code ec) {
    if (!ec) {
      beast::error_code ignored;
      conn->stream.socket().cancel(ignored);
    }
  });
  beast::error_code ec;
  co_await raw().socket().async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
  timer.cancel();
  co_return !ec;
}

template <class Layer>
asio::awaitable<void> Session<Layer>::answer_bad_request(unsigned status, std::string_view message) {
  Request request;
  request.request_id = new_request_id();
  auto response = error_response(status, status == 431 ? "SIZE_INVALID" : "UNSUPPORTED", message);
  m_body_unread = true;
  co_await write_response(request, response, 11, false);
  log(LogLevel::warn, "bad request", {{"remote", m_remote}, {"status", status}, {"error", message}});
}

// Half-closes, then (when a body was left unread) drains a little so the client reads the
// response before the kernel answers its remaining bytes with a reset. TLS connections end
// without close_notify: every response is delimited by its length, so nothing is truncated.
template <class Layer>
asio::awaitable<void> Session<Layer>::close(bool linger) {
  beast::error_code ec;
  raw().socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec) {
    std::array<char, 64 * 1024> scratch;
    uint64_t drained = 0;
    auto deadline = std::chrono::steady_clock::now() + k_linger_time;
    while (drained < k_linger_bytes && std::chrono::steady_clock::now() < deadline) {
      raw().expires_at(deadline);
      auto n = co_await raw().async_read_some(asio::buffer(scratch), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        break;
      }
      drained += n;
    }
  }
  raw().socket().close(ec);
}

template <class Layer>
void Session<Layer>::access_log(const Request& request, unsigned status, uint64_t bytes_in,
                                std::chrono::steady_clock::time_point start) {
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  m_ctx.state.metrics.record(request.route, request.method, status, bytes_in, m_bytes_out, elapsed);
  // Buffered: no system call per request (log.h).
  if (m_ctx.config.access_log && log_enabled(LogLevel::info)) {
    log_buffered(LogLevel::info, "request",
                 {{"request_id", request.request_id},
                  {"remote", m_remote},
                  {"user", request.user},
                  {"method", request.method_name},
                  {"route", route_name(request.route)},
                  {"repository", request.repository_name},
                  {"path", request.target},
                  {"status", status},
                  {"bytes_in", bytes_in},
                  {"bytes", m_bytes_out},
                  {"duration_ms", static_cast<double>(elapsed.count()) / 1000.0}});
  }
  m_bytes_out = 0;
}

template <class Layer>
void spawn(std::shared_ptr<Connection> connection, Context& ctx, StoragePool& pool, ConnectionTracker& tracker,
           Layer layer) {
  auto session = std::make_shared<Session<Layer>>(connection, ctx, pool, std::move(layer));
  asio::co_spawn(
      connection->stream.get_executor(), [session]() -> asio::awaitable<void> { co_await session->run(); },
      [&ctx, &tracker, key = connection.get()](std::exception_ptr e) {
        tracker.remove(key);
        ctx.state.metrics.connection_closed();
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log(LogLevel::error, "connection failed", {{"error", ex.what()}});
          }
        }
      });
}

}  // namespace

void start_session(tcp::socket socket, Context& ctx, StoragePool& pool, ConnectionTracker& tracker) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // small responses on keep-alive crawl without it
  auto connection = std::make_shared<Connection>(std::move(socket));
  tracker.add(connection);
  ctx.state.metrics.connection_opened();
  if (ctx.state.tls) {
    spawn(connection, ctx, pool, tracker, TlsLayer(*connection, ctx.state.tls->current()));
  } else {
    spawn(connection, ctx, pool, tracker, PlainLayer(*connection));
  }
}

}  // namespace regd::daemon
