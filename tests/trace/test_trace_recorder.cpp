// The recorder on its own: the header, one event per line, payload encodings, secrets left out,
// and a clear error for a file it cannot write.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/temp_dir.hpp"
#include "mock_hub/core/time_format.hpp"
#include "mock_hub/trace/trace_recorder.hpp"

using namespace mockhub;
using nlohmann::json;

namespace {

const core::time_point t0 = *core::parse_time("2026-01-01T00:00:00Z");

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

trace::recorder_options options(const std::filesystem::path& file) {
  return {.file = file,
          .header = {.mockhub_version = "0.1.0", .seed = 7, .host_name = "hub.local", .virtual_clock = true, .start = t0},
          .now = [] { return t0; }};
}

}  // namespace

TEST_CASE("a trace starts with its header and has one event per line", "[trace]") {
  test::temp_dir dir;
  {
    trace::trace_recorder r(options(dir / "t.jsonl"));
    r.device_connected("lock1", {{"api_version", "2021-04-12"}, {"gen", 17}, {"expires", 99}, {"client_type", "x"}});
    r.hub_published("lock1", "$iothub/twin/res/200/?$rid=1", R"({"desired":{"$version":1}})");
    r.clock_advanced(std::chrono::milliseconds(1500), t0 + std::chrono::milliseconds(1500));
    CHECK(r.events() == 3);
  }
  const auto lines = lines_of(dir / "t.jsonl");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == R"({"clock":"virtual","format":"mockhub-trace","host_name":"hub.local","mockhub":"0.1.0","seed":7,"start":"2026-01-01T00:00:00.0000000Z","version":1})");
  // the generation id and token expiry vary from run to run: left out
  CHECK(lines[1] == R"({"api_version":"2021-04-12","client_type":"x","device":"lock1","dir":"device->hub","kind":"connect","seq":1,"time":"2026-01-01T00:00:00.0000000Z"})");
  CHECK(lines[2] == R"({"device":"lock1","dir":"hub->device","kind":"publish","payload":{"desired":{"$version":1}},"seq":2,"time":"2026-01-01T00:00:00.0000000Z","topic":"$iothub/twin/res/200/?$rid=1"})");
  CHECK(lines[3] == R"({"dir":"hub","kind":"clock","seconds":1.5,"seq":3,"time":"2026-01-01T00:00:00.0000000Z","to":"2026-01-01T00:00:01.5000000Z"})");
  CHECK(trace::header_from_json(json::parse(lines[0])).seed == 7u);
}

TEST_CASE("HTTP exchanges keep the policy name and the headers that matter, never a secret", "[trace]") {
  test::temp_dir dir;
  {
    trace::trace_recorder r(options(dir / "t.jsonl"));
    const trace::header_list request_headers = {
        {"Authorization", "SharedAccessSignature sr=hub.local&sig=c2lnbmF0dXJl&se=1900000000&skn=iothubowner"},
        {"If-Match", "\"AAAA\""},
        {"User-Agent", "test"}};
    const auto exchange = r.http_request({.method = "PUT",
                                          .path = "/devices/lock1",
                                          .query = "api-version=2021-04-12",
                                          .headers = request_headers,
                                          .body = R"({"deviceId":"lock1","authentication":{"symmetricKey":{"primaryKey":"c2VjcmV0"}}})"});
    CHECK(exchange == 1);
    const trace::header_list response_headers = {{"ETag", "\"MQ==\""}, {"x-ms-request-id", "r-1"}, {"Content-Length", "9"}};
    r.http_response(exchange, {.status = 200, .headers = response_headers, .body = "not json"});
  }
  const auto lines = lines_of(dir / "t.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].find("c2lnbmF0dXJl") == std::string::npos);
  CHECK(lines[1].find("c2VjcmV0") == std::string::npos);
  const json request = json::parse(lines[1]);
  CHECK(request["identity"] == "iothubowner");
  CHECK(request["headers"] == json{{"if-match", "\"AAAA\""}});
  CHECK(request["query"] == "api-version=2021-04-12");
  CHECK(request["body"]["authentication"]["symmetricKey"]["primaryKey"] == "<redacted>");
  const json response = json::parse(lines[2]);
  // seeded: the request id repeats from run to run, so it is kept
  CHECK(response["headers"] == json{{"etag", "\"MQ==\""}, {"x-ms-request-id", "r-1"}});
  CHECK(response["body_text"] == "not json");
  CHECK(response["exchange"] == 1);
}

TEST_CASE("an unseeded run leaves the random x-ms-request-id out", "[trace]") {
  test::temp_dir dir;
  auto o = options(dir / "t.jsonl");
  o.header.seed = std::nullopt;
  {
    trace::trace_recorder r(o);
    const trace::header_list headers = {{"x-ms-request-id", "r-1"}, {"iothub-errorcode", "DeviceNotFound"}};
    r.http_response(1, {.status = 404, .headers = headers, .body = {}});
  }
  const auto lines = lines_of(dir / "t.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(json::parse(lines[0])["seed"] == nullptr);
  CHECK(json::parse(lines[1])["headers"] == json{{"iothub-errorcode", "DeviceNotFound"}});
}

TEST_CASE("payloads are JSON, text or base64, and read back as bytes", "[trace]") {
  json e = json::object();
  trace::put_payload(e, "payload", std::string("\xff\x00\x01", 3));
  CHECK(e == json{{"payload_base64", "/wAB"}});
  CHECK(trace::payload_bytes(e, "payload") == std::string("\xff\x00\x01", 3));
  e = json::object();
  trace::put_payload(e, "payload", "héllo");
  CHECK(e == json{{"payload_text", "héllo"}});
  CHECK(trace::payload_bytes(e, "payload") == "héllo");
  e = json::object();
  trace::put_payload(e, "payload", "");
  CHECK(e == json::object());
  CHECK(trace::payload_bytes(e, "payload").empty());
}

TEST_CASE("a request without a policy token records a null identity", "[trace]") {
  CHECK(trace::policy_of("SharedAccessSignature sr=hub.local%2Fdevices%2Fd&sig=c2ln&se=1") == std::nullopt);
  CHECK(trace::policy_of("Bearer x") == std::nullopt);
  CHECK(trace::policy_of("SharedAccessSignature sr=hub.local&sig=c2ln&se=1&skn=service") == "service");
}

TEST_CASE("an unwritable trace path is a clear error", "[trace]") {
  test::temp_dir dir;
  const auto path = dir / "no" / "such" / "dir" / "t.jsonl";
  try {
    trace::trace_recorder r(options(path));
    FAIL("expected a trace_error");
  } catch (const trace::trace_error& e) {
    CHECK(std::string(e.what()) == "cannot write the trace file " + path.string() + ": No such file or directory");
  }
}

TEST_CASE("a header that is not a trace header is refused with its reason", "[trace]") {
  const auto reason = [](const json& j) {
    try {
      trace::header_from_json(j);
    } catch (const trace::trace_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(reason({{"seq", 1}}) == "the first line is not a mockhub trace header (\"format\": \"mockhub-trace\" is missing)");
  CHECK(reason({{"format", "mockhub-trace"}, {"version", 9}}) ==
        "unsupported trace format version 9; this mockhub reads version 1");
  CHECK(reason({{"format", "mockhub-trace"}, {"version", 1}, {"host_name", "h"}, {"clock", "sundial"}}) ==
        "\"clock\" must be \"virtual\" or \"system\"");
}
