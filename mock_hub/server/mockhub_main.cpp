// The `mockhub` command: one verb per subcommand, each registered by the file that implements
// it (`add_*_command(app, exit_code)`); a verb's callback sets the exit code. Bad usage exits 2
// (CLI11's message names the option), --help and --version exit 0.
#include <iostream>

#include <CLI/CLI.hpp>

#include "admin/admin_commands.hpp"
#include "demo.hpp"
#include "fleet_command.hpp"
#include "hub_commands.hpp"
#include "replay_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mockhub: an offline Azure IoT Hub for tests and local development"};
  app.set_version_flag("--version", "mockhub 0.1.0");
  app.require_subcommand(1);

  int exit_code = 0;
  mockhub::server::add_start_command(app, exit_code);
  mockhub::server::add_stop_command(app, exit_code);
  mockhub::server::add_run_command(app, exit_code);
  mockhub::server::add_demo_command(app, exit_code);
  mockhub::server::add_fleet_command(app, exit_code);

  add_replay_command(app, exit_code);
  mockhub::server::add_admin_commands(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version, or the error naming the option
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
