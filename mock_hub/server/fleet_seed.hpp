// Registers a fleet fixture's devices in a hub (docs/fleet-format.md): identities (with the
// fixture's key, or a generated one), tags, and the reported properties the devices start with.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <mockhub/device/fleet/fixture.hpp>

#include "mock_hub/core/hub.hpp"

namespace mockhub::server {

/// Runs on the hub's thread (hub_runtime::call). Returns device id -> primary key. Throws
/// core::hub_error as the hub's operations do (e.g. 409001 for an id that already exists).
std::map<std::string, std::string> seed_fleet(core::hub& hub, const std::vector<device::fleet::device_spec>& devices);

}  // namespace mockhub::server
