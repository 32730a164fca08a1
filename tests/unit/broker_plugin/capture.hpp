// Test helper: the official Node device SDK's recorded session (reference/sdk-captures).
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::testing {

/// base64 of the ASCII string "0123456789abcdef0123456789abcdef": the device key and the
/// iothubowner key the captures were signed with (sdk-captures/README.md).
inline const std::string capture_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
inline const std::string capture_host = "testhub.azure-devices.net";

/// Every packet of device-mqtt-packets.jsonl, in order.
inline std::vector<nlohmann::json> device_capture() {
  const std::string path = std::string(MOCKHUB_SHARED_DIR) + "/reference/sdk-captures/device-mqtt-packets.jsonl";
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::vector<nlohmann::json> packets;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) packets.push_back(nlohmann::json::parse(line));
  }
  return packets;
}

/// The first packet of the capture with this `cmd` (and, when given, this `dir`).
inline nlohmann::json first_packet(const std::string& cmd, const std::string& dir = {}) {
  for (const auto& p : device_capture()) {
    if (p.value("cmd", "") == cmd && (dir.empty() || p.value("dir", "") == dir)) return p;
  }
  FAIL("no " << cmd << " packet in the capture");
  return {};
}

}  // namespace mockhub::testing
