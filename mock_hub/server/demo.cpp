#include "demo.hpp"

#include <string>

#include <nlohmann/json.hpp>

#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/device_registry.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/id_source.hpp"
#include "mock_hub/core/time_format.hpp"

namespace mockhub::server {

using nlohmann::json;
using namespace std::chrono_literals;

int run_demo(const demo_options& options, std::ostream& out) {
  core::virtual_clock clock;
  core::id_source ids(options.seed);
  core::device_registry registry(clock, ids);

  auto step = [&](const std::string& title) { out << "\n== " << title << " (virtual time " << core::format_time(clock.now()) << ")\n"; };

  step("register the door locks of building 43");
  for (int i = 1; i <= options.devices; ++i) {
    const std::string id = "door-lock-" + std::to_string(i);
    const auto& d = registry.create_or_update_identity(id, {}, std::nullopt);
    registry.update_twin(id, {{"tags", {{"building", 43}, {"floor", i}}}}, std::nullopt);
    out << id << "  primary key " << d.primary_key << "\n";
  }
  out << "statistics " << json(registry.get_device_statistics()).dump() << "\n";

  step("door-lock-1 connects and reports its firmware");
  clock.advance(5s);
  registry.set_connection_state("door-lock-1", core::connection_state::connected);
  const auto reported_version = registry.update_reported_properties("door-lock-1", {{"firmware", "1.2.0"}, {"locked", false}});
  out << "reported $version is now " << reported_version << "\n";

  step("the back end sets desired {\"building\": 43, \"floor\": 3} (tutorial) on every lock");
  clock.advance(10s);
  for (int i = 1; i <= options.devices; ++i) {
    const std::string id = "door-lock-" + std::to_string(i);
    const auto write = registry.update_twin(id, {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}}, "*");
    const bool online = registry.get_identity(id).connection == core::connection_state::connected;
    out << id << (online ? "  notified: " + write.desired_notification->dump()
                         : std::string("  offline: gets the change from its twin GET on connect"))
        << "\n";
  }

  step("the twin of door-lock-1, as GET /twins/door-lock-1 returns it");
  out << registry.get_twin("door-lock-1").dump(2) << "\n";

  step("what the hub refuses: a stale etag, an unknown device");
  try {
    registry.update_twin("door-lock-1", {{"tags", {{"floor", 4}}}}, "\"AAAAAAAAAAA=\"");
  } catch (const core::hub_error& e) {
    out << e.http_status() << " " << e.code() << " " << e.name() << ": " << e.what() << "\n";
  }
  try {
    registry.get_twin("door-lock-99");
  } catch (const core::hub_error& e) {
    out << e.http_status() << " " << e.code() << " " << e.name() << ": " << e.what() << "\n";
  }
  return 0;
}

}  // namespace mockhub::server
