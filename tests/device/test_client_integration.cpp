// The device client against a real broker with the mockhub plugin and the in-process hub core.
#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <mockhub/device/client.hpp>

#include <thread>

#include "hub_fixture.hpp"

using namespace mockhub;
using namespace mockhub::device;
using namespace std::chrono_literals;
using mockhub::test::bound;
using mockhub::test::hub_fixture;
using mockhub::test::recorder;
using mockhub::test::sync_with_hub;
using nlohmann::json;

namespace {

class mock_policy : public retry_policy {
 public:
  MAKE_MOCK1(next_delay, std::optional<std::chrono::milliseconds>(unsigned), override);
};

core::method_result result_of(const core::method_outcome& o) {
  if (const auto* e = std::get_if<core::hub_error>(&o)) FAIL("the hub failed the call: " << e->what());
  return std::get<core::method_result>(o);
}

}  // namespace

TEST_CASE("Direct methods: synchronous and deferred replies, a default handler, 501 without one",
          "[device][integration][methods]") {
  hub_fixture hub;
  client c(hub.add_device("lock1"), hub.plain());
  std::thread::id handler_thread;
  c.on_method("lockDoor", [&](const method_request& r) {
    handler_thread = std::this_thread::get_id();
    return method_response{200, {{"locked", true}, {"door", r.payload.value("door", "")}}};
  });
  std::vector<std::thread> repliers;
  c.on_method_deferred("slowUnlock", [&](const method_request& r, method_reply reply) {
    // Answered later, from another thread.
    repliers.emplace_back([reply, seconds = r.payload.value("seconds", 0)] { reply.respond(202, {{"after", seconds}}); });
  });
  REQUIRE_NOTHROW(c.connect().get());
  CHECK(c.status() == connection_status::connected);
  sync_with_hub(c);

  SECTION("synchronous") {
    const auto r = result_of(hub.invoke("lock1", "lockDoor", {{"door", "front"}}));
    CHECK(r.status == 200);
    CHECK(r.payload == json{{"locked", true}, {"door", "front"}});
    CHECK(handler_thread != std::this_thread::get_id());
  }
  SECTION("deferred, answered from another thread") {
    const auto r = result_of(hub.invoke("lock1", "slowUnlock", {{"seconds", 3}}));
    CHECK(r.status == 202);
    CHECK(r.payload == json{{"after", 3}});
  }
  SECTION("no handler: 501 (as the C# SDK), until a default handler is set") {
    const auto r = result_of(hub.invoke("lock1", "reboot"));
    CHECK(r.status == 501);
    c.on_default_method([](const method_request& req) { return method_response{200, {{"name", req.method_name}}}; });
    const auto d = result_of(hub.invoke("lock1", "reboot"));
    CHECK(d.status == 200);
    CHECK(d.payload == json{{"name", "reboot"}});
  }
  SECTION("a throwing handler answers 500") {
    c.on_method("explode", [](const method_request&) -> method_response { throw std::runtime_error("boom"); });
    const auto r = result_of(hub.invoke("lock1", "explode"));
    CHECK(r.status == 500);
    CHECK(r.payload == json{{"message", "boom"}});
  }
  c.close().wait_for(bound);
  for (auto& t : repliers) t.join();
  CHECK(c.status() == connection_status::disconnected);
}

TEST_CASE("Twin: get, patch reported (new version on the 204), a refused patch surfaces the hub's 400",
          "[device][integration][twin]") {
  hub_fixture hub;
  client c(hub.add_device("t1"), hub.plain());
  REQUIRE_NOTHROW(c.connect().get());

  const auto before = c.get_twin().get();
  CHECK(before.reported_version() == 1);
  const auto v = c.update_reported({{"lockState", "locked"}, {"firmware", "1.0.0"}}).get();
  CHECK(v == 2);
  const auto after = c.get_twin().get();
  CHECK(after.reported.at("lockState") == "locked");
  CHECK(after.reported_version() == 2);
  const auto hub_view = hub.call([](core::hub& h) { return h.device_get_twin("t1"); });
  CHECK(hub_view.at("reported").at("firmware") == "1.0.0");

  SECTION("a key the hub refuses") {
    auto refused = c.update_reported({{"bad.key", 1}});
    try {
      refused.get();
      FAIL("the patch must be refused");
    } catch (const device_error& e) {
      CHECK(e.code() == errc::hub_status);
      CHECK(e.status() == 400);
      const auto body = json::parse(e.body());
      CHECK(body.at("errorCode").get<int>() / 1000 == 400);
    }
    CHECK(c.get_twin().get().reported_version() == 2);
  }
  SECTION("a patch that is not an object fails at once") {
    CHECK_THROWS_AS(c.update_reported(json::array({1})).get(), device_error);
  }
}

TEST_CASE("Desired properties: the first GET arrives complete, then patches from update_twin",
          "[device][integration][twin]") {
  hub_fixture hub;
  const auto cs = hub.add_device("d1");
  hub.call([](core::hub& h) { h.update_twin("d1", {{"properties", {{"desired", {{"lockMode", "auto"}}}}}}, std::nullopt); });
  client c(cs, hub.plain());
  recorder<std::pair<json, twin_update_state>> updates;
  c.on_desired_properties([&](const json& d, twin_update_state s) { updates.add({d, s}); });
  REQUIRE_NOTHROW(c.connect().get());
  const auto first = updates.wait_for([](const auto& u) { return u.second == twin_update_state::complete; });
  REQUIRE(first);
  CHECK(updates.items()[*first].first.at("lockMode") == "auto");
  sync_with_hub(c);

  hub.call([](core::hub& h) { h.update_twin("d1", {{"properties", {{"desired", {{"lockMode", "manual"}}}}}}, std::nullopt); });
  const auto patch = updates.wait_for([](const auto& u) { return u.second == twin_update_state::partial; });
  REQUIRE(patch);
  CHECK(updates.items()[*patch].first == json{{"lockMode", "manual"}, {"$version", 3}});
  CHECK(c.stats().desired_received == 2);
}

TEST_CASE("Telemetry with properties arrives in the hub's log; the token completes on the PUBACK",
          "[device][integration][telemetry]") {
  hub_fixture hub;
  client c(hub.add_device("s1"), hub.plain());
  auto arrived = std::make_shared<std::promise<core::device_to_cloud_message>>();
  auto arrival = arrived->get_future();
  hub.call([arrived](core::hub& h) {
    h.telemetry().add_listener([arrived](const core::device_to_cloud_message& m) {
      if (m.device_id == "s1") arrived->set_value(m);
    });
  });
  // Sent before connect(): it waits for the connection.
  message m;
  m.body = R"({"temperature":21.5})";
  m.message_id = "msg-1";
  m.correlation_id = "corr-7";
  m.content_type = "application/json";
  m.content_encoding = "utf-8";
  m.properties = {{"alert", "false"}, {"flag", std::nullopt}};
  auto sent = c.send_telemetry(m);
  c.connect();
  REQUIRE_NOTHROW(sent.get());
  REQUIRE(arrival.wait_for(bound) == std::future_status::ready);
  const auto got = arrival.get();
  CHECK(got.body == m.body);
  CHECK(got.system.message_id == "msg-1");
  CHECK(got.system.correlation_id == "corr-7");
  CHECK(got.system.content_type == "application/json");
  CHECK(got.system.content_encoding == "utf-8");
  CHECK(got.application == core::application_properties{{"alert", "false"}, {"flag", std::nullopt}});
  CHECK(c.stats().telemetry_sent == 1);
}

TEST_CASE("Cloud-to-device messages arrive with their properties", "[device][integration][c2d]") {
  hub_fixture hub;
  client c(hub.add_device("c1"), hub.plain());
  recorder<message> got;
  c.on_cloud_to_device([&](const message& m) { got.add(m); });
  REQUIRE_NOTHROW(c.connect().get());
  sync_with_hub(c);
  hub.call([](core::hub& h) {
    core::cloud_to_device_message m;
    m.body = "hello device";
    m.message_id = "c2d-1";
    m.correlation_id = "k";
    m.application = {{"color", "blue"}, {"none", std::nullopt}};
    h.send_cloud_to_device_message("c1", m);
  });
  REQUIRE(got.wait_for([](const message&) { return true; }));
  const auto m = got.items().front();
  CHECK(m.body == "hello device");
  CHECK(m.message_id == "c2d-1");
  CHECK(m.correlation_id == "k");
  CHECK(m.to == "/devices/c1/messages/devicebound");
  CHECK(m.properties.at("color") == "blue");
  CHECK(m.properties.at("none") == std::nullopt);
}

TEST_CASE("TLS with the hub's generated CA; a CA that does not verify the server is retried, bounded",
          "[device][integration][tls]") {
  hub_fixture hub;
  const auto cs = hub.add_device("tls1");
  SECTION("the generated CA verifies the server") {
    client c(cs, hub.tls());
    c.on_method("ping", [](const method_request&) { return method_response{200, "pong"}; });
    REQUIRE_NOTHROW(c.connect().get());
    sync_with_hub(c);
    CHECK(result_of(hub.invoke("tls1", "ping")).payload == "pong");
  }
  SECTION("a client driven by an event loop, over TLS") {
    event_loop loop;
    client c(loop, connection_string::parse(cs), hub.tls());
    auto connected = c.connect();
    for (int i = 0; i < 1000 && !connected.is_complete(); ++i) loop.run_once(100ms);
    REQUIRE(connected.ok());
    auto t = c.get_twin();
    for (int i = 0; i < 1000 && !t.is_complete(); ++i) loop.run_once(100ms);
    CHECK(t.get().reported_version() == 1);
  }
  SECTION("the system store does not know the generated CA: the handshake fails, attempts stay bounded") {
    auto o = hub.tls();
    o.tls.ca_file.clear();
    o.connect_timeout = 5s;
    o.retry = std::make_shared<exponential_backoff>(exponential_backoff_options{.initial = 10ms, .jitter = 0, .max_attempts = 2});
    client c(cs, o);
    auto t = c.connect();
    REQUIRE(t.wait_for(bound));
    try {
      t.get();
      FAIL("must not connect");
    } catch (const device_error& e) {
      CHECK(e.code() == errc::retry_expired);
    }
    CHECK(c.stats().connect_attempts == 3);
  }
}

TEST_CASE("A wrong key is refused (CONNACK 5) and never retried", "[device][integration][retry]") {
  hub_fixture hub;
  hub.add_device("k1");
  auto cs = connection_string::parse(hub.runtime().device_connection_string("k1"));
  cs.shared_access_key = "d3Jvbmcga2V5IGZvciB0aGlzIGRldmljZQ==";

  auto policy = std::make_shared<mock_policy>();
  FORBID_CALL(*policy, next_delay(ANY(unsigned)));
  auto o = hub.plain();
  o.retry = policy;
  client c(cs, o);
  recorder<connection_event> events;
  c.on_connection_status([&](const connection_event& e) { events.add(e); });
  auto t = c.connect();
  REQUIRE(t.wait_for(bound));
  try {
    t.get();
    FAIL("must be refused");
  } catch (const device_error& e) {
    CHECK(e.code() == errc::unauthorized);
  }
  CHECK(c.status() == connection_status::disconnected);
  REQUIRE(events.wait_for([](const connection_event& e) { return e.reason == connection_reason::bad_credential; }));
  CHECK(c.stats().connect_attempts == 1);
}

TEST_CASE("Reconnect delays follow the policy on the client's clock (loop-driven, manual clock)", "[device][integration][retry]") {
  // Nothing listens on this port: every attempt is refused at once.
  const auto port = mockhub::test::free_port();
  auto clk = std::make_shared<manual_clock>();
  event_loop loop({.time = clk});
  auto policy = std::make_shared<mock_policy>();
  trompeloeil::sequence seq;
  REQUIRE_CALL(*policy, next_delay(1u)).RETURN(std::optional{2000ms}).IN_SEQUENCE(seq);
  REQUIRE_CALL(*policy, next_delay(2u)).RETURN(std::optional{4000ms}).IN_SEQUENCE(seq);
  REQUIRE_CALL(*policy, next_delay(3u)).RETURN(std::nullopt).IN_SEQUENCE(seq);

  client_options o;
  o.tls.enabled = false;
  o.host = "127.0.0.1";
  o.port = port;
  o.retry = policy;
  client c(loop, connection_string::parse("HostName=h;DeviceId=r1;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="), o);
  std::vector<connection_event> events;
  c.on_connection_status([&](const connection_event& e) { events.push_back(e); });
  auto done = c.connect();
  auto settle = [&](std::size_t n) {
    for (int i = 0; i < 300 && events.size() < n; ++i) loop.run_once(100ms);
  };
  settle(2);  // connecting, then the refusal
  REQUIRE(events.size() == 2);
  CHECK(events[1].status == connection_status::disconnected_retrying);
  CHECK(events[1].retry_delay == 2000ms);
  CHECK(c.stats().connect_attempts == 1);
  clk->advance(1999ms);
  loop.run_once(0ms);
  CHECK(c.stats().connect_attempts == 1);
  clk->advance(1ms);
  settle(3);
  CHECK(c.stats().connect_attempts == 2);
  REQUIRE(events.size() == 3);
  CHECK(events[2].retry_delay == 4000ms);
  clk->advance(4000ms);
  settle(4);
  CHECK(c.stats().connect_attempts == 3);
  REQUIRE(events.size() == 4);
  CHECK(events[3].status == connection_status::disconnected);
  CHECK(events[3].reason == connection_reason::retry_expired);
  REQUIRE(done.is_complete());
  CHECK_FALSE(done.ok());
}

TEST_CASE("SAS token renewal: before expiry the client reconnects with a fresh token (virtual clocks)",
          "[device][integration][token]") {
  hub_fixture hub({.virtual_time = true});
  const auto cs = hub.add_device("r1");
  auto clk = std::make_shared<manual_clock>(hub.runtime().now());
  auto o = hub.plain();
  o.time = clk;
  o.token_lifetime = 60s;
  o.token_renewal = 0.5;
  client c(cs, o);
  recorder<connection_event> events;
  c.on_connection_status([&](const connection_event& e) { events.add(e); });
  REQUIRE_NOTHROW(c.connect().get());
  sync_with_hub(c);
  const auto first_expiry = c.token_expiry();
  const auto start_s = std::chrono::duration_cast<std::chrono::seconds>(clk->now().time_since_epoch()).count();
  CHECK(first_expiry == start_s + 60);
  const auto session = [&] {
    return hub.call([](core::hub& h) { return *h.sessions().find("r1"); });
  };
  const auto before = session();
  REQUIRE(before.connection.token_expiry);

  // 31 s later (past half the lifetime) on both clocks: the device renews.
  hub.runtime().advance(31s);
  clk->advance(31s);
  REQUIRE(events.wait_for([](const connection_event& e) { return e.reason == connection_reason::token_renewal; }));
  const auto renewed = events.wait_for([](const connection_event& e) { return e.status == connection_status::connected; }, 2);
  REQUIRE(renewed);
  CHECK(c.token_expiry() == first_expiry + 31);
  CHECK(c.stats().tokens_generated == 2);
  sync_with_hub(c);
  const auto after = session();
  CHECK(after.connected);
  CHECK(after.connection.generation > before.connection.generation);
  CHECK(after.connection.token_expiry > before.connection.token_expiry);
}

TEST_CASE("Reconnect after a broker restart; desired changes made meanwhile arrive through the twin resync",
          "[device][integration][reconnect]") {
  hub_fixture hub({.tls = false, .mqtt_port = mockhub::test::free_port()});
  const auto cs = hub.add_device("b1");
  // The device's retries wait on a manual clock, so the test decides when it tries again: after
  // the hub has logged in to the restarted broker (before that the plugin refuses devices).
  // It starts at the wall time the hub judges token expiry by.
  auto clk = std::make_shared<manual_clock>(std::chrono::system_clock::now());
  auto o = hub.plain();
  o.time = clk;
  o.retry = std::make_shared<exponential_backoff>(exponential_backoff_options{.initial = 1s, .jitter = 0});
  client c(cs, o);
  recorder<connection_event> events;
  c.on_connection_status([&](const connection_event& e) { events.add(e); });
  recorder<std::pair<json, twin_update_state>> updates;
  c.on_desired_properties([&](const json& d, twin_update_state s) { updates.add({d, s}); });
  REQUIRE_NOTHROW(c.connect().get());
  REQUIRE(updates.wait_for([](const auto&) { return true; }));
  sync_with_hub(c);
  const auto seen = updates.size();

  hub.runtime().broker().stop();
  REQUIRE(events.wait_for([](const connection_event& e) { return e.status == connection_status::disconnected_retrying; }));
  // Changed while the device is away: no notification can reach it.
  hub.call([](core::hub& h) { h.update_twin("b1", {{"properties", {{"desired", {{"lockMode", "away"}}}}}}, std::nullopt); });
  auto telemetry = c.send_telemetry({.body = "queued while offline"});

  hub.runtime().broker().start();
  REQUIRE(hub.runtime().link().wait_ready(bound, 2));
  hub.wait_until_accepted(cs);  // the credential snapshot has reached the plugin
  const auto reconnected_from = events.size();
  clk->advance(5s);  // past the first backoff delay (1 s), not the operation timeout (30 s)
  REQUIRE(events.wait_for([](const connection_event& e) { return e.status == connection_status::connected; }, reconnected_from));
  const auto catch_up = updates.wait_for([](const auto& u) { return u.first.contains("lockMode"); }, seen);
  REQUIRE(catch_up);
  CHECK(updates.items()[*catch_up].second == twin_update_state::complete);
  CHECK(updates.items()[*catch_up].first.at("lockMode") == "away");
  CHECK_NOTHROW(telemetry.get());
}

TEST_CASE("One thread drives many clients through an event loop", "[device][integration][loop]") {
  hub_fixture hub;
  event_loop loop;
  constexpr int n = 20;
  std::vector<std::unique_ptr<client>> clients;
  std::vector<token<void>> connected;
  for (int i = 0; i < n; ++i) {
    const auto id = "many-" + std::to_string(i);
    clients.push_back(std::make_unique<client>(loop, connection_string::parse(hub.add_device(id)), hub.plain()));
    clients.back()->on_method("whoami", [id](const method_request&) { return method_response{200, id}; });
    connected.push_back(clients.back()->connect());
  }
  std::thread driver([&] { loop.run(); });
  for (auto& t : connected) CHECK_NOTHROW(t.get());
  for (auto& c : clients) sync_with_hub(*c);
  for (int i = 0; i < n; ++i) {
    const auto id = "many-" + std::to_string(i);
    CHECK(result_of(hub.invoke(id, "whoami")).payload == id);
  }
  for (auto& c : clients) c->close().wait_for(bound);
  loop.stop();
  driver.join();
  clients.clear();  // destroyed while nobody runs the loop: torn down inline
}
