// The REST API over TLS with the generated local CA (the broker launcher's tls_material), and
// 64 concurrent callers over plain HTTP.
#include "rest_fixture.hpp"

#include <future>

#include "integration/temp_dir.hpp"
#include "mock_hub/server/tls_material.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using nlohmann::json;

TEST_CASE("HTTPS with the generated CA: verified handshake for localhost, same API", "[rest][https]") {
  mockhub::test::temp_dir dir;
  const auto tls = mockhub::server::tls_material::ensure(dir.path());
  rest_fixture hub({.tls = mockhub::rest::tls_files{tls.server_cert_file(), tls.server_key_file()}});
  hub.add_device("dev1");

  httplib::SSLClient client("localhost", hub.port());
  client.set_ca_cert_path(tls.ca_file().string());
  client.enable_server_certificate_verification(true);
  client.set_address_family(AF_INET);
  const auto r = client.Get(rest_fixture::with_api("/devices/dev1"), hub.auth());
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["deviceId"] == "dev1");
  check_error(client.Get(rest_fixture::with_api("/devices/nobody"), hub.auth()), 404, "DeviceNotFound", 404001);

  SECTION("a client that does not trust the CA fails the handshake") {
    httplib::SSLClient untrusting("localhost", hub.port());
    untrusting.enable_server_certificate_verification(true);
    untrusting.set_ca_cert_path((dir.path() / "no-such-ca.pem").string());
    untrusting.set_address_family(AF_INET);
    CHECK_FALSE(untrusting.Get(rest_fixture::with_api("/devices/dev1"), hub.auth()));
  }
  SECTION("plain HTTP to the TLS port gets no answer") {
    CHECK_FALSE(hub.client().Get(rest_fixture::with_api("/devices/dev1"), hub.auth()));
  }
}

TEST_CASE("TLS files that cannot be loaded fail start() with a clear error", "[rest][https]") {
  mockhub::core::virtual_clock clk;
  mockhub::core::id_source ids(1);
  mockhub::test::fake_devices devices(clk);
  mockhub::server::hub_executor executor(clk, mockhub::server::hub_executor::timers::virtual_time);
  auto h = executor.call([&] { return std::make_unique<mockhub::core::hub>(mockhub::core::hub_options{}, clk, ids, devices); });
  mockhub::rest::rest_server server({.tls = mockhub::rest::tls_files{"/nonexistent/cert.pem", "/nonexistent/key.pem"}},
                                    executor, *h);
  CHECK_THROWS_AS(server.start(), mockhub::rest::rest_server_error);
  executor.call([&] { h.reset(); });
}

TEST_CASE("64 concurrent callers are all served", "[rest][concurrency]") {
  rest_fixture hub;
  hub.add_device("dev1", true);
  hub.devices().answer_with("dev1", {200, R"({"ok":true})"});
  const auto token = hub.token();
  // Each caller registers 5 devices and calls a method 5 times; the failures it saw, if any.
  std::vector<std::future<std::vector<std::string>>> callers;
  for (int i = 0; i < 64; ++i) {
    callers.push_back(std::async(std::launch::async, [&, i] {
      auto c = hub.client();
      const httplib::Headers h{{"Authorization", token}};
      std::vector<std::string> failures;
      const auto expect_200 = [&](const httplib::Result& r, const std::string& what) {
        if (!r) failures.push_back(what + ": " + httplib::to_string(r.error()));
        else if (r->status != 200) failures.push_back(what + ": " + std::to_string(r->status) + " " + r->body);
      };
      for (int n = 0; n < 5; ++n) {
        const auto id = "c" + std::to_string(i) + "-" + std::to_string(n);
        expect_200(c.Put(rest_fixture::with_api("/devices/" + id), h, json{{"deviceId", id}}.dump(), "application/json"),
                   "PUT " + id);
        expect_200(c.Post(rest_fixture::with_api("/twins/dev1/methods"), h, R"({"methodName":"ping"})", "application/json"),
                   "method " + id);
      }
      return failures;
    }));
  }
  std::vector<std::string> failures;
  for (auto& f : callers)
    for (auto& failure : f.get()) failures.push_back(std::move(failure));
  CHECK(failures.empty());
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(body_of(hub.get("/statistics/devices"))["totalDeviceCount"] == 64 * 5 + 1);
  CHECK(hub.devices().wait_for_calls(64 * 5).size() == 64 * 5);
}
