// `fleet`: simulates a fleet of devices from a fixture on one thread and reports what it did.
//
//   fleet --fixture FILE [--devices N] [--seed S] [--invoke METHOD [--payload JSON]]
//         [--duration SECONDS] [--tls] [--max-connecting K] [--report FILE]
//   fleet --fixture FILE --external --host H --port P --host-name NAME --policy-key KEY [--policy-name device]
//
// By default it starts a hub in this process (hub_runtime: broker + plugin + core), seeds the
// registry from the fixture (identities, tags, reported properties), connects every device,
// optionally invokes a method on each through the hub, lets behaviours run for --duration, and
// prints a JSON report. With --external it connects to a running hub whose registry already has
// the devices, signing for each with a policy key (SharedAccessKeyName, DeviceConnect).
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <mockhub/device/fleet/simulator.hpp>

#include "device/fleet/open_files.hpp"
#include "device/fleet/registry_seed.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/server/hub_runtime.hpp"

using namespace mockhub;
using namespace mockhub::device;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

double ms_since(steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Simulates a fleet of IoT Hub devices on one thread and reports what it did."};
  std::string fixture_file, invoke, payload_text = "null", report_file, host = "127.0.0.1", host_name = "localhost", policy_key,
                                    policy_name = "device";
  std::optional<std::size_t> devices;
  std::optional<std::uint64_t> seed;
  double duration = 0;
  bool tls = false, external = false;
  std::size_t max_connecting = 64;
  int port = 0;
  double connect_deadline_s = 600;
  app.add_option("--fixture", fixture_file, "fleet fixture (docs/fleet-format.md)")->required()->check(CLI::ExistingFile);
  app.add_option("--devices", devices, "scale the fixture's first group to N devices");
  app.add_option("--seed", seed, "override the fixture's seed");
  app.add_option("--invoke", invoke, "once all are connected, invoke this method on every device through the hub");
  app.add_option("--payload", payload_text, "JSON payload of --invoke");
  app.add_option("--duration", duration, "seconds to let behaviours run after connecting (and invoking)");
  app.add_flag("--tls", tls, "connect over TLS (the hub's generated CA) instead of plain MQTT");
  app.add_option("--max-connecting", max_connecting, "connection attempts in flight at once");
  app.add_option("--connect-deadline", connect_deadline_s, "seconds to wait for every device to connect");
  app.add_option("--report", report_file, "also write the JSON report to this file");
  std::string data_dir;
  app.add_option("--data-dir", data_dir, "keep the in-process hub's broker files (config, log, TLS) here");
  app.add_flag("--external", external, "use a running hub instead of starting one");
  app.add_option("--host", host, "external: broker address");
  app.add_option("--port", port, "external: broker port");
  app.add_option("--host-name", host_name, "external: the hub's host name (SAS scope)");
  app.add_option("--policy-key", policy_key, "external: a policy key with DeviceConnect");
  app.add_option("--policy-name", policy_name, "external: that policy's name");
  CLI11_PARSE(app, argc, argv);

  json fixture_json;
  {
    std::ifstream in(fixture_file);
    fixture_json = json::parse(in, nullptr, false);
    if (fixture_json.is_discarded()) {
      std::cerr << "fleet: " << fixture_file << " is not valid JSON\n";
      return 2;
    }
  }
  if (devices) {
    if (!fixture_json.contains("groups") || !fixture_json["groups"].is_array() || fixture_json["groups"].empty()) {
      std::cerr << "fleet: --devices needs a fixture with a group to scale\n";
      return 2;
    }
    fixture_json["groups"][0]["count"] = *devices;
  }
  if (seed) fixture_json["seed"] = *seed;
  fleet::fleet_fixture fixture;
  try {
    fixture = fleet::fleet_fixture::parse(fixture_json);
  } catch (const std::exception& e) {
    std::cerr << "fleet: " << e.what() << "\n";
    return 2;
  }
  const json invoke_payload = json::parse(payload_text, nullptr, false);
  if (invoke_payload.is_discarded()) {
    std::cerr << "fleet: --payload is not JSON\n";
    return 2;
  }

  const auto n = fixture.devices.size();
  const auto limit = fleet::raise_open_files(4 * n + 4096);
  std::cerr << "fleet: " << n << " devices, open-file limit " << limit << "\n";

  std::unique_ptr<server::hub_runtime> hub;
  std::unordered_map<std::string, std::string> keys;
  fleet::fleet_options options;
  options.max_connecting = max_connecting;
  json timings = json::object();
  const auto t_start = steady::now();
  if (!external) {
    server::hub_runtime_options ho;
    ho.tls = tls;
    ho.data_dir = data_dir;
    ho.hub.telemetry_per_device = 16;
    hub = std::make_unique<server::hub_runtime>(ho);
    hub->start();
    timings["hub_start_ms"] = ms_since(t_start);
    const auto t_seed = steady::now();
    keys = hub->call([&](core::hub& h) { return fleet::seed_registry(h, fixture); });
    timings["seed_ms"] = ms_since(t_seed);
    std::cerr << "fleet: hub started and seeded in " << ms_since(t_start) << " ms\n";
    options.host_name = hub->host_name();
    options.connect_host = tls ? hub->host_name() : "127.0.0.1";
    options.port = tls ? hub->mqtts_port() : hub->mqtt_port();
    if (tls) options.tls = {.enabled = true, .ca_file = hub->ca_file().string()};
    options.key_for = [&keys](const fleet::device_spec& d) -> std::optional<std::string> { return keys.at(d.id); };
    // Credentials reach the broker asynchronously: wait until the plugin has applied them all.
    if (!hub->wait_credentials_applied(std::chrono::seconds(120))) {
      std::cerr << "fleet: the broker never applied the seeded devices' credentials\n";
      return 1;
    }
    std::cerr << "fleet: the broker has the seeded devices' credentials (" << ms_since(t_start) << " ms)\n";
  } else {
    if (port <= 0 || policy_key.empty()) {
      std::cerr << "fleet: --external needs --port and --policy-key\n";
      return 2;
    }
    options.host_name = host_name;
    options.connect_host = host;
    options.port = static_cast<std::uint16_t>(port);
    options.key_name = policy_name;
    options.key_for = [&policy_key](const fleet::device_spec&) -> std::optional<std::string> { return policy_key; };
  }

  event_loop loop;
  fleet::fleet_simulator sim(loop, fixture, options);
  const auto t_connect = steady::now();
  sim.start();
  const auto deadline = t_connect + std::chrono::duration<double>(connect_deadline_s);
  while (sim.connected() < n && steady::now() < deadline) loop.run_once(std::chrono::milliseconds(100));
  timings["all_connected_ms"] = ms_since(t_connect);
  const bool all_connected = sim.connected() == n;
  std::cerr << "fleet: " << sim.connected() << "/" << n << " connected in " << timings["all_connected_ms"].get<double>() << " ms\n";

  json invocation = nullptr;
  if (!invoke.empty() && hub && all_connected) {
    // The hub's callbacks run on its executor; this thread keeps driving the devices meanwhile.
    std::mutex m;
    std::vector<double> latencies;
    std::map<std::string, std::uint64_t> outcomes;
    std::atomic<std::size_t> done{0};
    const auto t_invoke = steady::now();
    hub->call([&](core::hub& h) {
      for (const auto& d : fixture.devices) {
        core::method_request r;
        r.method_name = invoke;
        r.payload = invoke_payload;
        // The hub learns of subscriptions asynchronously: let it wait for a device still settling.
        r.connect_timeout_seconds = 30;
        const auto sent = steady::now();
        h.invoke_device_method(d.id, r, [&, sent](const core::method_outcome& o) {
          std::lock_guard lock(m);
          latencies.push_back(ms_since(sent));
          if (const auto* res = std::get_if<core::method_result>(&o)) ++outcomes["status " + std::to_string(res->status)];
          else ++outcomes["hub error " + std::to_string(std::get<core::hub_error>(o).code())];
          ++done;
        });
      }
    });
    const auto invoke_deadline = steady::now() + std::chrono::seconds(400);
    while (done.load() < n && steady::now() < invoke_deadline) loop.run_once(std::chrono::milliseconds(50));
    const double total = ms_since(t_invoke);
    std::sort(latencies.begin(), latencies.end());
    auto q = [&](double p) { return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies.size())))]; };
    invocation = {{"method", invoke}, {"calls", n}, {"completed", done.load()}, {"outcomes", outcomes}, {"total_ms", total},
                  {"calls_per_second", total > 0 ? 1000.0 * static_cast<double>(done.load()) / total : 0.0},
                  {"latency_ms", {{"p50", q(0.5)}, {"p95", q(0.95)}, {"p99", q(0.99)}, {"max", latencies.empty() ? 0.0 : latencies.back()}}}};
  }

  const auto run_until = steady::now() + std::chrono::duration<double>(duration);
  while (steady::now() < run_until) loop.run_once(std::chrono::milliseconds(100));

  auto report = sim.report().to_json();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  json out = {{"fixture", fixture_file}, {"seed", fixture.seed}, {"transport", tls ? "mqtts" : "mqtt"}, {"all_connected", all_connected},
              {"timings", timings}, {"fleet", report}, {"invocation", invocation},
              {"process", {{"max_rss_mb", static_cast<double>(usage.ru_maxrss) / 1024.0}, {"open_file_limit", limit},
                           {"cpu_user_s", static_cast<double>(usage.ru_utime.tv_sec) + static_cast<double>(usage.ru_utime.tv_usec) / 1e6},
                           {"cpu_system_s", static_cast<double>(usage.ru_stime.tv_sec) + static_cast<double>(usage.ru_stime.tv_usec) / 1e6}}}};

  const auto t_stop = steady::now();
  sim.stop();
  const auto stop_deadline = steady::now() + std::chrono::seconds(60);
  while (sim.connected() > 0 && steady::now() < stop_deadline) loop.run_once(std::chrono::milliseconds(50));
  out["timings"]["stop_ms"] = ms_since(t_stop);

  std::cout << out.dump(2) << std::endl;
  if (!report_file.empty()) std::ofstream(report_file) << out.dump(2) << "\n";
  return all_connected ? 0 : 1;
}
