// The service library's twin operations against a whole hub over HTTPS.
#include <catch2/catch.hpp>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using test::hub_error_of;
using test::service_fixture;

namespace {

// A section without its `$metadata` and `$version`, for comparing values.
json values_of(json section) {
  section.erase("$metadata");
  section.erase("$version");
  return section;
}

}  // namespace

TEST_CASE_METHOD(service_fixture, "A new device's twin is read exactly", "[service][twins]") {
  client->registry().create_device("lock1");
  const twin t = client->twins().get_twin("lock1");
  CHECK(t.device_id == "lock1");
  CHECK(t.etag == "AAAAAAAAAAE=");
  CHECK(t.version == 2);
  CHECK(t.tags == json::object());
  CHECK(t.desired["$version"] == 1);
  CHECK(t.reported["$version"] == 1);
  CHECK(values_of(t.desired) == json::object());
  CHECK(t.document["status"] == "enabled");
  CHECK(t.document == hub.call([](core::hub& h) { return h.registry().get_twin("lock1"); }));
}

TEST_CASE_METHOD(service_fixture, "Twin patches merge, follow the etag, and null deletes", "[service][twins]") {
  client->registry().create_device("lock1");
  const twin before = client->twins().get_twin("lock1");

  const twin patched = client->twins().update_twin(
      "lock1", {{"tags", {{"building", 43}, {"site", "lab"}}}, {"properties", {{"desired", {{"lockMode", "manual"}}}}}},
      if_match::etag(before.etag));
  CHECK(patched.etag == "AAAAAAAAAAI=");
  CHECK(patched.version == 3);
  CHECK(patched.tags == json{{"building", 43}, {"site", "lab"}});
  CHECK(values_of(patched.desired) == json{{"lockMode", "manual"}});
  CHECK(patched.desired["$version"] == 2);

  SECTION("the etag it was read with is now stale: 412001") {
    const auto e = hub_error_of([&] {
      client->twins().update_twin("lock1", {{"tags", {{"site", "other"}}}}, if_match::etag(before.etag));
    });
    CHECK(e.http_status() == 412);
    CHECK(e.error_code() == 412001);
    CHECK(e.error_name() == "PreconditionFailed");
    CHECK(client->twins().get_twin("lock1").tags["site"] == "lab");
  }
  SECTION("a forced patch merges; null deletes a tag") {
    const twin t = client->twins().update_twin("lock1", {{"tags", {{"site", nullptr}, {"floor", 3}}}});
    CHECK(t.tags == json{{"building", 43}, {"floor", 3}});
    CHECK(t.version == 4);
    CHECK(values_of(t.desired) == json{{"lockMode", "manual"}});
  }
  SECTION("replace swaps tags and desired wholesale") {
    const twin t = client->twins().replace_twin(
        "lock1", {{"tags", {{"room", "101"}}}, {"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}},
        if_match::etag(patched.etag));
    CHECK(t.tags == json{{"room", "101"}});
    CHECK(values_of(t.desired) == json{{"building", 43}, {"floor", 3}});
    CHECK(t.desired["$version"] == 3);
    const auto e = hub_error_of([&] { client->twins().replace_twin("lock1", {{"tags", json::object()}}, if_match::etag(patched.etag)); });
    CHECK(e.error_code() == 412001);
  }
  SECTION("a twin of a missing device is 404001") {
    CHECK(hub_error_of([&] { client->twins().get_twin("ghost"); }).error_code() == 404001);
    CHECK(hub_error_of([&] { client->twins().update_twin("ghost", {{"tags", {{"a", 1}}}}); }).error_code() == 404001);
  }
  SECTION("a patch the hub refuses is 400004 ArgumentInvalid") {
    const auto e = hub_error_of([&] { client->twins().update_twin("lock1", {{"tags", {{"bad.key", 1}}}}); });
    CHECK(e.http_status() == 400);
    CHECK(e.error_code() == 400004);
    CHECK(e.error_name() == "ArgumentInvalid");
  }
}

TEST_CASE_METHOD(service_fixture, "A desired patch reaches the connected device with its version", "[service][twins]") {
  auto lock = connect_lock("lock1", 43);
  client->twins().update_twin("lock1", {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}});
  REQUIRE(lock->wait_desired_patches(1));
  CHECK(lock->desired_patches() == std::vector<json>{{{"building", 43}, {"floor", 3}, {"$version", 2}}});
}
