// A service connection string, as the Azure portal shows it for a shared access policy:
//
//   HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<base64>
#pragma once

#include <string>
#include <string_view>

namespace mockhub::service {

struct service_connection_string {
  /// The hub's host name: where requests go by default (https://{host_name}) and the SAS `sr`.
  std::string host_name;
  /// The shared access policy (`skn`).
  std::string key_name;
  /// The policy's key, base64.
  std::string key;

  /// Parses `Name=value` pairs separated by `;`. Names match case-insensitively, values keep
  /// everything after the first `=` (base64 padding), blanks around pairs are ignored, other
  /// names (e.g. `DeviceId`, `GatewayHostName`) are ignored. Throws std::invalid_argument naming
  /// what is missing or empty (without ever echoing the key).
  static service_connection_string parse(std::string_view text);
};

}  // namespace mockhub::service
