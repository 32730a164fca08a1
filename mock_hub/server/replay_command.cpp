#include "replay_command.hpp"

#include <iostream>
#include <memory>

#include "trace_replay.hpp"

namespace mockhub::server {

void add_replay_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<replay_options>();
  options->verify = false;
  auto* cmd = app.add_subcommand("replay", "Play a recorded trace against a fresh hub (virtual clock, the trace's seed)");
  cmd->add_flag("--verify", options->verify,
                "Compare every hub output with the trace; print each difference, exit 1 on any");
  cmd->add_option("TRACE", options->trace, "The trace (JSON Lines, docs/trace-format.md)")->required();
  cmd->callback([options, &exit_code] {
    try {
      exit_code = static_cast<int>(replay_trace(*options, std::cout).outcome);
    } catch (const std::exception& e) {
      std::cerr << "mockhub replay: could not replay " << options->trace.string() << ": " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace mockhub::server
