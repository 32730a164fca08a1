#include <catch2/catch.hpp>

#include "mock_hub/broker_link/property_bag.hpp"
#include "mock_hub/core/time_format.hpp"

using namespace mockhub;
using namespace mockhub::broker_link;

TEST_CASE("The official Node SDK's telemetry property bag decodes into system and application properties",
          "[adapters][property-bag]") {
  // From sdk-captures/device-mqtt-packets.jsonl: the topic after devices/dev1/messages/events/.
  const auto p = decode_property_bag("%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=false");
  REQUIRE(p);
  CHECK(p->system.message_id == "msg-1");
  CHECK(p->system.content_type == "application/json");
  CHECK(p->system.content_encoding == "utf-8");
  CHECK(p->application == core::application_properties{{"alert", "false"}});
}

TEST_CASE("Property bag values: a bare key is null, key= is empty, escapes decode", "[adapters][property-bag]") {
  // The docs' example: /?prop1&prop2=&prop3=a%20string
  const auto p = decode_property_bag("prop1&prop2=&prop3=a%20string&$.cid=c%261&&");
  REQUIRE(p);
  CHECK(p->application.at("prop1") == std::nullopt);
  CHECK(p->application.at("prop2") == "");
  CHECK(p->application.at("prop3") == "a string");
  CHECK(p->system.correlation_id == "c&1");
  CHECK(decode_property_bag("")->application.empty());
  CHECK_FALSE(decode_property_bag("a=%zz").has_value());
  CHECK_FALSE(decode_property_bag("%2=1").has_value());
}

TEST_CASE("A cloud-to-device message's property bag lists system properties first, then application ones",
          "[adapters][property-bag]") {
  core::cloud_to_device_message m;
  m.message_id = "m 1";
  m.correlation_id = "c1";
  m.to = "/devices/dev1/messages/devicebound";
  m.expiry = core::parse_time("2026-01-01T01:00:00Z");
  m.ack = "full";
  m.application = {{"door", "front"}, {"empty", ""}, {"none", std::nullopt}};
  CHECK(encode_property_bag(m) ==
        "%24.mid=m%201&%24.cid=c1&%24.to=%2Fdevices%2Fdev1%2Fmessages%2Fdevicebound&%24.exp=2026-01-01T01%3A00%3A00."
        "0000000Z&iothub-ack=full&door=front&empty=&none");
  const auto back = decode_property_bag(encode_property_bag(m));
  REQUIRE(back);
  CHECK(back->system.message_id == "m 1");
  CHECK(back->application.at("iothub-ack") == "full");
  CHECK(back->application.at("none") == std::nullopt);
}
