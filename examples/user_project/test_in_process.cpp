// A hub in the test process (mockhub::harness::test_hub), a device on the device library whose
// desired-properties handler is a trompeloeil mock, and a back end on the service library that
// schedules a twin job 10 s ahead on the hub's virtual clock.
#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <chrono>
#include <future>

#include <mockhub/device/client.hpp>
#include <mockhub/harness/test_hub.hpp>
#include <service/service_client.hpp>

using namespace std::chrono_literals;
using nlohmann::json;
using trompeloeil::_;

namespace {
struct desired_listener {
  MAKE_MOCK2(changed, void(const json&, mockhub::device::twin_update_state));
};
}  // namespace

TEST_CASE("a twin job sets the floor of every lock in building 43", "[in-process]") {
  mockhub::harness::test_hub hub({.virtual_clock = true, .seed = 1});

  desired_listener mock;
  mockhub::device::client lock(hub.create_device("frontDoor", {{"building", 43}}), hub.device_options());
  lock.on_desired_properties([&mock](const json& desired, mockhub::device::twin_update_state s) { mock.changed(desired, s); });
  {
    // After connecting, the client GETs the whole desired section once. The handler runs on the
    // client's thread: a promise tells this one that it did (a bounded wait, never a sleep).
    std::promise<void> called;
    REQUIRE_CALL(mock, changed(_, mockhub::device::twin_update_state::complete)).LR_SIDE_EFFECT(called.set_value());
    REQUIRE(lock.connect().wait_for(30s));
    REQUIRE(called.get_future().wait_for(30s) == std::future_status::ready);
    hub.wait_for_subscribed("frontDoor", "desired");
  }

  mockhub::service::service_client backend(hub.service_connection_string(), hub.service_options());
  backend.jobs().schedule_twin_update({.job_id = "floor-3",
                                       .query_condition = "tags.building = 43",
                                       .patch = {{"properties", {{"desired", {{"floor", 3}}}}}},
                                       .start_time = hub.now() + 10s});
  hub.wait_for_job("floor-3", "scheduled");

  std::promise<void> patched;
  REQUIRE_CALL(mock, changed(_, mockhub::device::twin_update_state::partial))
      .WITH(_1.value("floor", 0) == 3)
      .LR_SIDE_EFFECT(patched.set_value());
  hub.advance(10s);
  hub.wait_for_job("floor-3", "completed");
  hub.wait_for_desired_version("frontDoor", 2);
  REQUIRE(patched.get_future().wait_for(30s) == std::future_status::ready);

  // And the device's telemetry, as the hub received it.
  lock.send_telemetry({.body = R"({"battery":87})"}).wait_for(30s);
  CHECK(hub.wait_for_telemetry("frontDoor").at(0).body == R"({"battery":87})");
}
