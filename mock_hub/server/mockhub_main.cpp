// The `mockhub` command.
#include <iostream>

#include <CLI/CLI.hpp>

#include "demo.hpp"
#include "fleet_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mockhub: an offline Azure IoT Hub for tests and local development"};
  app.set_version_flag("--version", "mockhub 0.1.0");
  app.require_subcommand(1);

  int exit_code = 0;
  mockhub::server::add_demo_command(app, exit_code);
  mockhub::server::add_fleet_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; bad options exit 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
