// The `mockhub` command.
#include <iostream>

#include <CLI/CLI.hpp>

#include "demo.hpp"
#include "replay_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mockhub: an offline Azure IoT Hub for tests and local development"};
  app.set_version_flag("--version", "mockhub 0.1.0");
  app.require_subcommand(1);

  mockhub::server::demo_options demo;
  auto* demo_cmd = app.add_subcommand("demo", "Walk the tutorial's door locks through the hub core (in memory, virtual clock)");
  demo_cmd->add_option("--devices", demo.devices, "How many door locks to register")->check(CLI::Range(1, 1000));
  demo_cmd->add_option("--seed", demo.seed, "Seed for generated keys and etags");

  int exit_code = 0;
  add_replay_command(app, exit_code);

  CLI11_PARSE(app, argc, argv);
  if (*demo_cmd) return mockhub::server::run_demo(demo, std::cout);
  return exit_code;
}
