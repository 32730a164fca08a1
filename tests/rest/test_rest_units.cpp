// The REST adapter's pure parts: the error body both SDK families parse, the api-version
// policy, and route matching.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <vector>

#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/time_format.hpp"
#include "mock_hub/rest/api_version.hpp"
#include "mock_hub/rest/error_response.hpp"
#include "mock_hub/rest/routes.hpp"
#include "mock_hub/rest/sas_header.hpp"

using namespace mockhub;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
  return parts;
}

}  // namespace

TEST_CASE("The error Message parses as the Node SDK and the C# SDK parse it", "[rest][errors]") {
  const auto e = core::errors::device_not_found("dev;1");
  const std::string message = rest::error_message_field(e);
  CHECK(message == "ErrorCode:DeviceNotFound;Device 'dev,1' is not registered in this hub.;errorCode:404001");

  // azure-iot-http-base parseErrorBody: Message.split(';'); code = parts[0].split(':')[1]; message = parts[1].
  const auto parts = split(message, ';');
  REQUIRE(parts.size() == 3);
  CHECK(split(parts[0], ':')[1] == "DeviceNotFound");
  CHECK(parts[1] == "Device 'dev,1' is not registered in this hub.");
  // C# ResponseMessage2: the first part starting "ErrorCode" splits at ':' into exactly two.
  CHECK(split(parts[0], ':').size() == 2);
  // C# ';' fallback: a later part holding "errorCode" gives the numeric code (first 6 characters).
  CHECK(split(parts[2], ':')[1].substr(0, 6) == "404001");

  const auto body = rest::error_body(e, "0123456789abcdef0123456789abcdef", *core::parse_time("2026-11-26T11:40:13.516Z"));
  CHECK(body["ExceptionMessage"] == "Tracking ID:0123456789abcdef0123456789abcdef-G:0-TimeStamp:11/26/2026 11:40:13");
  CHECK(body["Message"] == message);
}

TEST_CASE("api-version policy", "[rest][api-version]") {
  CHECK_NOTHROW(rest::check_api_version("2021-04-12"));
  CHECK_NOTHROW(rest::check_api_version("2021-04-13"));
  CHECK_NOTHROW(rest::check_api_version("2024-03-31"));
  CHECK_NOTHROW(rest::check_api_version("2030-01-01-preview"));
  for (const char* bad : {"2021-04-11", "2020-09-30-preview", "2021-4-12", "2021-13-01", "v1", "2021-04-12-beta", "-preview"}) {
    INFO(bad);
    try {
      rest::check_api_version(bad);
      FAIL("accepted");
    } catch (const core::hub_error& e) {
      CHECK(e.code() == 400001);
      CHECK(e.name() == "InvalidProtocolVersion");
    }
  }
  CHECK_THROWS_AS(rest::check_api_version(std::nullopt), core::hub_error);
}

TEST_CASE("Routes: 42 operations, specific before general, ids decoded, literals case-insensitive", "[rest][routes]") {
  const auto routes = rest::service_routes();
  REQUIRE(routes.size() == 42);
  std::set<std::string> ids;
  for (const auto& r : routes) ids.insert(std::string(r.operation_id));
  CHECK(ids.size() == 42);

  auto m = rest::match_route("GET", "/jobs/v2/query");
  REQUIRE(m.found);
  CHECK(m.found->operation_id == "Jobs_QueryScheduledJobs");
  m = rest::match_route("GET", "/jobs/v2/job-1");
  CHECK(m.found->operation_id == "Jobs_GetScheduledJob");
  m = rest::match_route("POST", "/devices/query");
  CHECK(m.found->operation_id == "Query_GetTwins");
  m = rest::match_route("GET", "/Devices/a%2Fb%23c%3Fd%25e");
  REQUIRE(m.found);
  CHECK(m.found->operation_id == "Devices_GetIdentity");
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0] == std::pair<std::string, std::string>{"id", "a/b#c?d%e"});
  m = rest::match_route("PATCH", "/devices/x");
  CHECK_FALSE(m.found);
  CHECK(m.allowed == std::vector<std::string_view>{"GET", "PUT", "DELETE"});
  m = rest::match_route("GET", "/nothing");
  CHECK_FALSE(m.found);
  CHECK(m.allowed.empty());
  // One trailing slash is ignored (azure-iothub's Registry.list sends `GET /devices/`); two are not.
  m = rest::match_route("GET", "/devices/");
  REQUIRE(m.found);
  CHECK(m.found->operation_id == "Devices_GetDevices");
  m = rest::match_route("GET", "/twins/d1/");
  REQUIRE(m.found);
  CHECK(m.found->operation_id == "Devices_GetTwin");
  CHECK(m.params[0] == std::pair<std::string, std::string>{"id", "d1"});
  CHECK_FALSE(rest::match_route("GET", "/devices//").found);
  CHECK_FALSE(rest::match_route("GET", "/").found);
  CHECK_THROWS_AS(rest::match_route("GET", "/devices/%G0"), core::hub_error);
}

TEST_CASE("SAS header fields are encoded again after httplib decoded them", "[rest][auth]") {
  CHECK(rest::restore_sas_encoding("SharedAccessSignature sr=localhost&sig=ab+c/d=&se=1795696814&skn=iothubowner") ==
        "SharedAccessSignature sr=localhost&sig=ab%2Bc%2Fd%3D&se=1795696814&skn=iothubowner");
  CHECK(rest::restore_sas_encoding("SharedAccessSignature sr=h/devices/d 1&sig=x") ==
        "SharedAccessSignature sr=h%2Fdevices%2Fd%201&sig=x");
  CHECK(rest::restore_sas_encoding("SharedAccessSignature novalue&&se=1") == "SharedAccessSignature novalue&&se=1");
  CHECK(rest::restore_sas_encoding("Bearer abc+") == "Bearer abc+");
  CHECK(rest::restore_sas_encoding("") == "");
}
