// The verbs of the `mockhub` command that run a hub: `start` (serve until Ctrl-C/SIGTERM, or in
// the background with --detach), `stop`, and `run -- CMD` (a fresh hub around one command).
// docs/cli.md describes them for users.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace mockhub::server {

/// Default ports of `mockhub start` (`run` uses ephemeral ports unless told otherwise).
inline constexpr std::uint16_t default_mqtt_port = 1883;
inline constexpr std::uint16_t default_mqtts_port = 8883;
inline constexpr std::uint16_t default_rest_port = 8080;
inline constexpr std::uint16_t default_https_port = 8443;

/// What `start` and `run` share.
struct hub_command_options {
  std::filesystem::path data_dir{};  // start: ./.mockhub or $MOCKHUB_DATA_DIR; run: a temporary one
  std::filesystem::path fleet{};
  std::string tier = "S1";
  std::uint16_t mqtt_port = 0;
  std::uint16_t mqtts_port = 0;
  std::uint16_t rest_port = 0;
  std::uint16_t https_port = 0;
  std::string host_name = "localhost";
  std::optional<std::uint64_t> seed{};
  bool virtual_clock = false;
  bool no_tls = false;
  std::filesystem::path record{};
  std::string log_level = "info";
  std::string output = "table";  // start: what it prints once the hub accepts (table or json)
  bool persist = false;           // keep the state in <data-dir>/hub.db: start always, run with --persist
};

/// `mockhub start`, `mockhub stop`, `mockhub run`; each callback sets `exit_code`.
void add_start_command(CLI::App& app, int& exit_code);
void add_stop_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);

}  // namespace mockhub::server
