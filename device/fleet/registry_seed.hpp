// Seeds a hub's registry from a fleet fixture: each device's identity (with the fixture's key when
// it names one, else generated), its tags and its reported properties. What `fleet`, the harness
// and `mockhub start --fleet` do before devices connect. Not a public header of the device
// library: it needs the hub core.
#pragma once

#include <span>
#include <string>
#include <unordered_map>

#include <mockhub/device/fleet/fixture.hpp>

#include "mock_hub/core/hub.hpp"

namespace mockhub::device::fleet {

/// Runs on the hub's thread (e.g. inside hub_runtime::call). Returns device id -> primary key.
/// Throws core::hub_error for what the hub refuses (an invalid id or key).
std::unordered_map<std::string, std::string> seed_registry(core::hub& hub, std::span<const device_spec> devices);
std::unordered_map<std::string, std::string> seed_registry(core::hub& hub, const fleet_fixture& fixture);

}  // namespace mockhub::device::fleet
