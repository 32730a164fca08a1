// `mockhub replay [--verify] TRACE`: plays a recorded trace against a fresh hub (trace_replay.hpp).
#pragma once

#include <CLI/CLI.hpp>

namespace mockhub::server {

/// Adds the `replay` subcommand; its callback sets `exit_code`: 0 identical (or played), 1 any
/// difference (or the hub could not run), 2 an unreadable trace.
void add_replay_command(CLI::App& app, int& exit_code);

}  // namespace mockhub::server

// The registration the contract names (ext-contract.md) is in the global namespace.
using mockhub::server::add_replay_command;
