// `<data-dir>/hub.json`: how a running hub (`mockhub start`, `mockhub run`) tells other processes
// where it is — the admin verbs, `mockhub stop`, scripts. Written atomically (temporary file +
// rename) once the hub accepts, removed on a clean stop. Format: docs/cli.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace mockhub::server {

struct hub_state {
  pid_t pid = 0;
  std::string host_name;
  std::string service_connection_string;
  std::string rest_url;                   // http://127.0.0.1:PORT
  std::optional<std::string> https_url;   // https://127.0.0.1:PORT (TLS only)
  std::uint16_t mqtt_port = 0;
  std::optional<std::uint16_t> mqtts_port;
  std::optional<std::filesystem::path> ca_file;
  bool virtual_clock = false;
  std::map<std::string, std::string> devices;  // device id -> device connection string
};
void to_json(nlohmann::json& j, const hub_state& s);
/// Throws nlohmann::json::exception for a member of the wrong type or a missing required one.
void from_json(const nlohmann::json& j, hub_state& s);

/// `<data_dir>/hub.json`.
std::filesystem::path hub_state_path(const std::filesystem::path& data_dir);
/// Writes the file atomically (0600: it carries keys). Throws std::runtime_error naming the file.
void write_hub_state(const std::filesystem::path& data_dir, const hub_state& state);
/// The state in `data_dir`, or nullopt when there is no hub.json. Throws std::runtime_error for
/// a file that is not a hub.json.
std::optional<hub_state> read_hub_state(const std::filesystem::path& data_dir);
/// Whether a process with this pid runs (exists and is not a zombie).
bool process_exists(pid_t pid) noexcept;

}  // namespace mockhub::server
