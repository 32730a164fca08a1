// `mockhub demo`: the tutorial end to end on a fresh hub, in real time. A hub starts in-process
// (broker + plugin + core + REST, ephemeral loopback ports, TLS), a door-lock fleet connects over
// MQTT (the fleet simulator, on its own event loop thread), and the tutorial's back end (the
// job_scheduler example's library) schedules a twin job and a `lockDoor` job a few seconds ahead
// over HTTPS. Progress bars on a terminal, plain lines otherwise; then a summary table and a check
// of every lock's twin.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace CLI {
class App;
}

namespace mockhub::server {

/// Exit codes of `mockhub demo`.
inline constexpr int demo_ok = 0;             // both jobs completed, every lock locked with its desired properties
inline constexpr int demo_device_failed = 1;  // a device failed a job, or its twin does not show the result
inline constexpr int demo_usage = 2;          // bad options or fixture
inline constexpr int demo_hub_error = 3;      // the hub could not start, or refused a request

struct demo_options {
  /// The fleet fixture (docs/fleet-format.md). Empty: the repository's fixtures/fleets/door-locks.json.
  std::filesystem::path fleet{};
  /// Scales the fixture's first group to this many devices; none: the fixture as it is. (The
  /// command's default: 10 with the default fixture, none with --fleet.)
  std::optional<std::size_t> devices = 10;
  /// The jobs start this long after they are scheduled.
  std::chrono::seconds twin_delay{3};
  std::chrono::seconds method_delay{6};
  /// The devices the jobs target (a WHERE clause without WHERE): the locks.
  std::string query_condition = "tags.building = 43";
  /// Redrawn progress bars (a terminal) instead of one line per change.
  bool progress_bars = false;
};

/// Runs the demo, writing progress and the summary to `out` and problems to `err`. Returns one
/// of the exit codes above.
int run_demo(const demo_options& options, std::ostream& out, std::ostream& err);

/// Adds `demo` to `app`; its callback runs the demo and sets `exit_code`.
void add_demo_command(CLI::App& app, int& exit_code);

/// Adds the `demo` verb to the `mockhub` command; its callback sets `exit_code`.
void add_demo_command(CLI::App& app, int& exit_code);

}  // namespace mockhub::server
