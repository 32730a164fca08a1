#include "hub_state_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mockhub::server {

using nlohmann::json;

void to_json(json& j, const hub_state& s) {
  j = {{"pid", s.pid},
       {"host_name", s.host_name},
       {"service_connection_string", s.service_connection_string},
       {"rest_url", s.rest_url},
       {"mqtt_port", s.mqtt_port},
       {"virtual_clock", s.virtual_clock},
       {"devices", s.devices}};
  if (s.https_url) j["https_url"] = *s.https_url;
  if (s.mqtts_port) j["mqtts_port"] = *s.mqtts_port;
  if (s.ca_file) j["ca_file"] = s.ca_file->string();
}

void from_json(const json& j, hub_state& s) {
  j.at("pid").get_to(s.pid);
  j.at("host_name").get_to(s.host_name);
  j.at("service_connection_string").get_to(s.service_connection_string);
  j.at("rest_url").get_to(s.rest_url);
  j.at("mqtt_port").get_to(s.mqtt_port);
  s.virtual_clock = j.value("virtual_clock", false);
  s.devices = j.value("devices", std::map<std::string, std::string>{});
  if (j.contains("https_url")) s.https_url = j.at("https_url").get<std::string>();
  if (j.contains("mqtts_port")) s.mqtts_port = j.at("mqtts_port").get<std::uint16_t>();
  if (j.contains("ca_file")) s.ca_file = j.at("ca_file").get<std::string>();
}

std::filesystem::path hub_state_path(const std::filesystem::path& data_dir) { return data_dir / "hub.json"; }

void write_hub_state(const std::filesystem::path& data_dir, const hub_state& state) {
  const auto target = hub_state_path(data_dir);
  const auto temporary = data_dir / ("hub.json.tmp." + std::to_string(::getpid()));
  const std::string text = json(state).dump(2) + "\n";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + temporary.string() + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      throw std::runtime_error("cannot write " + temporary.string() + ": " + std::strerror(e));
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot write " + target.string() + ": " + std::strerror(e));
  }
}

std::optional<hub_state> read_hub_state(const std::filesystem::path& data_dir) {
  const auto path = hub_state_path(data_dir);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str()).get<hub_state>();
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + " is not a mockhub hub.json: " + e.what());
  }
}

bool process_exists(pid_t pid) noexcept {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  // A zombie (exited, not yet reaped by its parent or a subreaper) no longer runs.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

}  // namespace mockhub::server
