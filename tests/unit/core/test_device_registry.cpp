#include <catch2/catch.hpp>

#include "check_hub_error.hpp"
#include "mock_hub/core/device_registry.hpp"
#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/time_format.hpp"

using namespace mockhub::core;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct registry_fixture {
  virtual_clock clk;
  id_source ids{7};
  device_registry registry{clk, ids};

  const device_identity& create(std::string id, json body = json::object()) {
    return registry.create_or_update_identity(id, device_identity_request::from_json(body), std::nullopt);
  }
};


const std::string key16 = base64_encode("0123456789abcdef");
const std::string key32 = base64_encode("0123456789abcdef0123456789abcdef");

}  // namespace

TEST_CASE_METHOD(registry_fixture, "Creating a device without keys generates both, as the real hub does",
                 "[core][registry]") {
  // The body the official Node SDK sends (sdk-captures/service-requests.jsonl, first request).
  const auto body = json::parse(R"({"deviceId":"dev1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}})");
  const auto& d = create("dev1", body);
  CHECK(d.device_id == "dev1");
  CHECK(base64_decode(d.primary_key)->size() == 32);
  CHECK(base64_decode(d.secondary_key)->size() == 32);
  CHECK(d.primary_key != d.secondary_key);
  CHECK(d.status == device_status::enabled);
  CHECK(d.connection == connection_state::disconnected);
  CHECK(d.generation_id.size() == 18);
  CHECK_FALSE(d.etag.empty());

  const json wire = d;
  CHECK(wire["deviceId"] == "dev1");
  CHECK(wire["status"] == "enabled");
  CHECK(wire["connectionState"] == "Disconnected");
  CHECK(wire["statusUpdatedTime"] == "2026-01-01T00:00:00.0000000Z");
  CHECK(wire["lastActivityTime"] == "0001-01-01T00:00:00Z");
  CHECK(wire["connectionStateUpdatedTime"] == "0001-01-01T00:00:00Z");
  CHECK(wire["cloudToDeviceMessageCount"] == 0);
  CHECK(wire["authentication"]["type"] == "sas");
  CHECK(wire["authentication"]["symmetricKey"]["primaryKey"] == d.primary_key);
  CHECK(wire["authentication"]["x509Thumbprint"]["primaryThumbprint"].is_null());
  CHECK(wire["capabilities"]["iotEdge"] == false);

  SECTION("with no body at all") {
    const auto& e = create("dev2");
    CHECK(base64_decode(e.primary_key)->size() == 32);
  }
  SECTION("given keys are kept; a missing one is generated") {
    const auto& e = create("dev3", {{"authentication", {{"symmetricKey", {{"primaryKey", key16}}}}}});
    CHECK(e.primary_key == key16);
    CHECK(base64_decode(e.secondary_key)->size() == 32);
  }
}

TEST_CASE_METHOD(registry_fixture, "A seeded registry generates the same keys and etags run after run",
                 "[core][registry]") {
  virtual_clock clk2;
  id_source ids2{7};
  device_registry other{clk2, ids2};
  const auto& a = create("dev1");
  const auto& b = other.create_or_update_identity("dev1", {}, std::nullopt);
  CHECK(a.primary_key == b.primary_key);
  CHECK(a.etag == b.etag);
  CHECK(a.generation_id == b.generation_id);
}

TEST_CASE_METHOD(registry_fixture, "Device ids follow the documented rules", "[core][registry]") {
  SECTION("every allowed character, and 128 characters, are accepted") {
    create("aZ09-:.+%_#*?!(),=@;$'");
    create(std::string(128, 'x'));
    CHECK(registry.size() == 2);
  }
  SECTION("an empty, a 129-character, or a forbidden-character id is refused with 400004") {
    const auto bad = GENERATE(std::string(""), std::string(129, 'x'), std::string("a b"), std::string("a/b"),
                              std::string("caf\xc3\xa9"), std::string("a&b"), std::string("a\"b"));
    CAPTURE(bad);
    const auto e = mockhub::testing::caught_hub_error([&] { create(bad); });
    CHECK(e.code() == 400004);
    CHECK(e.http_status() == 400);
    CHECK(std::string(e.what()).find("evice id") != std::string::npos);
    CHECK(registry.size() == 0);
  }
}

TEST_CASE_METHOD(registry_fixture, "Creating an existing device is refused with 409001", "[core][registry]") {
  const auto etag = create("dev1").etag;
  const auto e = mockhub::testing::caught_hub_error([&] { create("dev1"); });
  CHECK(e.code() == 409001);
  CHECK(e.name() == "DeviceAlreadyExists");
  CHECK(e.http_status() == 409);
  CHECK(std::string(e.what()).find("'dev1'") != std::string::npos);
  CHECK(registry.get_identity("dev1").etag == etag);
}

TEST_CASE_METHOD(registry_fixture, "Bad device bodies are refused with 400004 naming the problem",
                 "[core][registry]") {
  const auto [body, phrase] = GENERATE(table<const char*, const char*>({
      {R"({"deviceId":"other"})", "does not match"},
      {R"({"status":"paused"})", "'paused'"},
      {R"({"status":3})", "'status' must be a string"},
      {R"({"authentication":{"type":"magic"}})", "'magic'"},
      {R"({"authentication":{"symmetricKey":{"primaryKey":"not base64!"}}})", "primary key is not valid base64"},
      {R"({"authentication":{"symmetricKey":{"primaryKey":"YWJj"}}})", "3 bytes long"},
      {R"({"authentication":"sas"})", "'authentication' must be an object"},
      {R"({"authentication":{"type":"selfSigned"}})", "primaryThumbprint"},
      {R"({"authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"abc"}}})", "thumbprint is not valid"},
      {R"({"capabilities":{"iotEdge":"yes"}})", "true or false"},
      {R"({"parentScopes":"x"})", "array of strings"},
      {R"([1,2])", "JSON object"},
  }));
  CAPTURE(body);
  const auto e = mockhub::testing::caught_hub_error([&] { create("dev1", json::parse(body)); });
  CHECK(e.code() == 400004);
  CHECK_THAT(std::string(e.what()), Catch::Contains(phrase));
  CHECK(registry.find("dev1") == nullptr);
}

TEST_CASE_METHOD(registry_fixture, "Key lengths: 16 and 64 bytes are accepted, 15 and 65 refused", "[core][registry]") {
  create("k16", {{"authentication", {{"symmetricKey", {{"primaryKey", key16}, {"secondaryKey", key16}}}}}});
  create("k64", {{"authentication", {{"symmetricKey", {{"primaryKey", base64_encode(std::string(64, 'k'))}}}}}});
  const auto too_short = base64_encode(std::string(15, 'k'));
  const auto too_long = base64_encode(std::string(65, 'k'));
  CHECK(mockhub::testing::caught_hub_error([&] { create("k15", {{"authentication", {{"symmetricKey", {{"primaryKey", too_short}}}}}}); }).code() ==
        400004);
  CHECK(mockhub::testing::caught_hub_error([&] { create("k65", {{"authentication", {{"symmetricKey", {{"secondaryKey", too_long}}}}}}); }).code() ==
        400004);
}

TEST_CASE_METHOD(registry_fixture, "statusReason may hold 128 characters, not 129", "[core][registry]") {
  create("ok", {{"statusReason", std::string(128, 'r')}});
  const auto e = mockhub::testing::caught_hub_error([&] { create("bad", {{"statusReason", std::string(129, 'r')}}); });
  CHECK(e.code() == 400004);
  CHECK_THAT(std::string(e.what()), Catch::Contains("129 characters"));
}

TEST_CASE_METHOD(registry_fixture, "Updating a device needs a matching If-Match", "[core][registry]") {
  const device_identity original = create("dev1");
  clk.advance(1min);
  const auto disable = device_identity_request::from_json({{"deviceId", "dev1"}, {"status", "disabled"}, {"statusReason", "stolen"}});

  SECTION("the current etag, quoted or bare, or * updates it, with a new etag and status time") {
    const std::string if_match = GENERATE(as<std::string>{}, "*", "\"*\"", "ETAG", "\"ETAG\"");
    const std::string value = if_match == "ETAG" ? original.etag : if_match == "\"ETAG\"" ? "\"" + original.etag + "\"" : if_match;
    const auto& d = registry.create_or_update_identity("dev1", disable, value);
    CHECK(d.status == device_status::disabled);
    CHECK(d.status_reason == "stolen");
    CHECK(d.status_updated_time == clk.now());
    CHECK(d.etag != original.etag);
    CHECK(d.generation_id == original.generation_id);
    CHECK(d.primary_key == original.primary_key);  // authentication absent: keys kept
    CHECK(registry.get_twin("dev1")["status"] == "disabled");
  }
  SECTION("a stale etag is refused with 412001 and nothing changes") {
    const auto e = mockhub::testing::caught_hub_error([&] { registry.create_or_update_identity("dev1", disable, "\"stale\""); });
    CHECK(e.code() == 412001);
    CHECK(e.http_status() == 412);
    CHECK(registry.get_identity("dev1").status == device_status::enabled);
    CHECK(registry.get_identity("dev1").etag == original.etag);
  }
  SECTION("updating a device that does not exist is 404001") {
    const auto e = mockhub::testing::caught_hub_error([&] { registry.create_or_update_identity("ghost", {}, "*"); });
    CHECK(e.code() == 404001);
  }
  SECTION("empty keys in an update are generated anew (key roll)") {
    const auto roll = device_identity_request::from_json(
        {{"authentication", {{"type", "sas"}, {"symmetricKey", {{"primaryKey", ""}, {"secondaryKey", ""}}}}}});
    const auto& d = registry.create_or_update_identity("dev1", roll, "*");
    CHECK(d.primary_key != original.primary_key);
    CHECK(d.secondary_key != original.secondary_key);
  }
  SECTION("an update that does not change the status keeps statusUpdatedTime") {
    const auto& d = registry.create_or_update_identity("dev1", device_identity_request::from_json({{"statusReason", "x"}}), "*");
    CHECK(d.status_updated_time == original.status_updated_time);
  }
}

TEST_CASE_METHOD(registry_fixture, "Deleting a device removes it and its twin", "[core][registry]") {
  const auto etag = create("dev1").etag;
  SECTION("unconditionally") {
    registry.delete_identity("dev1", std::nullopt);
    CHECK(registry.find("dev1") == nullptr);
    CHECK(mockhub::testing::caught_hub_error([&] { registry.get_twin("dev1"); }).code() == 404001);
    SECTION("and the id can be registered again with a new generation id") {
      const auto gen = create("dev1").generation_id;
      CHECK(gen.size() == 18);
    }
  }
  SECTION("with the current etag") {
    registry.delete_identity("dev1", "\"" + etag + "\"");
    CHECK(registry.size() == 0);
  }
  SECTION("a stale etag is 412001 and the device stays") {
    CHECK(mockhub::testing::caught_hub_error([&] { registry.delete_identity("dev1", "\"nope\""); }).code() == 412001);
    CHECK(registry.size() == 1);
  }
  SECTION("a missing device is 404001") {
    const auto e = mockhub::testing::caught_hub_error([&] { registry.delete_identity("ghost", std::nullopt); });
    CHECK(e.code() == 404001);
    CHECK(e.name() == "DeviceNotFound");
  }
}

TEST_CASE_METHOD(registry_fixture, "Listing devices returns them in id order, top clamped to 1..1000",
                 "[core][registry]") {
  for (const char* id : {"c", "a", "b"}) create(id);
  auto ids = [](const std::vector<const device_identity*>& v) {
    std::vector<std::string> out;
    for (const auto* d : v) out.push_back(d->device_id);
    return out;
  };
  CHECK(ids(registry.get_devices(2)) == std::vector<std::string>{"a", "b"});
  CHECK(ids(registry.get_devices(0)) == std::vector<std::string>{"a", "b", "c"});
  CHECK(ids(registry.get_devices(5000)).size() == 3);
  CHECK(ids(registry.get_devices(-1)).size() == 3);
}

TEST_CASE_METHOD(registry_fixture, "Statistics count total, enabled and disabled devices", "[core][registry]") {
  create("a");
  create("b", {{"status", "disabled"}});
  create("c");
  const json s = registry.get_device_statistics();
  CHECK(s == json{{"totalDeviceCount", 3}, {"enabledDeviceCount", 2}, {"disabledDeviceCount", 1}});
  registry.set_connection_state("a", connection_state::connected);
  CHECK(registry.connected_device_count() == 1);
}

TEST_CASE_METHOD(registry_fixture, "Connection state and activity are stamped with the clock", "[core][registry]") {
  create("dev1");
  clk.advance(10s);
  registry.set_connection_state("dev1", connection_state::connected);
  const auto connected_at = clk.now();
  clk.advance(5s);
  registry.record_activity("dev1");
  const auto& d = registry.get_identity("dev1");
  CHECK(d.connection == connection_state::connected);
  CHECK(d.connection_state_updated_time == connected_at);
  CHECK(d.last_activity_time == clk.now());
  const auto& t = registry.get_twin("dev1");
  CHECK(t["connectionState"] == "Connected");
  CHECK(t["lastActivityTime"] == format_time(clk.now()));
  CHECK_FALSE(t.contains("connectionStateUpdatedTime"));
  // Later activity rewrites the timestamp in place (same length): the twin reads the same.
  const auto before = registry.get_twin("dev1");
  clk.advance(1234567us);
  CHECK(registry.record_activity("dev1"));
  auto after = registry.get_twin("dev1");
  CHECK(after["lastActivityTime"] == format_time(clk.now()));
  CHECK(after["lastActivityTime"] != before["lastActivityTime"]);
  after["lastActivityTime"] = before["lastActivityTime"];
  CHECK(after == before);  // nothing else moved
  // An unknown device: nothing to stamp, and no error (the hub stamps only devices it knows).
  CHECK_FALSE(registry.record_activity("ghost"));
  CHECK_THROWS(registry.get_identity("ghost"));
}

TEST_CASE_METHOD(registry_fixture, "Twin writes check the twin etag", "[core][registry][twin]") {
  create("dev1");
  const std::string etag = registry.get_twin("dev1")["etag"];
  const json patch = {{"properties", {{"desired", {{"floor", 3}}}}}};

  SECTION("a matching etag applies the patch and yields the desired notification") {
    const auto w = registry.update_twin("dev1", patch, "\"" + etag + "\"");
    const json written = w.twin.to_json();
    CHECK(written == registry.get_twin("dev1"));
    CHECK(written["properties"]["desired"]["floor"] == 3);
    REQUIRE(w.desired_notification);
    CHECK((*w.desired_notification)["floor"] == 3);
    CHECK((*w.desired_notification)["$version"] == written["properties"]["desired"]["$version"]);
  }
  SECTION("a stale etag is 412001 and the twin is unchanged") {
    const json before = registry.get_twin("dev1");
    CHECK(mockhub::testing::caught_hub_error([&] { registry.update_twin("dev1", patch, "\"AAAAAAAAAAA=\""); }).code() == 412001);
    CHECK(mockhub::testing::caught_hub_error([&] { registry.replace_twin("dev1", patch, "\"AAAAAAAAAAA=\""); }).code() == 412001);
    CHECK(registry.get_twin("dev1") == before);
  }
  SECTION("twins of missing devices are 404001") {
    CHECK(mockhub::testing::caught_hub_error([&] { registry.update_twin("ghost", patch, std::nullopt); }).code() == 404001);
    CHECK(mockhub::testing::caught_hub_error([&] { registry.update_reported_properties("ghost", json::object()); }).code() == 404001);
    CHECK(mockhub::testing::caught_hub_error([&] { registry.get_twin_for_device("ghost"); }).code() == 404001);
  }
}

TEST_CASE_METHOD(registry_fixture, "Twin scans visit devices in id order from after a key", "[core][registry]") {
  for (const char* id : {"d3", "d1", "d2", "d4"}) create(id);
  std::vector<std::string> seen;
  registry.scan_twins("d1", [&](std::string_view id, packed_view twin) {
    CHECK(twin.find("deviceId").as_string() == id);
    seen.emplace_back(id);
    return seen.size() < 2;
  });
  CHECK(seen == std::vector<std::string>{"d2", "d3"});
}

TEST_CASE_METHOD(registry_fixture, "A twin scan sees every device added or deleted since the last one, and twin changes",
                 "[core][registry]") {
  const auto scan = [&](std::string_view after = {}) {
    std::vector<std::string> ids;
    registry.scan_twins(after, [&](std::string_view id, packed_view twin) {
      CHECK(twin.find("deviceId").as_string() == id);
      ids.emplace_back(id);
      return true;
    });
    return ids;
  };
  // More devices than the scan fetches ahead (16), so the prefetching reaches past the end.
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) all.push_back("dev" + std::string(i < 10 ? "0" : "") + std::to_string(i));
  for (const auto& id : all) create(id);
  CHECK(scan() == all);
  CHECK(scan("dev37") == std::vector<std::string>{"dev38", "dev39"});
  CHECK(scan("dev39").empty());
  CHECK(scan("a") == all);  // before the first
  CHECK(scan("dev05x").front() == "dev06");  // between two ids

  create("dev05x");
  registry.delete_identity("dev39", std::nullopt);
  auto expected = all;
  expected.pop_back();
  expected.insert(expected.begin() + 6, "dev05x");
  CHECK(scan() == expected);

  // A twin that grows (its buffer is rebuilt) is read as it is now.
  registry.update_twin("dev06", json::parse(R"({"tags":{"big":")" + std::string(4000, 'x') + R"("}})"), std::nullopt);
  bool seen = false;
  registry.scan_twins("dev05x", [&](std::string_view id, packed_view twin) {
    CHECK(id == "dev06");
    CHECK(twin.find("tags").find("big").as_string().size() == 4000);
    seen = true;
    return false;
  });
  CHECK(seen);
}
