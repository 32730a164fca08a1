// Replays every HTTPS request the official Node service SDK (azure-iothub 1.16.6) made, as
// captured in shared/reference/sdk-captures/service-requests.jsonl, byte for byte: the hub's
// iothubowner key is pinned to the captured key and its virtual clock follows the capture's
// timestamps, so the captured SAS tokens verify as they did. Each capture session (the SDK
// sample ran twice) replays against a fresh hub; dev1 connects once created and answers methods.
#include "rest_fixture.hpp"

#include <fstream>

#include "mock_hub/core/time_format.hpp"

using mockhub::test::body_of;
using mockhub::test::rest_fixture;
using nlohmann::json;

namespace {

// base64 of the ASCII string 0123456789abcdef0123456789abcdef (captures README).
const std::string captured_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

std::vector<json> load_capture() {
  std::ifstream in(std::string(MOCKHUB_SHARED_DIR) + "/reference/sdk-captures/service-requests.jsonl");
  REQUIRE(in);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// The capture in sessions: a new session starts with each registry create of dev1.
std::vector<std::vector<json>> sessions(const std::vector<json>& lines) {
  std::vector<std::vector<json>> out;
  for (const auto& l : lines) {
    if (out.empty() || (l["method"] == "PUT" && l["path"] == "/devices/dev1")) out.emplace_back();
    out.back().push_back(l);
  }
  return out;
}

// What a real hub would answer each captured request, in this replay.
int expected_status(const json& request) {
  const std::string method = request["method"], path = request["path"];
  if (method == "POST" && path.ends_with("/cancel")) return 412;  // the method job completed: JobRunPreconditionFailed
  return 200;
}

}  // namespace

TEST_CASE("Every request the Node service SDK made is answered sensibly (captured tokens verify)", "[rest][replay]") {
  const auto all = sessions(load_capture());
  REQUIRE(all.size() == 2);
  for (const auto& session : all) {
    rest_fixture hub({.host_name = "localhost", .max_concurrent_jobs = 1});
    hub.on_hub([](mockhub::core::hub& h) {
      h.policies().set_keys("iothubowner", captured_key, captured_key);
      return 0;
    });
    // A second device with the queried tag, so the SDK's one-item pages need a continuation.
    hub.add_device("dev0");
    hub.patch("/twins/dev0", {{"tags", {{"site", "lab"}}}});
    hub.set_time(*mockhub::core::parse_time(session.front()["t"].get<std::string>()));

    std::string last_continuation;
    for (const auto& captured : session) {
      hub.set_time(std::max(hub.now(), *mockhub::core::parse_time(captured["t"].get<std::string>())));
      httplib::Request req;
      req.method = captured["method"];
      req.path = captured["url"];
      const auto& raw = captured["rawHeaders"];
      for (std::size_t i = 0; i + 1 < raw.size(); i += 2) {
        const std::string name = raw[i], value = raw[i + 1];
        if (name == "Host" || name == "Content-Length" || name == "Connection") continue;
        // The capture's stand-in issued "page2token"; the real continuation is ours.
        if (name == "x-ms-continuation") {
          req.headers.emplace(name, last_continuation);
          continue;
        }
        req.headers.emplace(name, value);
      }
      if (captured["body"].is_string()) req.body = captured["body"];
      INFO(req.method << " " << req.path << " " << req.body);
      const auto r = hub.client().send(req);
      REQUIRE(r);
      INFO("answer " << r->status << " " << r->body);
      CHECK(r->status == expected_status(captured));
      CHECK_FALSE(r->get_header_value("x-ms-request-id").empty());
      if (r->status == 412) CHECK(r->get_header_value("iothub-errorcode") == "JobRunPreconditionFailed");
      if (r->has_header("x-ms-continuation")) last_continuation = r->get_header_value("x-ms-continuation");

      const std::string path = captured["path"];
      if (req.method == "PUT" && path == "/devices/dev1") {
        hub.connect("dev1");
        hub.devices().answer_with("dev1", {200, R"({"locked":true})"});
      }
      if (req.method == "POST" && path == "/twins/dev1/methods") CHECK(body_of(r)["status"] == 200);
      if (req.method == "POST" && path == "/devices/query") {
        CHECK(body_of(r).size() == 1);
        CHECK(r->get_header_value("x-ms-item-type") == "twin");
      }
      if (req.method == "GET" && path == "/jobs/v2/query") {
        const auto jobs = body_of(r);
        REQUIRE(jobs.size() == 1);
        CHECK(jobs[0]["status"] == "completed");
      }
    }
    CHECK_FALSE(last_continuation.empty());
  }
}

TEST_CASE("The captured tokens are refused once the hub's clock passes their expiry", "[rest][replay]") {
  const auto first = load_capture().front();
  rest_fixture hub({.host_name = "localhost"});
  hub.on_hub([](mockhub::core::hub& h) {
    h.policies().set_keys("iothubowner", captured_key, captured_key);
    return 0;
  });
  hub.set_time(*mockhub::core::parse_time(first["t"].get<std::string>()) + std::chrono::hours(2));
  httplib::Request req;
  req.method = "GET";
  req.path = "/devices/dev1?api-version=2021-04-12";
  const auto& raw = first["rawHeaders"];
  for (std::size_t i = 0; i + 1 < raw.size(); i += 2)
    if (raw[i] == "Authorization") req.headers.emplace("Authorization", raw[i + 1].get<std::string>());
  mockhub::test::check_error(hub.client().send(req), 401, "IotHubUnauthorizedAccess", 401002, "expired");
}
