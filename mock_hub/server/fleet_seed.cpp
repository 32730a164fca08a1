#include "fleet_seed.hpp"

namespace mockhub::server {

std::unordered_map<std::string, std::string> seed_fleet(core::hub& hub, const device::fleet::fleet_fixture& fixture) {
  std::unordered_map<std::string, std::string> keys;
  for (const auto& d : fixture.devices) {
    core::device_identity_request r;
    r.device_id = d.id;
    if (d.key) {
      r.auth_type = core::authentication_type::sas;
      r.primary_key = d.key;
    }
    keys[d.id] = hub.create_or_update_identity(d.id, r, std::nullopt).primary_key;
    if (!d.tags.empty()) hub.update_twin(d.id, {{"tags", d.tags}}, std::nullopt);
    if (!d.reported.empty()) hub.device_update_reported(d.id, d.reported);
  }
  return keys;
}

}  // namespace mockhub::server
