// The door_lock example as a process against an in-process hub over TLS.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hub_fixture.hpp"
#include "mock_hub/server/child_process.hpp"

using namespace mockhub;
using namespace std::chrono_literals;
using mockhub::test::bound;
using nlohmann::json;

TEST_CASE("door_lock answers lockDoor, prints desired patches, and stops on SIGINT with exit code 0",
          "[device][integration][example]") {
  test::hub_fixture hub;
  const auto cs = hub.add_device("doorLock1");
  const auto log = std::filesystem::temp_directory_path() / ("door_lock-" + std::to_string(::getpid()) + ".log");
  server::child_process_options o;
  o.program = MOCKHUB_DOOR_LOCK_BINARY;
  o.arguments = {"--ca", hub.runtime().ca_file().string(),
                 cs + ";GatewayHostName=" + hub.runtime().host_name() + ":" + std::to_string(hub.runtime().mqtts_port())};
  o.output_file = log;
  auto device = server::child_process::spawn(o);

  // connectTimeoutInSeconds: the hub waits for the process to connect and subscribe.
  const auto first = hub.invoke("doorLock1", "lockDoor", {{"lockTime", "10m"}}, 30);
  REQUIRE(std::holds_alternative<core::method_result>(first));
  CHECK(std::get<core::method_result>(first).status == 200);
  CHECK(std::get<core::method_result>(first).payload == json{{"Response", "lockDoor called successfully"}});

  // The tutorial's twin job: a desired patch. The second call travels after it on the same
  // connection, so once it is answered the patch has been handled too.
  hub.call([](core::hub& h) {
    h.update_twin("doorLock1", {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}}, std::nullopt);
  });
  const auto second = hub.invoke("doorLock1", "lockDoor");
  REQUIRE(std::holds_alternative<core::method_result>(second));
  CHECK(std::get<core::method_result>(second).status == 200);

  REQUIRE(::kill(device.pid(), SIGINT) == 0);
  REQUIRE(device.wait_for_exit(bound));
  const auto status = device.wait_status();
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);

  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(log);
  const auto out = text.str();
  CAPTURE(out);
  CHECK(out.find("Locking Door!") != std::string::npos);
  CHECK(out.find("update state: COMPLETE") != std::string::npos);
  CHECK(out.find(R"(payload: {"$version":2,"building":43,"floor":3})") != std::string::npos);
  CHECK(out.find("Door lock sample stopped") != std::string::npos);
}

TEST_CASE("door_lock refuses a malformed connection string with exit code 2", "[device][integration][example]") {
  const auto log = std::filesystem::temp_directory_path() / ("door_lock-bad-" + std::to_string(::getpid()) + ".log");
  server::child_process_options o;
  o.program = MOCKHUB_DOOR_LOCK_BINARY;
  o.arguments = {"HostName=h;DeviceId=d"};
  o.output_file = log;
  auto device = server::child_process::spawn(o);
  REQUIRE(device.wait_for_exit(bound));
  std::filesystem::remove(log);
  REQUIRE(device.wait_status());
  CHECK(WEXITSTATUS(*device.wait_status()) == 2);
}
