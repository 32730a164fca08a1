// `mockhub job create|show|list|cancel|watch` run as processes against a hub in this process
// (system clock: jobs starting `now` run at once).
#include <catch2/catch.hpp>

#include "admin_process.hpp"

using namespace mockhub;
using nlohmann::json;

namespace {

// The last line of a text ending with a newline.
std::string last_line(const std::string& text) {
  const std::size_t end = text.size() > 0 && text.back() == '\n' ? text.size() - 1 : text.size();
  const std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
}

const std::string far_future = "2099-01-01T00:00:00Z";

}  // namespace

TEST_CASE("job create --wait runs a twin job to completion with a line per change and exit 0", "[admin][job]") {
  test::admin_fixture f;
  f.register_device("lock1", {{"building", 43}});
  f.register_device("lock2", {{"building", 43}});

  const auto r = f.run({"job", "create", "--job-id", "floor3", "--job-type", "scheduleUpdateTwin", "--query-condition",
                        "tags.building = 43", "--twin-patch", R"({"properties":{"desired":{"floor":3}}})", "--wait",
                        "--poll-interval", "0.05"});
  REQUIRE(r.exit_code == 0);
  const json job = r.json();
  CHECK(job == f.client->jobs().get_job("floor3").document);
  CHECK(job["status"] == "completed");
  CHECK(job["type"] == "scheduleUpdateTwin");
  CHECK(job["deviceJobStatistics"]["deviceCount"] == 2);
  CHECK(job["deviceJobStatistics"]["succeededCount"] == 2);
  // Not a terminal: plain lines, the last the final status.
  CHECK(r.err.find('\r') == std::string::npos);
  CHECK(r.err.find("job floor3 completed: 2/2 devices done (2 succeeded, 0 failed, 0 pending, 0 running)\n") != std::string::npos);
  CHECK(last_line(r.err) == "job floor3 completed: 2 devices, 2 succeeded, 0 failed");
  CHECK(f.client->twins().get_twin("lock2").desired["floor"] == 3);

  SECTION("show, list, table") {
    CHECK(f.run({"job", "show", "-j", "floor3"}).json() == job);
    CHECK(f.run({"job", "list"}).json() == json::array({job}));
    CHECK(f.run({"job", "list", "--job-type", "scheduleDeviceMethod"}).json() == json::array());
    CHECK(f.run({"job", "list", "--job-status", "completed"}).json() == json::array({job}));
    const auto table = f.run({"job", "show", "-j", "floor3", "-o", "table"});
    CHECK(table.out.starts_with("JobId   Type                Status     StartTime"));
    CHECK(table.out.find("\nfloor3  scheduleUpdateTwin  completed  " + job["startTime"].get<std::string>() + "  " +
                         job["endTime"].get<std::string>() + "  2  ") != std::string::npos);
  }
  SECTION("cancelling a finished job is 412003") {
    const auto cancel = f.run({"job", "cancel", "-j", "floor3"});
    CHECK(cancel.exit_code == 1);
    CHECK(cancel.err.starts_with("error: 412 412003 JobRunPreconditionFailed: "));
  }
  SECTION("watching a finished job prints one line and the job") {
    const auto watched = f.run({"job", "watch", "-j", "floor3"});
    CHECK(watched.exit_code == 0);
    CHECK(watched.json() == job);
    CHECK(watched.err ==
          "job floor3 completed: 2/2 devices done (2 succeeded, 0 failed, 0 pending, 0 running)\n"
          "job floor3 completed: 2 devices, 2 succeeded, 0 failed\n");
  }
}

TEST_CASE("a method job on offline devices fails them - a cancelled job watches to exit 1", "[admin][job]") {
  test::admin_fixture f;
  f.register_device("lock1", {{"building", 43}});

  SECTION("method job: the offline device fails, the job completes") {
    const auto r = f.run({"job", "create", "-j", "lock-all", "--job-type", "scheduleDeviceMethod", "-q", "tags.building = 43",
                          "--method-name", "lockDoor", "--method-payload", R"({"lockTime":"10m"})", "--mct", "0", "--wait",
                          "--poll-interval", "0.05"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.json()["cloudToDeviceMethod"]["methodName"] == "lockDoor");
    CHECK(last_line(r.err) == "job lock-all completed: 1 devices, 0 succeeded, 1 failed");
  }
  SECTION("scheduled ahead, cancelled, watched") {
    const auto created = f.run({"job", "create", "-j", "later", "--job-type", "scheduleDeviceMethod", "-q", "*", "--method-name",
                                "lockDoor", "--start-time", far_future});
    REQUIRE(created.exit_code == 0);
    CHECK(created.json()["status"] == "queued");
    const auto cancelled = f.run({"job", "cancel", "-j", "later"});
    REQUIRE(cancelled.exit_code == 0);
    CHECK(cancelled.json()["status"] == "cancelled");
    const auto watched = f.run({"job", "watch", "-j", "later"});
    CHECK(watched.exit_code == 1);
    CHECK(watched.json()["status"] == "cancelled");
    CHECK(last_line(watched.err) == "job later cancelled: 0 devices, 0 succeeded, 0 failed");
  }
  SECTION("errors") {
    const auto unknown = f.run({"job", "show", "-j", "ghost"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err == "error: 404 404002 JobNotFound: Job 'ghost' does not exist.\n");

    const auto bad_time = f.run({"job", "create", "-j", "j", "--job-type", "scheduleDeviceMethod", "-q", "*", "--method-name",
                                 "lockDoor", "--start-time", "tomorrow"});
    CHECK(bad_time.exit_code == 2);
    CHECK(bad_time.err == "error: --start-time: not an ISO-8601 time or `now`: tomorrow\n");

    const auto no_method = f.run({"job", "create", "-j", "j", "--job-type", "scheduleDeviceMethod", "-q", "*"});
    CHECK(no_method.exit_code == 2);
    CHECK(no_method.err == "error: --method-name: needed by a scheduleDeviceMethod job\n");

    const auto no_patch = f.run({"job", "create", "-j", "j", "--job-type", "scheduleUpdateTwin", "-q", "*"});
    CHECK(no_patch.exit_code == 2);
    CHECK(no_patch.err == "error: --twin-patch: needed by a scheduleUpdateTwin job\n");

    const auto bad_patch = f.run({"job", "create", "-j", "j", "--job-type", "scheduleUpdateTwin", "-q", "*", "--twin-patch", "[1"});
    CHECK(bad_patch.exit_code == 2);
    CHECK(bad_patch.err == "error: --twin-patch: not valid JSON: [1\n");

    const auto bad_type = f.run({"job", "create", "-j", "j", "--job-type", "export", "-q", "*"});
    CHECK(bad_type.exit_code == 2);
    CHECK(bad_type.err.find("--job-type") != std::string::npos);

    const auto bad_id = f.run({"job", "create", "-j", "no spaces", "--job-type", "scheduleDeviceMethod", "-q", "*", "--method-name", "m"});
    CHECK(bad_id.exit_code == 1);
    CHECK(bad_id.err.starts_with("error: 400 400004 ArgumentInvalid: "));
    CHECK(f.client->jobs().query_jobs().to_vector().empty());
  }
}
