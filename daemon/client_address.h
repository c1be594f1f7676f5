// The client address a request is rate-limited by: the peer, or, when the peer is one of the
// --trusted-proxies, the rightmost address of X-Forwarded-For that is not a trusted proxy
// (docs/security.md, "Rate limits and quotas"). Entries left of that one are whatever the
// client wrote and are never believed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include "http_types.h"
#include "regd/error.h"

namespace regd::daemon {

class TrustedProxies {
 public:
  // Comma-separated CIDRs or single addresses ("10.0.0.0/8, 192.0.2.7, fd00::/8"); empty: none.
  // Errors: invalid_argument naming the entry that does not parse.
  [[nodiscard]] static Result<TrustedProxies> parse(std::string_view text);

  // True when `address` (IPv4, IPv6, or IPv4-mapped IPv6) lies in one of the networks.
  bool contains(std::string_view address) const;
  bool empty() const { return m_v4.empty() && m_v6.empty(); }

  // The client of `request` (see above). Its remote_address when the peer is not trusted or
  // sent no X-Forwarded-For; an entry that is not an address ends the walk at the last trusted
  // hop, so garbage never becomes a bucket key of its own.
  std::string client_of(const Request& request) const;

 private:
  std::vector<boost::asio::ip::network_v4> m_v4;
  std::vector<boost::asio::ip::network_v6> m_v6;
};

}  // namespace regd::daemon
