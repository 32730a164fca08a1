// The hub core on a SQLite store, stopped and rebuilt on the same file, on virtual clocks: what
// was acknowledged is there, jobs resume (no device run twice, statistics add up), scheduled jobs
// start on time, waiting cloud-to-device messages are delivered. And how writes are batched.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "integration/temp_dir.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/store/sqlite_store.hpp"

using namespace mockhub;
using namespace mockhub::core;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct recording_channel final : device_channel {
  std::vector<std::pair<std::string, std::string>> method_requests;  // device, request id
  std::vector<std::pair<std::string, std::string>> messages;         // device, body
  void send_desired_patch(std::string_view, const json&) override {}
  void send_method_request(std::string_view device, std::string_view, std::string_view rid, const json&) override {
    method_requests.emplace_back(device, rid);
  }
  void send_cloud_to_device(std::string_view device, const cloud_to_device_message& m) override {
    messages.emplace_back(device, m.body);
  }
  void identity_changed(std::string_view, const device_identity*) override {}
  void disconnect(std::string_view) override {}
  int flushes = 0;
  void flush() override { ++flushes; }
};

// One run of a hub process: its clock, ids, channel, store and core. Destroying it is the hub
// going away; the next life opens the same file with a clock of its own.
struct hub_life {
  hub_life(const std::filesystem::path& file, time_point start, hub_options options = {})
      : clk(start), store({.file = file}), h(std::move(options), clk, ids, channel, store) {}
  virtual_clock clk;
  id_source ids{7};
  recording_channel channel;
  store::sqlite_store store;
  hub h;
  std::uint64_t generation = 0;

  void connect(const std::string& id) {
    connection_info info;
    info.generation = ++generation;
    h.device_connected(id, info);
    h.device_subscribed(id, info.generation, device_subscription::methods);
    h.device_subscribed(id, info.generation, device_subscription::cloud_to_device);
  }
  json records(const std::string& job_id) {
    json out = json::object();
    for (const auto& r : h.query("SELECT * FROM devices.jobs").items)
      if (r["jobId"] == job_id) out[r["deviceId"].get<std::string>()] = r;
    return out;
  }
};

job_request method_job(const std::string& id, time_point now, std::optional<time_point> start = {}) {
  json body = {{"type", "scheduleDeviceMethod"},
               {"cloudToDeviceMethod", {{"methodName", "lockDoor"}}},
               {"queryCondition", "*"}};
  auto r = job_request::from_json(body, id, now);
  r.start_time = start;
  return r;
}

job_request twin_job(const std::string& id, time_point now, std::optional<time_point> start = {}) {
  json body = {{"type", "scheduleUpdateTwin"},
               {"updateTwin", {{"etag", "*"}, {"properties", {{"desired", {{"floor", 3}}}}}}},
               {"queryCondition", "*"}};
  auto r = job_request::from_json(body, id, now);
  r.start_time = start;
  return r;
}

}  // namespace

TEST_CASE("A hub rebuilt on its data file has every acknowledged write: identities, keys, twins, etags, policies",
          "[store][restart]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  const time_point t0 = virtual_clock::default_start();
  json identities, twins;
  std::vector<shared_access_policy> policies;
  {
    hub_life life(file, t0);
    auto& h = life.h;
    h.create_or_update_identity("d1", {}, std::nullopt);
    device_identity_request disabled;
    disabled.status = device_status::disabled;
    h.create_or_update_identity("d2", disabled, std::nullopt);
    h.create_or_update_identity("d3", {}, std::nullopt);
    h.delete_identity("d3", std::nullopt);
    life.clk.advance(5s);
    h.update_twin("d1", {{"tags", {{"building", 43}}}, {"properties", {{"desired", {{"mode", "eco"}}}}}}, std::nullopt);
    h.device_update_reported("d1", {{"lockState", "locked"}});
    h.policies().add_policy({.name = "ops", .rights = permission::registry_read});
    h.policies().remove_policy("device");
    for (const auto* id : {"d1", "d2"}) {
      identities[id] = h.registry().get_identity(id);
      twins[id] = h.registry().get_twin(id);
    }
    policies.assign(h.policies().list().begin(), h.policies().list().end());
  }
  hub_life life(file, t0 + 1h);
  auto& h = life.h;
  CHECK(h.registry().size() == 2);
  CHECK(h.registry().find("d3") == nullptr);
  // lastActivityTime and the connection state describe the connections of a run: not kept.
  for (const auto* id : {"d1", "d2"}) {
    json identity = h.registry().get_identity(id);
    json twin = h.registry().get_twin(id);
    for (auto* j : {&identity, &twin, &identities[id], &twins[id]}) j->erase("lastActivityTime");
    CHECK(identity == identities[id]);
    CHECK(twin == twins[id]);
  }
  REQUIRE(h.policies().size() == policies.size());
  for (std::size_t i = 0; i < policies.size(); ++i) {
    CHECK(h.policies().list()[i].name == policies[i].name);
    CHECK(h.policies().list()[i].primary_key == policies[i].primary_key);
    CHECK(h.policies().list()[i].rights == policies[i].rights);
  }
  // Versions and the twin etag go on from where they were.
  const json written = h.update_twin("d1", {{"tags", {{"building", 44}}}}, "\"AAAAAAAAAAI=\"").twin.to_json();
  CHECK(written["etag"] == "AAAAAAAAAAM=");
  CHECK(written["version"] == 5);
  CHECK(written["properties"]["reported"]["lockState"] == "locked");
}

TEST_CASE("Waiting cloud-to-device messages survive a restart and are delivered once, in order", "[store][restart]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  const time_point t0 = virtual_clock::default_start();
  {
    hub_life life(file, t0);
    life.h.create_or_update_identity("d1", {}, std::nullopt);
    for (const auto* body : {"first", "second"}) {
      cloud_to_device_message m;
      m.body = body;
      life.h.send_cloud_to_device_message("d1", m);
    }
    cloud_to_device_message short_lived;
    short_lived.body = "expires";
    short_lived.expiry = t0 + 10min;
    life.h.send_cloud_to_device_message("d1", short_lived);
  }
  {
    hub_life life(file, t0 + 30min);
    CHECK(life.h.registry().get_identity("d1").cloud_to_device_message_count == 2);
    life.connect("d1");
    CHECK(life.channel.messages == std::vector<std::pair<std::string, std::string>>{{"d1", "first"}, {"d1", "second"}});
  }
  hub_life life(file, t0 + 40min);
  life.connect("d1");
  CHECK(life.channel.messages.empty());
}

TEST_CASE("Scheduled jobs keep their start time across a restart; one whose time passed while down starts at once",
          "[store][restart]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  const time_point t0 = virtual_clock::default_start();
  {
    hub_life life(file, t0);
    life.h.create_or_update_identity("d1", {}, std::nullopt);
    life.h.jobs().create_scheduled_job(twin_job("tomorrow", t0, t0 + 24h));
    life.clk.advance(1s);
    CHECK(life.h.jobs().get_scheduled_job("tomorrow").status == job_status::scheduled);
  }
  SECTION("restarted before the start time: it waits for it") {
    hub_life life(file, t0 + 1h);
    life.clk.advance(0s);
    CHECK(life.h.jobs().get_scheduled_job("tomorrow").status == job_status::scheduled);
    life.clk.set(t0 + 24h - 1s);
    CHECK(life.h.jobs().get_scheduled_job("tomorrow").status == job_status::scheduled);
    life.clk.advance(1s);
    const auto& job = life.h.jobs().get_scheduled_job("tomorrow");
    CHECK(job.status == job_status::completed);
    CHECK(job.end_time == t0 + 24h);
    CHECK(life.h.registry().get_twin("d1")["properties"]["desired"]["floor"] == 3);
  }
  SECTION("restarted after it: the job starts at once") {
    hub_life life(file, t0 + 30h);
    life.clk.advance(0s);
    const auto& job = life.h.jobs().get_scheduled_job("tomorrow");
    CHECK(job.status == job_status::completed);
    CHECK(job.end_time == t0 + 30h);
    CHECK(job.statistics == device_job_statistics{.device_count = 1, .succeeded_count = 1});
  }
}

TEST_CASE("A method job half done resumes: done devices are not called again, a call in flight fails with 504101, "
          "statistics add up",
          "[store][restart]") {
  test::temp_dir dir;
  const auto file = dir / "hub.db";
  const time_point t0 = virtual_clock::default_start();
  hub_options options;
  options.jobs.max_in_flight = 2;
  const std::vector<std::string> ids = {"d1", "d2", "d3", "d4", "d5"};
  {
    hub_life life(file, t0, options);
    for (const auto& id : ids) {
      life.h.create_or_update_identity(id, {}, std::nullopt);
      life.connect(id);
    }
    life.h.jobs().create_scheduled_job(method_job("lock-all", t0));
    life.clk.advance(0s);
    REQUIRE(life.channel.method_requests.size() == 2);
    CHECK(life.h.device_method_response("d1", life.channel.method_requests[0].second, 200, R"({"locked":true})"));
    life.clk.advance(1s);
    REQUIRE(life.channel.method_requests.size() == 3);  // d3 took d1's place; d2 and d3 are in flight
    CHECK(life.channel.method_requests[2].first == "d3");
  }  // the hub goes away with d2 and d3 unanswered

  hub_life life(file, t0 + 10s, options);
  {
    const auto& job = life.h.jobs().get_scheduled_job("lock-all");
    CHECK(job.status == job_status::running);
    CHECK(job.statistics == device_job_statistics{.device_count = 5, .failed_count = 2, .succeeded_count = 1,
                                                  .running_count = 0, .pending_count = 2});
    const auto records = life.records("lock-all");
    CHECK(records["d1"]["status"] == "completed");
    CHECK(records["d1"]["outcome"]["deviceMethodResponse"] == json{{"status", 200}, {"payload", {{"locked", true}}}});
    for (const auto* id : {"d2", "d3"}) {
      CHECK(records[id]["status"] == "failed");
      CHECK(records[id]["error"]["code"] == "GatewayTimeout");
      CHECK(records[id]["endTimeUtc"] == "2026-01-01T00:00:10.0000000Z");
    }
  }
  for (const auto& id : ids) life.connect(id);
  life.clk.advance(0s);
  // Only the devices never started are called, with request ids no earlier run used.
  REQUIRE(life.channel.method_requests.size() == 2);
  CHECK(life.channel.method_requests[0] == std::pair<std::string, std::string>{"d4", "1000000001"});
  CHECK(life.channel.method_requests[1] == std::pair<std::string, std::string>{"d5", "1000000002"});
  CHECK_FALSE(life.h.device_method_response("d2", "2", 200, "{}"));  // a late answer to the first run matches nothing
  for (const auto& [device, rid] : std::vector(life.channel.method_requests))
    CHECK(life.h.device_method_response(device, rid, 200, "{}"));
  life.clk.advance(0s);
  const auto& job = life.h.jobs().get_scheduled_job("lock-all");
  CHECK(job.status == job_status::completed);
  CHECK(job.statistics == device_job_statistics{.device_count = 5, .failed_count = 2, .succeeded_count = 3});
  CHECK(life.channel.method_requests.size() == 2);
}

namespace {
// An in-memory store that counts what reaches it, and can refuse to commit.
struct counting_store final : hub_store {
  int writes = 0;
  int commits = 0;  // commits that had writes to make durable (a SQLite transaction each)
  bool refuse = false;
  int committed_writes = 0;
  stored_state load() override { return {}; }

 protected:
  void do_put_device(const device_identity&, packed_view) override { ++writes; }
  void do_delete_device(std::string_view) override { ++writes; }
  void do_put_policies(std::span<const shared_access_policy>) override { ++writes; }
  void do_put_job(const stored_job&) override { ++writes; }
  void do_delete_job(std::string_view) override { ++writes; }
  void do_delete_all_jobs() override { ++writes; }
  void do_put_device_run(std::string_view, const stored_device_run&) override { ++writes; }
  void do_put_cloud_to_device(const stored_cloud_to_device&) override { ++writes; }
  void do_delete_cloud_to_device(std::string_view, std::uint64_t) override { ++writes; }
  void commit() override {
    if (refuse) throw errors::server_error("mockhub could not write its data file: disk full");
    if (writes != committed_writes) ++commits;
    committed_writes = writes;
  }
};
}  // namespace

TEST_CASE("With a durable store a method job contacts no device before its whole device list is committed",
          "[store][restart]") {
  // Without a store a method job starts its first slices while its query runs (job_engine.cpp).
  // On a durable store a restart in the middle would find the job running with part of its
  // devices, so the job's query ends and its list is committed before the pump contacts anyone.
  test::temp_dir dir;
  const time_point t0 = virtual_clock::default_start();
  hub_life life(dir / "hub.db", t0);
  for (int i = 0; i < 1200; ++i) {
    const std::string id = "d" + std::to_string(10000 + i);
    life.h.create_or_update_identity(id, {}, std::nullopt);
    life.connect(id);
  }
  life.h.jobs().create_scheduled_job(method_job("lock-all", t0));
  life.clk.run_due();  // the start: the query, no device yet
  const auto& job = life.h.jobs().get_scheduled_job("lock-all");
  CHECK(job.status == job_status::running);
  CHECK(job.statistics.device_count == 1200);
  CHECK(job.statistics.pending_count == 1200);
  CHECK(life.channel.method_requests.empty());
  CHECK(life.channel.flushes == 0);
  life.clk.advance(0s);  // the pump: the window
  CHECK(life.channel.method_requests.size() == 1000);
  CHECK(life.channel.method_requests.front().first == "d10000");
  CHECK(life.channel.flushes == 0);
}

TEST_CASE("A twin job over 1,200 devices commits once per round, not once per record", "[store][batching]") {
  virtual_clock clk;
  id_source ids{1};
  recording_channel channel;
  counting_store store;
  hub h({}, clk, ids, channel, store);
  for (int i = 0; i < 1200; ++i) h.create_or_update_identity("dev" + std::to_string(i), {}, std::nullopt);
  CHECK(store.commits == 1200);  // one operation, one commit
  const int writes = store.writes;
  const int commits = store.commits;
  h.jobs().create_scheduled_job(twin_job("floor-3", clk.now()));
  for (int round = 0; round < 5; ++round) clk.advance(0s);
  CHECK(h.jobs().get_scheduled_job("floor-3").status == job_status::completed);
  // Per device: its pending record, its running record, its twin and its completed record.
  CHECK(store.writes - writes >= 4 * 1200);
  // The job's creation, its start, and two commits per round of 500 (marked, then run).
  CHECK(store.commits - commits == 1 + 1 + 2 * 3);
}

TEST_CASE("A commit the store refuses fails the operation with 500001", "[store][batching]") {
  virtual_clock clk;
  id_source ids{1};
  recording_channel channel;
  counting_store store;
  hub h({}, clk, ids, channel, store);
  store.refuse = true;
  try {
    h.create_or_update_identity("d1", {}, std::nullopt);
    FAIL("the write was acknowledged");
  } catch (const hub_error& e) {
    CHECK(e.code() == 500001);
    CHECK(std::string(e.message()) == "mockhub could not write its data file: disk full");
  }
}
