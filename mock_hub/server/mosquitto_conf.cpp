#include "mock_hub/server/mosquitto_conf.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace mockhub::server {
namespace {

// mosquitto reads its configuration a line at a time and trims blanks around string values.
bool is_blank(char c) { return c == ' ' || c == '\t'; }

void require_line_safe(const std::string& value, const std::string& what) {
  if (value.find_first_of("\r\n") != std::string::npos) {
    throw std::invalid_argument("mosquitto.conf: " + what + " contains a line break");
  }
  if (!value.empty() && (is_blank(value.front()) || is_blank(value.back()))) {
    throw std::invalid_argument("mosquitto.conf: " + what + " starts or ends with a blank");
  }
}

std::string path_value(const std::filesystem::path& path, const std::string& what) {
  if (path.empty()) throw std::invalid_argument("mosquitto.conf: " + what + " is not set");
  require_line_safe(path.string(), what);
  return path.string();
}

bool is_option_key(const std::string& key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

std::string mosquitto_conf::text() const {
  if (max_keepalive < 10) throw std::invalid_argument("mosquitto.conf: max_keepalive must be at least 10");
  if (max_qos > 2) throw std::invalid_argument("mosquitto.conf: max_qos must be 0, 1 or 2");
  if (listeners.empty()) throw std::invalid_argument("mosquitto.conf: no listener");
  if (plugin.empty() && !plugin_options.empty()) {
    throw std::invalid_argument("mosquitto.conf: plugin options without a plugin");
  }

  std::ostringstream out;
  out << "# Written by mockhub's broker launcher at every start; edits are lost.\n"
         "per_listener_settings false\n"
         "persistence false\n"
         "set_tcp_nodelay true\n"
      << "allow_anonymous " << (plugin.empty() ? "true" : "false") << "\n"
      << "max_keepalive " << max_keepalive << "\n"
      << "connection_messages true\n"
         "log_dest stderr\n"
         "log_type error\n"
         "log_type warning\n"
         "log_type notice\n"
         "log_type information\n"
         "log_timestamp true\n"
         "log_timestamp_format %Y-%m-%dT%H:%M:%S\n";
  if (!user.empty()) {
    require_line_safe(user, "user");
    out << "user " << user << "\n";
  }

  if (!plugin.empty()) {
    out << "\nplugin " << path_value(plugin, "plugin") << "\n";
    for (const auto& [key, value] : plugin_options) {
      if (!is_option_key(key)) throw std::invalid_argument("mosquitto.conf: plugin option key \"" + key + "\" is not [A-Za-z0-9_]+");
      if (value.empty()) throw std::invalid_argument("mosquitto.conf: plugin option " + key + " is empty");
      require_line_safe(value, "plugin option " + key);
      out << "plugin_opt_" << key << " " << value << "\n";
    }
  }

  for (const auto& listener : listeners) {
    if (listener.port == 0) throw std::invalid_argument("mosquitto.conf: listener port 0");
    require_line_safe(listener.address, "listener address");
    if (listener.address.empty() || listener.address.find(' ') != std::string::npos) {
      throw std::invalid_argument("mosquitto.conf: listener address \"" + listener.address + "\"");
    }
    out << "\nlistener " << listener.port << " " << listener.address << "\n";
    if (listener.tls) {
      out << "cafile " << path_value(cafile, "cafile") << "\n"
          << "certfile " << path_value(certfile, "certfile") << "\n"
          << "keyfile " << path_value(keyfile, "keyfile") << "\n"
          << "require_certificate false\n"
             "tls_version tlsv1.2\n";
    }
    if (max_qos < 2) out << "max_qos " << static_cast<int>(max_qos) << "\n";
  }
  return out.str();
}

}  // namespace mockhub::server
