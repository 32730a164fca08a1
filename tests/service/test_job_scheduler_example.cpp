// The job_scheduler example (build/bin/job_scheduler) run as a process against a hub in this
// process (system clock: the example waits in real time between polls), with door locks
// answering over MQTT. Its exit code says whether every device did its part.
#include <catch2/catch.hpp>

#include "integration/run_program.hpp"
#include "service_fixture.hpp"

using namespace mockhub;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using test::run_result;

struct example_fixture : test::service_fixture {
  test::temp_dir dir;

  example_fixture() : service_fixture(test::hub_options(false)) {}

  std::vector<std::string> hub_arguments() {
    return {"--connection-string", hub.service_connection_string(), "--endpoint",
            "https://127.0.0.1:" + std::to_string(hub.https_port()), "--ca-file", hub.ca_file().string()};
  }

  run_result run(std::vector<std::string> arguments) { return test::run_program(dir, MOCKHUB_JOB_SCHEDULER, std::move(arguments)); }
};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<std::string> quick = {"--twin-delay", "0", "--method-delay", "0", "--poll-interval", "20", "--job-timeout", "60"};

}  // namespace

TEST_CASE_METHOD(example_fixture, "job_scheduler locks every door of building 43 and sets their desired properties",
                 "[service][example][e2e]") {
  std::vector<std::unique_ptr<test::door_lock>> locks;
  for (const char* id : {"lock1", "lock2", "lock3"}) locks.push_back(connect_lock(id, 43));
  auto elsewhere = connect_lock("lock9", 44);

  const run_result r = run(plus(hub_arguments(), quick));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("Devices         = 3 lock1 lock2 lock3"));
  CHECK_THAT(r.output, Catch::Contains("Both jobs completed on every device."));
  CHECK_THAT(r.output, Catch::Contains("lock2: completed, device answered 200 {\"Response\":\"lockDoor called successfully\"}"));
  for (auto& lock : locks) {
    CHECK(lock->lock_requests() == std::vector<json>{{{"lockTime", "10m"}}});
    REQUIRE(lock->wait_desired_patches(1));
    CHECK(lock->desired_patches() == std::vector<json>{{{"building", 43}, {"floor", 3}, {"$version", 2}}});
  }
  CHECK(elsewhere->lock_requests().empty());

  // Both jobs, one after the other (S1), each completed on the three locks.
  const auto jobs = hub.call([](core::hub& h) {
    std::vector<json> out;
    for (const auto* j : h.jobs().query_scheduled_jobs(std::nullopt, std::nullopt)) out.push_back(*j);
    return out;
  });
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0]["type"] == "scheduleUpdateTwin");
  CHECK(jobs[1]["type"] == "scheduleDeviceMethod");
  for (const auto& j : jobs) {
    CHECK(j["status"] == "completed");
    CHECK(j["deviceJobStatistics"] ==
          json{{"deviceCount", 3}, {"failedCount", 0}, {"succeededCount", 3}, {"runningCount", 0}, {"pendingCount", 0}});
  }
}

TEST_CASE_METHOD(example_fixture, "job_scheduler exits non-zero when a lock is offline", "[service][example][e2e]") {
  auto online = connect_lock("lock1", 43);
  register_device("lock2", {{"building", 43}});  // offline

  const run_result r = run(plus(hub_arguments(), quick));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("lock2: failed, DeviceNotOnline: Timed out waiting for device to connect."));
  CHECK_THAT(r.output, Catch::Contains("Some devices did not complete."));
  CHECK(online->lock_requests().size() == 1);
}

TEST_CASE_METHOD(example_fixture, "job_scheduler reports usage, empty selections and unreachable hubs by exit code",
                 "[service][example]") {
  SECTION("no connection string: 2") {
    CHECK(run({"--endpoint", "https://127.0.0.1:1"}).exit_code == 2);
  }
  SECTION("no device matches: 1") {
    const run_result r = run(plus(hub_arguments(), {"--query", "tags.building = 99"}));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("no device matches 'tags.building = 99'"));
  }
  SECTION("the hub's certificate is not trusted without its CA: 3") {
    const run_result r = run({"--connection-string", hub.service_connection_string(), "--endpoint",
                              "https://127.0.0.1:" + std::to_string(hub.https_port())});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Catch::Contains("the hub's certificate is not trusted"));
  }
  SECTION("a query the hub refuses: 3") {
    const run_result r = run(plus(hub_arguments(), {"--query", "tags.building ="}));
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Catch::Contains("400000 GenericBadRequest"));
  }
}
