// `mockhub fleet generate`: writes a fleet fixture (docs/fleet-format.md) of any size, as groups
// (one per floor), so that 100,000 devices stay a file of a few lines.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace mockhub::server {

struct fleet_generator_options {
  std::size_t devices = 0;            ///< how many (>= 1)
  std::string prefix = "door-lock-";  ///< ids: prefix + zero-padded index from 0
  int building = 43;                  ///< tags.building of every device
  int floors = 1;                     ///< tags.floor 1..floors, devices spread evenly (1..devices)
  std::string behaviour = "lock";     ///< "lock" (the tutorial's door lock) or "none"
  std::uint64_t seed = 1;             ///< the fixture's seed (the simulator's draws)
};

/// The behaviours `generate_fleet` knows.
inline constexpr const char* generated_behaviours[] = {"lock", "none"};

/// The fixture as JSON. Throws std::invalid_argument naming the option that is out of range
/// (devices 0, floors outside 1..devices, an unknown behaviour, a prefix a device id cannot start with).
nlohmann::json generate_fleet(const fleet_generator_options& options);

/// Adds `fleet generate` to `app`; its callback sets `exit_code` (0, 1 when the file cannot be
/// written, 2 for bad options).
void add_fleet_command(CLI::App& app, int& exit_code);

}  // namespace mockhub::server
