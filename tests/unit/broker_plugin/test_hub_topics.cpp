#include <catch2/catch.hpp>

#include <string>

#include "mock_hub/broker_plugin/hub_topics.hpp"

using namespace mockhub::broker_plugin;

TEST_CASE("$hub topics put the client id in one percent-encoded level", "[plugin]") {
  CHECK(hub_topics::in("dev1", "devices/dev1/messages/events/a=b") == "$hub/in/dev1/devices/dev1/messages/events/a=b");
  CHECK(hub_topics::in("dev1/mod-a", "$iothub/twin/GET/?$rid=1") == "$hub/in/dev1%2Fmod-a/$iothub/twin/GET/?$rid=1");
  CHECK(hub_topics::out("dev1", "$iothub/methods/POST/lockDoor/?$rid=42") ==
        "$hub/out/dev1/$iothub/methods/POST/lockDoor/?$rid=42");
  CHECK(hub_topics::conn("dev1") == "$hub/conn/dev1");
  CHECK(hub_topics::disc("a b+c") == "$hub/disc/a%20b%2Bc");
  CHECK(hub_topics::sub("d.-_~") == "$hub/sub/d.-_~");
  CHECK(hub_topics::unsub("d#1") == "$hub/unsub/d%231");
  CHECK(hub_topics::kick("dev1/m") == "$hub/ctl/kick/dev1%2Fm");
}

TEST_CASE("Every $hub topic decodes to what it was encoded from", "[plugin]") {
  const std::string id = GENERATE("dev1", "dev1/mod-a", "a b%c", "x:=@$'()*!,");
  INFO("client id: " << id);
  CHECK(parse_hub_topic(hub_topics::in(id, "devices/x/messages/events/")) ==
        hub_topic{.kind = hub_topic_kind::in, .client_id = id, .topic = "devices/x/messages/events/"});
  CHECK(parse_hub_topic(hub_topics::out(id, "$iothub/twin/res/200/?$rid=1")) ==
        hub_topic{.kind = hub_topic_kind::out, .client_id = id, .topic = "$iothub/twin/res/200/?$rid=1"});
  CHECK(parse_hub_topic(hub_topics::conn(id)) == hub_topic{.kind = hub_topic_kind::conn, .client_id = id});
  CHECK(parse_hub_topic(hub_topics::disc(id)) == hub_topic{.kind = hub_topic_kind::disc, .client_id = id});
  CHECK(parse_hub_topic(hub_topics::sub(id)) == hub_topic{.kind = hub_topic_kind::sub, .client_id = id});
  CHECK(parse_hub_topic(hub_topics::unsub(id)) == hub_topic{.kind = hub_topic_kind::unsub, .client_id = id});
  CHECK(parse_hub_topic(hub_topics::kick(id)) == hub_topic{.kind = hub_topic_kind::kick, .client_id = id});
}

TEST_CASE("The fixed $hub topics decode by name", "[plugin]") {
  CHECK(parse_hub_topic("$hub/state") == hub_topic{.kind = hub_topic_kind::state});
  CHECK(parse_hub_topic("$hub/ctl/auth") == hub_topic{.kind = hub_topic_kind::auth});
  CHECK(parse_hub_topic("$hub/ctl/clock") == hub_topic{.kind = hub_topic_kind::clock});
  CHECK(parse_hub_topic("$hub/ctl/resync") == hub_topic{.kind = hub_topic_kind::resync});
  CHECK(parse_hub_topic("$hub/ctl/out") == hub_topic{.kind = hub_topic_kind::out_batch});
  CHECK(parse_hub_topic("$hub/ctl/out/x") == std::nullopt);
}

TEST_CASE("Anything else under $hub/ does not decode", "[plugin]") {
  const char* bad = GENERATE("$hub", "$hub/", "$hub/in/dev1", "$hub/in/dev1/", "$hub/in//x", "$hub/out/dev1",
                             "$hub/out/%zz/x", "$hub/out/%2/x", "$hub/conn/", "$hub/conn/a/b", "$hub/disc/%GG",
                             "$hub/ctl/kick/", "$hub/ctl/kick/a/b", "$hub/ctl/unknown", "$hub/ctl/auth/x",
                             "$hub/state/x", "$hub/other", "hub/in/dev1/x", "$iothub/twin/GET/?$rid=1");
  INFO("topic: " << bad);
  CHECK_FALSE(parse_hub_topic(bad));
}

TEST_CASE("The hub namespace is $hub and everything below it", "[plugin]") {
  CHECK(hub_topics::is_hub_namespace("$hub"));
  CHECK(hub_topics::is_hub_namespace("$hub/#"));
  CHECK(hub_topics::is_hub_namespace("$hub/in/+/x"));
  CHECK_FALSE(hub_topics::is_hub_namespace("$hubx"));
  CHECK_FALSE(hub_topics::is_hub_namespace("$iothub/#"));
  CHECK_FALSE(hub_topics::is_hub_namespace("#"));
}
