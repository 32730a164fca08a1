// `mockhub demo`: walks the tutorial's door locks through the hub core, in memory, on a
// virtual clock, and prints what a back end and a device would see at each step.
#pragma once

#include <cstdint>
#include <ostream>

namespace CLI {
class App;
}

namespace mockhub::server {

struct demo_options {
  int devices = 3;             // door locks registered in building 43
  std::uint64_t seed = 1;      // the id source's seed: the same seed prints the same run
};

/// Runs the walk-through, writing to `out`. Returns the process exit code.
int run_demo(const demo_options& options, std::ostream& out);

/// Adds the `demo` verb to the `mockhub` command; its callback sets `exit_code`.
void add_demo_command(CLI::App& app, int& exit_code);

}  // namespace mockhub::server
