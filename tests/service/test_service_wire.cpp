// What the library puts on the wire, compared with what the official Node service SDK sent
// (shared/reference/sdk-captures/service-requests.jsonl): the same session (registry, method, twin
// patches with If-Match, query paging, jobs, cancel) is played through the library against a
// stand-in server that records each request and answers like the capture's stand-in did.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/rest/sas_header.hpp"
#include "service/service_client.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// base64 of the ASCII string 0123456789abcdef0123456789abcdef (captures README).
const std::string captured_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

struct recorded_request {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names, first value
  std::string body;
};

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// The captured request, in the same shape.
recorded_request captured(const json& line) {
  recorded_request r;
  r.method = line["method"];
  r.path = line["path"];
  for (const auto& [k, v] : line["query"].items()) r.query.emplace(k, v.get<std::string>());
  const auto& raw = line["rawHeaders"];
  for (std::size_t i = 0; i + 1 < raw.size(); i += 2) r.headers.emplace(lower(raw[i]), raw[i + 1]);
  if (line["body"].is_string()) r.body = line["body"];
  return r;
}

std::vector<json> load_first_session() {
  std::ifstream in(std::string(MOCKHUB_SHARED_DIR) + "/reference/sdk-captures/service-requests.jsonl");
  REQUIRE(in);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json l = json::parse(line);
    if (!lines.empty() && l["method"] == "PUT" && l["path"] == "/devices/dev1") break;  // the second session
    lines.push_back(std::move(l));
  }
  return lines;
}

// Every member of `expected` is in `actual` with the same value (objects compared recursively).
bool contains_all(const json& actual, const json& expected) {
  if (!expected.is_object()) return actual == expected;
  if (!actual.is_object()) return false;
  for (const auto& [k, v] : expected.items())
    if (!actual.contains(k) || !contains_all(actual[k], v)) return false;
  return true;
}

// A stand-in for the hub: records requests and answers with canned bodies.
class stand_in {
 public:
  stand_in() {
    server_.set_keep_alive_max_count(1000);
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) { answer(req, res); };
    server_.Get(".*", handler);
    server_.Put(".*", handler);
    server_.Post(".*", handler);
    server_.Patch(".*", handler);
    server_.Delete(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening already: requests queue until the loop accepts them.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~stand_in() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<recorded_request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void answer(const httplib::Request& req, httplib::Response& res) {
    recorded_request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) r.headers.emplace(lower(k), v);
    r.body = req.body;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
    }
    const json job = {{"jobId", "j"}, {"type", "scheduleDeviceMethod"}, {"status", "completed"}};
    json body = json::object();
    if (req.path.starts_with("/devices/") && req.path != "/devices/query") body = {{"deviceId", "dev1"}, {"etag", "AAAAAAAAAAE="}};
    if (req.path.starts_with("/twins/") && req.path.ends_with("/methods")) body = {{"status", 200}, {"payload", {{"ok", true}}}};
    else if (req.path.starts_with("/twins/")) body = {{"deviceId", "dev1"}, {"etag", "AAAAAAAAAAE="}};
    if (req.path == "/devices/query") {
      body = json::array({{{"deviceId", "dev1"}}});
      if (!req.has_header("x-ms-continuation")) res.set_header("x-ms-continuation", "page2token");
      res.set_header("x-ms-item-type", "twin");
    }
    if (req.path.starts_with("/jobs/v2/")) body = job;
    if (req.path == "/jobs/v2/query") {
      body = json::array({job});
      res.set_header("x-ms-item-type", "jobResponse");
    }
    res.set_content(body.dump(), "application/json; charset=utf-8");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<recorded_request> requests_;
};

}  // namespace

TEST_CASE("The library sends what the official Node SDK sends", "[service][wire]") {
  stand_in server;
  service_client client("HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=" + captured_key,
                        {.endpoint_override = endpoint{.scheme = "http", .host = "127.0.0.1", .port = static_cast<std::uint16_t>(server.port())}});

  // The capture's session, call by call (azure-iothub 1.16.6 sample).
  client.registry().create_device("dev1");
  client.registry().get_device("dev1");
  client.invoke_method("dev1", {.method_name = "lockDoor", .payload = {{"door", "front"}}, .response_timeout = 15s});
  client.twins().get_twin("dev1");
  client.twins().update_twin("dev1", {{"tags", {{"site", "lab"}, {"floor", 2}}}, {"properties", {{"desired", {{"lockMode", "manual"}}}}}},
                             if_match::etag("AAAAAAAAAAE="));
  client.twins().update_twin("dev1", {{"properties", {{"desired", {{"telemetryInterval", 5}}}}}}, if_match::any());
  auto pages = client.query("SELECT * FROM devices WHERE tags.site = 'lab'", 1);
  CHECK(pages.to_vector().size() == 2);
  client.jobs().schedule_device_method({.job_id = "job-method-1795693213534",
                                        .query_condition = "deviceId IN ['dev1']",
                                        .method = {.method_name = "lockDoor", .payload = {{"door", "all"}}, .response_timeout = 15s}});
  client.jobs().get_job("job-method-1795693213534");
  client.jobs().get_job("job-method-1795693213534");
  client.jobs().schedule_twin_update({.job_id = "job-twin-1795693213534",
                                      .query_condition = "tags.site = 'lab'",
                                      .patch = {{"tags", {{"fleet", "A"}}}, {"properties", {{"desired", {{"lockMode", "auto"}}}}}}});
  client.jobs().get_job("job-twin-1795693213534");
  client.jobs().get_job("job-twin-1795693213534");
  CHECK(client.jobs().query_jobs({.type = job_type::schedule_device_method, .status = job_status::completed, .page_size = 10})
            .to_vector()
            .size() == 1);
  client.jobs().cancel_job("job-method-1795693213534");

  const auto sent = server.requests();
  const auto expected = load_first_session();
  REQUIRE(sent.size() == expected.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const recorded_request want = captured(expected[i]);
    const recorded_request& got = sent[i];
    INFO("request " << i << ": " << want.method << " " << want.path);
    CHECK(got.method == want.method);
    CHECK(got.path == want.path);
    CHECK(got.query == want.query);
    for (const char* h : {"content-type", "if-match", "x-ms-max-item-count", "x-ms-continuation"}) {
      INFO("header " << h);
      CHECK(got.headers.count(h) == want.headers.count(h));
      if (want.headers.count(h) && got.headers.count(h)) CHECK(got.headers.at(h) == want.headers.at(h));
    }
    if (want.method == "POST" && want.body.empty()) CHECK(got.headers.at("content-length") == "0");
    if (want.body.empty()) {
      CHECK(got.body.empty());
    } else {
      // The SDK's members with its values; the library may add members the SDK leaves to the
      // hub's defaults (status, capabilities, connectTimeoutInSeconds, maxExecutionTimeInSeconds).
      const json body = json::parse(got.body);
      INFO("sent " << got.body << "\ncaptured " << want.body);
      CHECK(contains_all(body, json::parse(want.body)));
    }

    // Signed as the SDK signs: sr = HostName, skn = the policy, valid for the token lifetime.
    // (httplib's server percent-decoded the header; encoded again as the hub does.)
    const auto token = core::sas_token::parse(rest::restore_sas_encoding(got.headers.at("authorization")));
    CHECK(token.resource() == "localhost");
    CHECK(token.key_name() == std::optional<std::string>("iothubowner"));
    CHECK(token.is_signed_with(captured_key));
    const auto lifetime = token.expiry() - std::chrono::system_clock::now();
    CHECK(lifetime > 3500s);
    CHECK(lifetime <= 3600s);
  }
}
