#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <tuple>
#include <vector>

#include "check_hub_error.hpp"
#include "mock_device_channel.hpp"
#include "mock_hub/core/hub.hpp"

using namespace mockhub::core;
using mockhub::testing::check_hub_error;
using nlohmann::json;
using trompeloeil::_;
using namespace std::chrono_literals;

namespace {

struct methods_fixture {
  virtual_clock clk;
  id_source ids{5};
  mockhub::testing::mock_device_channel channel;
  std::unique_ptr<trompeloeil::expectation> allow_identity = NAMED_ALLOW_CALL(channel, identity_changed(_, _));
  std::unique_ptr<trompeloeil::expectation> allow_kick = NAMED_ALLOW_CALL(channel, disconnect(_));
  hub h{{}, clk, ids, channel};
  std::uint64_t generation = 0;
  std::optional<method_outcome> outcome;

  methods_fixture() { h.create_or_update_identity("lock1", {}, std::nullopt); }

  std::uint64_t connect(bool subscribe_methods) {
    connection_info info;
    info.generation = ++generation;
    h.device_connected("lock1", info);
    if (subscribe_methods) h.device_subscribed("lock1", info.generation, device_subscription::methods);
    return info.generation;
  }
  void invoke(const json& body) {
    h.invoke_device_method("lock1", method_request::from_json(body), [this](const method_outcome& o) { outcome = o; });
  }
  const hub_error& error() const { return std::get<hub_error>(*outcome); }
  const method_result& result() const { return std::get<method_result>(*outcome); }
};

const json lock_door = {{"methodName", "lockDoor"}, {"payload", {{"door", "front"}}}, {"responseTimeoutInSeconds", 15}};

}  // namespace

TEST_CASE_METHOD(methods_fixture, "A subscribed device gets the request and its answer comes back as status and payload",
                 "[core][methods]") {
  connect(true);
  std::string rid;
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, json{{"door", "front"}})).LR_SIDE_EFFECT(rid = _3);
  invoke(lock_door);
  CHECK_FALSE(outcome.has_value());
  CHECK(h.device_method_response("lock1", rid, 200, R"({"locked":true})"));
  REQUIRE(outcome);
  CHECK(result().status == 200);
  CHECK(json(result()) == json{{"status", 200}, {"payload", {{"locked", true}}}});

  SECTION("a second answer to the same request is ignored") { CHECK_FALSE(h.device_method_response("lock1", rid, 200, "{}")); }
}

TEST_CASE_METHOD(methods_fixture, "The device's own status never becomes a hub failure", "[core][methods]") {
  connect(true);
  std::string rid;
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, _)).LR_SIDE_EFFECT(rid = _3);
  invoke(lock_door);
  SECTION("status 500 with a payload") {
    h.device_method_response("lock1", rid, 500, R"({"error":"jammed"})");
    CHECK(json(result()) == json{{"status", 500}, {"payload", {{"error", "jammed"}}}});
  }
  SECTION("an empty or blank payload is null") {
    h.device_method_response("lock1", rid, 404, " ");
    CHECK(json(result()) == json{{"status", 404}, {"payload", nullptr}});
  }
  SECTION("a payload that is not JSON comes back as a string") {
    h.device_method_response("lock1", rid, 200, "done");
    CHECK(result().payload == "done");
  }
}

TEST_CASE_METHOD(methods_fixture, "A device that does not answer in time gives 504101 exactly at the response timeout",
                 "[core][methods]") {
  connect(true);
  std::string rid;
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, _)).LR_SIDE_EFFECT(rid = _3);
  invoke(lock_door);
  clk.advance(14s);
  CHECK_FALSE(outcome.has_value());
  clk.advance(1s);
  REQUIRE(outcome);
  CHECK(error().code() == 504101);
  CHECK(error().http_status() == 504);
  CHECK(std::string(error().what()) == "Timed out waiting for the response from device.");
  CHECK_FALSE(h.device_method_response("lock1", rid, 200, "{}"));  // too late
}

TEST_CASE_METHOD(methods_fixture, "A device that is not ready: 404103 at once, or after the connect timeout",
                 "[core][methods]") {
  SECTION("offline, connect timeout 0: fails before invoke returns") {
    FORBID_CALL(channel, send_method_request(_, _, _, _));
    invoke(lock_door);
    REQUIRE(outcome);
    CHECK(error().code() == 404103);
    CHECK(std::string(error().what()) == "Timed out waiting for device to connect.");
  }
  SECTION("connected but not subscribed to methods counts as not online") {
    connect(false);
    FORBID_CALL(channel, send_method_request(_, _, _, _));
    invoke(lock_door);
    CHECK(error().code() == 404103);
  }
  SECTION("connect timeout 30 s and the device never comes") {
    FORBID_CALL(channel, send_method_request(_, _, _, _));
    auto body = lock_door;
    body["connectTimeoutInSeconds"] = 30;
    invoke(body);
    clk.advance(29s);
    CHECK_FALSE(outcome.has_value());
    clk.advance(1s);
    CHECK(error().code() == 404103);
  }
  SECTION("connect timeout 30 s and the device subscribes after 10 s: sent then, answered") {
    auto body = lock_door;
    body["connectTimeoutInSeconds"] = 30;
    body["responseTimeoutInSeconds"] = 60;
    invoke(body);
    clk.advance(10s);
    std::string rid;
    REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, _)).LR_SIDE_EFFECT(rid = _3);
    connect(true);
    clk.advance(25s);  // past the connect timeout: it no longer applies
    CHECK_FALSE(outcome.has_value());
    h.device_method_response("lock1", rid, 200, "{}");
    CHECK(result().status == 200);
  }
}

TEST_CASE_METHOD(methods_fixture, "A device that disconnects mid-call fails the call at once", "[core][methods]") {
  const auto g = connect(true);
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, _));
  invoke(lock_door);
  h.device_disconnected("lock1", g);
  REQUIRE(outcome);
  CHECK(error().code() == 404103);
  CHECK_THAT(std::string(error().what()), Catch::Contains("Device unavailable"));
}

TEST_CASE_METHOD(methods_fixture, "Deleting the device fails its calls with 404001", "[core][methods]") {
  connect(true);
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, _));
  invoke(lock_door);
  h.delete_identity("lock1", std::nullopt);
  CHECK(error().code() == 404001);
}

TEST_CASE_METHOD(methods_fixture, "An unknown device is refused with 404001 before anything is sent", "[core][methods]") {
  check_hub_error([&] { h.invoke_device_method("ghost", method_request::from_json(lock_door), [](const method_outcome&) {}); },
                  404001, "'ghost'");
}

TEST_CASE_METHOD(methods_fixture, "Concurrent calls are correlated by request id", "[core][methods]") {
  connect(true);
  std::vector<std::string> rids;
  REQUIRE_CALL(channel, send_method_request("lock1", _, _, _)).TIMES(2).LR_SIDE_EFFECT(rids.emplace_back(_3));
  std::vector<int> statuses;
  for (int i = 0; i < 2; ++i)
    h.invoke_device_method("lock1", method_request::from_json(lock_door),
                           [&statuses](const method_outcome& o) { statuses.push_back(std::get<method_result>(o).status); });
  REQUIRE(rids.size() == 2);
  CHECK(rids[0] != rids[1]);
  h.device_method_response("lock1", rids[1], 202, "");
  h.device_method_response("lock1", rids[0], 201, "");
  CHECK(statuses == std::vector<int>{202, 201});
}

TEST_CASE_METHOD(methods_fixture, "Calls with different response timeouts each time out exactly at their own",
                 "[core][methods]") {
  connect(true);
  REQUIRE_CALL(channel, send_method_request("lock1", _, _, _)).TIMES(3);
  std::vector<std::pair<int, long>> timed_out;  // (call, seconds after the first call)
  const auto start = clk.now();
  const auto call_with = [&](int index, int timeout_s) {
    auto body = lock_door;
    body["responseTimeoutInSeconds"] = timeout_s;
    h.invoke_device_method("lock1", method_request::from_json(body), [&, index](const method_outcome& o) {
      CHECK(std::get<hub_error>(o).code() == 504101);
      timed_out.emplace_back(index, std::chrono::duration_cast<std::chrono::seconds>(clk.now() - start).count());
    });
  };
  call_with(0, 60);
  clk.advance(1s);
  call_with(1, 10);  // due before the first: the hub's one deadline timer moves earlier
  call_with(2, 10);
  clk.advance(300s);
  CHECK(timed_out == std::vector<std::pair<int, long>>{{1, 11}, {2, 11}, {0, 60}});
}

TEST_CASE_METHOD(methods_fixture, "Answered calls leave no timer on the hub's clock", "[core][methods]") {
  connect(true);
  std::vector<std::string> rids;
  REQUIRE_CALL(channel, send_method_request("lock1", _, _, _)).TIMES(2).LR_SIDE_EFFECT(rids.emplace_back(_3));
  const auto timers_before = clk.pending_timers();
  int answered = 0;
  for (int i = 0; i < 2; ++i)
    h.invoke_device_method("lock1", method_request::from_json(lock_door), [&](const method_outcome&) { ++answered; });
  CHECK(clk.pending_timers() == timers_before + 1);  // one deadline timer for both calls
  CHECK(h.device_method_response("lock1", rids[0], 200, ""));
  CHECK(h.device_method_response("lock1", rids[1], 200, ""));
  CHECK(answered == 2);
  CHECK(clk.pending_timers() == timers_before);
}

TEST_CASE_METHOD(methods_fixture, "An answer with another device's or a differently spelled request id is not the call's",
                 "[core][methods]") {
  h.create_or_update_identity("lock2", {}, std::nullopt);
  connect(true);
  std::string rid;
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, _)).LR_SIDE_EFFECT(rid = _3);
  invoke(lock_door);
  CHECK_FALSE(h.device_method_response("lock2", rid, 200, "{}"));
  CHECK_FALSE(h.device_method_response("lock1", "0" + rid, 200, "{}"));
  CHECK_FALSE(h.device_method_response("lock1", rid + " ", 200, "{}"));
  CHECK_FALSE(h.device_method_response("lock1", "x", 200, "{}"));
  CHECK_FALSE(h.device_method_response("lock1", "", 200, "{}"));
  CHECK_FALSE(outcome.has_value());
  CHECK(h.device_method_response("lock1", rid, 200, "{}"));
  CHECK(result().status == 200);
}

TEST_CASE_METHOD(methods_fixture, "A call waiting for its device is sent with the request id it got when it started",
                 "[core][methods]") {
  h.create_or_update_identity("lock2", {}, std::nullopt);
  auto body = lock_door;
  body["connectTimeoutInSeconds"] = 30;
  invoke(body);  // lock1 is offline: the call waits, as call 1

  // A call started later to a device that is online goes out first, with the next id.
  connection_info info;
  info.generation = ++generation;
  h.device_connected("lock2", info);
  h.device_subscribed("lock2", info.generation, device_subscription::methods);
  std::optional<method_outcome> second;
  {
    REQUIRE_CALL(channel, send_method_request("lock2", "lockDoor", "2", _));
    h.invoke_device_method("lock2", method_request::from_json(lock_door), [&](const method_outcome& o) { second = o; });
  }
  // An answer naming the waiting call before it was sent is nobody's, from either device.
  CHECK_FALSE(h.device_method_response("lock1", "1", 200, "{}"));
  CHECK_FALSE(h.device_method_response("lock2", "1", 200, "{}"));
  CHECK_FALSE(outcome.has_value());
  CHECK(h.device_method_response("lock2", "2", 201, "{}"));
  REQUIRE(second);
  CHECK(std::get<method_result>(*second).status == 201);

  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", "1", _));
  connect(true);
  CHECK(h.device_method_response("lock1", "1", 200, R"({"locked":true})"));
  REQUIRE(outcome);
  CHECK(json(result()) == json{{"status", 200}, {"payload", {{"locked", true}}}});
}

TEST_CASE("Method invocation bodies are validated as the hub does", "[core][methods]") {
  SECTION("defaults: response 30 s, connect 0 s, payload null") {
    const auto r = method_request::from_json({{"methodName", "reboot"}});
    CHECK(r.response_timeout_seconds == 30);
    CHECK(r.connect_timeout_seconds == 0);
    CHECK(r.payload.is_null());
  }
  SECTION("boundaries are accepted") {
    const auto r = method_request::from_json(
        {{"methodName", "m"}, {"responseTimeoutInSeconds", 5}, {"connectTimeoutInSeconds", 300}});
    CHECK(r.response_timeout_seconds == 5);
    CHECK(r.connect_timeout_seconds == 300);
    CHECK(method_request::from_json({{"methodName", "m"}, {"responseTimeoutInSeconds", 300}}).response_timeout_seconds == 300);
  }
  SECTION("the obsolete timeoutInSeconds is read as the response timeout") {
    CHECK(method_request::from_json({{"methodName", "m"}, {"timeoutInSeconds", 60}}).response_timeout_seconds == 60);
  }
  SECTION("a payload of exactly 128 KB is accepted, one byte more is 413001") {
    const std::string fill(128 * 1024 - 2, 'x');  // plus the two quotes
    method_request::from_json({{"methodName", "m"}, {"payload", fill}});
    check_hub_error([&] { method_request::from_json({{"methodName", "m"}, {"payload", fill + "x"}}); }, 413001, "131073 bytes");
  }
  const auto [body, code, phrase] = GENERATE(table<const char*, int, const char*>({
      {R"({})", 400005, "methodName is required"},
      {R"({"methodName":""})", 400004, "non-empty"},
      {R"({"methodName":7})", 400004, "non-empty string"},
      {R"({"methodName":"lock door"})", 400004, "'lock door' is not valid"},
      {R"({"methodName":"a/b"})", 400004, "not valid"},
      {R"({"methodName":"m","responseTimeoutInSeconds":4})", 400004, "responseTimeoutInSeconds is 4"},
      {R"({"methodName":"m","responseTimeoutInSeconds":301})", 400004, "between 5 and 300"},
      {R"({"methodName":"m","responseTimeoutInSeconds":"30"})", 400004, "must be an integer"},
      {R"({"methodName":"m","connectTimeoutInSeconds":-1})", 400004, "connectTimeoutInSeconds is -1"},
      {R"({"methodName":"m","connectTimeoutInSeconds":301})", 400004, "between 0 and 300"},
      {R"({"methodName":"m","responseTimeoutInSeconds":18446744073709551615})", 400004,
       "responseTimeoutInSeconds is 18446744073709551615;"},
      {R"({"methodName":"m","connectTimeoutInSeconds":9223372036854775808})", 400004,
       "connectTimeoutInSeconds is 9223372036854775808;"},
      {R"({"methodName":"m","responseTimeoutInSeconds":-0})", 400004, "responseTimeoutInSeconds is 0;"},
      {R"({"methodName":"m","responseTimeoutInSeconds":30.5})", 400004, "must be an integer"},
      {R"([1])", 400004, "JSON object"},
  }));
  CAPTURE(body);
  check_hub_error([&] { method_request::from_json(json::parse(body)); }, code, phrase);
}

namespace {

// A channel that publishes text, as the broker link does: it sees the payload exactly as the
// device receives it.
struct text_channel final : device_channel {
  std::vector<std::tuple<std::string, std::string, std::string>> sent;  // device, method, payload text
  void send_desired_patch(std::string_view, const json&) override {}
  void send_method_request(std::string_view, std::string_view, std::string_view, const json&) override {
    FAIL("the core must hand a text channel the serialised payload");
  }
  void send_serialized_method_request(std::string_view device_id, std::string_view method_name, std::string_view,
                                      std::string_view payload_json) override {
    sent.emplace_back(device_id, method_name, payload_json);
  }
  void send_cloud_to_device(std::string_view, const cloud_to_device_message&) override {}
  void identity_changed(std::string_view, const device_identity*) override {}
  void disconnect(std::string_view) override {}
};

}  // namespace

TEST_CASE("Devices receive the payload serialised as the caller gave it, `null` when absent, from calls and jobs",
          "[core][methods]") {
  virtual_clock clk;
  id_source ids{7};
  text_channel channel;
  hub h{{}, clk, ids, channel};
  std::uint64_t generation = 0;
  for (const std::string id : {"lock-a", "lock-b"}) {
    h.create_or_update_identity(id, {}, std::nullopt);
    h.update_twin(id, {{"tags", {{"building", 43}}}}, std::nullopt);
    connection_info info;
    info.generation = ++generation;
    h.device_connected(id, info);
    h.device_subscribed(id, info.generation, device_subscription::methods);
  }
  auto ignore = [](const method_outcome&) {};
  h.invoke_device_method("lock-a", method_request::from_json({{"methodName", "ping"}}), ignore);
  h.invoke_device_method("lock-a", method_request::from_json(json::parse(R"({"methodName":"set","payload":{"b":[1,2.5,"x"],"a":null}})")),
                         ignore);
  h.jobs().create_scheduled_job(job_request::from_json(
      {{"jobId", "j1"},
       {"type", "scheduleDeviceMethod"},
       {"cloudToDeviceMethod", {{"methodName", "lockDoor"}, {"payload", {{"door", "front"}}}}},
       {"queryCondition", "tags.building = 43"},
       {"startTime", nullptr},
       {"maxExecutionTimeInSeconds", 3600}},
      "j1", clk.now()));
  clk.advance(std::chrono::seconds(0));
  using sent = std::tuple<std::string, std::string, std::string>;
  CHECK(channel.sent == std::vector<sent>{{"lock-a", "ping", "null"},
                                          {"lock-a", "set", R"({"a":null,"b":[1,2.5,"x"]})"},
                                          {"lock-a", "lockDoor", R"({"door":"front"})"},
                                          {"lock-b", "lockDoor", R"({"door":"front"})"}});
}

TEST_CASE_METHOD(methods_fixture, "A channel that takes values gets the serialised payload parsed back", "[core][methods]") {
  connect(true);
  REQUIRE_CALL(channel, send_method_request("lock1", "lockDoor", _, json{{"door", "front"}, {"n", 1.5}}));
  h.invoke_device_method("lock1", method_request::from_json({{"methodName", "lockDoor"}, {"payload", {{"door", "front"}, {"n", 1.5}}}}),
                         [](const method_outcome&) {});
  REQUIRE_CALL(channel, send_method_request("lock1", "ping", _, json(nullptr)));
  h.invoke_device_method("lock1", method_request::from_json({{"methodName", "ping"}}), [](const method_outcome&) {});
}
