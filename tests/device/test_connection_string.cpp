#include <catch2/catch.hpp>

#include <mockhub/device/connection_string.hpp>

using mockhub::device::connection_string;
using mockhub::device::connection_string_error;

namespace {
// base64 of "0123456789abcdef0123456789abcdef": the capture's device key.
constexpr const char* key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
}

TEST_CASE("A device connection string parses into its fields", "[device][connection-string]") {
  SECTION("the capture's string, with a gateway host and port") {
    const auto cs = connection_string::parse(std::string("HostName=testhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=") + key +
                                             ";GatewayHostName=localhost:8883");
    CHECK(cs.host_name == "testhub.azure-devices.net");
    CHECK(cs.device_id == "dev1");
    CHECK(cs.shared_access_key == key);
    CHECK(cs.gateway_host == "localhost");
    CHECK(cs.gateway_port == 8883);
    CHECK(cs.connect_host() == "localhost");
    CHECK(cs.resource_uri() == "testhub.azure-devices.net/devices/dev1");
    CHECK(cs.client_id() == "dev1");
    CHECK(connection_string::parse(cs.to_string()) == cs);
  }
  SECTION("the portal's form, fields in any order, a trailing ';'") {
    const auto cs = connection_string::parse(std::string("DeviceId=d;SharedAccessKey=") + key + ";HostName=h;");
    CHECK(cs.host_name == "h");
    CHECK(cs.connect_host() == "h");
    CHECK_FALSE(cs.gateway_port);
  }
  SECTION("a module, a policy key, a gateway without port, a ready-made token") {
    const auto m = connection_string::parse(std::string("HostName=h;DeviceId=d;ModuleId=m;SharedAccessKeyName=device;SharedAccessKey=") + key +
                                            ";GatewayHostName=gw");
    CHECK(m.client_id() == "d/m");
    CHECK(m.resource_uri() == "h/devices/d/modules/m");
    CHECK(m.shared_access_key_name == "device");
    CHECK(m.gateway_host == "gw");
    CHECK_FALSE(m.gateway_port);
    const auto t = connection_string::parse("HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h%2Fdevices%2Fd&sig=x&se=1");
    CHECK(t.shared_access_signature == "SharedAccessSignature sr=h%2Fdevices%2Fd&sig=x&se=1");
  }
  SECTION("an IPv6 gateway in brackets") {
    const auto cs = connection_string::parse(std::string("HostName=h;DeviceId=d;SharedAccessKey=") + key + ";GatewayHostName=[::1]:1883");
    CHECK(cs.gateway_host == "::1");
    CHECK(cs.gateway_port == 1883);
  }
}

TEST_CASE("A malformed device connection string is refused with a message naming the problem", "[device][connection-string]") {
  const std::string k = std::string("SharedAccessKey=") + key;
  using Catch::Matchers::Contains;
  const auto [text, expected] = GENERATE_COPY(table<std::string, std::string>({
      {"", "HostName is missing"},
      {"HostName=h;" + k, "DeviceId is missing"},
      {"DeviceId=d;" + k, "HostName is missing"},
      {"HostName=h;DeviceId=d", "neither SharedAccessKey nor SharedAccessSignature"},
      {"HostName=h;DeviceId=d;" + k + ";SharedAccessSignature=x", "both SharedAccessKey and SharedAccessSignature"},
      {"HostName=h;DeviceId=d;SharedAccessKeyName=p;SharedAccessSignature=x", "SharedAccessKeyName is given without SharedAccessKey"},
      {"HostName=h;DeviceId=d;SharedAccessKey=not base64!", "SharedAccessKey is not base64"},
      {"HostName=h;HostName=h2;DeviceId=d;" + k, "HostName appears twice"},
      {"HostName=h;DeviceId=;" + k, "DeviceId is empty"},
      {"HostName=h;DeviceId=d;" + k + ";hostname=x", "unknown field 'hostname'"},
      {"HostName=h;DeviceId=d;" + k + ";Bogus", "has no '='"},
      {"HostName=h;;DeviceId=d;" + k, "an empty segment"},
      {"HostName=h;DeviceId=d;" + k + ";=x", "empty name"},
      {"HostName=h;DeviceId=d;" + k + ";GatewayHostName=gw:0", "bad port '0'"},
      {"HostName=h;DeviceId=d;" + k + ";GatewayHostName=gw:65536", "bad port '65536'"},
      {"HostName=h;DeviceId=d;" + k + ";GatewayHostName=gw:x", "bad port 'x'"},
      {"HostName=h;DeviceId=d;" + k + ";GatewayHostName=:1883", "GatewayHostName has no host"},
  }));
  CAPTURE(text);
  REQUIRE_THROWS_AS(connection_string::parse(text), connection_string_error);
  REQUIRE_THROWS_WITH(connection_string::parse(text), Contains("Malformed device connection string: ") && Contains(expected));
}
