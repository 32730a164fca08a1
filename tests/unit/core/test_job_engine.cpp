#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include "check_hub_error.hpp"
#include "mock_device_channel.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/time_format.hpp"

using namespace mockhub::core;
using mockhub::testing::check_hub_error;
using nlohmann::json;
using trompeloeil::_;
using namespace std::chrono_literals;

namespace {

// A fleet of door locks; some connected and answering methods through `answer`.
struct jobs_fixture {
  virtual_clock clk;
  id_source ids{11};
  mockhub::testing::mock_device_channel channel;
  std::unique_ptr<trompeloeil::expectation> allow_identity = NAMED_ALLOW_CALL(channel, identity_changed(_, _));
  std::unique_ptr<trompeloeil::expectation> allow_desired = NAMED_ALLOW_CALL(channel, send_desired_patch(_, _));
  // Method requests are recorded; a test answers them with respond().
  std::vector<std::pair<std::string, std::string>> requests;  // device, rid
  std::unique_ptr<trompeloeil::expectation> record_requests =
      NAMED_ALLOW_CALL(channel, send_method_request(_, _, _, _)).LR_SIDE_EFFECT(requests.emplace_back(_1, _3));
  // Each flush (a job sending its first devices while its query runs): the requests sent by
  // then, and what the hub says of the job at that moment.
  struct flush_seen {
    std::size_t requests;
    json job;
  };
  std::vector<flush_seen> flushes;
  std::string flushed_job;  // the job whose state a flush records
  std::unique_ptr<trompeloeil::expectation> record_flushes = NAMED_ALLOW_CALL(channel, flush()).LR_SIDE_EFFECT(
      flushes.push_back({requests.size(), flushed_job.empty() ? json() : json(h->jobs().get_scheduled_job(flushed_job))}));
  hub_options options;
  std::unique_ptr<hub> h;
  std::uint64_t generation = 0;

  explicit jobs_fixture(int max_jobs = 1) {
    options.jobs.max_concurrent_jobs = max_jobs;
    h = std::make_unique<hub>(options, clk, ids, channel);
  }
  // `count` locks dNNNNN in building 43 (ids in numeric order), online or not.
  void add_locks(int count, bool online) {
    for (int i = 0; i < count; ++i) add_lock("d" + std::to_string(10000 + i), 43, online);
  }
  void add_lock(const std::string& id, int building, bool online) {
    h->create_or_update_identity(id, {}, std::nullopt);
    h->update_twin(id, {{"tags", {{"building", building}}}}, std::nullopt);
    if (online) connect(id);
  }
  void connect(const std::string& id) {
    connection_info info;
    info.generation = ++generation;
    h->device_connected(id, info);
    h->device_subscribed(id, info.generation, device_subscription::methods);
    h->device_subscribed(id, info.generation, device_subscription::desired_patches);
  }
  void respond_all(int status, const std::string& payload = "{}") {
    auto pending = std::move(requests);
    requests.clear();
    for (const auto& [device, rid] : pending) h->device_method_response(device, rid, status, payload);
  }
  const scheduled_job& create(json body) {
    const std::string id = body["jobId"];
    return h->jobs().create_scheduled_job(job_request::from_json(body, id, clk.now()));
  }
  json job(const std::string& id) { return h->jobs().get_scheduled_job(id); }
  json stats(const std::string& id) { return job(id)["deviceJobStatistics"]; }
  // Every record of the job, page after page.
  json records(const std::string& job_id) {
    json all = json::array();
    std::optional<std::string> next;
    do {
      auto page = h->query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + job_id + "'",
                           {.max_item_count = 1000, .continuation = next.value_or("")});
      for (auto& r : page.items) all.push_back(std::move(r));
      next = std::move(page.continuation);
    } while (next);
    return all;
  }
  void settle() { clk.advance(0s); }  // fires everything already due, round after round
};

json method_job(const std::string& id, const std::string& condition = "tags.building = 43", int connect_timeout = 0) {
  return {{"jobId", id},
          {"type", "scheduleDeviceMethod"},
          {"cloudToDeviceMethod",
           {{"methodName", "lockDoor"}, {"payload", {{"door", "front"}}}, {"responseTimeoutInSeconds", 30},
            {"connectTimeoutInSeconds", connect_timeout}}},
          {"queryCondition", condition},
          {"startTime", nullptr},
          {"maxExecutionTimeInSeconds", 3600}};
}

json twin_job(const std::string& id, const std::string& condition = "tags.building = 43") {
  return {{"jobId", id},
          {"type", "scheduleUpdateTwin"},
          {"updateTwin", {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}, {"etag", "*"}}},
          {"queryCondition", condition},
          {"startTime", nullptr},
          {"maxExecutionTimeInSeconds", 3600}};
}

json statistics(int devices, int failed, int succeeded, int running, int pending) {
  return {{"deviceCount", devices}, {"failedCount", failed}, {"succeededCount", succeeded},
          {"runningCount", running}, {"pendingCount", pending}};
}

}  // namespace

TEST_CASE_METHOD(jobs_fixture, "The tutorial: a lockDoor job over building 43 finishes with exact statistics and records",
                 "[core][jobs]") {
  add_lock("lock-a", 43, true);
  add_lock("lock-b", 43, true);
  add_lock("lock-c", 43, false);  // offline, connect timeout 0
  add_lock("lock-z", 44, true);   // another building: not selected

  const json created = create(method_job("lock-job"));
  CHECK(created["status"] == "queued");
  CHECK(created["type"] == "scheduleDeviceMethod");
  CHECK(created["queryCondition"] == "tags.building = 43");
  CHECK(created["cloudToDeviceMethod"]["methodName"] == "lockDoor");
  CHECK(created["deviceJobStatistics"] == statistics(0, 0, 0, 0, 0));
  CHECK_FALSE(created.contains("endTime"));

  settle();
  CHECK(job("lock-job")["status"] == "running");
  CHECK(stats("lock-job") == statistics(3, 1, 0, 2, 0));  // lock-c failed at once: not online
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].first == "lock-a");
  CHECK(requests[1].first == "lock-b");

  clk.advance(2s);
  respond_all(200, R"({"locked":true})");
  settle();
  const json done = job("lock-job");
  CHECK(done["status"] == "completed");
  CHECK(done["endTime"] == "2026-01-01T00:00:02.0000000Z");
  CHECK(done["deviceJobStatistics"] == statistics(3, 1, 2, 0, 0));

  const json recs = records("lock-job");
  REQUIRE(recs.size() == 3);
  CHECK(recs[0]["deviceId"] == "lock-a");
  CHECK(recs[0]["jobType"] == "scheduleDeviceMethod");
  CHECK(recs[0]["status"] == "completed");
  CHECK(recs[0]["outcome"]["deviceMethodResponse"] == json{{"status", 200}, {"payload", {{"locked", true}}}});
  CHECK(recs[0]["startTimeUtc"] == "2026-01-01T00:00:00.0000000Z");
  CHECK(recs[0]["endTimeUtc"] == "2026-01-01T00:00:02.0000000Z");
  CHECK(recs[2]["deviceId"] == "lock-c");
  CHECK(recs[2]["status"] == "failed");
  CHECK(recs[2]["error"] == json{{"code", "DeviceNotOnline"}, {"description", "Timed out waiting for device to connect."}});
  CHECK(recs[2]["outcome"]["deviceMethodResponse"].is_null());
}

TEST_CASE_METHOD(jobs_fixture, "A job scheduled for tomorrow starts exactly then, not before", "[core][jobs]") {
  add_lock("lock-a", 43, true);
  json body = twin_job("tomorrow");
  body["startTime"] = "2026-01-02T00:00:00Z";
  create(body);
  settle();
  CHECK(job("tomorrow")["status"] == "scheduled");
  CHECK(job("tomorrow")["startTime"] == "2026-01-02T00:00:00.0000000Z");
  clk.advance(24h - 1s);
  CHECK(job("tomorrow")["status"] == "scheduled");
  CHECK(h->registry().get_twin("lock-a")["properties"]["desired"].contains("floor") == false);
  clk.advance(1s);
  CHECK(job("tomorrow")["status"] == "completed");
  CHECK(stats("tomorrow") == statistics(1, 0, 1, 0, 0));
  CHECK(h->registry().get_twin("lock-a")["properties"]["desired"]["floor"] == 3);
}

TEST_CASE_METHOD(jobs_fixture, "The query runs when the job starts: devices added before then are included",
                 "[core][jobs]") {
  json body = twin_job("later");
  body["startTime"] = "2026-01-01T01:00:00Z";
  create(body);
  add_lock("late-lock", 43, false);
  clk.advance(1h);
  CHECK(stats("later") == statistics(1, 0, 1, 0, 0));
  add_lock("too-late", 43, false);
  settle();
  CHECK(stats("later")["deviceCount"] == 1);
}

TEST_CASE_METHOD(jobs_fixture, "A twin job updates offline devices too; they read the change when they connect",
                 "[core][jobs]") {
  add_lock("online", 43, true);
  add_lock("offline", 43, false);
  std::vector<std::string> notified;
  REQUIRE_CALL(channel, send_desired_patch(_, _)).LR_SIDE_EFFECT(notified.emplace_back(_1));
  create(twin_job("twin"));
  settle();
  CHECK(notified == std::vector<std::string>{"online"});
  CHECK(job("twin")["status"] == "completed");
  CHECK(stats("twin") == statistics(2, 0, 2, 0, 0));
  connect("offline");
  const json view = h->device_get_twin("offline");
  CHECK(view["desired"]["building"] == 43);
  CHECK(view["desired"]["floor"] == 3);
  CHECK(records("twin")[1]["status"] == "completed");
}

TEST_CASE_METHOD(jobs_fixture, "Method jobs honour each device's connect and response timeouts", "[core][jobs]") {
  add_lock("late", 43, false);
  add_lock("never", 43, false);
  add_lock("silent", 43, true);
  add_lock("broken", 43, true);
  create(method_job("timeouts", "tags.building = 43", 30));
  settle();
  CHECK(stats("timeouts") == statistics(4, 0, 0, 4, 0));
  REQUIRE(requests.size() == 2);  // broken and silent are online
  h->device_method_response("broken", requests[0].first == "broken" ? requests[0].second : requests[1].second, 500,
                            R"({"error":"jammed"})");
  clk.advance(10s);
  connect("late");  // within its 30 s
  REQUIRE(requests.size() == 3);
  h->device_method_response("late", requests.back().second, 200, "{}");
  clk.advance(20s);  // 30 s: never's connect timeout and silent's response timeout
  settle();
  CHECK(job("timeouts")["status"] == "completed");
  CHECK(stats("timeouts") == statistics(4, 2, 2, 0, 0));
  const json recs = records("timeouts");
  std::map<std::string, json> by_id;
  for (const auto& r : recs) by_id[r["deviceId"]] = r;
  CHECK(by_id["broken"]["status"] == "completed");  // the device answered, with its own 500
  CHECK(by_id["broken"]["outcome"]["deviceMethodResponse"]["status"] == 500);
  CHECK(by_id["late"]["status"] == "completed");
  CHECK(by_id["never"]["error"]["code"] == "DeviceNotOnline");
  CHECK(by_id["silent"]["error"]["code"] == "GatewayTimeout");
  CHECK(by_id["silent"]["error"]["description"] == "Timed out waiting for the response from device.");
}

TEST_CASE_METHOD(jobs_fixture, "Cancelling mid-run cancels what has not finished", "[core][jobs]") {
  add_lock("a", 43, true);
  add_lock("b", 43, true);
  create(method_job("cancel-me"));
  settle();
  h->device_method_response("a", requests[0].second, 200, "{}");
  const json cancelled = h->jobs().cancel_scheduled_job("cancel-me");
  CHECK(cancelled["status"] == "cancelled");
  CHECK(cancelled["deviceJobStatistics"] == statistics(2, 0, 1, 0, 0));
  h->device_method_response("b", requests[1].second, 200, "{}");  // too late to count
  settle();
  CHECK(stats("cancel-me") == statistics(2, 0, 1, 0, 0));
  CHECK(records("cancel-me")[1]["status"] == "canceled");

  SECTION("cancelling again returns the job unchanged") {
    CHECK(json(h->jobs().cancel_scheduled_job("cancel-me"))["status"] == "cancelled");
  }
  SECTION("a completed job cannot be cancelled: 412003") {
    create(twin_job("done"));
    settle();
    check_hub_error([&] { h->jobs().cancel_scheduled_job("done"); }, 412003, "already ended (completed)");
  }
  SECTION("an unknown job: 404002") { check_hub_error([&] { h->jobs().cancel_scheduled_job("ghost"); }, 404002, "'ghost'"); }
}

TEST_CASE_METHOD(jobs_fixture, "Cancelling a scheduled job means it never starts", "[core][jobs]") {
  add_lock("a", 43, true);
  json body = method_job("future");
  body["startTime"] = "2026-01-01T00:10:00Z";
  create(body);
  h->jobs().cancel_scheduled_job("future");
  clk.advance(1h);
  CHECK(requests.empty());
  CHECK(job("future")["status"] == "cancelled");
  CHECK(stats("future")["deviceCount"] == 0);
}

TEST_CASE_METHOD(jobs_fixture, "maxExecutionTime ends the job and fails what had not finished", "[core][jobs]") {
  add_lock("silent", 43, true);
  json body = method_job("short");
  body["cloudToDeviceMethod"]["responseTimeoutInSeconds"] = 300;
  body["maxExecutionTimeInSeconds"] = 60;
  create(body);
  clk.advance(59s);
  CHECK(job("short")["status"] == "running");
  clk.advance(1s);
  CHECK(job("short")["status"] == "completed");
  CHECK(stats("short") == statistics(1, 1, 0, 0, 0));
  CHECK(records("short")[0]["error"]["code"] == "JobTimedOut");
}

TEST_CASE("Concurrent jobs are limited per tier with 429004", "[core][jobs]") {
  SECTION("S1: one at a time") {
    jobs_fixture f(*max_concurrent_jobs_for_tier("S1"));
    f.create(twin_job("first"));
    check_hub_error([&] { f.create(twin_job("second")); }, 429004, "maximum of 1 active jobs");
    f.settle();  // the first completes
    f.create(twin_job("second"));
  }
  SECTION("S3: ten at a time") {
    jobs_fixture f(*max_concurrent_jobs_for_tier("S3"));
    for (int i = 0; i < 10; ++i) {
      json body = twin_job("job-" + std::to_string(i));
      body["startTime"] = "2026-02-01T00:00:00Z";
      f.create(body);
    }
    check_hub_error([&] { f.create(twin_job("eleventh")); }, 429004, "maximum of 10 active jobs");
  }
  CHECK(max_concurrent_jobs_for_tier("S2") == 5);
  CHECK(max_concurrent_jobs_for_tier("F1") == 1);
  CHECK_FALSE(max_concurrent_jobs_for_tier("B1").has_value());
}

TEST_CASE("Two jobs share the fan-out window fairly, in device order", "[core][jobs]") {
  jobs_fixture f(10);
  f.options.jobs.max_in_flight = 2;
  f.h = std::make_unique<hub>(f.options, f.clk, f.ids, f.channel);
  for (const char* id : {"d1", "d2", "d3"}) f.add_lock(id, 43, true);
  f.create(method_job("j1"));
  f.create(method_job("j2"));
  f.settle();
  REQUIRE(f.requests.size() == 2);  // the window: two calls out
  CHECK(f.requests[0].first == "d1");
  CHECK(f.requests[1].first == "d1");  // one from each job
  f.respond_all(200);
  f.settle();
  REQUIRE(f.requests.size() == 2);
  CHECK(f.requests[0].first == "d2");
  CHECK(f.requests[1].first == "d2");
}

TEST_CASE_METHOD(jobs_fixture, "A method job over many devices starts its first slices while its query still runs",
                 "[core][jobs]") {
  add_locks(1200, true);
  add_lock("z-other", 44, true);  // not selected
  flushed_job = "big";
  create(method_job("big"));
  clk.run_due();  // the start
  // Two slices of 500 went out as the query found them, the window (1000) then full; at each
  // flush the job already ran, with the devices found so far.
  REQUIRE(flushes.size() == 2);
  CHECK(flushes[0].requests == 500);
  CHECK(flushes[0].job["status"] == "running");
  CHECK(flushes[0].job["deviceJobStatistics"] == statistics(500, 0, 0, 500, 0));
  CHECK(flushes[1].requests == 1000);
  CHECK(flushes[1].job["deviceJobStatistics"] == statistics(1000, 0, 0, 1000, 0));
  // When the query has run, the job has all its devices.
  CHECK(stats("big") == statistics(1200, 0, 0, 1000, 200));
  REQUIRE(requests.size() == 1000);
  CHECK(requests[0].first == "d10000");
  CHECK(requests[999].first == "d10999");
  respond_all(200);
  settle();
  REQUIRE(requests.size() == 200);  // the rest, through the pump, in device order
  CHECK(requests[0].first == "d11000");
  CHECK(requests[199].first == "d11199");
  respond_all(200);
  settle();
  CHECK(job("big")["status"] == "completed");
  CHECK(stats("big") == statistics(1200, 0, 1200, 0, 0));
  CHECK(flushes.size() == 2);  // only while a query runs
  const json recs = records("big");
  REQUIRE(recs.size() == 1200);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    INFO("record " << i);
    CHECK(recs[i]["deviceId"] == "d" + std::to_string(10000 + i));
    CHECK(recs[i]["status"] == "completed");
    CHECK(recs[i]["outcome"]["deviceMethodResponse"] == json{{"status", 200}, {"payload", json::object()}});
  }
}

TEST_CASE_METHOD(jobs_fixture, "A job whose early devices all fail at once completes once, after its query",
                 "[core][jobs]") {
  add_locks(500, false);  // offline, connect timeout 0: each call fails as it is made
  flushed_job = "offline";
  create(method_job("offline"));
  clk.run_due();
  REQUIRE(flushes.size() == 1);
  CHECK(flushes[0].requests == 0);
  // Failed at once, yet not completed while the query could still find devices.
  CHECK(flushes[0].job["status"] == "running");
  CHECK(flushes[0].job["deviceJobStatistics"] == statistics(500, 500, 0, 0, 0));
  CHECK_FALSE(flushes[0].job.contains("endTime"));
  const json done = job("offline");
  CHECK(done["status"] == "completed");
  CHECK(done["endTime"] == "2026-01-01T00:00:00.0000000Z");
  CHECK(done["deviceJobStatistics"] == statistics(500, 500, 0, 0, 0));
  settle();
  CHECK(job("offline")["deviceJobStatistics"] == statistics(500, 500, 0, 0, 0));
  const json recs = records("offline");
  REQUIRE(recs.size() == 500);
  for (const auto& r : recs) {
    CHECK(r["status"] == "failed");
    CHECK(r["error"]["code"] == "DeviceNotOnline");
  }
}

TEST_CASE_METHOD(jobs_fixture, "Room made in the window by devices that fail at once is used by the next slice",
                 "[core][jobs]") {
  options.jobs.max_in_flight = 600;
  h = std::make_unique<hub>(options, clk, ids, channel);
  add_locks(500, false);  // d10000..d10499 offline: their calls fail as they are made
  for (int i = 0; i < 1200; ++i) add_lock("e" + std::to_string(10000 + i), 43, true);
  flushed_job = "mixed";
  create(method_job("mixed"));
  clk.run_due();
  // Slice 1: the 500 offline devices, failed at once. Slice 2: 500 online ones, in flight. Slice
  // 3 finds the window with room for 100 only; it takes them. The rest wait for the pump.
  REQUIRE(flushes.size() == 3);
  CHECK(flushes[0].requests == 0);
  CHECK(flushes[1].requests == 500);
  CHECK(flushes[2].requests == 600);
  CHECK(flushes[2].job["deviceJobStatistics"] == statistics(1500, 500, 0, 600, 400));
  CHECK(stats("mixed") == statistics(1700, 500, 0, 600, 600));
  REQUIRE(requests.size() == 600);
  CHECK(requests.front().first == "e10000");
  CHECK(requests.back().first == "e10599");
}

TEST_CASE("A job's early starts take only the room the window has left", "[core][jobs]") {
  jobs_fixture f(10);
  f.add_locks(1200, true);
  f.flushed_job = "first";
  f.create(method_job("first"));
  f.clk.run_due();  // the first job starts: its first 1000 devices fill the window
  REQUIRE(f.requests.size() == 1000);
  f.create(method_job("second"));
  f.clk.run_due();  // the second one's query finds the window full: nothing starts early
  CHECK(f.flushes.size() == 2);  // both the first job's
  CHECK(f.stats("first") == statistics(1200, 0, 0, 1000, 200));
  CHECK(f.stats("second") == statistics(1200, 0, 0, 0, 1200));
  f.settle();
  CHECK(f.requests.size() == 1000);
  f.respond_all(200);
  f.settle();
  // The pump shares the window round-robin: the first job's last 200, then the second's.
  CHECK(f.requests.size() == 1000);
  CHECK(f.stats("first") == statistics(1200, 0, 1000, 200, 0));
  CHECK(f.stats("second") == statistics(1200, 0, 0, 800, 400));
  CHECK(f.flushes.size() == 2);
}

// With a durable store: test_hub_restart.cpp.
TEST_CASE_METHOD(jobs_fixture, "Jobs start no device while their query runs when paced or over twins", "[core][jobs]") {
  std::string id;
  SECTION("paced at the real hub's rate") {
    options.jobs.device_operations_per_second = 1000;
    h = std::make_unique<hub>(options, clk, ids, channel);
    id = "paced";
  }
  SECTION("a twin job") { id = "twins"; }
  add_locks(600, true);
  create(id == "twins" ? twin_job(id) : method_job(id));
  clk.run_due();  // the start: the query, no device yet
  CHECK(job(id)["status"] == "running");
  CHECK(stats(id) == statistics(600, 0, 0, 0, 600));
  CHECK(requests.empty());
  for (int i = 0; i < 10 && job(id)["status"] == "running"; ++i) {
    clk.advance(100ms);
    respond_all(200);
    settle();
  }
  CHECK(job(id)["status"] == "completed");
  CHECK(stats(id) == statistics(600, 0, 600, 0, 0));
  CHECK(flushes.empty());
}

TEST_CASE_METHOD(jobs_fixture, "A twin job over 10,000 devices completes in slices without copying twins",
                 "[core][jobs]") {
  for (int i = 0; i < 10000; ++i) {
    const std::string id = "dev" + std::to_string(100000 + i);
    h->create_or_update_identity(id, {}, std::nullopt);
  }
  create(twin_job("fleet", "*"));
  // One round of the clock starts at most one slice: the job yields between slices.
  clk.run_due();
  clk.run_due();
  CHECK(stats("fleet")["succeededCount"] <= 500);
  settle();
  CHECK(job("fleet")["status"] == "completed");
  CHECK(stats("fleet") == statistics(10000, 0, 10000, 0, 0));
  CHECK(h->registry().get_twin("dev109999")["properties"]["desired"]["floor"] == 3);
}

TEST_CASE_METHOD(jobs_fixture, "Optional pacing runs job device operations at the real hub's rate", "[core][jobs]") {
  options.jobs.device_operations_per_second = 10;  // S1
  h = std::make_unique<hub>(options, clk, ids, channel);
  for (int i = 0; i < 20; ++i) add_lock("d" + std::to_string(10 + i), 43, false);
  create(twin_job("paced"));
  clk.advance(1s);
  CHECK(stats("paced")["succeededCount"].get<int>() == 11);  // at 0.0, 0.1, ..., 1.0 s
  clk.advance(1s);
  CHECK(job("paced")["status"] == "completed");
}

TEST_CASE_METHOD(jobs_fixture, "Jobs are listed in creation order and filtered by type and status in any casing",
                 "[core][jobs]") {
  options.jobs.max_concurrent_jobs = 10;
  h = std::make_unique<hub>(options, clk, ids, channel);
  create(twin_job("t1"));
  settle();
  json body = method_job("m1");
  body["startTime"] = "2026-03-01T00:00:00Z";
  create(body);
  settle();
  auto ids_of = [](const std::vector<const scheduled_job*>& v) {
    std::vector<std::string> out;
    for (const auto* j : v) out.push_back(j->request.job_id);
    return out;
  };
  CHECK(ids_of(h->jobs().query_scheduled_jobs({}, {})) == std::vector<std::string>{"t1", "m1"});
  CHECK(ids_of(h->jobs().query_scheduled_jobs(parse_job_type("ScheduleDeviceMethod"), {})) == std::vector<std::string>{"m1"});
  CHECK(ids_of(h->jobs().query_scheduled_jobs({}, parse_job_status("Completed"))) == std::vector<std::string>{"t1"});
  CHECK(ids_of(h->jobs().query_scheduled_jobs(job_type::schedule_update_twin, job_status::scheduled)).empty());
}

TEST_CASE_METHOD(jobs_fixture, "Finished jobs are kept 30 days, then forgotten with their records", "[core][jobs]") {
  add_lock("a", 43, false);
  create(twin_job("old"));
  settle();
  clk.advance(24h * 30 - 1s);
  CHECK(job("old")["status"] == "completed");
  clk.advance(1s);
  check_hub_error([&] { h->jobs().get_scheduled_job("old"); }, 404002, "'old'");
  CHECK(records("old").empty());
  create(twin_job("old"));  // the id is free again
}

TEST_CASE_METHOD(jobs_fixture, "Job requests are validated as the hub does", "[core][jobs]") {
  SECTION("duplicate job id: 409104") {
    create(twin_job("dup"));
    settle();
    check_hub_error([&] { create(twin_job("dup")); }, 409104, "'dup'");
  }
  SECTION("a query condition that does not parse: 400000") {
    check_hub_error([&] { create(twin_job("badq", "tags.building = ")); }, 400000, "");
    CHECK(h->jobs().active_jobs() == 0);
  }
  SECTION("table") {
    auto with = [](json body, const json::json_pointer& at, json value) {
      body[at] = std::move(value);
      return body;
    };
    const auto [body, code, phrase] = GENERATE_COPY(table<json, int, std::string>({
        {with(twin_job("x"), "/jobId"_json_pointer, "y"), 400004, "does not match"},
        {with(twin_job("x"), "/type"_json_pointer, "export"), 400000, "'export' is not supported"},
        {with(twin_job("x"), "/type"_json_pointer, nullptr), 400000, "type is missing"},
        {with(twin_job("x"), "/updateTwin/etag"_json_pointer, "AAAAAAAAAAE="), 400004, "must be \"*\""},
        {with(twin_job("x"), "/updateTwin/properties/reported"_json_pointer, json{{"a", 1}}), 400004, "not 'reported'"},
        {with(twin_job("x"), "/updateTwin/properties/desired"_json_pointer, json{{"bad.key", 1}}), 400004, "bad.key"},
        {with(twin_job("x"), "/updateTwin"_json_pointer, nullptr), 400005, "updateTwin is required"},
        {with(method_job("x"), "/cloudToDeviceMethod"_json_pointer, nullptr), 400005, "cloudToDeviceMethod is required"},
        {with(method_job("x"), "/cloudToDeviceMethod/responseTimeoutInSeconds"_json_pointer, 1), 400004, "between 5 and 300"},
        {with(twin_job("x"), "/queryCondition"_json_pointer, nullptr), 400005, "queryCondition is required"},
        {with(twin_job("x"), "/queryCondition"_json_pointer, ""), 400004, "non-empty"},
        {with(twin_job("x"), "/startTime"_json_pointer, "next tuesday"), 400004, "'next tuesday'"},
        {with(twin_job("x"), "/maxExecutionTimeInSeconds"_json_pointer, 0), 400004, "positive integer"},
    }));
    CAPTURE(body.dump());
    check_hub_error([&] { job_request::from_json(body, "x", clk.now()); }, code, phrase);
  }
  SECTION("job ids: 64 of letters, digits and '-'") {
    job_request::from_json(twin_job(std::string(64, 'a')), std::string(64, 'a'), clk.now());
    job_request::from_json(twin_job("Door-Lock-9"), "Door-Lock-9", clk.now());
    for (const std::string& bad : {std::string(65, 'a'), std::string("a_b"), std::string("a b"), std::string("")})
      check_hub_error([&] { job_request::from_json(twin_job(bad), bad, clk.now()); }, 400004, "is not valid");
  }
  SECTION("a start time in the past means now") {
    json body = twin_job("past");
    body["startTime"] = "2020-01-01T00:00:00Z";
    create(body);
    settle();
    CHECK(job("past")["status"] == "completed");
  }
}
