// The `mockhub` command.
#include <iostream>

#include <CLI/CLI.hpp>

#include "admin/admin_commands.hpp"
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
  mockhub::server::add_admin_commands(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a bad option exits 2 (as getopt tools do), naming it.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*demo_cmd) return mockhub::server::run_demo(demo, std::cout);
  return exit_code;
}
