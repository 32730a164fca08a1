#include <catch2/catch.hpp>

#include <mockhub/device/message.hpp>
#include <mockhub/device/topics.hpp>

#include "capture.hpp"

using namespace mockhub::device;
using mockhub::test::capture_packet;

TEST_CASE("Telemetry with system and application properties gets the Node SDK's topic", "[device][topics]") {
  const std::string captured = capture_packet("publish", "devices/dev1/messages/events/").at("topic");
  message m;
  m.body = R"({"temperature":21.5})";
  m.message_id = "msg-1";
  m.content_type = "application/json";
  m.content_encoding = "utf-8";
  m.properties["alert"] = "false";
  CHECK(topics::telemetry("dev1", m) == captured);
  CHECK(topics::telemetry("dev1", message{}) == "devices/dev1/messages/events/");
}

TEST_CASE("Property bags round-trip: null, empty and escaped values, every system property", "[device][topics]") {
  message m;
  m.message_id = "m 1";
  m.correlation_id = "c&1";
  m.user_id = "u";
  m.content_type = "text/plain";
  m.content_encoding = "utf-8";
  m.expiry_time_utc = "2026-01-01T00:00:00Z";
  m.properties = {{"none", std::nullopt}, {"empty", ""}, {"a=b", "x&y"}};
  const auto bag = encode_property_bag(m);
  CHECK(bag ==
        "%24.mid=m%201&%24.cid=c%261&%24.uid=u&%24.ct=text%2Fplain&%24.ce=utf-8&%24.exp=2026-01-01T00%3A00%3A00Z&a%3Db=x%26y&empty=&none");
  const auto back = decode_property_bag(bag);
  REQUIRE(back);
  CHECK(*back == m);
  // The docs' C2D example: /?prop1&prop2=&prop3=a%20string; unescaped `$.` keys decode too.
  const auto docs = decode_property_bag("prop1&prop2=&prop3=a%20string&$.mid=x");
  REQUIRE(docs);
  CHECK(docs->properties.at("prop1") == std::nullopt);
  CHECK(docs->properties.at("prop2") == "");
  CHECK(docs->properties.at("prop3") == "a string");
  CHECK(docs->message_id == "x");
  CHECK_FALSE(decode_property_bag("a=%zz"));
}

TEST_CASE("A cloud-to-device topic from the capture decodes into its properties", "[device][topics]") {
  const std::string topic = capture_packet("publish", "devices/dev1/messages/devicebound/").at("topic");
  const auto m = topics::parse_cloud_to_device(topic, "dev1");
  REQUIRE(m);
  CHECK(m->message_id == "c2d-1");
  CHECK(m->to == "/devices/dev1/messages/devicebound");
  CHECK(m->properties == std::map<std::string, std::optional<std::string>>{{"color", "blue"}});
  CHECK_FALSE(topics::parse_cloud_to_device(topic, "dev2"));
  CHECK(topics::parse_cloud_to_device("devices/d/messages/devicebound/", "d")->properties.empty());
  CHECK(topics::cloud_to_device_filter("dev1") == "devices/dev1/messages/devicebound/#");
}

TEST_CASE("Method requests parse, and replies go to the Node SDK's topic", "[device][topics]") {
  const std::string request = capture_packet("publish", "$iothub/methods/POST/").at("topic");
  const auto r = topics::parse_method_request(request);
  REQUIRE(r);
  CHECK(r->method_name == "lockDoor");
  CHECK(r->request_id == "42");
  const std::string reply = capture_packet("publish", "$iothub/methods/res/").at("topic");
  CHECK(topics::method_response(200, "42") == reply);
  CHECK(topics::parse_method_request("$iothub/methods/POST/a%20b/?$rid=7")->method_name == "a b");
  CHECK_FALSE(topics::parse_method_request("$iothub/methods/POST/x/"));
  CHECK_FALSE(topics::parse_method_request("$iothub/methods/POST//?$rid=1"));
  CHECK_FALSE(topics::parse_method_request("$iothub/twin/res/200/?$rid=1"));
}

TEST_CASE("Twin requests and responses follow the capture", "[device][topics]") {
  CHECK(topics::twin_get("5410a1b5-ed6a-4acf-a3f8-25b4b40c1e96") == capture_packet("publish", "$iothub/twin/GET/").at("topic"));
  CHECK(topics::twin_patch_reported("2c4a7a72-fb83-443a-835f-3ebb52823033") ==
        capture_packet("publish", "$iothub/twin/PATCH/properties/reported/").at("topic"));

  const auto get = topics::parse_twin_response("$iothub/twin/res/200/?$rid=5410a1b5-ed6a-4acf-a3f8-25b4b40c1e96");
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->request_id == "5410a1b5-ed6a-4acf-a3f8-25b4b40c1e96");
  CHECK_FALSE(get->version);
  const std::string patch_topic = capture_packet("publish", "$iothub/twin/res/204/").at("topic");
  const auto patch = topics::parse_twin_response(patch_topic);
  REQUIRE(patch);
  CHECK(patch->status == 204);
  CHECK(patch->version == 2);
  CHECK(topics::parse_twin_response("$iothub/twin/res/400/?$rid=9")->status == 400);
  CHECK_FALSE(topics::parse_twin_response("$iothub/twin/res/abc/?$rid=9"));
  CHECK_FALSE(topics::parse_twin_response("$iothub/twin/res/200/"));

  const std::string desired = capture_packet("publish", "$iothub/twin/PATCH/properties/desired/").at("topic");
  CHECK(topics::parse_desired_patch(desired) == 2);
  CHECK(topics::parse_desired_patch("$iothub/twin/PATCH/properties/desired/") == 0);
  CHECK_FALSE(topics::parse_desired_patch("$iothub/twin/res/200/?$rid=1"));
}
