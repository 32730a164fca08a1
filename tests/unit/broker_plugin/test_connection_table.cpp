#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "mock_hub/broker_plugin/connection_table.hpp"
#include "mock_hub/broker_plugin/hub_messages.hpp"

using namespace mockhub::broker_plugin;
using subscribe_result = connection_table::subscribe_result;

namespace {
// Stand-ins for the broker's client objects: only their addresses matter.
const int clients[3] = {};
const int& client_a = clients[0];
const int& client_b = clients[1];
const int& client_c = clients[2];

connection_info device(const std::string& id) { return connection_info{.client_id = id, .device_id = id}; }
}  // namespace

TEST_CASE("Generation ids are positive and increase with every accepted connection", "[plugin]") {
  connection_table table;
  const auto g1 = table.add(&client_a, device("dev1"));
  const auto g2 = table.add(&client_b, device("dev1"));  // a takeover: same id, new connection
  CHECK(g1 == 1);
  CHECK(g2 == 2);
  CHECK(table.size() == 2);

  const auto old = table.remove(&client_a);  // the old connection's late disconnect
  REQUIRE(old);
  CHECK(old->gen == 1);
  CHECK(table.find(&client_b)->gen == 2);
  CHECK_FALSE(table.remove(&client_a));  // twice: nothing

  CHECK(table.add(&client_a, device("dev1")) == 3);  // the same object again: still a new generation
}

TEST_CASE("Each connection keeps its own filters, at most five, a repeat replacing its QoS", "[plugin]") {
  connection_table table;
  table.add(&client_a, device("dev1"));
  table.add(&client_b, device("dev2"));

  CHECK(table.subscribe(&client_a, "f1", 0) == subscribe_result::added);
  CHECK(table.subscribe(&client_a, "f1", 1) == subscribe_result::replaced);
  CHECK(table.find(&client_a)->filters == std::vector<subscription>{{"f1", 1}});
  CHECK(table.find(&client_b)->filters.empty());

  for (const char* f : {"f2", "f3", "f4", "f5"}) CHECK(table.subscribe(&client_a, f, 1) == subscribe_result::added);
  CHECK(table.subscribe(&client_a, "f6", 1) == subscribe_result::too_many);
  CHECK(table.find(&client_a)->filters.size() == connection_table::max_filters);
  CHECK(table.subscribe(&client_a, "f5", 0) == subscribe_result::replaced);  // a repeat still works at the limit

  CHECK(table.unsubscribe(&client_a, "f3"));
  CHECK_FALSE(table.unsubscribe(&client_a, "f3"));
  CHECK(table.subscribe(&client_a, "f6", 1) == subscribe_result::added);  // a freed slot can be used again
  CHECK(table.subscribe(&client_c, "f1", 1) == subscribe_result::unknown);
  CHECK_FALSE(table.unsubscribe(&client_c, "f1"));
}

TEST_CASE("The contract's payloads carry the generation and the connection's fields", "[plugin]") {
  connection_table table;
  table.add(&client_b, connection_info{.client_id = "dev1/mod-a",
                                       .device_id = "dev1",
                                       .module_id = "mod-a",
                                       .api_version = "2021-04-12",
                                       .clean_session = true,
                                       .keepalive = 60,
                                       .address = "127.0.0.1",
                                       .protocol_version = 4,
                                       .policy = "iothubowner",
                                       .expires = 1795696880});
  table.add(&client_a, connection_info{.client_id = "dev2",
                                       .device_id = "dev2",
                                       .client_type = "azure-iot-device/1.18.4",
                                       .model_id = "dtmi:x;1",
                                       .keepalive = 180,
                                       .address = "::1",
                                       .protocol_version = 4,
                                       .expires = 1795696880});
  table.subscribe(&client_a, "$iothub/methods/POST/#", 1);

  const nlohmann::json conn = hub_messages::conn(*table.find(&client_a));
  CHECK(conn == nlohmann::json::parse(R"({"gen":2,"device":"dev2","module":null,"api_version":null,
      "client_type":"azure-iot-device/1.18.4","model_id":"dtmi:x;1","clean_session":false,"keepalive":180,
      "address":"::1","protocol_version":4,"policy":null,"expires":1795696880})"));
  CHECK(hub_messages::disc(7) == nlohmann::json::parse(R"({"gen":7})"));
  CHECK(hub_messages::sub(2, "$iothub/twin/res/#", 1) ==
        nlohmann::json::parse(R"({"gen":2,"filter":"$iothub/twin/res/#","qos":1})"));
  CHECK(hub_messages::unsub(2, "$iothub/twin/res/#") ==
        nlohmann::json::parse(R"({"gen":2,"filter":"$iothub/twin/res/#"})"));

  const nlohmann::json state = hub_messages::state(table);
  REQUIRE(state.at("connections").size() == 2);
  const auto& first = state["connections"][0];  // oldest generation first
  CHECK(first.at("id") == "dev1/mod-a");
  CHECK(first.at("gen") == 1);
  CHECK(first.at("module") == "mod-a");
  CHECK(first.at("policy") == "iothubowner");
  CHECK(first.at("filters") == nlohmann::json::array());
  const auto& second = state["connections"][1];
  CHECK(second.at("id") == "dev2");
  CHECK(second.at("filters") == nlohmann::json::parse(R"([{"filter":"$iothub/methods/POST/#","qos":1}])"));
  CHECK(hub_messages::state(connection_table{}) == nlohmann::json::parse(R"({"connections":[]})"));
}
