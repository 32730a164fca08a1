// `mockhub c2d-message send` and the service library's extension_client, against a stand-in for
// mockhub's REST extension (/_mockhub/...): the requests they send and how they read answers; and
// c2d-message send against a whole hub (the extension itself is tested in tests/rest).
#include <catch2/catch.hpp>

#include <httplib.h>

#include <mutex>
#include <thread>

#include "admin_process.hpp"
#include "service/extension_client.hpp"

using namespace mockhub;
using nlohmann::json;
using test::operator+;

namespace {

struct recorded {
  std::string method, path, body, authorization;
  std::multimap<std::string, std::string> query;
};

class extension_stand_in {
 public:
  extension_stand_in() {
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) { answer(req, res); };
    server_.Get(".*", handler);
    server_.Post(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~extension_stand_in() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<recorded> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void answer(const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back({req.method, req.path, req.body, req.get_header_value("Authorization"),
                           std::multimap<std::string, std::string>(req.params.begin(), req.params.end())});
    }
    if (req.path.starts_with("/_mockhub/devices/ghost/")) {
      res.status = 404;
      res.set_header("iothub-errorcode", "DeviceNotFound");
      res.set_content(json{{"Message", "ErrorCode:DeviceNotFound;Device 'ghost' is not registered in this hub.;errorCode:404001"},
                           {"ExceptionMessage", "Tracking ID:x-G:0-TimeStamp:01/01/2026 00:00:00"}}
                          .dump(),
                      "application/json; charset=utf-8");
      return;
    }
    json body;
    if (req.path.ends_with("/messages/devicebound")) {
      const json sent = json::parse(req.body);
      body = {{"messageId", sent.value("messageId", std::string("generated-1"))}};
    } else if (req.path.ends_with("/messages/events")) {
      body = json::parse(R"([{"body":"hello","bodyEncoding":"utf-8","properties":{"a":"1"},
                            "systemProperties":{"messageId":"m1","contentType":"text/plain"},"enqueuedTimeUtc":"2026-01-01T00:00:01.0000000Z"}])");
    } else if (req.path == "/_mockhub/clock") {
      body = {{"now", "2026-01-01T00:00:00.0000000Z"}, {"virtual", true}};
    } else if (req.path == "/_mockhub/clock/advance") {
      body = {{"now", "2026-01-01T00:00:30.0000000Z"}};
    } else {
      res.status = 204;
      return;
    }
    res.set_content(body.dump(), "application/json; charset=utf-8");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<recorded> requests_;
};

const std::string connection_string = "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

}  // namespace

TEST_CASE("c2d-message send posts to the REST extension and prints the message id", "[admin][c2d]") {
  extension_stand_in hub;
  const std::vector<std::string> flags = {"--connection-string", connection_string, "--rest-url", hub.url()};

  SECTION("with properties, ids and ack") {
    const auto r = test::run_mockhub(std::vector<std::string>{"c2d-message", "send", "-d", "lock1", "--data", "unlock now", "--props",
                                                              "a=1;b=x=y;;c=", "--mid", "m-7", "--cid", "c-1", "--ack", "full"} +
                                     flags);
    REQUIRE(r.exit_code == 0);
    CHECK(r.json() == json{{"messageId", "m-7"}});
    const auto requests = hub.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].path == "/_mockhub/devices/lock1/messages/devicebound");
    CHECK(requests[0].authorization.starts_with("SharedAccessSignature sr=localhost&sig="));
    CHECK(json::parse(requests[0].body) == json{{"body", "unlock now"},
                                                {"bodyEncoding", "utf-8"},
                                                {"properties", {{"a", "1"}, {"b", "x=y"}, {"c", ""}}},
                                                {"messageId", "m-7"},
                                                {"correlationId", "c-1"},
                                                {"ack", "full"}});
  }
  SECTION("defaults, table") {
    const auto r = test::run_mockhub(std::vector<std::string>{"c2d-message", "send", "-d", "lock1", "-o", "table"} + flags);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "MessageId\n-----------\ngenerated-1\n");
    CHECK(json::parse(hub.requests().at(0).body) ==
          json{{"body", "Ping from mockhub"}, {"bodyEncoding", "utf-8"}, {"properties", json::object()}});
  }
  SECTION("an unknown device is 404001") {
    const auto r = test::run_mockhub(std::vector<std::string>{"c2d-message", "send", "-d", "ghost"} + flags);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: 404 404001 DeviceNotFound: Device 'ghost' is not registered in this hub.\n");
  }
  SECTION("bad --props is exit 2, nothing sent") {
    const auto r = test::run_mockhub(std::vector<std::string>{"c2d-message", "send", "-d", "lock1", "--props", "a=1;b"} + flags);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: --props: `b` is not key=value (expected \"a=1;b=2\")\n");
    CHECK(hub.requests().empty());
  }
}

TEST_CASE("extension_client: the requests of every extension endpoint and the answers read", "[admin][extension]") {
  extension_stand_in hub;
  service::extension_client ext(connection_string, {.endpoint_override = service::endpoint::parse(hub.url())});

  ext.reset();
  const auto events = ext.device_events("lock1", "2026-01-01T00:00:00Z");
  REQUIRE(events.size() == 1);
  CHECK(events[0].body == "hello");
  CHECK(events[0].body_encoding == "utf-8");
  CHECK(events[0].properties == std::map<std::string, std::string>{{"a", "1"}});
  CHECK(events[0].system_properties == json{{"messageId", "m1"}, {"contentType", "text/plain"}});
  CHECK(events[0].enqueued_time_utc == "2026-01-01T00:00:01.0000000Z");
  CHECK(ext.send_cloud_to_device("lock1", {.body = "aGk=", .body_encoding = "base64", .expiry_time_utc = "2026-01-02T00:00:00Z"}) ==
        "generated-1");
  ext.inject_fault("lock1", "disconnect");
  const service::hub_clock clock = ext.clock();
  CHECK(clock.now == "2026-01-01T00:00:00.0000000Z");
  CHECK(clock.is_virtual);
  CHECK(ext.advance_clock(30) == "2026-01-01T00:00:30.0000000Z");

  const auto requests = hub.requests();
  REQUIRE(requests.size() == 6);
  CHECK(requests[0].method + " " + requests[0].path == "POST /_mockhub/reset");
  CHECK(requests[1].method + " " + requests[1].path == "GET /_mockhub/devices/lock1/messages/events");
  CHECK(requests[1].query.find("since")->second == "2026-01-01T00:00:00Z");
  CHECK(json::parse(requests[2].body) == json{{"body", "aGk="},
                                              {"bodyEncoding", "base64"},
                                              {"properties", json::object()},
                                              {"expiryTimeUtc", "2026-01-02T00:00:00Z"}});
  CHECK(requests[3].method + " " + requests[3].path == "POST /_mockhub/devices/lock1/faults");
  CHECK(json::parse(requests[3].body) == json{{"type", "disconnect"}});
  CHECK(requests[4].method + " " + requests[4].path == "GET /_mockhub/clock");
  CHECK(requests[5].method + " " + requests[5].path == "POST /_mockhub/clock/advance");
  CHECK(json::parse(requests[5].body) == json{{"seconds", 30.0}});

  const auto error = test::hub_error_of([&] { ext.inject_fault("ghost", "disconnect"); });
  CHECK(error.http_status() == 404);
  CHECK(error.error_code() == 404001);
}

TEST_CASE_METHOD(test::admin_fixture, "c2d-message send queues a message in a real hub", "[admin][c2d]") {
  register_device("lock1", {{"building", 43}});
  const auto sent = run({"c2d-message", "send", "-d", "lock1", "--data", "unlock now", "--props", "a=1", "--mid", "m-1"});
  REQUIRE(sent.exit_code == 0);
  CHECK(sent.json() == json{{"messageId", "m-1"}});
  CHECK(client->registry().get_device("lock1").cloud_to_device_message_count == 1);

  const auto unknown = run({"c2d-message", "send", "-d", "ghost", "--data", "x"});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Catch::Contains("404 404001 DeviceNotFound"));
  CHECK(client->registry().get_device("lock1").cloud_to_device_message_count == 1);
}
