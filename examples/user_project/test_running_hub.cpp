// Against a hub someone else started (`mockhub start --detach`, here the CTest fixture of
// CMakeLists.txt): found through MOCKHUB_DATA_DIR/hub.json.
#include <catch2/catch.hpp>

#include <chrono>

#include <mockhub/device/client.hpp>
#include <mockhub/harness/test_hub.hpp>
#include <service/service_client.hpp>

using namespace std::chrono_literals;

TEST_CASE("a back end calls lockDoor on a device of a running hub", "[running-hub]") {
  const auto hub = mockhub::harness::running_hub::from_environment();
  CHECK(hub.devices.count("backDoor") == 1);  // the fleet of fleet.json

  mockhub::service::service_client backend(hub.service_connection_string, hub.service_options());
  const auto created = backend.registry().create_device("sideDoor");
  mockhub::device::client lock("HostName=" + hub.host_name + ";DeviceId=sideDoor;SharedAccessKey=" + created.primary_key,
                               hub.device_options());
  lock.on_method("lockDoor", [](const mockhub::device::method_request&) {
    return mockhub::device::method_response{200, {{"locked", true}}};
  });
  REQUIRE(lock.connect().wait_for(30s));
  REQUIRE(lock.get_twin().wait_for(30s));  // once answered, the hub has seen the subscriptions

  const auto answer = backend.invoke_method("sideDoor", {.method_name = "lockDoor"});
  CHECK(answer.status == 200);
  CHECK(answer.payload == nlohmann::json{{"locked", true}});
  backend.registry().delete_device("sideDoor");
}
