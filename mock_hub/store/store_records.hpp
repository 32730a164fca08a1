// How the SQLite store writes each record as JSON (lossless: times as integer ticks of
// std::chrono::system_clock, message bodies as base64), and reads it back. The `from` functions
// throw std::exception subclasses for a record that does not parse.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/hub_store.hpp"

namespace mockhub::store::records {

nlohmann::json to_json(const core::device_identity& d);
core::device_identity identity_from_json(const nlohmann::json& j);

nlohmann::json to_json(std::span<const core::shared_access_policy> policies);
std::vector<core::shared_access_policy> policies_from_json(const nlohmann::json& j);

nlohmann::json to_json(const core::stored_job& job);
core::stored_job job_from_json(const nlohmann::json& j, const std::string& job_id);

nlohmann::json to_json(const core::stored_device_run& run);
core::stored_device_run device_run_from_json(const nlohmann::json& j, const std::string& device_id);

nlohmann::json to_json(const core::cloud_to_device_message& m);
core::cloud_to_device_message message_from_json(const nlohmann::json& j);

}  // namespace mockhub::store::records
