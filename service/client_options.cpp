#include "client_options.hpp"

#include <charconv>
#include <stdexcept>

namespace mockhub::service {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

[[noreturn]] void bad(std::string_view url, const std::string& why) {
  throw std::invalid_argument("endpoint '" + std::string(url) + "': " + why);
}

}  // namespace

endpoint endpoint::parse(std::string_view url) {
  endpoint e;
  std::string_view rest = url;
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    e.scheme = lower(rest.substr(0, sep));
    rest.remove_prefix(sep + 3);
  }
  if (e.scheme != "https" && e.scheme != "http") bad(url, "the scheme must be https or http");
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) bad(url, "only scheme, host and port are allowed");
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) bad(url, "an IPv6 address needs its closing ']'");
    e.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') bad(url, "unexpected text after the host");
      port = rest.substr(1);
    }
  } else {
    const auto colon = rest.rfind(':');
    e.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (e.host.empty()) bad(url, "the host is missing");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      bad(url, "the port must be a number from 1 to 65535");
    e.port = static_cast<std::uint16_t>(value);
  }
  return e;
}

std::string endpoint::to_string() const {
  const std::uint16_t p = port != 0 ? port : (scheme == "http" ? 80 : 443);
  const bool ipv6 = host.find(':') != std::string::npos;
  return scheme + "://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(p);
}

}  // namespace mockhub::service
