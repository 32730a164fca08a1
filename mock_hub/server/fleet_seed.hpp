// Seeding a hub's registry from a fleet fixture: what the simulator leaves to its caller.
#pragma once

#include <string>
#include <unordered_map>

#include <mockhub/device/fleet/fixture.hpp>

#include "mock_hub/core/hub.hpp"

namespace mockhub::server {

/// Creates (or updates) every fixture device's identity (with the fixture's key when it names
/// one), sets its tags and seeds its reported properties. Runs on the hub's thread (inside
/// hub_runtime::call). Returns each device's primary key, by id.
std::unordered_map<std::string, std::string> seed_fleet(core::hub& hub, const device::fleet::fleet_fixture& fixture);

}  // namespace mockhub::server
