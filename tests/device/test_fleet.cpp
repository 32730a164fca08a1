// The fleet simulator against the in-process hub: a few hundred devices on one thread.
#include <catch2/catch.hpp>

#include <mockhub/device/fleet/simulator.hpp>

#include <future>
#include <thread>

#include "hub_fixture.hpp"

using namespace mockhub;
using namespace mockhub::device;
using namespace std::chrono_literals;
using mockhub::test::bound;
using nlohmann::json;

TEST_CASE("A fleet of a few hundred devices connects on one thread and acts out its behaviours",
          "[device][integration][fleet]") {
  test::hub_fixture hub({.virtual_time = true});
  auto fixture = fleet::fleet_fixture::parse(json::parse(R"({
    "seed": 42,
    "behaviours": {
      "lock": {
        "methods": {
          "lockDoor": {"status": 200, "payload": {"locked": true}, "latency_ms": {"uniform": [0, 20]}, "reports": {"lockState": "locked"}},
          "jam": {"failure_rate": 1.0, "failure_status": 503, "reports": {"jammed": true}},
          "*": {"status": 404, "payload": {"message": "unknown"}}
        },
        "desired_echo": true
      },
      "chatty": {"reported_updates": {"every_ms": 20, "patch": {"battery": 90}, "counter_property": "seq"}},
      "ghost": {"methods": {"reboot": {"never_answers": true}}}
    },
    "groups": [
      {"prefix": "lock-", "count": 240, "digits": 4, "behaviour": "lock", "tags": {"building": 43}},
      {"prefix": "chatty-", "count": 5, "behaviour": "chatty"},
      {"prefix": "ghost-", "count": 55, "behaviour": "ghost"}
    ]
  })"));
  const auto n = fixture.devices.size();
  REQUIRE(n == 300);

  // Seeding the registry is the caller's business.
  auto keys = hub.call([&](core::hub& h) {
    std::map<std::string, std::string> out;
    for (const auto& d : fixture.devices) {
      core::device_identity_request r;
      r.device_id = d.id;
      out[d.id] = h.create_or_update_identity(d.id, r, std::nullopt).primary_key;
      if (!d.tags.empty()) h.update_twin(d.id, {{"tags", d.tags}}, std::nullopt);
    }
    return out;
  });
  REQUIRE(hub.runtime().wait_credentials_applied(bound));

  fleet::fleet_options options;
  options.host_name = hub.runtime().host_name();
  options.port = hub.runtime().mqtt_port();
  options.key_for = [&keys](const fleet::device_spec& d) { return std::optional<std::string>(keys.at(d.id)); };

  event_loop loop;
  fleet::fleet_simulator sim(loop, fixture, options);
  test::recorder<fleet::fleet_event> events;
  sim.on_event([&](const fleet::fleet_event& e) { events.add(e); });
  sim.start();
  std::thread driver([&] { loop.run(); });
  auto count = [&](fleet::fleet_event::kind k) {
    std::size_t c = 0;
    for (const auto& e : events.items()) c += e.what == k;
    return c;
  };
  auto report = [&] {
    std::promise<fleet::fleet_report> p;
    loop.post([&] { p.set_value(sim.report()); });
    return p.get_future().get();
  };

  // Every device connects (the n-th "connected" event).
  std::size_t connected = 0;
  for (std::size_t from = 0; connected < n;) {
    const auto i = events.wait_for([](const fleet::fleet_event& e) { return e.what == fleet::fleet_event::kind::connected; }, from, 120s);
    REQUIRE(i);
    ++connected;
    from = *i + 1;
  }
  CHECK(report().connected_now == n);

  const auto lock0 = hub.invoke("lock-0000", "lockDoor");
  REQUIRE(std::holds_alternative<core::method_result>(lock0));
  CHECK(std::get<core::method_result>(lock0).status == 200);
  CHECK(std::get<core::method_result>(lock0).payload == json{{"locked", true}});
  // `reports` went out before the answer, so the twin has it once the method returned.
  CHECK(hub.call([](core::hub& h) { return h.device_get_twin("lock-0000"); }).at("reported").value("lockState", "") == "locked");
  const auto jam = hub.invoke("lock-0001", "jam");
  CHECK(std::get<core::method_result>(jam).status == 503);
  // A failure draw reports nothing.
  CHECK_FALSE(hub.call([](core::hub& h) { return h.device_get_twin("lock-0001"); }).at("reported").contains("jammed"));
  const auto other = hub.invoke("lock-0002", "open");
  CHECK(std::get<core::method_result>(other).status == 404);

  SECTION("a device that never answers makes the hub time out (504101)") {
    auto outcome = std::make_shared<std::promise<core::method_outcome>>();
    auto f = outcome->get_future();
    hub.call([&](core::hub& h) {
      core::method_request r;
      r.method_name = "reboot";
      r.response_timeout_seconds = 5;
      h.invoke_device_method("ghost-0", r, [outcome](const core::method_outcome& o) { outcome->set_value(o); });
    });
    REQUIRE(events.wait_for([](const fleet::fleet_event& e) { return e.what == fleet::fleet_event::kind::method_ignored; }));
    hub.runtime().advance(6s);
    REQUIRE(f.wait_for(bound) == std::future_status::ready);
    const auto o = f.get();
    REQUIRE(std::holds_alternative<core::hub_error>(o));
    CHECK(std::get<core::hub_error>(o).code() == 504101);
  }
  SECTION("desired changes are echoed as reported properties") {
    const auto idx = events.size();
    hub.call([](core::hub& h) { h.update_twin("lock-0003", {{"properties", {{"desired", {{"mode", "night"}}}}}}, std::nullopt); });
    REQUIRE(events.wait_for([](const fleet::fleet_event& e) { return e.what == fleet::fleet_event::kind::reported_acked && e.detail == "desired_echo"; }, idx));
    const auto twin = hub.call([](core::hub& h) { return h.device_get_twin("lock-0003"); });
    CHECK(twin.at("reported").at("mode") == "night");
  }
  SECTION("periodic reported updates carry a counter") {
    for (std::size_t from = 0, seen = 0; seen < 10; ++seen) {
      const auto i = events.wait_for([](const fleet::fleet_event& e) { return e.what == fleet::fleet_event::kind::reported_acked && e.detail == "reported_updates"; }, from);
      REQUIRE(i);
      from = *i + 1;
    }
    const auto twin = hub.call([](core::hub& h) { return h.device_get_twin("chatty-0"); });
    CHECK(twin.at("reported").at("battery") == 90);
    CHECK(twin.at("reported").at("seq").get<int>() >= 1);
  }

  const auto r = report();
  CHECK(r.devices == n);
  CHECK(r.terminal_failures == 0);
  CHECK(r.methods_received >= 3);
  CHECK(r.methods_failed_on_purpose >= 1);
  CHECK(r.first_connect.count == n);
  CHECK(r.to_json().at("latency").at("first_connect").at("count") == n);

  loop.post([&] { sim.stop(); });
  for (std::size_t from = 0, gone = 0; gone < n; ++gone) {
    const auto i = events.wait_for([](const fleet::fleet_event& e) { return e.what == fleet::fleet_event::kind::disconnected; }, from, 120s);
    REQUIRE(i);
    from = *i + 1;
  }
  loop.stop();
  driver.join();
  CHECK(count(fleet::fleet_event::kind::disconnected) == n);
}
