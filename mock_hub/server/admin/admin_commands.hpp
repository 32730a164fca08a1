// The az-like admin verbs of the `mockhub` command, against a running hub (docs/cli.md, "Admin
// verbs"): `device create|show|list|delete`, `twin show|update`, `invoke-device-method`,
// `c2d-message send`, `query`, `job create|show|list|cancel|watch`. Each finds the hub through
// hub.json in --data-dir or through --connection-string/--rest-url/--ca-file, and prints what
// the REST API returned (`--output json`, the default as in az) or a table (`--output table`).
// Exit codes: 0 done; 1 the hub said no, is unreachable or not running, or a watched job did
// not complete; 2 bad options.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace mockhub::server::admin {

/// Registers the verbs on `app`; the one that runs sets `exit_code`.
void add_admin_commands(CLI::App& app, int& exit_code);

/// Options the user got wrong in a way CLI11 cannot see (bad JSON, a bad --props list): exit 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// az's `--props "a=1;b=2"`: `;`-separated key=value pairs (empty pairs skipped; a value may be
/// empty and may hold '='). Throws usage_error naming --props for a pair without '=' or a key.
std::map<std::string, std::string> parse_properties(std::string_view text);

}  // namespace mockhub::server::admin

namespace mockhub::server {
using admin::add_admin_commands;
}
