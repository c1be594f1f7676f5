#include "regd/reference.h"
#include "regd/remote.h"

namespace regd::remote {

namespace {

constexpr std::string_view k_prefix = "docker://";

bool valid_host(std::string_view host) {
  if (host.empty()) {
    return false;
  }
  std::string_view name = host;
  if (name.front() == '[') {  // [IPv6]:port
    size_t close = name.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    std::string_view address = name.substr(1, close - 1);
    if (address.empty() || address.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return false;
    }
    name = name.substr(close + 1);
    if (name.empty()) {
      return true;
    }
    if (name.front() != ':') {
      return false;
    }
    name = name.substr(1);
    return !name.empty() && name.size() <= 5 && name.find_first_not_of("0123456789") == std::string_view::npos;
  }
  size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    std::string_view port = name.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    name = name.substr(0, colon);
  }
  return !name.empty() && name.front() != '-' && name.front() != '.' &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
             std::string_view::npos;
}

}  // namespace

bool is_docker_ref(std::string_view text) {
  return text.starts_with(k_prefix);
}

Result<RemoteRef> RemoteRef::parse(std::string_view text) {
  std::string_view rest = text.starts_with(k_prefix) ? text.substr(k_prefix.size()) : text;
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return fail(Errc::invalid_argument, "\"" + std::string(text) + "\" is not docker://HOST[:PORT]/REPO[:TAG|@DIGEST]");
  }
  std::string_view host = rest.substr(0, slash);
  if (!valid_host(host)) {
    return fail(Errc::invalid_argument,
                "\"" + std::string(text) + "\": invalid registry host \"" + std::string(host) + "\"");
  }
  auto reference = Reference::parse(rest.substr(slash + 1));
  if (!reference) {
    return std::unexpected(reference.error());
  }
  return RemoteRef{std::string(host), std::move(reference->repository), std::move(reference->tag),
                   std::move(reference->digest)};
}

std::string RemoteRef::target() const {
  if (digest) {
    return digest->str();
  }
  return tag.value_or("latest");
}

std::string RemoteRef::str() const {
  return std::string(k_prefix) + host + "/" + repository + (tag ? ":" + *tag : "") +
         (digest ? "@" + digest->str() : "");
}

}  // namespace regd::remote
