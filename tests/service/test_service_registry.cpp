// The service library's registry operations against a whole hub over HTTPS.
#include <catch2/catch.hpp>

#include <algorithm>
#include <future>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using test::hub_error_of;
using test::service_fixture;

TEST_CASE_METHOD(service_fixture, "A device is created with generated keys and read back exactly", "[service][registry]") {
  const device created = client->registry().create_device("lock1");
  CHECK(created.device_id == "lock1");
  CHECK_FALSE(created.etag.empty());
  CHECK(created.status == device_status::enabled);
  CHECK(created.connection == connection_state::disconnected);
  CHECK(created.authentication == authentication_type::sas);
  CHECK(created.primary_key.size() == 44);  // base64 of 32 bytes
  CHECK(created.secondary_key.size() == 44);
  CHECK(created.primary_key != created.secondary_key);
  CHECK_FALSE(created.generation_id.empty());
  CHECK(created.cloud_to_device_message_count == 0);
  CHECK(created.last_activity_time == "0001-01-01T00:00:00Z");

  // The hub holds exactly what it returned.
  const auto stored = hub.call([](core::hub& h) { return h.registry().get_identity("lock1"); });
  CHECK(created.primary_key == stored.primary_key);
  CHECK(created.secondary_key == stored.secondary_key);
  CHECK(created.generation_id == stored.generation_id);
  CHECK(created.etag == stored.etag);

  CHECK(client->registry().get_device("lock1") == created);
}

TEST_CASE_METHOD(service_fixture, "A device created with its own keys, disabled, keeps them", "[service][registry]") {
  device d;
  d.device_id = "lock2";
  d.status = device_status::disabled;
  d.status_reason = "installing";
  d.primary_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  d.secondary_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
  const device created = client->registry().create_device(d);
  CHECK(created.status == device_status::disabled);
  CHECK(created.status_reason == "installing");
  CHECK(created.primary_key == d.primary_key);
  CHECK(created.secondary_key == d.secondary_key);
}

TEST_CASE_METHOD(service_fixture, "Updating a device follows its etag", "[service][registry]") {
  device d = client->registry().create_device("lock1");
  const std::string first_etag = d.etag;
  d.status = device_status::disabled;
  d.status_reason = "maintenance";

  SECTION("with the current etag the update is applied and the etag moves on") {
    const device updated = client->registry().update_device(d, if_match::etag(d.etag));
    CHECK(updated.status == device_status::disabled);
    CHECK(updated.status_reason == "maintenance");
    CHECK(updated.primary_key == d.primary_key);
    CHECK(updated.etag != first_etag);

    SECTION("the old etag is now stale: 412001 PreconditionFailed") {
      d.status = device_status::enabled;
      const auto e = hub_error_of([&] { client->registry().update_device(d, if_match::etag(first_etag)); });
      CHECK(e.http_status() == 412);
      CHECK(e.error_code() == 412001);
      CHECK(e.error_name() == "PreconditionFailed");
      CHECK(client->registry().get_device("lock1").status == device_status::disabled);
    }
    SECTION("a forced update ignores the etag") {
      d.status = device_status::enabled;
      CHECK(client->registry().update_device(d, if_match::any()).status == device_status::enabled);
    }
  }
  SECTION("an etag given already quoted is sent as it is") {
    CHECK(client->registry().update_device(d, if_match::etag("\"" + d.etag + "\"")).status == device_status::disabled);
  }
  SECTION("updating a device that does not exist is 404001") {
    d.device_id = "ghost";
    const auto e = hub_error_of([&] { client->registry().update_device(d, if_match::any()); });
    CHECK(e.error_code() == 404001);
  }
}

TEST_CASE_METHOD(service_fixture, "Deleting a device follows its etag", "[service][registry]") {
  const device d = client->registry().create_device("lock1");
  SECTION("a stale etag is 412001 and the device stays") {
    const auto e = hub_error_of([&] { client->registry().delete_device("lock1", if_match::etag("AAAAAAAAAAA=")); });
    CHECK(e.error_code() == 412001);
    CHECK(client->registry().get_device("lock1").device_id == "lock1");
  }
  SECTION("the current etag deletes it, and the twin goes with it") {
    client->registry().delete_device("lock1", if_match::etag(d.etag));
    CHECK(hub_error_of([&] { client->registry().get_device("lock1"); }).error_code() == 404001);
    CHECK(hub_error_of([&] { client->twins().get_twin("lock1"); }).error_code() == 404001);
  }
  SECTION("forced") {
    client->registry().delete_device("lock1");
    CHECK(client->registry().get_device_statistics().total_device_count == 0);
  }
  SECTION("a device that does not exist is 404001") {
    CHECK(hub_error_of([&] { client->registry().delete_device("ghost"); }).error_code() == 404001);
  }
}

TEST_CASE_METHOD(service_fixture, "Registry errors carry status, code, name and message", "[service][registry][errors]") {
  SECTION("a missing device is 404001 DeviceNotFound") {
    const auto e = hub_error_of([&] { client->registry().get_device("ghost"); });
    CHECK(e.http_status() == 404);
    CHECK(e.error_code() == 404001);
    CHECK(e.error_name() == "DeviceNotFound");
    CHECK(e.message() == "Device 'ghost' is not registered in this hub.");
    CHECK(e.tracking_id().size() > 32);
    CHECK_FALSE(e.request_id().empty());
    CHECK(std::string(e.what()) ==
          "IoT Hub error 404001 DeviceNotFound (HTTP 404): Device 'ghost' is not registered in this hub.");
  }
  SECTION("creating an existing device is 409001 DeviceAlreadyExists") {
    client->registry().create_device("lock1");
    const auto e = hub_error_of([&] { client->registry().create_device("lock1"); });
    CHECK(e.http_status() == 409);
    CHECK(e.error_code() == 409001);
    CHECK(e.error_name() == "DeviceAlreadyExists");
  }
  SECTION("a device id that needs percent-encoding reaches the hub as it is") {
    const device d = client->registry().create_device("door:front#1?+%");
    CHECK(d.device_id == "door:front#1?+%");
    CHECK(client->registry().get_device("door:front#1?+%").device_id == "door:front#1?+%");
  }
}

TEST_CASE_METHOD(service_fixture, "Listing devices and statistics give exact numbers", "[service][registry]") {
  for (const char* id : {"a", "b", "c", "d"}) client->registry().create_device(id);
  device disabled = client->registry().get_device("c");
  disabled.status = device_status::disabled;
  client->registry().update_device(disabled, if_match::any());

  const auto all = client->registry().list_devices();
  REQUIRE(all.size() == 4);
  std::vector<std::string> ids;
  for (const auto& d : all) ids.push_back(d.device_id);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(client->registry().list_devices(2).size() == 2);

  CHECK(client->registry().get_device_statistics() ==
        device_statistics{.total_device_count = 4, .enabled_device_count = 3, .disabled_device_count = 1});
  CHECK(client->registry().get_service_statistics() == service_statistics{.connected_device_count = 0});

  auto lock = connect_lock("e", 43);
  CHECK(client->registry().get_service_statistics() == service_statistics{.connected_device_count = 1});
  CHECK(client->registry().get_device("e").connection == connection_state::connected);
  CHECK(client->registry().get_device_statistics().total_device_count == 5);
}

TEST_CASE_METHOD(service_fixture, "One client serves several threads at once", "[service][registry]") {
  constexpr int threads = 4;
  constexpr int per_thread = 25;
  std::vector<std::future<int>> workers;
  for (int t = 0; t < threads; ++t)
    workers.push_back(std::async(std::launch::async, [this, t] {
      int created = 0;
      for (int i = 0; i < per_thread; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (client->registry().create_device(id).device_id == id && client->registry().get_device(id).device_id == id) ++created;
      }
      return created;
    }));
  int total = 0;
  for (auto& w : workers) {
    REQUIRE(w.wait_for(std::chrono::seconds(120)) == std::future_status::ready);
    total += w.get();
  }
  CHECK(total == threads * per_thread);
  CHECK(client->registry().get_device_statistics().total_device_count == threads * per_thread);
}
