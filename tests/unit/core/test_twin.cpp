// The device twin (twin.hpp): document shape, merge and metadata, versions and etag,
// notifications, replace, the device view and identity sync. Limits: test_twin_limits.cpp.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "check_hub_error.hpp"
#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/time_format.hpp"
#include "mock_hub/core/twin.hpp"

using namespace mockhub::core;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {
const time_point t0 = virtual_clock::default_start();  // 2026-01-01T00:00:00Z
const time_point t1 = t0 + 1s;
const time_point t2 = t0 + 2s;
const time_point t3 = t0 + 3s;

device_identity door() {
  device_identity d;
  d.device_id = "door-7";
  d.generation_id = "638149371425432341";
  d.etag = "MTIzNDU2Nzg5";
  d.connection_state_updated_time = t0;
  return d;
}

json desired_patch(json desired) { return json{{"properties", {{"desired", std::move(desired)}}}}; }

json metadata_of(const twin& t, const char* section) { return t.document()["properties"][section]["$metadata"]; }

json values_of(const twin& t, const char* section) {
  json values = t.document()["properties"][section];
  values.erase("$metadata");
  values.erase("$version");
  return values;
}

// {"$lastUpdated": time} for reported nodes, plus "$lastUpdatedVersion" for desired nodes.
json stamp(time_point t, std::optional<std::int64_t> desired_version = std::nullopt) {
  json s = {{"$lastUpdated", format_time(t)}};
  if (desired_version) s["$lastUpdatedVersion"] = *desired_version;
  return s;
}

}  // namespace

TEST_CASE("A new twin has the shape, etag and versions the hub gives a new device", "[core][twin]") {
  // As the real hub shows a twin right after the device is created: the Event Grid DeviceCreated
  // sample (MicrosoftDocs azure-docs articles/event-grid/event-schema-iot-hub.md) and az CLI output
  // (articles/iot-hub/device-twins-cli.md): etag AAAAAAAAAAE=, version 2, both $version 1, a
  // $metadata root with only $lastUpdated, no tags member.
  const twin t(door(), t0);
  const json expected = json::parse(R"({
    "deviceId": "door-7",
    "etag": "AAAAAAAAAAE=",
    "deviceEtag": "MTIzNDU2Nzg5",
    "status": "enabled",
    "statusReason": null,
    "statusUpdateTime": "0001-01-01T00:00:00Z",
    "connectionState": "Disconnected",
    "lastActivityTime": "0001-01-01T00:00:00Z",
    "cloudToDeviceMessageCount": 0,
    "authenticationType": "sas",
    "x509Thumbprint": { "primaryThumbprint": null, "secondaryThumbprint": null },
    "modelId": "",
    "version": 2,
    "capabilities": { "iotEdge": false },
    "properties": {
      "desired":  { "$metadata": { "$lastUpdated": "2026-01-01T00:00:00.0000000Z" }, "$version": 1 },
      "reported": { "$metadata": { "$lastUpdated": "2026-01-01T00:00:00.0000000Z" }, "$version": 1 }
    }
  })");
  CHECK(t.document() == expected);
  CHECK(t.etag() == "AAAAAAAAAAE=");
  CHECK(t.version() == 2);
  CHECK(t.desired_version() == 1);
  CHECK(t.reported_version() == 1);
}

TEST_CASE("sync_identity copies the identity's read-only fields and moves neither version nor etag", "[core][twin]") {
  twin t(door(), t0);
  t.update(json{{"tags", {{"site", "lab"}}}}, t1);
  const auto version = t.version();
  const auto etag = t.etag();

  device_identity d = door();
  d.etag = "OTg3NjU0MzIx";
  d.status = device_status::disabled;
  d.status_reason = "stolen";
  d.status_updated_time = t2;
  d.connection = connection_state::connected;
  d.connection_state_updated_time = t2;
  d.last_activity_time = t3;
  d.cloud_to_device_message_count = 3;
  d.auth_type = authentication_type::self_signed;
  d.primary_thumbprint = "AB12";
  d.secondary_thumbprint = "CD34";
  d.iot_edge = true;
  d.device_scope = "ms-azure-iot-edge://door-7-1";
  d.parent_scopes = {"ms-azure-iot-edge://gw-1"};
  t.sync_identity(d);
  t.set_model_id("dtmi:com:example:Door;1");

  const json& doc = t.document();
  CHECK(doc["deviceEtag"] == "OTg3NjU0MzIx");
  CHECK(doc["status"] == "disabled");
  CHECK(doc["statusReason"] == "stolen");
  CHECK(doc["statusUpdateTime"] == format_time(t2));  // the Device resource's statusUpdatedTime, renamed
  CHECK(doc["connectionState"] == "Connected");
  CHECK(doc["lastActivityTime"] == format_time(t3));
  CHECK(doc["cloudToDeviceMessageCount"] == 3);
  CHECK(doc["authenticationType"] == "selfSigned");
  CHECK(doc["x509Thumbprint"] == json{{"primaryThumbprint", "AB12"}, {"secondaryThumbprint", "CD34"}});
  CHECK(doc["capabilities"] == json{{"iotEdge", true}});
  CHECK(doc["deviceScope"] == "ms-azure-iot-edge://door-7-1");
  CHECK(doc["parentScopes"] == json::array({"ms-azure-iot-edge://gw-1"}));
  CHECK(doc["modelId"] == "dtmi:com:example:Door;1");
  CHECK_FALSE(doc.contains("generationId"));
  CHECK_FALSE(doc.contains("connectionStateUpdatedTime"));
  CHECK(doc["tags"] == json{{"site", "lab"}});
  CHECK(t.version() == version);
  CHECK(t.etag() == etag);

  SECTION("an identity that loses its scope loses it in the twin too") {
    d.device_scope.clear();
    d.parent_scopes.clear();
    t.sync_identity(d);
    CHECK_FALSE(t.document().contains("deviceScope"));
    CHECK_FALSE(t.document().contains("parentScopes"));
  }
}

TEST_CASE("The docs' partial update merges, deletes with null and notifies the patch as applied", "[core][twin]") {
  // MicrosoftDocs azure-docs articles/iot-hub/iot-hub-devguide-device-twins.md, "Back-end
  // operations": the patch creates newProperty, overwrites existingProperty, removes
  // otherOldProperty, and changes nothing else.
  twin t(door(), t0);
  t.update(desired_patch({{"existingProperty", "oldValue"}, {"otherOldProperty", "old"}, {"untouched", 1}}), t1);
  const json patch = json::parse(R"({
    "properties": {
      "desired": {
        "newProperty": { "nestedProperty": "newValue" },
        "existingProperty": "otherNewValue",
        "otherOldProperty": null
      }
    }
  })");
  const auto notification = t.update(patch, t2);

  CHECK(values_of(t, "desired") == json::parse(R"({
    "newProperty": { "nestedProperty": "newValue" }, "existingProperty": "otherNewValue", "untouched": 1 })"));
  REQUIRE(notification.has_value());
  CHECK(*notification == json::parse(R"({
    "newProperty": { "nestedProperty": "newValue" }, "existingProperty": "otherNewValue",
    "otherOldProperty": null, "$version": 3 })"));
  json expected_metadata = stamp(t2, 3);
  expected_metadata["newProperty"] = stamp(t2, 3);
  expected_metadata["newProperty"]["nestedProperty"] = stamp(t2, 3);
  expected_metadata["existingProperty"] = stamp(t2, 3);
  expected_metadata["untouched"] = stamp(t1, 2);
  CHECK(metadata_of(t, "desired") == expected_metadata);
}

TEST_CASE("Metadata takes the shape of the docs' example", "[core][twin]") {
  // MicrosoftDocs azure-docs articles/iot-hub/iot-hub-devguide-device-twins.md, "Device twin
  // metadata": every node, leaves and objects, carries $lastUpdated, the $metadata root too.
  // (The docs' sample shows the reported root older than batteryLevel; the root is in fact
  // stamped by the latest write, as the twins in the other samples show.)
  twin t(door(), t0);
  t.update(desired_patch({{"telemetryConfig", {{"sendFrequency", "5m"}}}}), t1);
  t.update_reported({{"telemetryConfig", {{"sendFrequency", "5m"}, {"status", "success"}}}}, t2);
  t.update_reported({{"batteryLevel", "55%"}}, t3);

  CHECK(metadata_of(t, "desired") == json::parse(R"({
    "telemetryConfig": {
      "sendFrequency": { "$lastUpdated": "2026-01-01T00:00:01.0000000Z", "$lastUpdatedVersion": 2 },
      "$lastUpdated": "2026-01-01T00:00:01.0000000Z", "$lastUpdatedVersion": 2
    },
    "$lastUpdated": "2026-01-01T00:00:01.0000000Z", "$lastUpdatedVersion": 2 })"));
  CHECK(metadata_of(t, "reported") == json::parse(R"({
    "telemetryConfig": {
      "sendFrequency": { "$lastUpdated": "2026-01-01T00:00:02.0000000Z" },
      "status": { "$lastUpdated": "2026-01-01T00:00:02.0000000Z" },
      "$lastUpdated": "2026-01-01T00:00:02.0000000Z"
    },
    "batteryLevel": { "$lastUpdated": "2026-01-01T00:00:03.0000000Z" },
    "$lastUpdated": "2026-01-01T00:00:03.0000000Z" })"));
  CHECK(t.document()["properties"]["reported"]["$version"] == 3);
  CHECK(t.document()["properties"]["desired"]["$version"] == 2);
}

TEST_CASE("A merge refreshes the metadata it touched, keeps the rest and drops deleted keys", "[core][twin]") {
  twin t(door(), t0);
  t.update_reported(json::parse(R"({ "a": { "b": 1, "c": { "d": 2 } }, "e": 3 })"), t1);

  SECTION("a changed leaf refreshes itself and its ancestors, not its siblings") {
    t.update_reported({{"a", {{"c", {{"d", 20}}}}}}, t2);
    const json meta = metadata_of(t, "reported");
    CHECK(meta["$lastUpdated"] == format_time(t2));
    CHECK(meta["a"]["$lastUpdated"] == format_time(t2));
    CHECK(meta["a"]["c"]["$lastUpdated"] == format_time(t2));
    CHECK(meta["a"]["c"]["d"] == stamp(t2));
    CHECK(meta["a"]["b"] == stamp(t1));
    CHECK(meta["e"] == stamp(t1));
  }
  SECTION("a deleted key loses its metadata and its parent records the deletion") {
    t.update_reported({{"a", {{"c", nullptr}}}}, t2);
    const json meta = metadata_of(t, "reported");
    CHECK(values_of(t, "reported") == json::parse(R"({ "a": { "b": 1 }, "e": 3 })"));
    CHECK_FALSE(meta["a"].contains("c"));
    CHECK(meta["a"]["$lastUpdated"] == format_time(t2));
    CHECK(meta["a"]["b"] == stamp(t1));
  }
  SECTION("an object replaced by a value gets leaf metadata, a value replaced by an object gets object metadata") {
    t.update_reported({{"a", "flat"}, {"e", {{"f", true}}}}, t2);
    const json meta = metadata_of(t, "reported");
    CHECK(meta["a"] == stamp(t2));
    json e = stamp(t2);
    e["f"] = stamp(t2);
    CHECK(meta["e"] == e);
  }
  SECTION("an array is a value: it is replaced whole and its metadata is a leaf") {
    t.update_reported({{"e", {1, 2, 3}}}, t2);
    t.update_reported({{"e", {4}}}, t3);
    CHECK(values_of(t, "reported")["e"] == json::array({4}));
    CHECK(metadata_of(t, "reported")["e"] == stamp(t3));
  }
}

TEST_CASE("A null for an absent key creates nothing and a nested null creates an empty object", "[core][twin]") {
  // What the C# SDK's e2e tests check against a real hub (azure-iot-sdk-csharp
  // e2e/test/iothub/twin/TwinE2ETests.cs, Twin_ServiceDoesNotCreateNullPropertyInCollectionAsync).
  twin t(door(), t0);
  const auto before = t.document().dump();
  CHECK(t.update_reported({{"p1", nullptr}}, t1) == 1);
  CHECK(t.document().dump() == before);

  CHECK(t.update_reported({{"p1", {{"p2", nullptr}}}}, t2) == 2);
  CHECK(values_of(t, "reported") == json{{"p1", json::object()}});
  CHECK(metadata_of(t, "reported")["p1"] == stamp(t2));

  const auto after = t.document().dump();
  CHECK(t.update_reported({{"p1", {{"p2", nullptr}}}}, t3) == 2);
  CHECK(t.document().dump() == after);
}

TEST_CASE("Versions and etag move as they do on the real hub", "[core][twin]") {
  twin t(door(), t0);

  SECTION("the az CLI walkthrough: a reported write then a tags update give etag 2, version 4") {
    // MicrosoftDocs azure-docs articles/iot-hub/device-twins-cli.md: the device reports
    // {"connectivity":{"type":"cellular"}}, the back end sets tags; the printed twin has etag
    // AAAAAAAAAAI=, version 4, reported $version 2, desired $version 1.
    t.update_reported(json::parse(R"({"connectivity":{"type":"cellular"}})"), t1);
    t.update(json::parse(R"({"tags":{"location":{"region":"US","plant":"Redmond43"}}})"), t2);
    CHECK(t.etag() == "AAAAAAAAAAI=");
    CHECK(t.version() == 4);
    CHECK(t.reported_version() == 2);
    CHECK(t.desired_version() == 1);
    CHECK(metadata_of(t, "desired") == stamp(t0));  // never written: no $lastUpdatedVersion
    CHECK(t.document()["tags"] == json::parse(R"({"location":{"plant":"Redmond43","region":"US"}})"));
  }
  SECTION("the Java sample: three desired updates and a tags update give etag 5, version 6") {
    // A real twin printed by the Java service sample (MicrosoftDocs/azure-docs#22361):
    // ETag AAAAAAAAAAU=, Version 6, desired $version 4, tags set, no reported properties.
    t.update(desired_patch({{"temp", 68.0}}), t1);
    t.update(desired_patch({{"hum", 70.0}}), t1);
    t.update(desired_patch({{"temp", 69.0}, {"hum", 75.0}}), t1);
    t.update(json{{"tags", {{"HomeID", "110ac534"}}}}, t1);
    CHECK(t.etag() == "AAAAAAAAAAU=");
    CHECK(t.version() == 6);
    CHECK(t.desired_version() == 4);
    CHECK(t.reported_version() == 1);
  }
  SECTION("a desired write moves the etag, the version and the desired $version") {
    t.update(desired_patch({{"lockMode", "manual"}}), t1);
    CHECK(t.etag() == "AAAAAAAAAAI=");
    CHECK(t.version() == 3);
    CHECK(t.desired_version() == 2);
    CHECK(t.reported_version() == 1);
  }
  SECTION("tags and desired in one request move each counter once") {
    t.update(json::parse(R"({"tags":{"site":"lab"},"properties":{"desired":{"lockMode":"manual"}}})"), t1);
    CHECK(t.etag() == "AAAAAAAAAAI=");
    CHECK(t.version() == 3);
    CHECK(t.desired_version() == 2);
  }
  SECTION("a tags write leaves the desired $version") {
    t.update(json{{"tags", {{"site", "lab"}}}}, t1);
    CHECK(t.etag() == "AAAAAAAAAAI=");
    CHECK(t.version() == 3);
    CHECK(t.desired_version() == 1);
    CHECK(metadata_of(t, "desired") == stamp(t0));
  }
  SECTION("a reported write moves the version and the reported $version, not the etag") {
    CHECK(t.update_reported({{"lockState", "unlocked"}}, t1) == 2);
    CHECK(t.etag() == "AAAAAAAAAAE=");
    CHECK(t.version() == 3);
    CHECK(t.reported_version() == 2);
    CHECK(t.desired_version() == 1);
  }
  SECTION("writing the value a property already has still counts (the hub does not compare)") {
    // Azure/iotedge#1252: the maintainers confirm every reported update is applied, changed or not.
    t.update_reported({{"lockState", "unlocked"}}, t1);
    CHECK(t.update_reported({{"lockState", "unlocked"}}, t2) == 3);
    CHECK(metadata_of(t, "reported")["lockState"] == stamp(t2));
    t.update(desired_patch({{"lockMode", "manual"}}), t1);
    CHECK(t.update(desired_patch({{"lockMode", "manual"}}), t2).has_value());
    CHECK(t.desired_version() == 3);
    CHECK(t.etag() == "AAAAAAAAAAM=");
  }
  SECTION("the etag is the base64 of an 8-byte big-endian counter") {
    for (int i = 0; i < 255; ++i) t.update(json{{"tags", {{"n", i}}}}, t1);
    CHECK(t.etag() == "AAAAAAAAAQA=");  // 256
    CHECK(t.version() == 257);
  }
}

TEST_CASE("A request that changes nothing moves nothing and notifies nothing", "[core][twin]") {
  // Deleting absent keys and merging {} into existing objects are no-ops on the service path
  // (azure-iot-sdk-node#64); members other than tags and desired are ignored.
  twin t(door(), t0);
  t.update(json::parse(R"({"tags":{"site":"lab"},"properties":{"desired":{"obj":{"x":1}}}})"), t1);
  t.update_reported({{"obj", {{"y", 2}}}}, t1);
  const auto before = t.document().dump();

  SECTION("back-end patches") {
    const json patch = GENERATE(json::parse(R"({})"),
                                json::parse(R"({"deviceId":"other","etag":"AAAAAAAAAAk=","version":99,"status":"disabled"})"),
                                json::parse(R"({"tags":null,"properties":null})"),
                                json::parse(R"({"tags":{}})"),
                                json::parse(R"({"tags":{"absent":null}})"),
                                json::parse(R"({"properties":{"desired":{}}})"),
                                json::parse(R"({"properties":{"desired":{"absent":null,"obj":{}}}})"),
                                json::parse(R"({"properties":{"desired":{"obj":{"absent":null}}}})"),
                                json::parse(R"({"properties":{"reported":{}}})"));
    CAPTURE(patch.dump());
    CHECK_FALSE(t.update(patch, t2).has_value());
    CHECK(t.document().dump() == before);
  }
  SECTION("device reported patches") {
    const json patch = GENERATE(json::parse(R"({})"), json::parse(R"({"absent":null})"),
                                json::parse(R"({"obj":{}})"), json::parse(R"({"obj":{"absent":null}})"));
    CAPTURE(patch.dump());
    CHECK(t.update_reported(patch, t2) == 2);
    CHECK(t.document().dump() == before);
  }
  SECTION("a replace naming no section") {
    CHECK_FALSE(t.replace(json::parse(R"({"deviceId":"door-7","properties":{"reported":{}}})"), t2).has_value());
    CHECK(t.document().dump() == before);
  }
}

TEST_CASE("Desired notifications carry the write as applied, with $version", "[core][twin]") {
  twin t(door(), t0);
  SECTION("a patch is sent exactly as given, nulls included") {
    t.update(desired_patch({{"a", 1}, {"b", {{"c", 2}}}}), t1);
    const auto n = t.update(desired_patch({{"a", nullptr}, {"b", {{"d", 3}}}, {"absent", nullptr}}), t2);
    REQUIRE(n.has_value());
    CHECK(*n == json::parse(R"({"a":null,"b":{"d":3},"absent":null,"$version":3})"));
  }
  SECTION("a tags-only write notifies nothing") {
    CHECK_FALSE(t.update(json{{"tags", {{"site", "lab"}}}}, t1).has_value());
  }
  SECTION("the captured desired update (reference/sdk-captures/device-mqtt-packets.jsonl)") {
    const auto n = t.update(json::parse(R"({"properties":{"desired":{"lockMode":"manual"}}})"), t1);
    REQUIRE(n.has_value());
    CHECK(n->dump() == R"({"$version":2,"lockMode":"manual"})");  // key order is not significant
  }
  SECTION("a replace sends the whole new desired section") {
    t.update(desired_patch({{"old", 1}}), t1);
    const auto n = t.replace(json::parse(R"({"properties":{"desired":{"new":{"x":1},"dropped":null}}})"), t2);
    REQUIRE(n.has_value());
    CHECK(*n == json::parse(R"({"new":{"x":1},"$version":3})"));
  }
  SECTION("a replace without desired notifies nothing") {
    CHECK_FALSE(t.replace(json{{"tags", {{"site", "lab"}}}}, t1).has_value());
  }
}

TEST_CASE("Replace swaps tags and desired wholesale and leaves absent sections alone", "[core][twin]") {
  twin t(door(), t0);
  t.update(json::parse(R"({"tags":{"a":1,"b":2},"properties":{"desired":{"x":1,"y":{"z":2}}}})"), t1);
  t.update_reported({{"r", 1}}, t1);
  const json reported_before = t.document()["properties"]["reported"];

  SECTION("both sections") {
    t.replace(json::parse(R"({"deviceId":"ignored","etag":"ignored",
                               "tags":{"c":3},
                               "properties":{"desired":{"y":{"w":1}},"reported":{}}})"),
              t2);
    CHECK(t.document()["tags"] == json{{"c", 3}});
    CHECK(values_of(t, "desired") == json::parse(R"({"y":{"w":1}})"));
    json meta = stamp(t2, 3);
    meta["y"] = stamp(t2, 3);
    meta["y"]["w"] = stamp(t2, 3);
    CHECK(metadata_of(t, "desired") == meta);
    CHECK(t.document()["properties"]["reported"] == reported_before);
    CHECK(t.etag() == "AAAAAAAAAAM=");
    CHECK(t.version() == 5);
    CHECK(t.desired_version() == 3);
    CHECK(t.document()["deviceId"] == "door-7");
  }
  SECTION("tags only: desired is kept") {
    t.replace(json{{"tags", {{"c", 3}}}}, t2);
    CHECK(t.document()["tags"] == json{{"c", 3}});
    CHECK(values_of(t, "desired") == json::parse(R"({"x":1,"y":{"z":2}})"));
    CHECK(t.desired_version() == 2);
  }
  SECTION("empty sections clear them, and an empty tags section leaves no tags member") {
    const auto n = t.replace(json::parse(R"({"tags":{},"properties":{"desired":{}}})"), t2);
    CHECK_FALSE(t.document().contains("tags"));
    CHECK(values_of(t, "desired") == json::object());
    CHECK(metadata_of(t, "desired") == stamp(t2, 3));
    REQUIRE(n.has_value());
    CHECK(*n == json{{"$version", 3}});
  }
}

TEST_CASE("Deleting every tag leaves no tags member, as a twin that never had tags", "[core][twin]") {
  twin t(door(), t0);
  t.update(json{{"tags", {{"site", "lab"}}}}, t1);
  t.update(json{{"tags", {{"site", nullptr}}}}, t2);
  CHECK_FALSE(t.document().contains("tags"));
  CHECK(t.etag() == "AAAAAAAAAAM=");
}

TEST_CASE("The back end cannot write reported properties", "[core][twin]") {
  twin t(door(), t0);
  t.update_reported({{"lockState", "locked"}}, t1);
  const auto before = t.document().dump();
  const json body = json::parse(R"({"tags":{"site":"lab"},"properties":{"reported":{"lockState":"unlocked"}}})");

  SECTION("update") {
    const auto e = mockhub::testing::caught_hub_error([&] { t.update(body, t2); });
    CHECK(e.code() == 400004);
    CHECK_THAT(std::string(e.message()), Catch::Contains("Reported properties cannot be written by the back end"));
  }
  SECTION("replace") {
    const auto e = mockhub::testing::caught_hub_error([&] { t.replace(body, t2); });
    CHECK(e.code() == 400004);
    CHECK_THAT(std::string(e.message()), Catch::Contains("'properties.reported' must be absent or empty"));
  }
  CHECK(t.document().dump() == before);

  SECTION("an empty reported section, as the C# service SDK sends, is accepted") {
    // azure-iot-sdk-csharp TwinProperties() initialises Reported to an empty collection, and
    // TwinJsonConverter writes it into every twin the service client sends.
    CHECK(t.update(json::parse(R"({"properties":{"desired":{"a":1},"reported":{}}})"), t2).has_value());
  }
}

TEST_CASE("Malformed request bodies are refused with ArgumentInvalid and change nothing", "[core][twin]") {
  twin t(door(), t0);
  t.update(json{{"tags", {{"site", "lab"}}}}, t1);
  const auto before = t.document().dump();
  SECTION("back-end bodies") {
    auto [body, phrase] = GENERATE(table<json, std::string>({
        {json::array(), "must be a JSON object"},
        {json("text"), "must be a JSON object"},
        {json::parse(R"({"tags":5})"), "'tags' must be a JSON object"},
        {json::parse(R"({"tags":[1]})"), "'tags' must be a JSON object"},
        {json::parse(R"({"properties":"x"})"), "'properties' must be a JSON object"},
        {json::parse(R"({"properties":{"desired":[1]}})"), "'properties.desired' must be a JSON object"},
        {json::parse(R"({"properties":{"reported":3}})"), "'properties.reported' must be a JSON object"},
    }));
    CAPTURE(body.dump());
    CHECK_THAT(std::string(mockhub::testing::caught_hub_error([&] { t.update(body, t2); }).message()), Catch::Contains(phrase));
    const auto e = mockhub::testing::caught_hub_error([&] { t.replace(body, t2); });
    CHECK(e.code() == 400004);
    CHECK_THAT(std::string(e.message()), Catch::Contains(phrase));
  }
  SECTION("device bodies") {
    const json body = GENERATE(json::array({1}), json("text"), json(7), json());
    CAPTURE(body.dump());
    const auto e = mockhub::testing::caught_hub_error([&] { t.update_reported(body, t2); });
    CHECK(e.code() == 400004);
    CHECK_THAT(std::string(e.message()), Catch::Contains("'properties.reported' must be a JSON object"));
  }
  CHECK(t.document().dump() == before);
}

TEST_CASE("A refused write applies none of its parts", "[core][twin]") {
  twin t(door(), t0);
  const auto before = t.document().dump();
  const json body = json::parse(R"({"tags":{"valid":1},"properties":{"desired":{"in.valid":1}}})");
  CHECK(mockhub::testing::caught_hub_error([&] { t.update(body, t1); }).code() == 400004);
  CHECK(mockhub::testing::caught_hub_error([&] { t.replace(body, t1); }).code() == 400004);
  CHECK(t.document().dump() == before);
}

TEST_CASE("etag_matches accepts the etag quoted or not, and the wildcard", "[core][twin]") {
  twin t(door(), t0);
  auto [if_match, matches] = GENERATE(table<std::string, bool>({
      {"AAAAAAAAAAE=", true},
      {"\"AAAAAAAAAAE=\"", true},
      {" \"AAAAAAAAAAE=\" ", true},
      {"*", true},
      {"\"*\"", true},  // what the Node service SDK sends (reference/sdk-captures/service-requests.jsonl)
      {"AAAAAAAAAAI=", false},
      {"\"AAAAAAAAAAI=\"", false},
      {"", false},
      {"\"\"", false},
      {"aaaaaaaaaae=", false},
  }));
  CAPTURE(if_match);
  CHECK(t.etag_matches(if_match) == matches);

  SECTION("a write retires the old etag") {
    t.update(json{{"tags", {{"site", "lab"}}}}, t1);
    CHECK_FALSE(t.etag_matches("\"AAAAAAAAAAE=\""));
    CHECK(t.etag_matches("\"AAAAAAAAAAI=\""));
  }
}

TEST_CASE("The device view holds desired and reported with $version, without metadata or tags", "[core][twin]") {
  // The shape device SDK samples print for a real hub's GET over MQTT, e.g.
  // {"desired":{"$version":1},"reported":{"foo":0,"$version":2}} (azure-iot-sdk-c paho samples).
  twin t(door(), t0);
  CHECK(t.device_view() == json::parse(R"({"desired":{"$version":1},"reported":{"$version":1}})"));
  t.update(json::parse(R"({"tags":{"site":"lab"},"properties":{"desired":{"lockMode":"manual"}}})"), t1);
  t.update_reported(json::parse(R"({"lockState":"unlocked","firmware":"1.0.0"})"), t2);
  CHECK(t.device_view() == json::parse(R"({
    "desired": { "lockMode": "manual", "$version": 2 },
    "reported": { "lockState": "unlocked", "firmware": "1.0.0", "$version": 2 } })"));
}

TEST_CASE("A twin rebuilt from its stored document is the same twin; a document that is not a twin's is refused",
          "[core][twin]") {
  twin t(door(), t0);
  t.update(json{{"tags", {{"building", 43}}}, {"properties", {{"desired", {{"floor", 3}}}}}}, t1);
  t.update_reported(json{{"firmware", "1.4.2"}}, t2);
  const twin back(t.document());
  CHECK(back.document() == t.document());
  CHECK(back.etag() == t.etag());
  CHECK(back.version() == t.version());
  CHECK(back.desired_version() == 2);
  CHECK(back.reported_version() == 2);

  // Each broken in one way: the message names what a stored twin must hold.
  const json whole = t.document();
  std::vector<json> broken;
  broken.push_back(json::array());
  for (const char* drop : {"etag", "version", "properties"}) {
    json d = whole;
    d.erase(drop);
    broken.push_back(d);
  }
  json bad_etag = whole;
  bad_etag["etag"] = "AAAA";  // 3 bytes, not 8
  broken.push_back(bad_etag);
  json text_version = whole;
  text_version["version"] = "3";
  broken.push_back(text_version);
  for (const char* section : {"desired", "reported"}) {
    for (const char* drop : {"$metadata", "$version"}) {
      json d = whole;
      d["properties"][section].erase(drop);
      broken.push_back(d);
    }
  }
  for (const auto& d : broken) {
    CAPTURE(d.dump());
    try {
      const twin rebuilt(d);
      FAIL("a broken stored twin was accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) == "a stored twin lacks its etag, version or properties");
    }
  }
}
