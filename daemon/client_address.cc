#include "client_address.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <boost/asio/ip/address.hpp>

#include "http_util.h"

namespace regd::daemon {
namespace ip = boost::asio::ip;

namespace {

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    auto comma = text.find(',');
    if (auto part = trim_ows(text.substr(0, comma)); !part.empty()) {
      parts.push_back(part);
    }
    if (comma == std::string_view::npos) {
      return parts;
    }
    text.remove_prefix(comma + 1);
  }
}

// IPv4-mapped IPv6 addresses (a dual-stack listener's view of IPv4 peers) compare as IPv4.
std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(text), ec);
  if (ec) {
    return std::nullopt;
  }
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::parse(std::string_view text) {
  TrustedProxies proxies;
  for (std::string_view entry : split_commas(text)) {
    boost::system::error_code ec;
    std::string cidr(entry);
    if (cidr.find('/') == std::string::npos) {
      auto address = parse_address(cidr);
      if (!address) {
        return fail(Errc::invalid_argument, "--trusted-proxies: '" + cidr + "' is not an address or CIDR");
      }
      cidr = address->to_string() + (address->is_v4() ? "/32" : "/128");
    }
    if (cidr.find(':') == std::string::npos) {
      auto network = ip::make_network_v4(cidr, ec);
      if (!ec) {
        proxies.m_v4.push_back(network.canonical());
        continue;
      }
    } else {
      auto network = ip::make_network_v6(cidr, ec);
      if (!ec) {
        proxies.m_v6.push_back(network.canonical());
        continue;
      }
    }
    return fail(Errc::invalid_argument, "--trusted-proxies: '" + std::string(entry) + "' is not an address or CIDR");
  }
  return proxies;
}

bool TrustedProxies::contains(std::string_view text) const {
  auto address = parse_address(text);
  if (!address) {
    return false;
  }
  if (address->is_v4()) {
    ip::network_v4 host(address->to_v4(), 32);
    for (const auto& network : m_v4) {
      if (host == network || host.is_subnet_of(network)) {
        return true;
      }
    }
    return false;
  }
  ip::network_v6 host(address->to_v6(), 128);
  for (const auto& network : m_v6) {
    if (host == network || host.is_subnet_of(network)) {
      return true;
    }
  }
  return false;
}

std::string TrustedProxies::client_of(const Request& request) const {
  std::string client = request.remote_address;
  if (empty() || !contains(client)) {
    return client;
  }
  std::vector<std::string_view> hops;
  for (const Header& header : request.headers) {
    if (header.name.size() == 15 && std::equal(header.name.begin(), header.name.end(), "x-forwarded-for",
                                               [](char a, char b) { return std::tolower(a) == b; })) {
      for (std::string_view hop : split_commas(header.value)) {
        hops.push_back(hop);
      }
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    auto address = parse_address(*hop);
    if (!address) {
      return client;
    }
    client = address->to_string();
    if (!contains(client)) {
      return client;
    }
  }
  return client;
}

}  // namespace regd::daemon
