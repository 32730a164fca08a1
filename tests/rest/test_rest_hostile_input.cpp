// Hostile input on the service REST API (issue 10): bodies nested 1,000 deep, invalid UTF-8,
// a 10 MB body, out-of-range numbers, an empty method name, NUL bytes in ids. Each gets an exact
// status, IoT Hub error code and a message naming the problem, and the hub keeps serving: every
// case ends with an ordinary request that succeeds.
#include "rest_fixture.hpp"

#include <string>

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using mockhub::test::send_chunked;
using nlohmann::json;

namespace {

const std::string json_type = "application/json; charset=utf-8";

std::string nested(int depth, const std::string& leaf = "1") {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += leaf;
  s += std::string(static_cast<std::size_t>(depth), '}');
  return s;
}

struct hostile_case {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  int status;
  std::string error_name;
  int code;
  std::string phrase;
};

httplib::Result send(rest_fixture& hub, const hostile_case& c) {
  httplib::Request req;
  req.method = c.method;
  req.path = rest_fixture::with_api(c.path);
  req.headers = hub.auth();
  req.body = c.body;
  req.set_header("Content-Type", json_type);
  return hub.client().send(req);
}

// The hub still serves: the device reads back, and a normal twin write works.
void check_still_serving(rest_fixture& hub) {
  const auto r = hub.get("/devices/dev1");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["deviceId"] == "dev1");
  const auto p = hub.patch("/twins/dev1", {{"tags", {{"ok", true}}}});
  REQUIRE(p);
  CHECK(p->status == 200);
  CHECK(body_of(p)["tags"]["ok"] == true);
}

}  // namespace

TEST_CASE("Hostile REST bodies get an exact IoT Hub error and the hub keeps serving", "[rest][hostile]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const std::string methods = "/twins/dev1/methods";
  const auto c = GENERATE_COPY(values<hostile_case>({
      {"twin PATCH nested 1,000 deep", "PATCH", "/twins/dev1", "{\"tags\":" + nested(1000) + "}", 400,
       "ArgumentInvalid", 400004, "deeper than 100"},
      {"twin PATCH nested 11 deep (past the twin's 10 levels)", "PATCH", "/twins/dev1",
       "{\"properties\":{\"desired\":" + nested(12) + "}}", 400, "ArgumentInvalid", 400004, "nesting should be maximum 10"},
      {"registry PUT nested 1,000 deep", "PUT", "/devices/dev2", "{\"deviceId\":\"dev2\",\"x\":" + nested(1000) + "}",
       400, "ArgumentInvalid", 400004, "deeper than 100"},
      {"query nested 1,000 deep", "POST", "/devices/query", nested(1000), 400, "ArgumentInvalid", 400004,
       "deeper than 100"},
      {"invalid UTF-8 in a key", "PATCH", "/twins/dev1", "{\"tags\":{\"\xff\xfe\":1}}", 400, "ArgumentInvalid", 400004,
       "not valid JSON"},
      {"invalid UTF-8 in a value", "PATCH", "/twins/dev1", "{\"tags\":{\"k\":\"\xc3\x28\"}}", 400, "ArgumentInvalid",
       400004, "not valid JSON"},
      {"an overlong UTF-8 encoding of '/'", "PUT", "/devices/dev2", "{\"deviceId\":\"\xc0\xaf\"}", 400,
       "ArgumentInvalid", 400004, "not valid JSON"},
      {"a UTF-16 surrogate escaped alone", "PATCH", "/twins/dev1", "{\"tags\":{\"k\":\"\\ud800\"}}", 400,
       "ArgumentInvalid", 400004, "not valid JSON"},
      {"1e400 in desired properties", "PATCH", "/twins/dev1", "{\"properties\":{\"desired\":{\"x\":1e400}}}", 400,
       "ArgumentInvalid", 400004, "1e400"},
      {"an integer past 2^52 in desired properties", "PATCH", "/twins/dev1",
       "{\"properties\":{\"desired\":{\"x\":9007199254740993}}}", 400, "ArgumentInvalid", 400004, "(9007199254740993)"},
      {"an integer past 2^63 in tags", "PATCH", "/twins/dev1", "{\"tags\":{\"x\":9223372036854775808}}", 400,
       "ArgumentInvalid", 400004, "(9223372036854775808)"},
      {"an integer below -2^52 in tags", "PATCH", "/twins/dev1", "{\"tags\":{\"x\":-4503599627370497}}", 400,
       "ArgumentInvalid", 400004, "(-4503599627370497)"},
      {"1e400 as a method timeout", "POST", methods, "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":1e400}", 400,
       "ArgumentInvalid", 400004, "1e400"},
      {"a huge integer as a method timeout", "POST", methods,
       "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":18446744073709551615}", 400, "ArgumentInvalid", 400004,
       "responseTimeoutInSeconds"},
      {"-0 as a response timeout (below 5 s)", "POST", methods, "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":-0}",
       400, "ArgumentInvalid", 400004, "responseTimeoutInSeconds"},
      {"a negative connect timeout", "POST", methods, "{\"methodName\":\"m\",\"connectTimeoutInSeconds\":-1}", 400,
       "ArgumentInvalid", 400004, "connectTimeoutInSeconds"},
      {"an empty method name", "POST", methods, "{\"methodName\":\"\"}", 400, "ArgumentInvalid", 400004,
       "methodName"},
      {"a null method name", "POST", methods, "{\"methodName\":null}", 400, "ArgumentNull", 400005, "methodName"},
      {"a NUL byte in a device id", "PUT", "/devices/a%00b", "{\"deviceId\":\"a\\u0000b\"}", 400, "ArgumentInvalid",
       400004, "Device id 'a\\u0000b' "},
      {"a NUL byte in a twin key", "PATCH", "/twins/dev1", "{\"tags\":{\"a\\u0000b\":1}}", 400, "ArgumentInvalid",
       400004, "invalid characters"},
  }));
  INFO(c.name);
  check_error(send(hub, c), c.status, c.error_name, c.code, c.phrase);
  check_still_serving(hub);
}

TEST_CASE("Twin values -0, floats and integer literals past 2^64 (read as floats) are accepted, and 2^52 - 1 is the largest integer",
          "[rest][hostile]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const auto r = hub.client().Patch(
      rest_fixture::with_api("/twins/dev1"), hub.auth(),
      R"({"properties":{"desired":{"z":-0,"f":-0.0,"big":4503599627370495,"e":1e300,"huge":-99999999999999999999}}})",
      json_type);
  REQUIRE(r);
  CHECK(r->status == 200);
  const auto desired = body_of(r)["properties"]["desired"];
  CHECK(desired["z"] == 0);
  CHECK(desired["big"] == 4503599627370495);
  CHECK(desired["e"] == 1e300);
  CHECK(desired["huge"].is_number_float());
  CHECK(desired["huge"] == -1e20);
  check_still_serving(hub);
}

TEST_CASE("A 10 MB body is refused with 413001 before it is read, and the hub keeps serving", "[rest][hostile]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const std::string big = "{\"tags\":{\"k\":\"" + std::string(10 * 1024 * 1024, 'a') + "\"}}";
  SECTION("with Content-Length") {
    check_error(hub.client().Patch(rest_fixture::with_api("/twins/dev1"), hub.auth(), big, json_type), 413,
                "MessageTooLarge", 413001, "1048576");
  }
  SECTION("chunked: read, then refused") {
    const auto r = send_chunked(hub.client(), "PATCH", rest_fixture::with_api("/twins/dev1"), hub.auth(), big, 64 * 1024);
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->get_header_value("iothub-errorcode") == "MessageTooLarge");
  }
  check_still_serving(hub);
}
