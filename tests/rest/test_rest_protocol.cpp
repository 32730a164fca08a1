// What the REST adapter decides before any operation runs: routing (404, 405, 501), the
// api-version policy, request bodies (size, JSON, depth), and the headers of every response.
#include "rest_fixture.hpp"

#include <algorithm>

#include "mock_hub/rest/routes.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using mockhub::test::send_chunked;
using nlohmann::json;

TEST_CASE("Unknown paths are 404 with an IoT Hub error body; a known path with another method is 405", "[rest][protocol]") {
  rest_fixture hub;
  check_error(hub.get("/nothing/here"), 404, "GenericNotFound", 404000, "/nothing/here");
  check_error(hub.get("/devices/dev1/extra/segments"), 404, "GenericNotFound", 404000);
  check_error(hub.get("/devices/dev1/"), 404, "GenericNotFound", 404000);
  const auto r = hub.patch("/devices/dev1", json::object());
  check_error(r, 405, "MethodNotAllowed", 405000);
  CHECK(r->get_header_value("Allow") == "GET, PUT, DELETE");
  SECTION("without credentials too (routing comes first)") {
    check_error(hub.client().Get("/nothing?api-version=2021-04-12"), 404, "GenericNotFound", 404000);
  }
  SECTION("HEAD reaches us as a GET handler's request and is refused; TRACE, which httplib refuses itself, still gets our body") {
    const auto head = hub.client().Head("/devices/dev1?api-version=2021-04-12");
    REQUIRE(head);
    CHECK(head->status == 405);
    httplib::Request trace;
    trace.method = "TRACE";
    trace.path = "/devices/dev1?api-version=2021-04-12";
    check_error(hub.client().send(trace), 400, "GenericBadRequest", 400000, "malformed");
  }
  SECTION("an id that is not UTF-8 still gives a JSON body") {
    check_error(hub.get("/devices/%FF%FE"), 404, "DeviceNotFound", 404001);
  }
}

TEST_CASE("Every operation of the specification that mockhub does not serve answers 501 naming it", "[rest][protocol]") {
  rest_fixture hub;
  const auto routes = mockhub::rest::service_routes();
  CHECK(routes.size() == 42);
  int unsupported = 0;
  for (const auto& r : routes) {
    if (r.handler) continue;
    ++unsupported;
    std::string path(r.pattern);
    for (std::size_t open; (open = path.find('{')) != std::string::npos;)
      path.replace(open, path.find('}') - open + 1, "x1");
    INFO(r.method << " " << path);
    httplib::Request req;
    req.method = std::string(r.method);
    req.path = rest_fixture::with_api(path);
    req.headers = hub.auth();
    if (r.takes_body) req.body = "{}";
    check_error(hub.client().send(req), 501, "NotImplemented", 501000, std::string(r.operation_id));
  }
  CHECK(unsupported == 42 - 17);
}

TEST_CASE("api-version: 2021-04-12 and later dated versions are served; missing, older or garbage is 400001",
          "[rest][protocol]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const auto get = [&](const std::string& query) { return hub.client().Get("/devices/dev1" + query, hub.auth()); };
  CHECK(get("?api-version=2021-04-12")->status == 200);
  CHECK(get("?api-version=2024-03-31")->status == 200);
  CHECK(get("?api-version=2021-06-30-preview")->status == 200);
  CHECK(get("?other=1&api-version=2021-04-12")->status == 200);
  check_error(get(""), 400, "InvalidProtocolVersion", 400001, "required");
  check_error(get("?api-version="), 400, "InvalidProtocolVersion", 400001, "required");
  check_error(get("?api-version=2020-03-13"), 400, "InvalidProtocolVersion", 400001, "older");
  check_error(get("?api-version=2021-02-30"), 400, "InvalidProtocolVersion", 400001, "not a valid version");
  check_error(get("?api-version=latest"), 400, "InvalidProtocolVersion", 400001, "not a valid version");
}

TEST_CASE("Request bodies: malformed JSON, too deep, too large, missing", "[rest][protocol]") {
  rest_fixture hub({.max_body_bytes = 4096});
  const std::string ct = "application/json; charset=utf-8";
  const auto put = [&](const std::string& body) {
    return hub.client().Put(rest_fixture::with_api("/devices/dev1"), hub.auth(), body, ct);
  };
  check_error(put("{\"deviceId\": "), 400, "ArgumentInvalid", 400004, "not valid JSON");
  check_error(put("{\"deviceId\": \"\xff\"}"), 400, "ArgumentInvalid", 400004, "not valid JSON");
  check_error(put(std::string(101, '[') + std::string(101, ']')), 400, "ArgumentInvalid", 400004, "deeper than 100");
  check_error(put(""), 400, "ArgumentNull", 400005, "body is required");
  check_error(put("  \n"), 400, "ArgumentNull", 400005);
  check_error(put("[1]"), 400, "ArgumentInvalid", 400004, "JSON object");
  SECTION("over the limit with Content-Length: refused before it is read") {
    check_error(put("{\"deviceId\":\"" + std::string(5000, 'a') + "\"}"), 413, "MessageTooLarge", 413001, "4096");
  }
  SECTION("over the limit, chunked") {
    const std::string big = "{\"deviceId\":\"" + std::string(5000, 'a') + "\"}";
    const auto r = send_chunked(hub.client(), "PUT", rest_fixture::with_api("/devices/dev1"), hub.auth(), big, 1000);
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->get_header_value("iothub-errorcode") == "MessageTooLarge");
  }
  SECTION("a server that still answers afterwards") {
    CHECK(put(R"({"deviceId":"dev1"})")->status == 200);
  }
}

TEST_CASE("Every response carries x-ms-request-id; JSON bodies say application/json; charset=utf-8", "[rest][protocol]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const auto a = hub.get("/devices/dev1");
  const auto b = hub.get("/devices/dev1");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->get_header_value("Content-Type") == "application/json; charset=utf-8");
  const auto id = a->get_header_value("x-ms-request-id");
  CHECK(id.size() == 36);
  CHECK(id != b->get_header_value("x-ms-request-id"));
  // The error body's tracking id is the request id without dashes, and the time is the hub's.
  const auto missing = hub.get("/devices/nobody");
  std::string tracking = missing->get_header_value("x-ms-request-id");
  tracking.erase(std::remove(tracking.begin(), tracking.end(), '-'), tracking.end());
  CHECK(body_of(missing)["ExceptionMessage"] == "Tracking ID:" + tracking + "-G:0-TimeStamp:01/01/2026 00:00:00");
}
