#include "regd/base64.h"

#include <algorithm>
#include <cctype>

#include <openssl/evp.h>

namespace regd {

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Form form, size_t max_text) {
  if (text.empty() || text.size() > max_text) {
    return std::nullopt;
  }
  std::string standard(text);
  if (form == Base64Form::any) {
    std::ranges::replace(standard, '-', '+');
    std::ranges::replace(standard, '_', '/');
    standard.append((4 - standard.size() % 4) % 4, '=');
  }
  bool valid = standard.size() % 4 == 0 && std::ranges::all_of(standard, [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
               });
  size_t padding = standard.size() - (standard.find_last_not_of('=') + 1);
  if (!valid || padding > 2 || standard.find('=') < standard.size() - padding) {
    return std::nullopt;
  }
  std::string out(standard.size() / 4 * 3, '\0');
  int length =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(standard.data()), static_cast<int>(standard.size()));
  if (length < 0) {
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(length) - padding);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

}  // namespace regd
