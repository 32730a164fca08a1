// How an admin verb finds the hub it talks to (contract 2 of the `mockhub` command): either the
// `hub.json` a running `mockhub start` wrote into its data directory, or a connection string
// with an optional REST URL and CA file (a hub started some other way, or a real hub).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "service/client_options.hpp"

namespace mockhub::server::admin {

/// What the user gave (flags or their environment variables).
struct hub_locator_options {
  /// --data-dir / MOCKHUB_DATA_DIR.
  std::filesystem::path data_dir = ".mockhub";
  /// True when --data-dir or MOCKHUB_DATA_DIR was given: then hub.json wins over a connection string.
  bool data_dir_given = false;
  /// --connection-string / IOTHUB_CONNECTION_STRING.
  std::string connection_string{};
  /// --rest-url / MOCKHUB_REST_URL; empty: https://{HostName} (a real hub).
  std::string rest_url{};
  /// --ca-file / MOCKHUB_CA_FILE.
  std::string ca_file{};
};

/// The hub to talk to.
struct hub_address {
  std::string connection_string;
  /// Where requests go; empty: https://{HostName}.
  std::string rest_url;
  std::filesystem::path ca_file;
  /// Where the address came from, for messages ("./.mockhub/hub.json", "--connection-string").
  std::string source;
};

/// No hub where the user pointed; the message says how to start one.
class hub_not_found : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A hub.json that is not what `mockhub start` writes (not JSON, members missing).
class bad_hub_file : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Picks the hub: hub.json in an explicitly given data directory; else the connection string;
/// else hub.json in the default data directory. A hub.json whose pid is no longer running is
/// "not found" (a hub that did not stop cleanly). Throws hub_not_found or bad_hub_file.
hub_address locate_hub(const hub_locator_options& options);

/// Client options that send requests to `address` (endpoint override and CA file).
/// Throws std::invalid_argument for a REST URL that cannot be parsed.
service::client_options client_options_for(const hub_address& address);

}  // namespace mockhub::server::admin
