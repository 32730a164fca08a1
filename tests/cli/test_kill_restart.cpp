// `mockhub start --data-dir D` as a real process, killed with SIGKILL in the middle of a method
// job over a fleet, then started again on D: every write the hub acknowledged (REST 2xx) is
// there, the job completes with statistics that add up (the calls in flight at the kill fail
// with 504101, no device is called twice), a scheduled job still starts, and a queued
// cloud-to-device message is delivered. Waits are bounded; ports are ephemeral.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <mockhub/device/client.hpp>
#include <nlohmann/json.hpp>

#include "cli/wait_for_file.hpp"
#include "integration/temp_dir.hpp"
#include "mock_hub/server/child_process.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "mock_hub/server/hub_state_file.hpp"
#include "mock_hub/store/sqlite_store.hpp"
#include "service/extension_client.hpp"
#include "service/service_client.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using mockhub::server::child_process;
namespace svc = mockhub::service;
namespace dev = mockhub::device;

namespace {

constexpr auto bound = 120s;  // the hub starts a broker, under sanitizers, on a busy machine

using mockhub::test::wait_for_file;

// A hub process on the data directory; returns once its hub.json says it accepts.
struct hub_process {
  child_process process;
  mockhub::server::hub_state state;

  hub_process(const fs::path& data_dir, const fs::path& fleet, const fs::path& output) {
    process = child_process::spawn(
        {.program = MOCKHUB_BINARY,
         .arguments = {"start", "--no-tls", "--tier", "S3", "--data-dir", data_dir.string(), "--fleet", fleet.string(),
                       "--mqtt-port", "0", "--rest-port", "0", "--log-level", "warn"},
         .output_file = output});
    REQUIRE(wait_for_file(data_dir, "hub.json", bound));
    const auto s = mockhub::server::read_hub_state(data_dir);
    REQUIRE(s);
    state = *s;
  }
  svc::client_options rest() const {
    svc::endpoint e;
    e.scheme = "http";
    e.host = "127.0.0.1";
    e.port = static_cast<std::uint16_t>(std::stoi(state.rest_url.substr(state.rest_url.rfind(':') + 1)));
    return {.endpoint_override = e};
  }
};

// The fleet's devices, connected over plain MQTT; `lockDoor` answers at once for the devices in
// `answering`, never for the others. Counts every call each device received.
struct fleet_clients {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, int> calls;
  std::vector<std::string> messages;
  std::vector<std::unique_ptr<dev::client>> clients;
  std::vector<dev::method_reply> held;  // replies never sent (kept so that none is sent on destruction)

  fleet_clients(const mockhub::server::hub_state& hub, const std::set<std::string>& answering) {
    for (const auto& [id, cs] : hub.devices) {
      dev::client_options o;
      o.tls.enabled = false;
      o.host = "127.0.0.1";
      o.port = hub.mqtt_port;
      auto c = std::make_unique<dev::client>(cs, o);
      const bool answers = answering.contains(id);
      c->on_method_deferred("lockDoor", [this, id, answers](const dev::method_request&, dev::method_reply reply) {
        std::lock_guard lock(mutex);
        ++calls[id];
        if (answers) reply.respond(200, {{"locked", true}});
        else held.push_back(reply);
        changed.notify_all();
      });
      c->on_cloud_to_device([this](const dev::message& m) {
        std::lock_guard lock(mutex);
        messages.push_back(m.body);
        changed.notify_all();
      });
      REQUIRE(c->connect().wait_for(bound));
      clients.push_back(std::move(c));
    }
  }
  template <class P>
  bool wait(P condition) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, bound, [&] { return condition(); });
  }
  int total_calls() {
    int n = 0;
    for (const auto& [id, c] : calls) n += c;
    return n;
  }
};

fs::path write_fleet(const fs::path& dir, int n) {
  json devices = json::array();
  for (int i = 0; i < n; ++i)
    devices.push_back({{"id", "lock-" + std::to_string(i)}, {"tags", {{"building", 43}}}});
  const auto file = dir / "fleet.json";
  std::ofstream(file) << json{{"devices", devices}}.dump();
  return file;
}

}  // namespace

TEST_CASE("A hub killed with SIGKILL mid-job and started again on its data directory loses nothing it acknowledged",
          "[store][restart][integration]") {
  mockhub::test::temp_dir scratch;
  const auto data_dir = scratch.path() / "hub";
  fs::create_directory(data_dir);  // so that the wait for hub.json can watch it
  fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace);
  const auto fleet = write_fleet(scratch.path(), 6);
  const std::set<std::string> answering = {"lock-0", "lock-1"};

  std::string added_key, tags_etag;
  {
    hub_process hub(data_dir, fleet, scratch.path() / "first.log");
    svc::service_client service(hub.state.service_connection_string, hub.rest());
    {
      fleet_clients devices(hub.state, answering);
      // A method job over the fleet: two devices answer, four hold their call when the hub dies.
      svc::method_job job{.job_id = "lock-all", .query_condition = "tags.building = 43"};
      job.method.method_name = "lockDoor";
      job.method.connect_timeout = 30s;
      service.jobs().schedule_device_method(job);
      REQUIRE(devices.wait([&] { return devices.total_calls() == 6; }));
      // Acknowledged writes: the two answers as job progress, and more through REST.
      const auto deadline = std::chrono::steady_clock::now() + bound;
      svc::job_response progress;
      while ((progress = service.jobs().get_job("lock-all")).statistics.succeeded_count < 2 &&
             std::chrono::steady_clock::now() < deadline) {
      }
      REQUIRE(progress.statistics.succeeded_count == 2);
      tags_etag = service.twins().update_twin("lock-5", {{"tags", {{"room", "5.01"}}}}).etag;
      svc::twin_job later{.job_id = "floor-3", .query_condition = "tags.building = 43",
                          .patch = {{"properties", {{"desired", {{"floor", 3}}}}}},
                          .start_time = std::chrono::system_clock::now() + 2s};
      service.jobs().schedule_twin_update(later);
      added_key = service.registry().create_device("added").primary_key;
      svc::extension_client ext(hub.state.service_connection_string, hub.rest());
      ext.send_cloud_to_device("added", {.body = "kept while down"});

      ::kill(hub.process.pid(), SIGKILL);
      REQUIRE(hub.process.wait_for_exit(bound));
    }  // the old device clients go (their broker died with the hub)
  }
  fs::remove(data_dir / "hub.json");  // left behind by the killed hub

  hub_process hub(data_dir, fleet, scratch.path() / "second.log");
  svc::service_client service(hub.state.service_connection_string, hub.rest());
  std::set<std::string> everyone;
  for (const auto& [id, cs] : hub.state.devices) everyone.insert(id);
  fleet_clients devices(hub.state, everyone);

  // The job in flight completes: done devices kept, calls in flight failed, nobody called again.
  const auto done = service.jobs().wait_for_completion("lock-all", {.poll_interval = 50ms, .timeout = bound});
  CHECK(done.status == svc::job_status::completed);
  CHECK(done.statistics == svc::job_statistics{.device_count = 6, .failed_count = 4, .succeeded_count = 2});
  for (const auto& r : service.jobs().device_job_records("lock-all")) {
    INFO(r.device_id);
    if (answering.contains(r.device_id)) {
      CHECK(r.status == svc::device_job_status::completed);
    } else {
      CHECK(r.status == svc::device_job_status::failed);
      REQUIRE(r.error);
      CHECK(r.error->code == "GatewayTimeout");
    }
  }
  // The scheduled twin job starts on time and runs on every device of the fleet.
  const auto floor = service.jobs().wait_for_completion("floor-3", {.poll_interval = 50ms, .timeout = bound});
  CHECK(floor.status == svc::job_status::completed);
  CHECK(floor.statistics == svc::job_statistics{.device_count = 6, .succeeded_count = 6});
  // The device added, its key, the tag written (same etag), the queued message delivered once.
  CHECK(service.registry().get_device("added").primary_key == added_key);
  // The twin's etag counts on from where it was: the fleet's tags (2), ours (3), the twin job (4).
  CHECK(tags_etag == "AAAAAAAAAAM=");
  const auto twin = service.twins().get_twin("lock-5");
  CHECK(twin.etag == "AAAAAAAAAAQ=");
  CHECK(twin.document["tags"]["room"] == "5.01");
  {
    auto added = std::make_unique<dev::client>(
        "HostName=" + hub.state.host_name + ";DeviceId=added;SharedAccessKey=" + added_key,
        dev::client_options{.tls = {.enabled = false}, .host = "127.0.0.1", .port = hub.state.mqtt_port});
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::string> got;
    added->on_cloud_to_device([&](const dev::message& msg) {
      std::lock_guard lock(m);
      got.push_back(msg.body);
      cv.notify_all();
    });
    REQUIRE(added->connect().wait_for(bound));
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, bound, [&] { return !got.empty(); }));
    CHECK(got == std::vector<std::string>{"kept while down"});
  }
  {
    std::lock_guard lock(devices.mutex);
    CHECK(devices.total_calls() == 0);  // no lockDoor after the restart: nobody ran twice
  }
  CHECK((fs::status(data_dir / "hub.db").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  ::kill(hub.process.pid(), SIGTERM);
  CHECK(hub.process.wait_for_exit(bound));
}

namespace {
// A `mockhub` invocation run to its end: exit status and output (stdout and stderr).
std::pair<int, std::string> run_mockhub(const std::vector<std::string>& args, const fs::path& output) {
  auto p = child_process::spawn({.program = MOCKHUB_BINARY, .arguments = args, .output_file = output});
  REQUIRE(p.wait_for_exit(bound));
  const int raw = *p.wait_status();
  std::ifstream in(output);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), text};
}
}  // namespace

TEST_CASE("start refuses a data directory written by a newer mockhub, or a damaged one: exit 1 and why",
          "[store][cli]") {
  mockhub::test::temp_dir scratch;
  const auto data_dir = scratch.path() / "hub";
  const auto file = data_dir / "hub.db";
  { mockhub::store::sqlite_store({.file = file}).load(); }
  std::string why;
  SECTION("newer") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    why = "the mockhub data file " + file.string() +
          " was written by a newer mockhub (schema version 2; this mockhub reads version 1 and older)";
  }
  SECTION("damaged") {
    fs::remove(file.string() + "-wal");
    fs::remove(file.string() + "-shm");
    std::ofstream(file, std::ios::trunc) << std::string(4096, '\x07');
    why = "the mockhub data file " + file.string() + " is damaged or is not a SQLite database";
  }
  const auto [status, output] = run_mockhub(
      {"start", "--no-tls", "--data-dir", data_dir.string(), "--mqtt-port", "0", "--rest-port", "0"},
      scratch.path() / "out.txt");
  CHECK(status == 1);
  CHECK_THAT(output, Catch::Contains(why));
  CHECK_FALSE(fs::exists(data_dir / "hub.json"));
}

TEST_CASE("run keeps its hub in memory unless --persist (which needs --data-dir) keeps it in <data-dir>/hub.db",
          "[store][cli]") {
  mockhub::test::temp_dir scratch;
  const auto data_dir = scratch.path() / "hub";
  const std::vector<std::string> ports = {"--no-tls", "--mqtt-port", "0", "--rest-port", "0"};
  auto with = [&](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const auto in_memory =
      run_mockhub(with({"run", "--data-dir", data_dir.string(), "--device-id", "gone"}, with(ports, {"--", "true"})),
                  scratch.path() / "1.txt");
  CHECK(in_memory.first == 0);
  CHECK_FALSE(fs::exists(data_dir / "hub.db"));

  const auto kept = run_mockhub(
      with({"run", "--persist", "--data-dir", data_dir.string(), "--device-id", "kept"}, with(ports, {"--", "true"})),
      scratch.path() / "2.txt");
  CHECK(kept.first == 0);
  const auto state = mockhub::store::sqlite_store({.file = data_dir / "hub.db"}).load();
  REQUIRE(state.devices.size() == 1);
  CHECK(state.devices[0].identity.device_id == "kept");

  const auto usage = run_mockhub({"run", "--persist", "--", "true"}, scratch.path() / "3.txt");
  CHECK(usage.first == 2);
  CHECK_THAT(usage.second, Catch::Contains("--persist requires --data-dir"));
}

TEST_CASE("hub_runtime refuses to persist without a data directory, before starting anything", "[store]") {
  mockhub::server::hub_runtime hub({.persist = true});
  CHECK_THROWS_WITH(hub.start(), "mockhub: persisting the hub's state needs a data directory");
}
