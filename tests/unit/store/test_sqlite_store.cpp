// The SQLite hub store (mock_hub/store): every record type written and read back, the schema
// version and damaged-file refusals, owner-only files, write failures reported as 500001.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>

#include "integration/temp_dir.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/store/sqlite_store.hpp"

using namespace mockhub;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

core::time_point at(std::int64_t seconds) { return core::time_point(std::chrono::seconds(1'700'000'000 + seconds)); }

// Runs SQL on the file through a connection of its own (what another program could do to it).
void sql(const std::filesystem::path& file, const std::string& text) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::string refusal(const std::filesystem::path& file) {
  try {
    store::sqlite_store s({.file = file});
    s.load();
  } catch (const store::store_error& e) {
    return e.what();
  }
  return "(opened)";
}

core::device_identity identity(const std::string& id) {
  core::device_identity d;
  d.device_id = id;
  d.generation_id = "638000000000000001";
  d.etag = "MTIzNDU2Nzg5";
  d.status = core::device_status::disabled;
  d.status_reason = "maintenance";
  d.status_updated_time = at(1) + 123456789ns;
  d.last_activity_time = at(2);
  d.primary_key = "cHJpbWFyeS1rZXktMTIzNDU2Nzg=";
  d.secondary_key = "c2Vjb25kYXJ5LWtleS0xMjM0NTY=";
  d.iot_edge = true;
  d.device_scope = "ms-azure-iot-edge://edge-1";
  d.parent_scopes = {"ms-azure-iot-edge://edge-1"};
  return d;
}

}  // namespace

TEST_CASE("The SQLite store gives back every record type exactly as written", "[store]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  const json twin = {{"deviceId", "d1"}, {"etag", "AAAAAAAAAAM="}, {"version", 4}, {"tags", {{"floor", 3}}},
                     {"properties", {{"desired", {{"$version", 2}}}, {"reported", {{"$version", 1}}}}}};
  core::scheduled_job job;
  job.request = core::job_request::from_json(
      {{"type", "scheduleDeviceMethod"},
       {"cloudToDeviceMethod", {{"methodName", "lockDoor"}, {"payload", {{"force", true}}}, {"responseTimeoutInSeconds", 12}}},
       {"queryCondition", "tags.building = 43"},
       {"maxExecutionTimeInSeconds", 600}},
      "lock-all", at(0));
  job.status = core::job_status::running;
  job.created_time = at(0) + 5ms;
  job.start_time = at(10);
  core::stored_device_run done{"d1", core::device_job_status::completed, at(11), at(12), at(12),
                               core::method_result{200, {{"locked", true}}}, std::nullopt};
  core::stored_device_run failed{"d2", core::device_job_status::failed, at(11), at(41), at(41), std::nullopt,
                                 std::make_pair(std::string("GatewayTimeout"), std::string("Timed out"))};
  core::cloud_to_device_message message;
  message.body = std::string("\x00\xff binary", 9);
  message.message_id = "m-1";
  message.ack = "full";
  message.application = {{"k", "v"}, {"flag", std::nullopt}};
  message.expiry = at(3600);
  message.to = "/devices/d1/messages/devicebound";
  {
    store::sqlite_store s({.file = file});
    CHECK(s.load().boot == 0);
    s.put_device(identity("d1"), core::packed_json(twin).view());
    s.put_device(identity("gone"), core::packed_json(twin).view());
    s.delete_device("gone");
    s.put_policies(std::vector<core::shared_access_policy>{
        {.name = "ops", .primary_key = "a2V5LWEtMTIzNDU2Nzg5MA==", .secondary_key = "a2V5LWItMTIzNDU2Nzg5MA==",
         .rights = core::permission::registry_read | core::permission::service_connect}});
    s.put_job({job, at(10) + 1ms});
    s.put_device_run("lock-all", done);
    s.put_device_run("lock-all", failed);
    s.put_cloud_to_device({"d1", 7, message});
    s.put_cloud_to_device({"d1", 8, message});
    s.delete_cloud_to_device("d1", 8);
  }
  store::sqlite_store s({.file = file});
  const auto state = s.load();
  CHECK(state.boot == 1);
  REQUIRE(state.devices.size() == 1);
  const auto& d = state.devices[0].identity;
  const auto want = identity("d1");
  CHECK(json(d) == json(want));
  CHECK(d.status_updated_time == want.status_updated_time);  // to the nanosecond
  CHECK(state.devices[0].twin == twin);

  REQUIRE(state.policies);
  REQUIRE(state.policies->size() == 1);
  CHECK(state.policies->at(0).name == "ops");
  CHECK(state.policies->at(0).secondary_key == "a2V5LWItMTIzNDU2Nzg5MA==");
  CHECK(state.policies->at(0).rights == (core::permission::registry_read | core::permission::service_connect));

  REQUIRE(state.jobs.size() == 1);
  CHECK(json(state.jobs[0].job) == json(job));
  CHECK(state.jobs[0].job.created_time == job.created_time);
  CHECK(state.jobs[0].run_started == at(10) + 1ms);
  REQUIRE(state.job_devices.at("lock-all").size() == 2);
  const auto& r1 = state.job_devices.at("lock-all")[0];
  CHECK(r1.device_id == "d1");
  CHECK(r1.status == core::device_job_status::completed);
  CHECK(r1.end_time == at(12));
  CHECK(json(*r1.outcome) == json{{"status", 200}, {"payload", {{"locked", true}}}});
  const auto& r2 = state.job_devices.at("lock-all")[1];
  CHECK(r2.error == std::make_pair(std::string("GatewayTimeout"), std::string("Timed out")));

  REQUIRE(state.cloud_to_device.size() == 1);
  CHECK(state.cloud_to_device[0].sequence == 7);
  CHECK(state.cloud_to_device[0].message.body == message.body);
  CHECK(state.cloud_to_device[0].message.application == message.application);
  CHECK(state.cloud_to_device[0].message.expiry == message.expiry);
  CHECK(json(state.cloud_to_device[0].message) == json(message));

  SECTION("deleting a job takes its device records along; deleting every job empties both") {
    s.delete_job("lock-all");
    auto after = store::sqlite_store({.file = file}).load();
    CHECK(after.jobs.empty());
    CHECK(after.job_devices.empty());
    s.put_job({job, std::nullopt});
    s.put_device_run("lock-all", done);
    s.delete_all_jobs();
    after = store::sqlite_store({.file = file}).load();
    CHECK(after.jobs.empty());
    CHECK(after.job_devices.empty());
    CHECK(after.boot == 3);
  }
}

TEST_CASE("The data file and its directory are owner-only, and the database is in WAL mode", "[store]") {
  test::temp_dir dir;
  const auto file = dir / "state" / "hub.db";
  store::sqlite_store s({.file = file});
  s.load();
  struct stat st{};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / "state").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((dir / "state" / "hub.db-wal").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("A data file written by a newer mockhub is refused, naming both schema versions", "[store]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  { store::sqlite_store({.file = file}).load(); }
  sql(file, "PRAGMA user_version = 7");
  CHECK(refusal(file) == "the mockhub data file " + file.string() +
                             " was written by a newer mockhub (schema version 7; this mockhub reads version 1 and "
                             "older); run that newer mockhub, or choose another --data-dir");
}

TEST_CASE("A damaged data file, or a database that is not mockhub's, is refused with a clear message", "[store]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  SECTION("not a database at all") {
    std::ofstream(file) << std::string(8192, 'x');
    CHECK_THAT(refusal(file), Catch::StartsWith("the mockhub data file " + file.string() +
                                                " is damaged or is not a SQLite database (") &&
                                  Catch::EndsWith("); move it away to start with an empty hub, or restore a copy"));
  }
  SECTION("a SQLite database of another program") {
    sql(file, "CREATE TABLE notes (t TEXT)");
    CHECK(refusal(file) == "the mockhub data file " + file.string() +
                               " is a SQLite database but not mockhub's; choose another --data-dir");
  }
  SECTION("a record that does not parse names the record") {
    { store::sqlite_store({.file = file}).load(); }
    sql(file, "INSERT INTO devices VALUES ('d9', '{not json', '{}')");
    CHECK_THAT(refusal(file), Catch::StartsWith("cannot read the mockhub data file " + file.string() +
                                                ": device 'd9' is damaged ("));
  }
}

TEST_CASE("A write the data file refuses fails the operation with 500001 and leaves the store usable", "[store]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  store::sqlite_store s({.file = file});
  s.load();
  sql(file, "DROP TABLE cloud_to_device");
  try {
    s.put_cloud_to_device({"d1", 1, {}});
    FAIL("the write succeeded");
  } catch (const core::hub_error& e) {
    CHECK(e.code() == 500001);
    CHECK_THAT(std::string(e.message()),
               Catch::StartsWith("mockhub could not write its data file " + file.string() + ": "));
  }
  // Put right, the same store writes again.
  sql(file, "CREATE TABLE cloud_to_device (device_id TEXT NOT NULL, sequence INTEGER NOT NULL, message TEXT NOT NULL, "
            "PRIMARY KEY (device_id, sequence)) WITHOUT ROWID");
  s.put_cloud_to_device({"d1", 1, {}});
  store::sqlite_store again({.file = file});
  CHECK(again.load().cloud_to_device.size() == 1);
}
