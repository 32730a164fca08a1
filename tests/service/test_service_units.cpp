// The library's parsers (connection strings, endpoints, error bodies) and its failures without a
// hub answer (network errors, configuration errors).
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using test::hub_error_of;

namespace {

const std::string key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

// A loopback port nobody listens on: bound (so no one else takes it) but never listening.
class closed_port {
 public:
  closed_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~closed_port() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

network_error network_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const network_error& e) {
    return e;
  }
  FAIL("expected a network_error");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("Service connection strings", "[service][units]") {
  SECTION("as the portal shows them") {
    const auto c = service_connection_string::parse("HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + key);
    CHECK(c.host_name == "myhub.azure-devices.net");
    CHECK(c.key_name == "iothubowner");
    CHECK(c.key == key);
  }
  SECTION("names in any case, blanks, a trailing ';' and other names are accepted") {
    const auto c = service_connection_string::parse(" hostname=h ; sharedaccesskeyname=service;DeviceId=x; SharedAccessKey=YWJj== ;");
    CHECK(c.host_name == "h");
    CHECK(c.key_name == "service");
    CHECK(c.key == "YWJj==");
  }
  SECTION("what is missing is named, and the key is never echoed") {
    const auto message_of = [](const std::string& text) {
      try {
        service_connection_string::parse(text);
      } catch (const std::invalid_argument& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    CHECK(message_of("HostName=h;SharedAccessKey=" + key) == "service connection string: SharedAccessKeyName is missing");
    CHECK(message_of("SharedAccessKeyName=p;SharedAccessKey=" + key) == "service connection string: HostName is missing");
    CHECK(message_of("HostName=h;SharedAccessKeyName=p;SharedAccessKey=") == "service connection string: SharedAccessKey is empty");
    CHECK(message_of("HostName=h;SharedAccessKeyName=p;garbage") == "service connection string: 'garbage' is not a Name=value pair");
  }
  SECTION("a key that is not base64 is refused by the client") {
    CHECK_THROWS_AS(service_client("HostName=h;SharedAccessKeyName=p;SharedAccessKey=not base64!"), std::invalid_argument);
  }
}

TEST_CASE("Endpoints", "[service][units]") {
  const auto e = endpoint::parse("https://127.0.0.1:8443");
  CHECK(e.scheme == "https");
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 8443);
  CHECK(e.to_string() == "https://127.0.0.1:8443");
  CHECK(endpoint::parse("HTTP://localhost:8080/").to_string() == "http://localhost:8080");
  CHECK(endpoint::parse("https://[::1]:9000").host == "::1");
  CHECK(endpoint::parse("https://[::1]:9000").to_string() == "https://[::1]:9000");
  CHECK(endpoint::parse("myhub.azure-devices.net").to_string() == "https://myhub.azure-devices.net:443");
  CHECK_THROWS_AS(endpoint::parse("ftp://h"), std::invalid_argument);
  CHECK_THROWS_AS(endpoint::parse("https://h:0"), std::invalid_argument);
  CHECK_THROWS_AS(endpoint::parse("https://h:99999"), std::invalid_argument);
  CHECK_THROWS_AS(endpoint::parse("https://h/path"), std::invalid_argument);
  CHECK_THROWS_AS(endpoint::parse("https://:80"), std::invalid_argument);
}

TEST_CASE("Error bodies of every form the hub writes are read", "[service][units][errors]") {
  const std::multimap<std::string, std::string> named{{"iothub-errorcode", "DeviceNotOnline"}, {"x-ms-request-id", "r-1"}};

  SECTION("mockhub's: the legacy Message with an errorCode part") {
    const auto e = parse_error_response(
        404, named,
        R"({"Message":"ErrorCode:DeviceNotOnline;Timed out waiting for device to connect.;errorCode:404103","ExceptionMessage":"Tracking ID:abc-G:0-TimeStamp:01/01/2026 00:00:00"})");
    CHECK(e.http_status() == 404);
    CHECK(e.error_code() == 404103);
    CHECK(e.error_name() == "DeviceNotOnline");
    CHECK(e.message() == "Timed out waiting for device to connect.");
    CHECK(e.tracking_id() == "abc-G:0-TimeStamp:01/01/2026 00:00:00");
    CHECK(e.request_id() == "r-1");
  }
  SECTION("the current form: JSON inside Message (reference 5.0)") {
    const auto e = parse_error_response(
        404, named,
        R"({"Message":"{\"errorCode\":404103,\"trackingId\":\"5d4b-G:10-TimeStamp:08/24/2018 17:49:33\",\"message\":\"Timed out waiting for device to connect.\",\"info\":{\"timeout\":\"00:00:00\"},\"timestampUtc\":\"2018-08-24T17:49:33.201157Z\"}","ExceptionMessage":""})");
    CHECK(e.error_code() == 404103);
    CHECK(e.error_name() == "DeviceNotOnline");
    CHECK(e.message() == "Timed out waiting for device to connect.");
    CHECK(e.tracking_id() == "5d4b-G:10-TimeStamp:08/24/2018 17:49:33");
  }
  SECTION("the older form without a number: the code comes from the name") {
    const auto e = parse_error_response(
        404, {}, R"({"Message":"ErrorCode:DeviceNotFound;Device dev9 not registered","ExceptionMessage":"Tracking ID:x-G:5-TimeStamp:01/18/2017 08:11:45"})");
    CHECK(e.error_code() == 404001);
    CHECK(e.error_name() == "DeviceNotFound");
    CHECK(e.message() == "Device dev9 not registered");
    CHECK(e.tracking_id() == "x-G:5-TimeStamp:01/18/2017 08:11:45");
  }
  SECTION("a bare errorCode body: the name comes from the number") {
    const auto e = parse_error_response(412, {}, R"({"errorCode":412001,"message":"stale"})");
    CHECK(e.error_code() == 412001);
    CHECK(e.error_name() == "PreconditionFailed");
    CHECK(e.message() == "stale");
  }
  SECTION("a body that is not JSON keeps the status and the text") {
    const auto e = parse_error_response(502, {}, "Bad Gateway\n");
    CHECK(e.http_status() == 502);
    CHECK(e.error_code() == 0);
    CHECK(e.error_name().empty());
    CHECK(e.message() == "Bad Gateway");
    CHECK(std::string(e.what()) == "IoT Hub error (HTTP 502): Bad Gateway");
  }
}

TEST_CASE("Without an answer the client throws network_error, distinct from iothub_error", "[service][units][errors]") {
  const std::string conn = "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=" + key;
  SECTION("nothing listens on the port") {
    closed_port port;
    service_client client(conn, {.endpoint_override = endpoint{.scheme = "http", .host = "127.0.0.1", .port = port.port()}});
    const auto e = network_error_of([&] { client.registry().get_device("d"); });
    CHECK(e.what_failed() == network_error::kind::connect);
    CHECK(std::string(e.what()) ==
          "cannot connect to the hub (GET /devices/d to http://127.0.0.1:" + std::to_string(port.port()) + ")");
  }
  SECTION("a CA file that does not exist is a configuration error") {
    CHECK_THROWS_AS(service_client(conn, {.ca_file = "/nonexistent/ca.pem"}), std::invalid_argument);
  }
}

TEST_CASE_METHOD(test::service_fixture, "TLS and keys against a whole hub", "[service][errors]") {
  SECTION("without the hub's CA the system store does not trust its certificate") {
    service_client untrusting(hub.service_connection_string(),
                              {.endpoint_override = endpoint{.scheme = "https", .host = "127.0.0.1", .port = hub.https_port()}});
    const auto e = network_error_of([&] { untrusting.registry().get_device_statistics(); });
    CHECK(e.what_failed() == network_error::kind::certificate);
    CHECK_THAT(e.what(), Catch::Contains("the hub's certificate is not trusted") && Catch::Contains("system trust store"));
  }
  SECTION("plain HTTP works too") {
    service_client plain(hub.service_connection_string(), http_options());
    CHECK(plain.registry().get_device_statistics().total_device_count == 0);
    CHECK(plain.base_url() == "http://127.0.0.1:" + std::to_string(hub.rest_port()));
  }
  SECTION("a wrong key is 401002 IotHubUnauthorizedAccess") {
    service_client wrong("HostName=" + hub.host_name() + ";SharedAccessKeyName=iothubowner;SharedAccessKey=" + key, https_options());
    const auto e = hub_error_of([&] { wrong.registry().get_device_statistics(); });
    CHECK(e.http_status() == 401);
    CHECK(e.error_code() == 401002);
    CHECK(e.error_name() == "IotHubUnauthorizedAccess");
  }
  SECTION("a policy without the permission is 401002") {
    // The hub's `registryRead` policy may read the registry but not run queries.
    const std::string read_key = hub.call([](core::hub& h) { return h.policies().find("registryRead")->primary_key; });
    service_client reader("HostName=" + hub.host_name() + ";SharedAccessKeyName=registryRead;SharedAccessKey=" + read_key,
                          https_options());
    CHECK(reader.registry().get_device_statistics().total_device_count == 0);
    CHECK(hub_error_of([&] { reader.query("SELECT * FROM devices").to_vector(); }).error_code() == 401002);
  }
  SECTION("a token signed for another host name is 401002") {
    const auto c = service_connection_string::parse(hub.service_connection_string());
    service_client other("HostName=other.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + c.key,
                         https_options());
    CHECK(hub_error_of([&] { other.registry().get_device_statistics(); }).error_code() == 401002);
  }
}
