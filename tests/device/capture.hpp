// Reads the official Node SDK's packets from shared/reference/sdk-captures (test vectors).
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::test {

inline std::vector<nlohmann::json> device_capture() {
  std::ifstream in(std::string(MOCKHUB_SHARED_DIR) + "/reference/sdk-captures/device-mqtt-packets.jsonl");
  if (!in) throw std::runtime_error("cannot read the device capture under " MOCKHUB_SHARED_DIR);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

/// The first packet with `cmd` (and `dir`, when given) whose topic starts with `prefix`.
inline nlohmann::json capture_packet(const std::string& cmd, const std::string& prefix = {}, const std::string& dir = {}) {
  for (const auto& p : device_capture()) {
    if (p.value("cmd", "") != cmd) continue;
    if (!dir.empty() && p.value("dir", "") != dir) continue;
    const std::string topic = p.contains("topic") && p["topic"].is_string() ? p["topic"].get<std::string>() : "";
    if (topic.rfind(prefix, 0) == 0) return p;
  }
  throw std::runtime_error("no " + cmd + " packet for " + prefix + " in the capture");
}

}  // namespace mockhub::test
