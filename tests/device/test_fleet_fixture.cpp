#include <catch2/catch.hpp>

#include <mockhub/device/fleet/fixture.hpp>

using namespace mockhub::device::fleet;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("A fleet fixture expands groups and reads behaviours", "[device][fleet]") {
  const auto f = fleet_fixture::parse(json::parse(R"({
    "seed": 7,
    "behaviours": {
      "lock": {
        "methods": {
          "lockDoor": {"status": 200, "payload": {"locked": true}, "latency_ms": {"uniform": [5, 50]}, "failure_rate": 0.1,
                       "reports": {"lockState": "locked"}},
          "reboot": {"never_answers": true},
          "*": {"status": 404}
        },
        "reported_updates": {"every_ms": {"exponential": 60000}, "patch": {"battery": 90}, "counter_property": "seq"},
        "telemetry": {"every_ms": 10000, "body": {"t": 21.5}},
        "churn": {"connected_ms": {"normal": [60000, 5000]}, "offline_ms": 5000},
        "desired_echo": true
      }
    },
    "devices": [{"id": "frontDoor", "key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "behaviour": "lock", "tags": {"building": 1}}],
    "groups": [{"prefix": "lock-", "count": 3, "digits": 4, "behaviour": "lock", "tags": {"building": 43}, "reported": {"lockState": "locked"}}]
  })"));
  CHECK(f.seed == 7);
  REQUIRE(f.devices.size() == 4);
  CHECK(f.devices[0].id == "frontDoor");
  CHECK(f.devices[0].key);
  CHECK(f.devices[1].id == "lock-0000");
  CHECK(f.devices[3].id == "lock-0002");
  CHECK(f.devices[3].tags == json{{"building", 43}});
  CHECK(f.devices[3].reported == json{{"lockState", "locked"}});
  const auto* b = f.behaviour_of(f.devices[2]);
  REQUIRE(b);
  CHECK(b->methods.at("lockDoor").failure_rate == Approx(0.1));
  CHECK(b->methods.at("lockDoor").reports == json{{"lockState", "locked"}});
  CHECK(b->methods.at("reboot").never_answers);
  CHECK(b->methods.at("reboot").reports == json::object());
  CHECK(b->reported_updates->counter_property == "seq");
  CHECK(b->churn->offline_for.a == 5000);
  CHECK(b->desired_echo);
}

TEST_CASE("A malformed fleet fixture names the path of the problem", "[device][fleet]") {
  using Catch::Matchers::Contains;
  const auto [text, expected] = GENERATE(table<std::string, std::string>({
      {R"({"bogus": 1})", "$.bogus: unknown member"},
      {R"({"devices": [{"id": "a"}, {"id": "a"}]})", "duplicate device id 'a'"},
      {R"({"devices": [{"id": "a", "behaviour": "nope"}]})", "unknown behaviour 'nope'"},
      {R"({"behaviours": {"b": {"methods": {"m": {"status": 99}}}}})", "$.behaviours.b.methods.m.status: must be 100..599"},
      {R"({"behaviours": {"b": {"methods": {"m": {"failure_rate": 1.5}}}}})", "failure_rate: must be 0..1"},
      {R"({"behaviours": {"b": {"methods": {"m": {"latency_ms": {"poisson": 3}}}}}})", "unknown distribution"},
      {R"({"behaviours": {"b": {"methods": {"m": {"latency_ms": {"uniform": [5, 1]}}}}}})", "needs min <= max"},
      {R"({"behaviours": {"b": {"churn": {"connected_ms": 5}}}})", "needs connected_ms and offline_ms"},
      {R"({"groups": [{"prefix": "x"}]})", "$.groups[0].count"},
      {R"({"behaviours": {"b": {"methods": {"m": {"reports": "locked"}}}}})", "$.behaviours.b.methods.m.reports: must be an object"},
  }));
  CAPTURE(text);
  REQUIRE_THROWS_AS(fleet_fixture::parse(json::parse(text)), fixture_error);
  REQUIRE_THROWS_WITH(fleet_fixture::parse(json::parse(text)), Contains(expected));
}

TEST_CASE("Method decisions are deterministic for a seed and honour rates and latencies", "[device][fleet]") {
  method_behaviour b;
  b.status = 200;
  b.payload = {{"ok", true}};
  b.failure_rate = 0.3;
  b.failure_status = 503;
  b.latency = distribution::parse(json{{"uniform", {10, 20}}}, "t");
  auto run = [&](std::uint64_t seed) {
    std::mt19937_64 r(seed);
    std::vector<std::pair<int, std::int64_t>> out;
    for (int i = 0; i < 200; ++i) {
      const auto d = decide(b, nullptr, r);
      out.emplace_back(d.status, d.latency.count());
    }
    return out;
  };
  const auto a = run(1), again = run(1), other = run(2);
  CHECK(a == again);
  CHECK(a != other);
  int failures = 0;
  for (const auto& [status, latency] : a) {
    CHECK((status == 200 || status == 503));
    CHECK(latency >= 10);
    CHECK(latency <= 20);
    failures += status == 503;
  }
  CHECK(failures > 30);  // ~60 expected of 200
  CHECK(failures < 90);

  method_behaviour never;
  never.never_answers = true;
  std::mt19937_64 r(1);
  CHECK_FALSE(decide(never, nullptr, r).answer);
  method_behaviour echo;
  echo.echo_payload = true;
  CHECK(decide(echo, json{{"door", "front"}}, r).payload == json{{"door", "front"}});
  CHECK(distribution::parse(json(25), "t").sample(r) == 25ms);
  CHECK(distribution::parse(json{{"exponential", 0}}, "t").sample(r) == 0ms);
}
