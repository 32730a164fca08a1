// The command the cli tests wrap in `mockhub run`: reads what `run` exported, uses every value
// (the service API over HTTPS with the CA and over plain HTTP, the device over MQTT with TLS and
// without), writes a JSON report to argv[1] and exits with the status argv[2].
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include <mockhub/device/client.hpp>

#include "service/service_client.hpp"

namespace {

using nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Connects the device, sends one message, disconnects; the error text when anything fails.
std::string try_device(const std::string& connection_string, const std::string& port, bool tls, const std::string& ca) {
  try {
    mockhub::device::client_options o;
    o.tls = {.enabled = tls, .ca_file = ca};
    o.port = static_cast<std::uint16_t>(std::stoi(port));
    mockhub::device::client c(connection_string, o);
    c.connect().get();
    c.send_telemetry({.body = tls ? "over tls" : "plain"}).get();
    c.close().get();
    return "ok";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cli_env_probe REPORT_FILE EXIT_STATUS\n";
    return 2;
  }
  namespace svc = mockhub::service;
  json report;
  for (const char* name : {"IOTHUB_CONNECTION_STRING", "IOTHUB_DEVICE_CONNECTION_STRING", "MOCKHUB_CA_FILE",
                           "MOCKHUB_MQTT_PORT", "MOCKHUB_MQTTS_PORT", "MOCKHUB_REST_URL", "MOCKHUB_HTTPS_URL",
                           "MOCKHUB_DATA_DIR"})
    report["env"][name] = std::getenv(name) ? json(env(name)) : json(nullptr);
  const auto device_id = mockhub::device::connection_string::parse(env("IOTHUB_DEVICE_CONNECTION_STRING")).device_id;
  try {
    svc::service_client https(env("IOTHUB_CONNECTION_STRING"),
                              {.endpoint_override = svc::endpoint::parse(env("MOCKHUB_HTTPS_URL")),
                               .ca_file = env("MOCKHUB_CA_FILE")});
    report["https_device"] = https.registry().get_device(device_id).device_id;
    svc::service_client http(env("IOTHUB_CONNECTION_STRING"),
                             {.endpoint_override = svc::endpoint::parse(env("MOCKHUB_REST_URL"))});
    report["http_device_count"] = http.registry().list_devices().size();
  } catch (const std::exception& e) {
    report["service_error"] = e.what();
  }
  report["mqtts"] = try_device(env("IOTHUB_DEVICE_CONNECTION_STRING"), env("MOCKHUB_MQTTS_PORT"), true, env("MOCKHUB_CA_FILE"));
  report["mqtt"] = try_device(env("IOTHUB_DEVICE_CONNECTION_STRING"), env("MOCKHUB_MQTT_PORT"), false, "");
  std::ofstream(argv[1]) << report.dump(2) << "\n";
  return std::atoi(argv[2]);
}
