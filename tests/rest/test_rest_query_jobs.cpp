// Query_GetTwins and jobs v2 over REST: bare JSON arrays with x-ms-item-type and
// x-ms-continuation headers (absent on the last page), job create/get/cancel/query.
#include "rest_fixture.hpp"

#include <cstdio>
#include <set>

#include "mock_hub/core/time_format.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using mockhub::test::twin_job;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
std::string device_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "d%03d", i);
  return buf;
}
}  // namespace

TEST_CASE("Paging through 250 devices with x-ms-max-item-count and x-ms-continuation", "[rest][query]") {
  rest_fixture hub;
  hub.on_hub([](mockhub::core::hub& h) {
    for (int i = 0; i < 250; ++i) h.create_or_update_identity(device_name(i), {}, std::nullopt);
    return 0;
  });
  const json query = {{"query", "SELECT * FROM devices"}};
  std::set<std::string> seen;
  std::string continuation;
  std::vector<std::size_t> sizes;

  SECTION("default page size (100)") {
    for (int page = 0; page < 10; ++page) {
      rest_fixture::headers h;
      if (!continuation.empty()) h.emplace("x-ms-continuation", continuation);
      const auto r = hub.post("/devices/query", query, h);
      REQUIRE(r);
      REQUIRE(r->status == 200);
      CHECK(r->get_header_value("x-ms-item-type") == "twin");
      const auto items = body_of(r);
      REQUIRE(items.is_array());
      sizes.push_back(items.size());
      for (const auto& twin : items) seen.insert(twin["deviceId"].get<std::string>());
      if (!r->has_header("x-ms-continuation")) break;
      continuation = r->get_header_value("x-ms-continuation");
      REQUIRE_FALSE(continuation.empty());
    }
    CHECK(sizes == std::vector<std::size_t>{100, 100, 50});
  }
  SECTION("x-ms-max-item-count 60") {
    for (int page = 0; page < 10; ++page) {
      rest_fixture::headers h{{"x-ms-max-item-count", "60"}};
      if (!continuation.empty()) h.emplace("x-ms-continuation", continuation);
      const auto r = hub.post("/devices/query", query, h);
      REQUIRE(r);
      const auto items = body_of(r);
      sizes.push_back(items.size());
      for (const auto& twin : items) seen.insert(twin["deviceId"].get<std::string>());
      if (!r->has_header("x-ms-continuation")) break;
      continuation = r->get_header_value("x-ms-continuation");
    }
    CHECK(sizes == std::vector<std::size_t>{60, 60, 60, 60, 10});
  }
  CHECK(seen.size() == 250);
}

TEST_CASE("Query item types and refusals", "[rest][query]") {
  rest_fixture hub;
  hub.add_device("dev1");
  hub.patch("/twins/dev1", {{"tags", {{"site", "lab"}}}});

  SECTION("projection is raw, aggregate too") {
    const auto r = hub.post("/devices/query", {{"query", "SELECT deviceId, tags.site FROM devices"}});
    CHECK(r->get_header_value("x-ms-item-type") == "raw");
    CHECK(body_of(r) == json::array({{{"deviceId", "dev1"}, {"site", "lab"}}}));
    const auto count = hub.post("/devices/query", {{"query", "SELECT COUNT() AS n FROM devices"}});
    CHECK(body_of(count) == json::array({{{"n", 1}}}));
    CHECK_FALSE(count->has_header("x-ms-continuation"));
  }
  SECTION("devices.jobs is deviceJob") {
    const auto r = hub.post("/devices/query", {{"query", "SELECT * FROM devices.jobs"}});
    CHECK(r->get_header_value("x-ms-item-type") == "deviceJob");
    CHECK(body_of(r) == json::array());
  }
  SECTION("an invalid query is 400000 with the hub's message") {
    check_error(hub.post("/devices/query", {{"query", "SELECT * FROM"}}), 400, "GenericBadRequest", 400000,
                "The query is invalid");
  }
  SECTION("a forged continuation token is 400004") {
    check_error(hub.post("/devices/query", {{"query", "SELECT * FROM devices"}}, {{"x-ms-continuation", "page2token"}}), 400,
                "ArgumentInvalid", 400004);
  }
  SECTION("a missing or non-string query, a bad page size") {
    check_error(hub.post("/devices/query", json::object()), 400, "ArgumentNull", 400005, "query");
    check_error(hub.post("/devices/query", {{"query", 5}}), 400, "ArgumentInvalid", 400004, "string");
    check_error(hub.post("/devices/query", {{"query", "SELECT * FROM devices"}}, {{"x-ms-max-item-count", "ten"}}), 400,
                "ArgumentInvalid", 400004, "x-ms-max-item-count");
  }
}

namespace {
json method_job(const std::string& id, const std::string& condition = "deviceId IN ['dev1']") {
  return {{"jobId", id},
          {"type", "scheduleDeviceMethod"},
          {"cloudToDeviceMethod", {{"methodName", "lockDoor"}, {"payload", {{"door", "all"}}}, {"responseTimeoutInSeconds", 15}}},
          {"startTime", nullptr},
          {"queryCondition", condition}};
}
}  // namespace

TEST_CASE("Jobs v2: create, get, run to completion, query with filters, cancel", "[rest][jobs]") {
  rest_fixture hub({.max_concurrent_jobs = 10});
  hub.add_device("dev1", true);
  hub.devices().answer_with("dev1", {200, R"({"ok":1})"});

  const auto created = hub.put("/jobs/v2/job1", method_job("job1"));
  REQUIRE(created);
  CHECK(created->status == 200);
  const auto job = body_of(created);
  CHECK(job["jobId"] == "job1");
  CHECK(job["status"] == "queued");
  CHECK(job["type"] == "scheduleDeviceMethod");

  hub.advance(0s);  // the job starts, the device answers, the job completes
  const auto done = body_of(hub.get("/jobs/v2/job1"));
  CHECK(done["status"] == "completed");
  CHECK(done["deviceJobStatistics"]["succeededCount"] == 1);
  const auto records = body_of(hub.post("/devices/query", {{"query", "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'job1'"}}));
  REQUIRE(records.size() == 1);
  CHECK(records[0]["outcome"]["deviceMethodResponse"]["status"] == 200);

  // A twin job scheduled for tomorrow stays scheduled until the clock gets there.
  const auto tomorrow = mockhub::core::format_time(hub.now() + 24h);
  CHECK(hub.put("/jobs/v2/job2", twin_job("job2", tomorrow))->status == 200);
  hub.advance(0s);
  CHECK(body_of(hub.get("/jobs/v2/job2"))["status"] == "scheduled");

  SECTION("query: bare array of JobResponse, filters case-insensitive") {
    const auto all = hub.get("/jobs/v2/query");
    REQUIRE(all);
    CHECK(all->status == 200);
    CHECK(all->get_header_value("x-ms-item-type") == "jobResponse");
    CHECK_FALSE(all->has_header("x-ms-continuation"));
    CHECK(body_of(all).size() == 2);
    const auto completed_methods = body_of(hub.get("/jobs/v2/query?jobType=ScheduleDeviceMethod&jobStatus=Completed"));
    REQUIRE(completed_methods.size() == 1);
    CHECK(completed_methods[0]["jobId"] == "job1");
    CHECK(body_of(hub.get("/jobs/v2/query?jobType=scheduleUpdateTwin")).size() == 1);
    CHECK(body_of(hub.get("/jobs/v2/query?jobStatus=running")).empty());
    check_error(hub.get("/jobs/v2/query?jobType=reboot"), 400, "ArgumentInvalid", 400004, "jobType");
    check_error(hub.get("/jobs/v2/query?jobStatus=sleeping"), 400, "ArgumentInvalid", 400004, "jobStatus");
  }
  SECTION("query pages with x-ms-max-item-count and continuation") {
    const auto first = hub.get("/jobs/v2/query", {{"x-ms-max-item-count", "1"}});
    REQUIRE(first->has_header("x-ms-continuation"));
    CHECK(body_of(first)[0]["jobId"] == "job1");
    const auto second = hub.get("/jobs/v2/query", {{"x-ms-max-item-count", "1"},
                                                   {"x-ms-continuation", first->get_header_value("x-ms-continuation")}});
    CHECK(body_of(second)[0]["jobId"] == "job2");
    CHECK_FALSE(second->has_header("x-ms-continuation"));
    check_error(hub.get("/jobs/v2/query", {{"x-ms-continuation", "bogus"}}), 400, "ArgumentInvalid", 400004, "continuation");
  }
  SECTION("cancel: a scheduled job becomes cancelled; a completed one is 412003; unknown 404002") {
    const auto cancelled = hub.post_empty("/jobs/v2/job2/cancel");
    REQUIRE(cancelled);
    CHECK(cancelled->status == 200);
    CHECK(body_of(cancelled)["status"] == "cancelled");
    check_error(hub.post_empty("/jobs/v2/job1/cancel"), 412, "JobRunPreconditionFailed", 412003);
    check_error(hub.post_empty("/jobs/v2/nojob/cancel"), 404, "JobNotFound", 404002);
  }
  SECTION("get and create refusals") {
    check_error(hub.get("/jobs/v2/nojob"), 404, "JobNotFound", 404002, "nojob");
    check_error(hub.put("/jobs/v2/job1", method_job("job1")), 409, "JobAlreadyExists", 409104);
    check_error(hub.put("/jobs/v2/job3", method_job("other")), 400, "ArgumentInvalid", 400004);
    auto bad_type = method_job("job3");
    bad_type["type"] = "rebootDevice";
    check_error(hub.put("/jobs/v2/job3", bad_type), 400, "GenericBadRequest", 400000);
    auto no_star = twin_job("job3", tomorrow);
    no_star["updateTwin"]["etag"] = "AAAAAAAAAAE=";
    check_error(hub.put("/jobs/v2/job3", no_star), 400, "ArgumentInvalid", 400004, "etag");
    check_error(hub.put("/jobs/v2/job3", method_job("job3", "tags.x = ")), 400, "GenericBadRequest", 400000);
  }
}

TEST_CASE("Jobs over the tier's concurrency limit are refused with 429004", "[rest][jobs]") {
  rest_fixture hub;  // S1: one active job
  hub.add_device("dev1");
  const auto tomorrow = mockhub::core::format_time(hub.now() + 24h);
  CHECK(hub.put("/jobs/v2/a", twin_job("a", tomorrow))->status == 200);
  check_error(hub.put("/jobs/v2/b", twin_job("b", tomorrow)), 429, "ThrottlingMaxActiveJobCountExceeded", 429004);
}
