// Scheduled jobs through the service library on a virtual-clock hub: the tutorial's scenario end
// to end with real MQTT door locks, and every job operation.
#include <catch2/catch.hpp>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using namespace std::chrono_literals;
using test::hub_error_of;
using test::service_fixture;

namespace {

std::vector<device_job_record> records_by_device(job_client& jobs, const std::string& job_id) {
  auto records = jobs.device_job_records(job_id, 100).to_vector();
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.device_id < b.device_id; });
  return records;
}

}  // namespace

TEST_CASE_METHOD(service_fixture, "The tutorial: a twin job then a lockDoor job over the locks of building 43",
                 "[service][jobs][e2e]") {
  std::vector<std::unique_ptr<test::door_lock>> locks;
  for (const char* id : {"lock1", "lock2", "lock3"}) locks.push_back(connect_lock(id, 43));
  auto elsewhere = connect_lock("lock9", 44);
  const auto t0 = hub.now();
  REQUIRE(core::format_time(t0) == "2026-01-01T00:00:00.0000000Z");

  // scheduleJobService.py: the twin update 10 s after start, the method 20 s after start. The hub
  // is S1 (one active job), so the method job is scheduled once the twin job has finished.
  std::vector<std::string> twin_progress;
  const job_response twin_created = client->jobs().schedule_twin_update(
      {.job_id = "twin-job", .query_condition = "tags.building = 43",
       .patch = {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}}, .start_time = t0 + 10s});
  CHECK(twin_created.job_id == "twin-job");
  CHECK(twin_created.type == job_type::schedule_update_twin);
  CHECK(twin_created.status == job_status::queued);  // then scheduled, as the docs' example
  CHECK(twin_created.start_time == "2026-01-01T00:00:10.0000000Z");
  CHECK(twin_created.update_twin == json{{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}, {"etag", "*"}});

  SECTION("S1 refuses a second active job: 429004") {
    const auto e = hub_error_of([&] {
      client->jobs().schedule_device_method(
          {.job_id = "method-job", .query_condition = "tags.building = 43", .method = {.method_name = "lockDoor"}});
    });
    CHECK(e.http_status() == 429);
    CHECK(e.error_code() == 429004);
    CHECK(e.error_name() == "ThrottlingMaxActiveJobCountExceeded");
  }

  const job_response twin_done = client->jobs().wait_for_completion(
      "twin-job", {.poll_interval = 1s,
                   .on_progress = [&](const job_response& j) { twin_progress.push_back(std::string(to_string(j.status))); },
                   .pause = advance_pause("twin-job")});
  CHECK(twin_done.status == job_status::completed);
  CHECK(twin_done.statistics ==
        job_statistics{.device_count = 3, .failed_count = 0, .succeeded_count = 3, .running_count = 0, .pending_count = 0});
  CHECK(twin_done.start_time == "2026-01-01T00:00:10.0000000Z");
  CHECK(twin_done.end_time == "2026-01-01T00:00:10.0000000Z");
  // Polled every virtual second: scheduled at 0..9 s, done at 10 s.
  CHECK(twin_progress == std::vector<std::string>{"scheduled", "scheduled", "scheduled", "scheduled", "scheduled", "scheduled",
                                                  "scheduled", "scheduled", "scheduled", "scheduled", "completed"});
  for (auto& lock : locks) {
    REQUIRE(lock->wait_desired_patches(1));
    CHECK(lock->desired_patches() == std::vector<json>{{{"building", 43}, {"floor", 3}, {"$version", 2}}});
  }
  CHECK(elsewhere->desired_patches().empty());

  const auto twin_records = records_by_device(client->jobs(), "twin-job");
  REQUIRE(twin_records.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(twin_records[i].device_id == "lock" + std::to_string(i + 1));
    CHECK(twin_records[i].job_id == "twin-job");
    CHECK(twin_records[i].type == job_type::schedule_update_twin);
    CHECK(twin_records[i].status == device_job_status::completed);
    CHECK(twin_records[i].start_time == "2026-01-01T00:00:10.0000000Z");
    CHECK(twin_records[i].end_time == "2026-01-01T00:00:10.0000000Z");
    CHECK(twin_records[i].created_time == "2026-01-01T00:00:00.0000000Z");
    CHECK_FALSE(twin_records[i].outcome);
    CHECK_FALSE(twin_records[i].error);
  }

  // Now at 10 s: the method job starts at 20 s.
  const job_response method_created = client->jobs().schedule_device_method(
      {.job_id = "method-job", .query_condition = "tags.building = 43",
       .method = {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}, .response_timeout = 60s},
       .start_time = t0 + 20s});
  CHECK(method_created.status == job_status::queued);
  REQUIRE(method_created.method);
  CHECK(method_created.method->method_name == "lockDoor");
  CHECK(method_created.method->payload == json{{"lockTime", "10m"}});
  CHECK(method_created.method->response_timeout == 60s);
  CHECK(method_created.max_execution_time_seconds == 3600);

  const job_response method_done =
      client->jobs().wait_for_completion("method-job", {.poll_interval = 1s, .pause = advance_pause("method-job")});
  CHECK(method_done.status == job_status::completed);
  CHECK(method_done.statistics ==
        job_statistics{.device_count = 3, .failed_count = 0, .succeeded_count = 3, .running_count = 0, .pending_count = 0});
  CHECK(method_done.start_time == "2026-01-01T00:00:20.0000000Z");
  CHECK(method_done.end_time == "2026-01-01T00:00:20.0000000Z");
  for (auto& lock : locks) CHECK(lock->lock_requests() == std::vector<json>{{{"lockTime", "10m"}}});
  CHECK(elsewhere->lock_requests().empty());

  const auto method_records = records_by_device(client->jobs(), "method-job");
  REQUIRE(method_records.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(method_records[i].device_id == "lock" + std::to_string(i + 1));
    CHECK(method_records[i].type == job_type::schedule_device_method);
    CHECK(method_records[i].status == device_job_status::completed);
    REQUIRE(method_records[i].outcome);
    CHECK(*method_records[i].outcome == method_response{200, {{"Response", "lockDoor called successfully"}}});
    CHECK(method_records[i].start_time == "2026-01-01T00:00:20.0000000Z");
    CHECK(method_records[i].end_time == "2026-01-01T00:00:20.0000000Z");
  }

  // Listing and filtering.
  const auto all = client->jobs().query_jobs().to_vector();
  REQUIRE(all.size() == 2);
  CHECK(all[0].job_id == "twin-job");
  CHECK(all[1].job_id == "method-job");
  const auto methods =
      client->jobs().query_jobs({.type = job_type::schedule_device_method, .status = job_status::completed}).to_vector();
  REQUIRE(methods.size() == 1);
  CHECK(methods[0].job_id == "method-job");
  CHECK(client->jobs().query_jobs({.status = job_status::running}).to_vector().empty());
  CHECK(client->jobs().query_jobs({.type = job_type::schedule_update_twin}).to_vector().size() == 1);
}

TEST_CASE_METHOD(service_fixture, "A method job on an offline lock fails that device with DeviceNotOnline",
                 "[service][jobs][e2e]") {
  auto online = connect_lock("lock1", 43);
  register_device("lock2", {{"building", 43}});  // registered, never connected

  client->jobs().schedule_device_method(
      {.job_id = "lock-all", .query_condition = "tags.building = 43", .method = {.method_name = "lockDoor"}});
  const job_response done = client->jobs().wait_for_completion("lock-all", {.poll_interval = 1s, .pause = advance_pause("lock-all")});
  CHECK(done.status == job_status::completed);
  CHECK(done.statistics ==
        job_statistics{.device_count = 2, .failed_count = 1, .succeeded_count = 1, .running_count = 0, .pending_count = 0});
  const auto records = records_by_device(client->jobs(), "lock-all");
  REQUIRE(records.size() == 2);
  CHECK(records[0].status == device_job_status::completed);
  CHECK(records[1].device_id == "lock2");
  CHECK(records[1].status == device_job_status::failed);
  CHECK_FALSE(records[1].outcome);
  REQUIRE(records[1].error);
  CHECK(*records[1].error ==
        device_job_record::failure{.code = "DeviceNotOnline", .description = "Timed out waiting for device to connect."});
}

TEST_CASE_METHOD(service_fixture, "Jobs are read, cancelled and refused with the hub's codes", "[service][jobs]") {
  register_device("lock1", {{"building", 43}});
  const job_response created = client->jobs().schedule_device_method(
      {.job_id = "later", .query_condition = "*", .method = {.method_name = "lockDoor"}, .start_time = hub.now() + 1h});
  CHECK(created.status == job_status::queued);
  CHECK(created.query_condition == "*");
  CHECK(created.created_time == "2026-01-01T00:00:00.0000000Z");
  CHECK(created.start_time == "2026-01-01T01:00:00.0000000Z");
  const job_response read = client->jobs().get_job("later");
  CHECK(read.status == job_status::scheduled);
  json expected = created.document;
  expected["status"] = "scheduled";
  CHECK(read.document == expected);

  SECTION("cancel") {
    const job_response cancelled = client->jobs().cancel_job("later");
    CHECK(cancelled.status == job_status::cancelled);
    CHECK(cancelled.finished());
    CHECK(client->jobs().get_job("later").status == job_status::cancelled);
    // The cancelled job no longer counts: another may be scheduled.
    CHECK(client->jobs().schedule_device_method(
                  {.job_id = "next", .query_condition = "*", .method = {.method_name = "lockDoor"}, .start_time = hub.now() + 1h})
              .status == job_status::queued);
    CHECK(client->jobs().query_jobs({.status = job_status::cancelled}).to_vector().size() == 1);
  }
  SECTION("an unknown job is 404002 JobNotFound") {
    const auto e = hub_error_of([&] { client->jobs().get_job("nope"); });
    CHECK(e.http_status() == 404);
    CHECK(e.error_code() == 404002);
    CHECK(e.error_name() == "JobNotFound");
    CHECK(hub_error_of([&] { client->jobs().cancel_job("nope"); }).error_code() == 404002);
  }
  SECTION("the same id again is 409104 JobAlreadyExists") {
    client->jobs().cancel_job("later");
    const auto e = hub_error_of([&] {
      client->jobs().schedule_device_method({.job_id = "later", .query_condition = "*", .method = {.method_name = "lockDoor"}});
    });
    CHECK(e.error_code() == 409104);
    CHECK(e.error_name() == "JobAlreadyExists");
  }
  SECTION("a job id with characters jobs do not allow is 400004") {
    client->jobs().cancel_job("later");
    const auto e = hub_error_of([&] {
      client->jobs().schedule_twin_update({.job_id = "bad_id", .query_condition = "*", .patch = {{"tags", {{"a", 1}}}}});
    });
    CHECK(e.error_code() == 400004);
  }
  SECTION("a completed job cannot be cancelled: 412003") {
    client->jobs().cancel_job("later");
    client->jobs().schedule_twin_update({.job_id = "now", .query_condition = "*", .patch = {{"tags", {{"floor", 3}}}}});
    REQUIRE(client->jobs().wait_for_completion("now", {.pause = advance_pause("now")}).status == job_status::completed);
    const auto e = hub_error_of([&] { client->jobs().cancel_job("now"); });
    CHECK(e.error_code() == 412003);
    CHECK(e.error_name() == "JobRunPreconditionFailed");
  }
  SECTION("waiting gives up after its timeout and returns the unfinished job") {
    const job_response still =
        client->jobs().wait_for_completion("later", {.poll_interval = 1s, .timeout = 0ms, .pause = advance_pause("later")});
    CHECK(still.status == job_status::scheduled);
    CHECK_FALSE(still.finished());
  }
}
