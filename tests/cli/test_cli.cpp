// The `mockhub` command as a process: `run` (exports, exit status, signals, a command that
// cannot run), `start`/`stop` (hub.json, a second start refused, a clean stop on SIGTERM), and
// bad options (exit 2, the option named). Waits are bounded and event-driven (pidfds, inotify,
// FIFOs), never sleeps; every hub listens on ephemeral loopback ports.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/wait_for_file.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/server/child_process.hpp"
#include "mock_hub/server/hub_state_file.hpp"
#include "service/errors.hpp"
#include "service/service_client.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using mockhub::server::child_process;

namespace {

constexpr auto bound = 120s;  // generous: the hub starts a broker, under sanitizers, on a busy machine

const std::vector<std::string> ephemeral = {"--mqtt-port", "0", "--mqtts-port", "0", "--rest-port", "0", "--https-port", "0"};

struct scratch_dir {
  fs::path path;
  scratch_dir() {
    std::string tmpl = (fs::temp_directory_path() / "mockhub-cli-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A finished `mockhub` invocation: exit status (128 + signal when killed) and its output.
struct outcome {
  int status = -1;
  std::string output;  // stdout and stderr together
};

child_process spawn_mockhub(const std::vector<std::string>& args, const fs::path& output) {
  return child_process::spawn({.program = MOCKHUB_BINARY, .arguments = args, .output_file = output});
}

outcome finish(child_process& p, const fs::path& output) {
  REQUIRE(p.wait_for_exit(bound));
  const int raw = *p.wait_status();
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), read_file(output)};
}

outcome run_mockhub(const std::vector<std::string>& args, const fs::path& scratch) {
  static int n = 0;
  const auto output = scratch / ("out-" + std::to_string(++n) + ".txt");
  auto p = spawn_mockhub(args, output);
  return finish(p, output);
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

using mockhub::test::wait_for_file;

// Reads one line from a FIFO a child writes to, waiting at most `timeout` for it.
std::string read_fifo(const fs::path& fifo, std::chrono::milliseconds timeout) {
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    ::poll(&p, 1, 1000);
    char buf[256];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

// A fleet fixture of `n` devices lock-00 .. with a tag and a reported property.
fs::path write_fleet(const fs::path& dir, int n) {
  json devices = json::array();
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "lock-%02d", i);
    devices.push_back({{"id", id}, {"tags", {{"building", 43}}}, {"reported", {{"lockState", "locked"}}}});
  }
  const auto file = dir / "fleet.json";
  std::ofstream(file) << json{{"devices", devices}}.dump();
  return file;
}

}  // namespace

TEST_CASE("run exports working connection settings, removes its temporary hub, exits with the command's status", "[cli][run]") {
  scratch_dir scratch;
  const auto report_file = scratch.path / "report.json";
  const auto r = run_mockhub({"run", "--log-level", "warn", "--", CLI_ENV_PROBE, report_file.string(), "7"}, scratch.path);
  INFO(r.output);
  CHECK(r.status == 7);
  const auto report = json::parse(read_file(report_file));
  INFO(report.dump(2));
  const auto& env = report["env"];
  CHECK_THAT(env["IOTHUB_CONNECTION_STRING"].get<std::string>(),
             Catch::StartsWith("HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey="));
  CHECK_THAT(env["IOTHUB_DEVICE_CONNECTION_STRING"].get<std::string>(),
             Catch::StartsWith("HostName=localhost;DeviceId=device-1;SharedAccessKey="));
  CHECK_THAT(env["MOCKHUB_REST_URL"].get<std::string>(), Catch::StartsWith("http://127.0.0.1:"));
  CHECK_THAT(env["MOCKHUB_HTTPS_URL"].get<std::string>(), Catch::StartsWith("https://127.0.0.1:"));
  CHECK(std::stoi(env["MOCKHUB_MQTT_PORT"].get<std::string>()) > 0);
  CHECK(std::stoi(env["MOCKHUB_MQTTS_PORT"].get<std::string>()) > 0);
  const fs::path data_dir = env["MOCKHUB_DATA_DIR"].get<std::string>();
  CHECK(env["MOCKHUB_CA_FILE"] == (data_dir / "ca.pem").string());
  // Every value works: the service API over HTTPS (with the CA) and HTTP, the device over both ports.
  CHECK_FALSE(report.contains("service_error"));
  CHECK(report["https_device"] == "device-1");
  CHECK(report["http_device_count"] == 1);
  CHECK(report["mqtts"] == "ok");
  CHECK(report["mqtt"] == "ok");
  CHECK_FALSE(fs::exists(data_dir));  // the temporary data directory is gone with the hub
}

TEST_CASE("run --no-tls exports no TLS settings, --device-id names the ready device, --data-dir keeps hub.json while it runs",
          "[cli][run]") {
  scratch_dir scratch;
  const auto data_dir = scratch.path / "state";
  const auto r = run_mockhub({"run", "--no-tls", "--device-id", "probe", "--data-dir", data_dir.string(), "--", "sh", "-c",
                          "env | grep -E '^(IOTHUB|MOCKHUB)_' | sort > \"$MOCKHUB_DATA_DIR/../env.txt\"; "
                          "cp \"$MOCKHUB_DATA_DIR/hub.json\" \"$MOCKHUB_DATA_DIR/../hub-copy.json\""},
                         scratch.path);
  INFO(r.output);
  CHECK(r.status == 0);
  const auto env = read_file(scratch.path / "env.txt");
  CHECK_THAT(env, Catch::Contains("IOTHUB_DEVICE_CONNECTION_STRING=HostName=localhost;DeviceId=probe;SharedAccessKey="));
  CHECK_THAT(env, Catch::Contains("MOCKHUB_DATA_DIR=" + data_dir.string() + "\n"));
  CHECK_THAT(env, !Catch::Contains("MOCKHUB_CA_FILE") && !Catch::Contains("MOCKHUB_MQTTS_PORT") &&
                      !Catch::Contains("MOCKHUB_HTTPS_URL"));
  const auto state = json::parse(read_file(scratch.path / "hub-copy.json"));
  CHECK(state["devices"].size() == 1);
  CHECK_THAT(state["devices"]["probe"].get<std::string>(), Catch::StartsWith("HostName=localhost;DeviceId=probe;"));
  CHECK_FALSE(state.contains("ca_file"));
  CHECK_FALSE(state.contains("https_url"));
  CHECK_FALSE(state.contains("mqtts_port"));
  CHECK(fs::exists(data_dir));                        // a given data directory stays
  CHECK_FALSE(fs::exists(data_dir / "hub.json"));     // but the hub is gone
}

TEST_CASE("run at trace log level writes no key anywhere while a service and a device use them (security)",
          "[cli][run][security]") {
  scratch_dir scratch;
  const auto data_dir = scratch.path / "state";
  const auto trace = scratch.path / "trace.jsonl";
  const auto report_file = scratch.path / "report.json";
  // The probe calls the service API with the iothubowner key and connects the device with its key.
  const auto r = run_mockhub({"run", "--log-level", "trace", "--data-dir", data_dir.string(), "--record", trace.string(), "--",
                              CLI_ENV_PROBE, report_file.string(), "0"},
                             scratch.path);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto report = json::parse(read_file(report_file));
  REQUIRE(report["mqtt"] == "ok");
  REQUIRE(report["http_device_count"] == 1);
  CHECK_THAT(r.output, Catch::Contains("mockhub debug: running "));  // the hub did log at that level
  const auto key_of = [](const std::string& connection_string) {
    const auto at = connection_string.find("SharedAccessKey=");
    REQUIRE(at != std::string::npos);
    return connection_string.substr(at + 16, connection_string.find(';', at + 16) - at - 16);
  };
  const std::string owner_key = key_of(report["env"]["IOTHUB_CONNECTION_STRING"]);
  const std::string device_key = key_of(report["env"]["IOTHUB_DEVICE_CONNECTION_STRING"]);
  REQUIRE(owner_key.size() == 44);
  REQUIRE(device_key.size() == 44);
  std::vector<std::pair<std::string, std::string>> written{{"the hub's output", r.output}, {"the trace", read_file(trace)}};
  for (const auto& entry : fs::recursive_directory_iterator(data_dir))
    if (entry.is_regular_file()) written.emplace_back(entry.path().filename().string(), read_file(entry.path()));
  for (const auto& [what, text] : written) {
    INFO(what);
    CHECK(text.find(owner_key) == std::string::npos);
    CHECK(text.find(device_key) == std::string::npos);
  }
}

TEST_CASE("run: 128 + signal when the command is killed, 127 when it cannot run", "[cli][run]") {
  scratch_dir scratch;
  SECTION("killed by SIGTERM") {
    CHECK(run_mockhub({"run", "--no-tls", "--", "sh", "-c", "kill -TERM $$"}, scratch.path).status == 128 + SIGTERM);
  }
  SECTION("no such program") {
    const auto r = run_mockhub({"run", "--no-tls", "--", "/nonexistent/program", "arg"}, scratch.path);
    CHECK(r.status == 127);
    CHECK_THAT(r.output, Catch::Contains("mockhub run: cannot run '/nonexistent/program': No such file or directory"));
  }
}

TEST_CASE("run forwards SIGTERM to the command and exits with its status", "[cli][run]") {
  scratch_dir scratch;
  const auto ready = scratch.path / "ready";
  const auto never = scratch.path / "never";
  REQUIRE(::mkfifo(ready.c_str(), 0600) == 0);
  REQUIRE(::mkfifo(never.c_str(), 0600) == 0);
  const auto output = scratch.path / "out.txt";
  // The command says it runs, then blocks opening a FIFO nobody writes: only a signal ends it.
  auto p = spawn_mockhub({"run", "--no-tls", "--", "sh", "-c", "echo up > '" + ready.string() + "'; exec cat '" + never.string() + "'"},
                         output);
  REQUIRE(read_fifo(ready, bound) == "up\n");
  REQUIRE(::kill(p.pid(), SIGTERM) == 0);
  const auto r = finish(p, output);
  INFO(r.output);
  CHECK(r.status == 128 + SIGTERM);
  CHECK_THAT(r.output, Catch::Contains("forwarding SIGTERM to sh"));
}

TEST_CASE("start --detach writes hub.json, a second start is refused, stop removes it", "[cli][start]") {
  scratch_dir scratch;
  const auto data_dir = scratch.path / "hub";
  const auto fleet = write_fleet(scratch.path, 12);
  const auto started = run_mockhub(std::vector<std::string>{"start", "--detach", "--data-dir", data_dir.string(), "--fleet",
                                                        fleet.string(), "--virtual-clock", "--seed", "3", "--tier", "S2"} +
                                                            ephemeral,
                               scratch.path);
  INFO(started.output);
  REQUIRE(started.status == 0);
  CHECK((fs::status(data_dir).permissions() & fs::perms::all) == fs::perms::owner_all);

  const auto state = mockhub::server::read_hub_state(data_dir);
  REQUIRE(state);
  CHECK(mockhub::server::process_exists(state->pid));
  CHECK(state->host_name == "localhost");
  CHECK(state->virtual_clock);
  CHECK(state->devices.size() == 12);
  CHECK(state->ca_file == data_dir / "ca.pem");
  REQUIRE(state->https_url);
  // What start printed: the strings, the first ten devices and the rest counted, ports, CA.
  CHECK_THAT(started.output, Catch::Contains("mockhub is running (pid " + std::to_string(state->pid)));
  CHECK_THAT(started.output, Catch::Contains("  " + state->service_connection_string + "\n"));
  CHECK_THAT(started.output, Catch::Contains("  " + state->devices.at("lock-09") + "\n"));
  CHECK_THAT(started.output, !Catch::Contains(state->devices.at("lock-10")));
  CHECK_THAT(started.output, Catch::Contains("  ... and 2 more (all in " + (data_dir / "hub.json").string() + ")"));
  CHECK_THAT(started.output, Catch::Contains("MQTT:          127.0.0.1:" + std::to_string(state->mqtt_port) + "\n"));
  CHECK_THAT(started.output, Catch::Contains("REST API:      " + state->rest_url + "\n"));
  CHECK_THAT(started.output, Catch::Contains("CA file:       " + (data_dir / "ca.pem").string() + "\n"));

  // The hub.json values reach the hub; the fleet's tags were registered.
  namespace svc = mockhub::service;
  svc::service_client hub(state->service_connection_string,
                          {.endpoint_override = svc::endpoint::parse(*state->https_url), .ca_file = *state->ca_file});
  CHECK(hub.registry().list_devices().size() == 12);
  CHECK(hub.twins().get_twin("lock-11").tags == json{{"building", 43}});
  // --tier S2: five active jobs, the sixth is refused.
  const auto later = std::chrono::system_clock::now() + 24h;  // after the virtual clock's 2026-01-01 start
  for (int i = 0; i < 5; ++i)
    hub.jobs().schedule_twin_update({.job_id = "job-" + std::to_string(i), .query_condition = "*",
                                     .patch = {{"tags", {{"floor", i}}}}, .start_time = later});
  try {
    hub.jobs().schedule_twin_update({.job_id = "job-5", .query_condition = "*", .patch = {{"tags", {{"floor", 5}}}},
                                     .start_time = later});
    FAIL("a sixth active job was accepted");
  } catch (const svc::iothub_error& e) {
    CHECK(e.error_code() == 429004);
  }

  // The REST extension on the running hub: its virtual clock reads and moves.
  {
    const auto& cs = state->service_connection_string;
    const auto key = cs.substr(cs.find("SharedAccessKey=") + 16);
    httplib::Client rest(state->rest_url);
    const httplib::Headers auth{{"Authorization", mockhub::core::sas_token::create("localhost", key,
                                                                                    std::chrono::system_clock::now() + 1h,
                                                                                    "iothubowner")}};
    const auto clock = rest.Get("/_mockhub/clock", auth);
    REQUIRE(clock);
    CHECK(json::parse(clock->body) == json{{"now", "2026-01-01T00:00:00.0000000Z"}, {"virtual", true}});
    const auto moved = rest.Post("/_mockhub/clock/advance", auth, R"({"seconds": 90})", "application/json");
    REQUIRE(moved);
    CHECK(moved->status == 200);
    CHECK(json::parse(moved->body) == json{{"now", "2026-01-01T00:01:30.0000000Z"}});
  }

  const auto second = run_mockhub(std::vector<std::string>{"start", "--detach", "--data-dir", data_dir.string()} + ephemeral,
                              scratch.path);
  CHECK(second.status == 1);
  CHECK_THAT(second.output, Catch::Contains("mockhub start: a hub already runs in " + data_dir.string() + " (pid " +
                                            std::to_string(state->pid) + ")"));

  const auto stopped = run_mockhub({"stop", "--data-dir", data_dir.string()}, scratch.path);
  CHECK(stopped.status == 0);
  CHECK(stopped.output == "mockhub: stopped the hub in " + data_dir.string() + " (pid " + std::to_string(state->pid) + ")\n");
  CHECK_FALSE(fs::exists(data_dir / "hub.json"));
  CHECK_FALSE(mockhub::server::process_exists(state->pid));

  const auto again = run_mockhub({"stop", "--data-dir", data_dir.string()}, scratch.path);
  CHECK(again.status == 1);
  CHECK(again.output == "mockhub stop: no hub runs in " + data_dir.string() + " (no hub.json)\n");
}

TEST_CASE("start --output json prints hub.json; --no-tls serves no TLS port", "[cli][start]") {
  scratch_dir scratch;
  const auto data_dir = scratch.path / "hub";
  // --no-tls with start's default TLS ports (8883, 8443) set: they are simply not served.
  const auto started = run_mockhub(std::vector<std::string>{"start", "--detach", "--data-dir", data_dir.string(), "--output", "json",
                                                            "--no-tls", "--mqtt-port", "0", "--rest-port", "0"},
                                   scratch.path);
  INFO(started.output);
  REQUIRE(started.status == 0);
  const auto state = mockhub::server::read_hub_state(data_dir);
  REQUIRE(state);
  CHECK(json::parse(started.output) == json(*state));
  CHECK(json::parse(started.output).at("rest_url") == state->rest_url);
  CHECK_FALSE(state->mqtts_port);
  CHECK_FALSE(state->https_url);
  CHECK_FALSE(state->ca_file);
  CHECK(run_mockhub({"stop", "--data-dir", data_dir.string()}, scratch.path).status == 0);
}

TEST_CASE("start in the foreground serves until SIGTERM, then stops cleanly and removes hub.json", "[cli][start]") {
  scratch_dir scratch;
  const auto data_dir = scratch.path / "hub";
  fs::create_directories(data_dir);
  const auto output = scratch.path / "out.txt";
  auto p = spawn_mockhub(std::vector<std::string>{"start", "--no-tls", "--data-dir", data_dir.string()} + ephemeral, output);
  REQUIRE(wait_for_file(data_dir, "hub.json", bound));
  const auto state = mockhub::server::read_hub_state(data_dir);
  REQUIRE(state);
  CHECK(state->pid == p.pid());
  CHECK(state->devices.empty());
  CHECK_FALSE(state->virtual_clock);
  REQUIRE(::kill(p.pid(), SIGTERM) == 0);
  const auto r = finish(p, output);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("mockhub info: stopping (SIGTERM)"));
  CHECK_THAT(r.output, Catch::Contains("mockhub info: stopped"));
  // Keys go to stdout (the summary), never into a log line.
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);)
    if (line.find("Z mockhub ") != std::string::npos) CHECK_THAT(line, !Catch::Contains("SharedAccessKey"));
  CHECK_FALSE(fs::exists(data_dir / "hub.json"));
}

TEST_CASE("stop refuses a data directory where no hub runs, and clears a stale hub.json", "[cli][start]") {
  scratch_dir scratch;
  CHECK(run_mockhub({"stop", "--data-dir", (scratch.path / "nothing").string()}, scratch.path).output ==
        "mockhub stop: no hub runs in " + (scratch.path / "nothing").string() + " (no such directory)\n");
  mockhub::server::hub_state stale;
  stale.pid = 999999;
  stale.host_name = "localhost";
  mockhub::server::write_hub_state(scratch.path, stale);
  const auto r = run_mockhub({"stop", "--data-dir", scratch.path.string()}, scratch.path);
  CHECK(r.status == 1);
  CHECK(r.output == "mockhub stop: no hub runs in " + scratch.path.string() +
                        " (removed the hub.json of pid 999999, which has exited)\n");
  CHECK_FALSE(fs::exists(scratch.path / "hub.json"));
}

TEST_CASE("start: a fleet that does not parse exits 1 naming the problem", "[cli][start]") {
  scratch_dir scratch;
  const auto fleet = scratch.path / "bad.json";
  std::ofstream(fleet) << R"({"devices": [{"id": "a", "colour": "red"}]})";
  const auto r = run_mockhub(std::vector<std::string>{"start", "--no-tls", "--data-dir", (scratch.path / "hub").string(),
                                                  "--fleet", fleet.string()} + ephemeral,
                         scratch.path);
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("cannot load the fleet " + fleet.string()));
  CHECK_THAT(r.output, Catch::Contains("colour"));
  CHECK_FALSE(fs::exists(scratch.path / "hub" / "hub.json"));
}

TEST_CASE("Bad options exit 2 and name the option", "[cli][options]") {
  scratch_dir scratch;
  using row = std::pair<std::vector<std::string>, std::string>;
  const auto [args, named] = GENERATE(values<row>({
      row{{"start", "--tier", "X9"}, "--tier"},
      row{{"start", "--mqtt-port", "70000"}, "--mqtt-port"},
      row{{"start", "--bogus"}, "--bogus"},
      row{{"start", "--output", "xml"}, "--output"},
      row{{"start", "--fleet", "/nonexistent/fleet.json"}, "--fleet"},
      row{{"run", "--log-level", "loud", "--", "true"}, "--log-level"},
      row{{"run"}, "command is required"},
      row{{"stop", "--data-dir"}, "--data-dir"},
      row{{}, "A subcommand is required"},
  }));
  const auto r = run_mockhub(args, scratch.path);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains(named));
}

TEST_CASE("--help on every verb exits 0", "[cli][options]") {
  scratch_dir scratch;
  const auto verb = GENERATE(as<std::string>{}, "start", "stop", "run", "demo");
  const auto r = run_mockhub({verb, "--help"}, scratch.path);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("mockhub " + verb));
}

TEST_CASE("start's default ports are 1883, 8883, 8080 and 8443, run's are ephemeral", "[cli][options]") {
  scratch_dir scratch;
  const auto start = run_mockhub({"start", "--help"}, scratch.path).output;
  CHECK_THAT(start, Catch::Contains("--mqtt-port UINT=1883 ") && Catch::Contains("--mqtts-port UINT=8883 ") &&
                        Catch::Contains("--rest-port UINT=8080 ") && Catch::Contains("--https-port UINT=8443 "));
  const auto run = run_mockhub({"run", "--help"}, scratch.path).output;
  CHECK_THAT(run, Catch::Contains("--mqtt-port UINT=0 ") && Catch::Contains("--https-port UINT=0 "));
}
