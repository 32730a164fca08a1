// Hostile input on the device MQTT path (issue 10), through a real mosquitto with the plugin and
// the hub (hub_runtime): reported patches nested 1,000 deep, with invalid UTF-8, 10 MB, or with
// numbers out of range get `$iothub/twin/res/{status}` with the IoT Hub error code; a huge
// `$rid` and NUL bytes or invalid UTF-8 in a topic close that connection. After each, the hub
// keeps serving: a second device reads its twin.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <nlohmann/json.hpp>

#include "hub_device_fixture.hpp"
#include "plugin_mqtt_client.hpp"

using namespace mockhub;
using nlohmann::json;
using test::hub_fixture;
using test::plugin_mqtt_client;
using namespace std::chrono_literals;

namespace {

std::string nested(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  return s + "1" + std::string(static_cast<std::size_t>(depth), '}');
}

// The hub still serves: another device gets its twin.
void check_still_serving(hub_fixture& f, const std::string& key2) {
  auto other = f.device("dev2", key2);
  REQUIRE(other->publish("$iothub/twin/GET/?$rid=ok", "", 0));
  const auto m = other->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/res/200/?$rid=ok");
  other->disconnect();
}

// A raw MQTT 3.1.1 client: libmosquitto refuses to send a topic with a NUL byte or invalid UTF-8,
// so these packets are written by hand.
class raw_mqtt {
 public:
  explicit raw_mqtt(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_mqtt() { ::close(fd_); }
  raw_mqtt(const raw_mqtt&) = delete;
  raw_mqtt& operator=(const raw_mqtt&) = delete;

  // CONNECT (clean session, username and password); true on CONNACK 0.
  bool connect(const std::string& client_id, const std::string& username, const std::string& password) {
    std::string vh = str("MQTT") + "\x04" + "\xc2" + std::string("\x00\x3c", 2);
    send_packet(0x10, vh + str(client_id) + str(username) + str(password));
    char ack[4];
    return read_exact(ack, 4) && ack[0] == 0x20 && ack[3] == 0;
  }
  void publish(const std::string& topic, const std::string& payload) { send_packet(0x30, str(topic) + payload); }
  // True when the server closed the connection (within 10 s).
  bool closed_by_server() {
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, 10'000) == 1) {
      char buf[256];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  static std::string str(const std::string& s) {
    return std::string{static_cast<char>(s.size() >> 8), static_cast<char>(s.size() & 0xff)} + s;
  }
  void send_packet(unsigned char type, const std::string& body) {
    std::string p(1, static_cast<char>(type));
    std::size_t n = body.size();
    do {
      unsigned char b = n % 128;
      n /= 128;
      if (n > 0) b |= 0x80;
      p += static_cast<char>(b);
    } while (n > 0);
    p += body;
    REQUIRE(::send(fd_, p.data(), p.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(p.size()));
  }
  bool read_exact(char* out, std::size_t n) {
    for (std::size_t got = 0; got < n;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10'000) != 1) return false;
      const auto r = ::recv(fd_, out + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  int fd_;
};

struct patch_case {
  std::string name;
  std::string payload;
  std::string status;
  int code;
  std::string phrase;
};

}  // namespace

TEST_CASE_METHOD(hub_fixture, "Hostile reported patches get the twin error topic and the hub keeps serving",
                 "[integration][hostile]") {
  const auto key = create_device("dev1");
  const auto key2 = create_device("dev2");
  const auto c = GENERATE(values<patch_case>({
      {"nested 1,000 deep", "{\"x\":" + nested(1000) + "}", "400", 400004, "nesting should be maximum 10"},
      {"invalid UTF-8 in a key", "{\"\xff\":1}", "400", 400004, "not valid JSON"},
      {"invalid UTF-8 in a value", "{\"k\":\"\xc3\x28\"}", "400", 400004, "not valid JSON"},
      {"1e400", "{\"k\":1e400}", "400", 400004, "not valid JSON"},
      {"an integer past 2^52", "{\"k\":9007199254740993}", "400", 400004, "integer"},
      {"a NUL byte in a key", "{\"a\\u0000b\":1}", "400", 400004, "invalid characters"},
      {"10 MB", "{\"k\":\"" + std::string(10 * 1024 * 1024, 'a') + "\"}", "400", 400004, "4096"},
  }));
  INFO(c.name);
  auto d = device("dev1", key);
  REQUIRE(d->publish("$iothub/twin/PATCH/properties/reported/?$rid=9", c.payload, 1));
  const auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/res/" + c.status + "/?$rid=9");
  const auto body = json::parse(m->payload);
  CHECK(body["errorCode"] == c.code);
  CHECK_THAT(body["message"].get<std::string>(), Catch::Contains(c.phrase));
  CHECK(hub.call([](core::hub& h) { return h.registry().get_twin("dev1")["properties"]["reported"]["$version"]; }) == 1);
  // The same connection still works.
  REQUIRE(d->publish("$iothub/twin/GET/?$rid=10", "", 0));
  const auto again = d->next_message();
  REQUIRE(again);
  CHECK(again->topic == "$iothub/twin/res/200/?$rid=10");
  check_still_serving(*this, key2);
}

TEST_CASE_METHOD(hub_fixture, "A $rid over 1024 bytes closes the connection; 1024 bytes are echoed", "[integration][hostile]") {
  const auto key = create_device("dev1");
  const auto key2 = create_device("dev2");
  auto d = device("dev1", key);
  const std::string longest(1024, '7');
  REQUIRE(d->publish("$iothub/twin/GET/?$rid=" + longest, "", 0));
  const auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/res/200/?$rid=" + longest);
  d->publish_nowait("$iothub/twin/GET/?$rid=" + std::string(60000, '7'), "", 0);
  CHECK(d->wait_disconnected());
  check_still_serving(*this, key2);
}

TEST_CASE_METHOD(hub_fixture, "A topic with a NUL byte or invalid UTF-8 closes the connection", "[integration][hostile]") {
  const auto key = create_device("dev1");
  const auto key2 = create_device("dev2");
  const std::string topic = GENERATE(std::string("devices/dev1/messages/events/a\0b", 32),
                                     std::string("$iothub/twin/GET/?$rid=1\0", 25),
                                     std::string("devices/dev1/messages/events/\xff\xfe"));
  raw_mqtt raw(hub.mqtt_port());
  REQUIRE(raw.connect("dev1", username("dev1"), token("dev1", key)));
  raw.publish(topic, "{}");
  CHECK(raw.closed_by_server());
  CHECK(eventually([](core::hub& h) {
    return h.registry().get_identity("dev1").connection == core::connection_state::disconnected;
  }));
  check_still_serving(*this, key2);
}
