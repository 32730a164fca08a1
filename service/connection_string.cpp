#include "connection_string.hpp"

#include <stdexcept>

#include "mock_hub/core/ascii.hpp"

namespace mockhub::service {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

service_connection_string service_connection_string::parse(std::string_view text) {
  service_connection_string c;
  bool has_host = false, has_name = false, has_key = false;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const std::string_view pair = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument("service connection string: '" + std::string(pair.substr(0, 40)) +
                                  "' is not a Name=value pair");
    const std::string_view name = trim(pair.substr(0, eq));
    const std::string value(trim(pair.substr(eq + 1)));
    if (core::iequals(name, "HostName")) {
      c.host_name = value;
      has_host = true;
    } else if (core::iequals(name, "SharedAccessKeyName")) {
      c.key_name = value;
      has_name = true;
    } else if (core::iequals(name, "SharedAccessKey")) {
      c.key = value;
      has_key = true;
    }
  }
  const auto require = [](bool present, const std::string& value, const char* name) {
    if (!present) throw std::invalid_argument(std::string("service connection string: ") + name + " is missing");
    if (value.empty()) throw std::invalid_argument(std::string("service connection string: ") + name + " is empty");
  };
  require(has_host, c.host_name, "HostName");
  require(has_name, c.key_name, "SharedAccessKeyName");
  require(has_key, c.key, "SharedAccessKey");
  return c;
}

}  // namespace mockhub::service
