#include <catch2/catch.hpp>

#include <string>

#include "mock_hub/broker_plugin/device_topics.hpp"
#include "unit/broker_plugin/capture.hpp"

using namespace mockhub::broker_plugin;

namespace {
const topic_identity dev1{.device_id = "dev1"};
const topic_identity module_a{.device_id = "dev1", .module_id = "mod-a"};
}  // namespace

TEST_CASE("Every topic the Node SDK published is allowed, and classified", "[plugin]") {
  int publishes = 0;
  for (const auto& packet : mockhub::testing::device_capture()) {
    if (packet.value("cmd", "") != "publish" || packet.value("dir", "") != "device->broker") continue;
    const std::string topic = packet.at("topic");
    INFO("topic: " << topic);
    CHECK(classify_publish(topic, dev1).has_value());
    ++publishes;
  }
  CHECK(publishes == 4);
  CHECK(classify_publish("devices/dev1/messages/events/%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=false",
                         dev1) == publish_kind::telemetry);
  CHECK(classify_publish("$iothub/twin/GET/?$rid=5410a1b5-ed6a-4acf-a3f8-25b4b40c1e96", dev1) == publish_kind::twin_get);
  CHECK(classify_publish("$iothub/twin/PATCH/properties/reported/?$rid=2c4a", dev1) ==
        publish_kind::twin_reported_patch);
  CHECK(classify_publish("$iothub/methods/res/200/?$rid=42", dev1) == publish_kind::method_response);
}

TEST_CASE("Every filter the Node SDK subscribed to is allowed, and classified", "[plugin]") {
  int filters = 0;
  for (const auto& packet : mockhub::testing::device_capture()) {
    if (packet.value("cmd", "") != "subscribe") continue;
    for (const auto& s : packet.at("subscriptions")) {
      INFO("filter: " << s.at("topic"));
      CHECK(classify_filter(s.at("topic").get<std::string>(), dev1).has_value());
      ++filters;
    }
  }
  CHECK(filters == 4);
  CHECK(classify_filter("$iothub/methods/POST/#", dev1) == filter_kind::methods);
  CHECK(classify_filter("$iothub/twin/res/#", dev1) == filter_kind::twin_responses);
  CHECK(classify_filter("$iothub/twin/PATCH/properties/desired/#", dev1) == filter_kind::desired_patches);
  CHECK(classify_filter("devices/dev1/messages/devicebound/#", dev1) == filter_kind::cloud_to_device);
}

TEST_CASE("Telemetry goes on the device's own events topic, with or without a property bag", "[plugin]") {
  CHECK(classify_publish("devices/dev1/messages/events/", dev1) == publish_kind::telemetry);
  CHECK(classify_publish("devices/dev1/messages/events", dev1) == publish_kind::telemetry);
  CHECK(classify_publish("devices/dev1/messages/events/a=b&c", dev1) == publish_kind::telemetry);
  CHECK(classify_publish("devices/dev1/modules/mod-a/messages/events/", module_a) == publish_kind::telemetry);

  const char* refused = GENERATE("devices/dev2/messages/events/",    // another device
                                 "devices/dev10/messages/events/",   // a longer id
                                 "devices/dev/messages/events/",     // a shorter id
                                 "devices/DEV1/messages/events/",    // ids are case-sensitive
                                 "devices/dev1/messages/eventsx",    // not the events level
                                 "devices/dev1/messages/devicebound/",  // the device may not publish C2D
                                 "devices/dev1/modules/mod-a/messages/events/",  // a module's, not the device's
                                 "devices/dev1/messages/",
                                 "foo/bar");
  INFO("topic: " << refused);
  CHECK_FALSE(classify_publish(refused, dev1));
}

TEST_CASE("A module publishes telemetry on its own module topic only", "[plugin]") {
  CHECK_FALSE(classify_publish("devices/dev1/messages/events/", module_a));
  CHECK_FALSE(classify_publish("devices/dev1/modules/mod-b/messages/events/", module_a));
  CHECK(classify_publish("$iothub/twin/GET/?$rid=1", module_a) == publish_kind::twin_get);
}

TEST_CASE("Twin and method topics need $rid and, for a method response, an integer status", "[plugin]") {
  CHECK(classify_publish("$iothub/twin/GET/?$rid=1&x=2", dev1) == publish_kind::twin_get);
  CHECK(classify_publish("$iothub/twin/GET/?x=2&$rid=1", dev1) == publish_kind::twin_get);
  CHECK(classify_publish("$iothub/twin/GET/?%24rid=1", dev1) == publish_kind::twin_get);
  CHECK(classify_publish("$iothub/methods/res/-1/?$rid=7", dev1) == publish_kind::method_response);
  CHECK(classify_publish("$iothub/methods/res/504/?$rid=7", dev1) == publish_kind::method_response);

  const char* refused = GENERATE("$iothub/twin/GET/",                    // no query
                                 "$iothub/twin/GET/?",                   // no $rid
                                 "$iothub/twin/GET/?$rid=",              // an empty $rid
                                 "$iothub/twin/GET/?rid=1",              // not $rid
                                 "$iothub/twin/GET?$rid=1",              // no slash before '?'
                                 "$iothub/twin/GET/x/?$rid=1",           // an extra level
                                 "$iothub/twin/PATCH/properties/reported/",
                                 "$iothub/twin/PATCH/properties/desired/?$rid=1",  // the hub's topic
                                 "$iothub/twin/res/200/?$rid=1",                   // the hub's topic
                                 "$iothub/methods/POST/lockDoor/?$rid=1",          // the hub's topic
                                 "$iothub/methods/res/ok/?$rid=1",       // a status that is no integer
                                 "$iothub/methods/res/2.5/?$rid=1",
                                 "$iothub/methods/res/+200/?$rid=1",
                                 "$iothub/methods/res/99999999999/?$rid=1",  // beyond 32 bits
                                 "$iothub/methods/res//?$rid=1",
                                 "$iothub/methods/res/200?$rid=1",
                                 "$iothub/methods/res/200/x/?$rid=1",
                                 "$iothub/methods/res/200/",
                                 "$iothub/unknown");
  INFO("topic: " << refused);
  CHECK_FALSE(classify_publish(refused, dev1));
}

TEST_CASE("No device may publish or subscribe under $hub/ or to wildcards it does not own", "[plugin]") {
  const char* topic = GENERATE("$hub/in/dev1/devices/dev1/messages/events/", "$hub/out/dev2/x", "$hub/ctl/auth",
                               "$hub/ctl/kick/dev2", "$hub", "$SYS/broker/uptime");
  INFO("topic: " << topic);
  CHECK_FALSE(classify_publish(topic, dev1));
  CHECK_FALSE(classify_filter(topic, dev1));
  CHECK_FALSE(may_read(topic, dev1));
}

TEST_CASE("Only the four documented filters are allowed", "[plugin]") {
  const char* refused = GENERATE("#", "+/#", "$iothub/#", "$iothub/methods/#", "$iothub/methods/POST/lockDoor",
                                 "$iothub/methods/POST/+", "$iothub/methods/POST/lockDoor/#", "$iothub/twin/#",
                                 "$iothub/twin/res/200/#", "$iothub/twin/PATCH/properties/desired/",
                                 "devices/dev2/messages/devicebound/#", "devices/+/messages/devicebound/#",
                                 "devices/dev1/messages/devicebound/", "devices/dev1/messages/events/#",
                                 "devices/dev1/#", "$hub/#", "$share/g/$iothub/methods/POST/#");
  INFO("filter: " << refused);
  CHECK_FALSE(classify_filter(refused, dev1));
}

TEST_CASE("A module subscribes to its own module topics instead of the device's devicebound", "[plugin]") {
  CHECK(classify_filter("devices/dev1/modules/mod-a/#", module_a) == filter_kind::cloud_to_device);
  CHECK(classify_filter("$iothub/methods/POST/#", module_a) == filter_kind::methods);
  CHECK_FALSE(classify_filter("devices/dev1/messages/devicebound/#", module_a));
  CHECK_FALSE(classify_filter("devices/dev1/modules/mod-b/#", module_a));
  CHECK_FALSE(classify_filter("devices/dev1/modules/mod-a/#", dev1));
}

TEST_CASE("A device reads its own $iothub topics and its own cloud-to-device topics only", "[plugin]") {
  CHECK(may_read("$iothub/methods/POST/lockDoor/?$rid=42", dev1));
  CHECK(may_read("$iothub/twin/res/200/?$rid=1", dev1));
  CHECK(may_read("$iothub/twin/PATCH/properties/desired/?$version=2", dev1));
  CHECK(may_read("devices/dev1/messages/devicebound/%24.mid=c2d-1&color=blue", dev1));
  CHECK(may_read("devices/dev1/messages/devicebound", dev1));
  CHECK_FALSE(may_read("devices/dev2/messages/devicebound/", dev1));
  CHECK_FALSE(may_read("devices/dev10/messages/devicebound/", dev1));
  CHECK_FALSE(may_read("devices/dev1/messages/events/", dev1));
  CHECK_FALSE(may_read("other", dev1));
  CHECK(may_read("devices/dev1/modules/mod-a/inputs/in1/", module_a));
  CHECK_FALSE(may_read("devices/dev1/messages/devicebound/", module_a));
}

TEST_CASE("request_id reads $rid from a topic's query", "[plugin]") {
  CHECK(request_id("$iothub/twin/GET/?$rid=abc") == "abc");
  CHECK(request_id("$iothub/twin/res/204/?$rid=7&$version=2") == "7");
  CHECK_FALSE(request_id("$iothub/twin/GET/"));
  CHECK_FALSE(request_id("$iothub/twin/GET/?$rid="));
}

TEST_CASE("A $rid longer than 1024 bytes makes a twin or method publish unsupported", "[plugin][hostile]") {
  const topic_identity who{.device_id = "dev1"};
  const std::string longest(max_request_id_bytes, '7');
  CHECK(request_id("$iothub/twin/GET/?$rid=" + longest) == longest);
  CHECK(classify_publish("$iothub/twin/GET/?$rid=" + longest, who) == publish_kind::twin_get);
  const std::string huge(max_request_id_bytes + 1, '7');
  CHECK_FALSE(request_id("$iothub/twin/GET/?$rid=" + huge));
  CHECK_FALSE(classify_publish("$iothub/twin/GET/?$rid=" + huge, who));
  CHECK_FALSE(classify_publish("$iothub/twin/PATCH/properties/reported/?$rid=" + huge, who));
  CHECK_FALSE(classify_publish("$iothub/methods/res/200/?$rid=" + huge, who));
}
