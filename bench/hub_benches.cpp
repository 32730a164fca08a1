// B4, B1, B2 and B6 on one in-process hub (hub_runtime: mosquitto with the plugin, the core, the
// REST API over plain HTTP, ephemeral loopback ports), with the raw ping-pong baseline beside them
// in the same run:
//   B4  resident memory: this process before/after registering the devices (the hub is in-process),
//       then the hub's and the broker's before/after a `fleet --external` child connects the
//       connected share (so the devices' own memory is not counted).
//   B1  a scheduleDeviceMethod job over the connected devices (REST create, hub-side completion),
//       alternating with raw ping-pong of as many requests at the job engine's window.
//   B2  a scheduleUpdateTwin job over every registered device; desired notifications counted
//       where the simulated devices receive them.
//   B6  Devices_InvokeMethod over REST from 1 and 64 caller threads, beside raw ping-pong with
//       a window of 1 and 64.
#include <malloc.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <mockhub/device/fleet/simulator.hpp>

#include "bench/bench_table.hpp"
#include "bench/benches.hpp"
#include "bench/raw_pingpong.hpp"
#include "device/fleet/registry_seed.hpp"
#include "mock_hub/server/child_process.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "service/service_client.hpp"

using nlohmann::json;

namespace mockhub::bench {

namespace {

constexpr const char* connected_prefix = "dev-";

// The devices: `connected` answering `ping` and echoing desired properties, the rest idle; tags
// and reported properties sized so a twin is about 1 KB.
json fixture_json(std::size_t connected, std::size_t idle) {
  const json reported = {{"firmware", "1.4.2"}, {"config", {{"interval", 60}, {"mode", "normal"}}}};
  const json tags = {{"building", 43}, {"floor", 3}, {"location", {{"region", "EU"}, {"plant", "plant-7"}}}};
  json f = {{"seed", 42},
            {"behaviours", {{"bench", {{"methods", {{"ping", {{"status", 200}, {"payload", {{"ok", true}}}}}}}, {"desired_echo", true}}}}},
            {"groups", json::array()}};
  json g = {{"prefix", connected_prefix}, {"count", connected}, {"digits", 6}, {"behaviour", "bench"}, {"tags", tags}, {"reported", reported}};
  g["tags"]["fleet"] = "connected";
  f["groups"].push_back(g);
  if (idle > 0) {
    json i = {{"prefix", "idle-"}, {"count", idle}, {"digits", 6}, {"tags", tags}, {"reported", reported}};
    i["tags"]["fleet"] = "idle";
    f["groups"].push_back(i);
  }
  return f;
}

std::size_t connected_in_hub(server::hub_runtime& hub) {
  return hub.call([](core::hub& h) { return h.sessions().connected_devices().size(); });
}

// Polls (every 20 ms) until `pred`, at most `timeout`; false on timeout.
template <class P>
bool poll_until(P pred, std::chrono::seconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!pred()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

double kib_per(std::uint64_t before, std::uint64_t after, std::size_t n) {
  return after > before ? static_cast<double>(after - before) * 1024.0 / static_cast<double>(n) : 0.0;
}

bool job_done(server::hub_runtime& hub, const std::string& id, std::chrono::seconds timeout, core::device_job_statistics* stats) {
  bool ok = hub.wait_until(
      [&](core::hub& h) {
        const auto& j = h.jobs().get_scheduled_job(id);
        return j.status != core::job_status::queued && j.status != core::job_status::scheduled && j.status != core::job_status::running;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  if (stats) *stats = hub.call([&](core::hub& h) { return h.jobs().get_scheduled_job(id).statistics; });
  return ok;
}

}  // namespace

void run_hub_benches(const bench_config& c, bool b1, bool b2, bool b4, bool b6) {
  const std::size_t n_conn = c.connected, n_reg = std::max(c.registered, c.connected);
  server::hub_runtime_options ho;
  ho.tls = false;
  ho.seed = 42;
  ho.hub.telemetry_per_device = 16;
  server::hub_runtime hub(ho);
  hub.start();
  const int broker_pid = hub.broker().pid();
  const auto policy_key = hub.call([](core::hub& h) { return h.policies().find("device")->primary_key; });
  // The raw baseline first: its requester runs libmosquitto's own select() loop, which needs a
  // descriptor below FD_SETSIZE (1024), so it connects before the fleet takes thousands.
  std::unique_ptr<raw_pingpong> raw;
  if (b1 || b6) {
    const auto t_raw = steady::now();
    raw = std::make_unique<raw_pingpong>(c.bin_dir / "mockhub_bench", n_conn, 16, std::chrono::seconds(180));
    std::fprintf(stderr, "bench: raw baseline: %zu responders connected in %.0f ms\n", n_conn, ms_since(t_raw));
  }

  // --- B4: registered devices ---
  const auto all = device::fleet::fleet_fixture::parse(fixture_json(n_conn, n_reg - n_conn));
  ::malloc_trim(0);
  const auto rss_empty = rss_kib();
  const auto t_seed = steady::now();
  hub.call([&](core::hub& h) { (void)device::fleet::seed_registry(h, all); });
  const double seed_ms = ms_since(t_seed);
  ::malloc_trim(0);
  const auto rss_registered = rss_kib();
  const auto twin_bytes = hub.call([](core::hub& h) {
    return h.query(std::string("SELECT * FROM devices WHERE deviceId = '") + connected_prefix + "000000'").items.at(0).dump().size();
  });
  if (!hub.wait_credentials_applied(std::chrono::seconds(120))) throw std::runtime_error("hub: the broker never applied the credentials");
  std::fprintf(stderr, "bench: %zu devices registered in %.0f ms (twin %zu bytes)\n", n_reg, seed_ms, twin_bytes);

  const auto conn_fixture = device::fleet::fleet_fixture::parse(fixture_json(n_conn, 0));
  const auto tmp = std::filesystem::temp_directory_path() / ("mockhub-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  struct remove_on_exit {
    std::filesystem::path dir;
    ~remove_on_exit() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } tmp_guard{tmp};

  if (b4) {
    samples reg;
    reg.add(kib_per(rss_empty, rss_registered, n_reg));
    print_row("B4", "hub memory per registered device (twin " + std::to_string(twin_bytes) + " B as JSON)", "bytes", reg,
              std::nullopt, "1 run, " + std::to_string(n_reg) + " devices; target < 3072");
    // Connected devices, simulated in a child process so that only the hub's side counts here.
    const auto fixture_file = tmp / "connected.json";
    std::ofstream(fixture_file) << fixture_json(n_conn, 0).dump();
    ::malloc_trim(0);
    const auto hub_before = rss_kib(), broker_before = rss_kib(broker_pid);
    auto child = server::child_process::spawn(
        {.program = c.bin_dir / "fleet",
         .arguments = {"--fixture", fixture_file.string(), "--external", "--host", "127.0.0.1", "--port", std::to_string(hub.mqtt_port()),
                       "--host-name", hub.host_name(), "--policy-key", policy_key, "--policy-name", "device", "--duration", "600",
                       "--connect-deadline", "120"},
         .output_file = tmp / "fleet.log",
         .min_open_files = 4 * n_conn + 4096});
    if (!poll_until([&] { return connected_in_hub(hub) >= n_conn; }, std::chrono::seconds(120)))
      throw std::runtime_error("B4: the fleet child did not connect every device (see " + (tmp / "fleet.log").string() + ")");
    ::malloc_trim(0);
    const auto hub_after = rss_kib(), broker_after = rss_kib(broker_pid);
    child.terminate(std::chrono::seconds(20));
    poll_until([&] { return connected_in_hub(hub) == 0; }, std::chrono::seconds(60));
    samples h, b;
    h.add(kib_per(hub_before, hub_after, n_conn));
    b.add(kib_per(broker_before, broker_after, n_conn));
    print_row("B4", "hub memory per connected device", "bytes", h, std::nullopt, "1 run, " + std::to_string(n_conn) + " devices");
    print_row("B4", "broker memory per connected device", "bytes", b, std::nullopt, "1 run, " + std::to_string(n_conn) + " devices");
  }
  if (!b1 && !b2 && !b6) return;

  // --- the simulated fleet, on one event_loop thread ---
  device::event_loop loop;
  device::fleet::fleet_options fo;
  fo.host_name = hub.host_name();
  fo.port = hub.mqtt_port();
  fo.key_name = "device";
  fo.key_for = [&policy_key](const device::fleet::device_spec&) -> std::optional<std::string> { return policy_key; };
  device::fleet::fleet_simulator sim(loop, conn_fixture, fo);
  std::atomic<std::size_t> online{0}, desired{0}, echoed{0};
  std::atomic<std::size_t> desired_target{0};
  std::mutex m;
  steady::time_point desired_done{};
  sim.on_event([&](const device::fleet::fleet_event& e) {
    using k = device::fleet::fleet_event::kind;
    if (e.what == k::connected) ++online;
    else if (e.what == k::disconnected) --online;
    else if (e.what == k::reported_acked) ++echoed;
    else if (e.what == k::desired_received && ++desired == desired_target.load()) {
      std::lock_guard lock(m);
      desired_done = steady::now();
    }
  });
  loop.post([&] { sim.start(); });
  std::thread loop_thread([&] {
    ::pthread_setname_np(::pthread_self(), "fleet");
    loop.run();
  });
  struct stop_loop {
    device::event_loop& l;
    device::fleet::fleet_simulator& s;
    std::thread& t;
    ~stop_loop() {
      l.post([this] { s.stop(); });
      l.post([this] { l.stop(); });
      t.join();
    }
  } stopper{loop, sim, loop_thread};
  const auto t_conn = steady::now();
  if (!poll_until([&] { return online.load() == n_conn && connected_in_hub(hub) == n_conn; }, std::chrono::seconds(180)))
    throw std::runtime_error("bench: only " + std::to_string(online.load()) + " of " + std::to_string(n_conn) + " devices connected");
  std::fprintf(stderr, "bench: %zu devices connected in %.0f ms\n", n_conn, ms_since(t_conn));
  // The hub learns of subscriptions after the connection: wait until every device takes methods and desired patches.
  poll_until(
      [&] {
        return hub.call([&](core::hub& h) {
          for (const auto& d : conn_fixture.devices)
            if (!h.sessions().is_subscribed(d.id, core::device_subscription::methods) ||
                !h.sessions().is_subscribed(d.id, core::device_subscription::desired_patches))
              return false;
          return true;
        });
      },
      std::chrono::seconds(60));

  mockhub::service::service_client svc(hub.service_connection_string(),
                                       {.endpoint_override = mockhub::service::endpoint{.scheme = "http", .host = "127.0.0.1", .port = hub.rest_port()}});
  int job_seq = 0;

  if (b1) {
    samples job_ms, job_rate, raw_ms, raw_rate, ratio, job_cpu, raw_cpu;
    std::map<std::string, samples> job_cpu_parts, raw_cpu_parts;
    // CPU time per device operation, by process and thread, over one phase (where the time goes).
    const auto cpu_now = [&] {
      std::map<std::string, std::uint64_t> all;
      for (const auto& [name, ns] : cpu_ns_by_thread()) all["bench/" + name] += ns;
      for (const auto& [name, ns] : cpu_ns_by_thread(broker_pid)) all["hub broker"] += ns;
      for (const auto& [name, ns] : cpu_ns_by_thread(raw->broker_pid())) all["raw broker"] += ns;
      for (const auto& [name, ns] : cpu_ns_by_thread(raw->responders_pid())) all["raw responders"] += ns;
      return all;
    };
    const auto per_op = [&](const auto& before, const auto& after, std::map<std::string, samples>& parts, samples& total) {
      double sum = 0;
      std::map<std::string, double> us;
      for (const auto& [name, ns] : after) {
        const auto b = before.find(name);
        const double d = static_cast<double>(ns - (b == before.end() ? 0 : b->second)) / 1000.0 / static_cast<double>(n_conn);
        if (d < 0.05) continue;  // idle in this phase
        us[name] = d;
        sum += d;
      }
      for (const auto& [name, d] : us) parts[name].add(d);
      total.add(sum);
    };
    std::string failures;
    for (int r = 0; r < c.reps; ++r) {
      const std::string id = "b1-" + std::to_string(++job_seq);
      const auto cpu0 = cpu_now();
      const auto t0 = steady::now();
      svc.jobs().schedule_device_method({.job_id = id, .query_condition = "tags.fleet = 'connected'",
                                         .method = {.method_name = "ping", .payload = {{"rep", r}}}});
      core::device_job_statistics st;
      if (!job_done(hub, id, std::chrono::seconds(120), &st)) throw std::runtime_error("B1: job " + id + " did not finish in 120 s");
      const double ms = ms_since(t0);
      if (static_cast<std::size_t>(st.succeeded_count) != n_conn) failures += " " + id + ": " + std::to_string(st.succeeded_count) + " succeeded;";
      const auto cpu1 = cpu_now();
      job_ms.add(ms);
      job_rate.add(1000.0 * static_cast<double>(n_conn) / ms);
      const auto rr = raw->run(n_conn, c.window, std::chrono::seconds(60));
      const auto cpu2 = cpu_now();
      per_op(cpu0, cpu1, job_cpu_parts, job_cpu);
      per_op(cpu1, cpu2, raw_cpu_parts, raw_cpu);
      raw_ms.add(rr.total_ms);
      raw_rate.add(1000.0 * static_cast<double>(rr.answered) / rr.total_ms);
      ratio.add(job_rate.values.back() / raw_rate.values.back());
      std::fprintf(stderr, "bench: B1 rep %d: job %.0f ms, raw %.0f ms\n", r + 1, ms, rr.total_ms);
    }
    const std::string devs = std::to_string(n_conn);
    print_row("B1", "method job over " + devs + " connected devices: create to completed", "ms", job_ms, std::nullopt,
              "target < 1000" + (failures.empty() ? std::string() : ";" + failures));
    print_row("B1", "method job: device operations per second", "ops/s", job_rate, ratio.median(),
              "ratio = B1 / raw (per-run ratios " + std::to_string(ratio.min()).substr(0, 4) + ".." + std::to_string(ratio.max()).substr(0, 4) +
                  "); target >= 0.8");
    print_row("B1", "raw MQTT ping-pong, " + devs + " requests, window " + std::to_string(c.window), "ms", raw_ms);
    print_row("B1", "raw MQTT ping-pong: round trips per second", "rt/s", raw_rate);
    const auto parts_note = [](const std::map<std::string, samples>& parts) {
      std::string note;
      for (const auto& [name, s] : parts) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s%s %.1f", note.empty() ? "" : ", ", name.c_str(), s.median());
        note += buf;
      }
      return note;
    };
    print_row("B1", "method job: CPU time per device operation, all processes", "us", job_cpu,
              raw_cpu.median() / job_cpu.median(), "ratio = raw / job; medians by thread: " + parts_note(job_cpu_parts));
    print_row("B1", "raw MQTT ping-pong: CPU time per round trip, all processes", "us", raw_cpu, std::nullopt,
              "medians by thread: " + parts_note(raw_cpu_parts));
  }

  if (b2) {
    samples job_ms, notif_rate, notif_ms;
    std::string failures;
    for (int r = 0; r < c.reps; ++r) {
      const std::string id = "b2-" + std::to_string(++job_seq);
      desired_target = desired.load() + n_conn;
      const auto echoed_target = echoed.load() + n_conn;
      const auto t0 = steady::now();
      svc.jobs().schedule_twin_update({.job_id = id, .query_condition = "*",
                                       .patch = {{"properties", {{"desired", {{"bench", {{"rep", r}, {"setpoint", 21.5}}}}}}}}});
      core::device_job_statistics st;
      if (!job_done(hub, id, std::chrono::seconds(180), &st)) throw std::runtime_error("B2: job " + id + " did not finish in 180 s");
      job_ms.add(ms_since(t0));
      if (static_cast<std::size_t>(st.succeeded_count) != n_reg) failures += " " + id + ": " + std::to_string(st.succeeded_count) + " succeeded;";
      if (!poll_until([&] { return desired.load() >= desired_target.load(); }, std::chrono::seconds(60)))
        throw std::runtime_error("B2: only " + std::to_string(desired.load()) + " desired notifications arrived");
      double ms;
      {
        std::lock_guard lock(m);
        ms = std::chrono::duration<double, std::milli>(desired_done - t0).count();
      }
      notif_ms.add(ms);
      notif_rate.add(1000.0 * static_cast<double>(n_conn) / ms);
      // Let the devices' echoes settle before the next run.
      poll_until([&] { return echoed.load() >= echoed_target; }, std::chrono::seconds(60));
      std::fprintf(stderr, "bench: B2 rep %d: job %.0f ms, notifications %.0f ms\n", r + 1, job_ms.values.back(), ms);
    }
    print_row("B2", "twin job over " + std::to_string(n_reg) + " devices: create to completed", "ms", job_ms, std::nullopt,
              failures.empty() ? std::string("each device echoes its desired update as a reported patch") : failures);
    print_row("B2", "twin job: the " + std::to_string(n_conn) + " connected devices have their notification", "ms", notif_ms);
    print_row("B2", "twin job: desired notifications delivered per second", "notif/s", notif_rate);
  }

  if (b6) {
    for (const std::size_t callers : {std::size_t{1}, std::size_t{64}}) {
      const std::size_t per_caller = callers == 1 ? 400 : 40;
      samples p50, p99, rate, raw_p50, raw_p99, raw_rate, ratio;
      for (int r = 0; r < c.reps; ++r) {
        std::vector<std::vector<double>> lat(callers);
        std::atomic<std::size_t> errors{0};
        std::vector<std::thread> threads;
        const auto t0 = steady::now();
        for (std::size_t t = 0; t < callers; ++t)
          threads.emplace_back([&, t] {
            mockhub::service::service_client client(
                hub.service_connection_string(),
                {.endpoint_override = mockhub::service::endpoint{.scheme = "http", .host = "127.0.0.1", .port = hub.rest_port()}});
            for (std::size_t i = 0; i < per_caller; ++i) {
              const auto& dev = conn_fixture.devices[(t * per_caller + i) % n_conn].id;
              const auto s = steady::now();
              try {
                if (client.invoke_method(dev, {.method_name = "ping", .payload = {{"i", i}}}).status != 200) ++errors;
              } catch (const std::exception&) {
                ++errors;
              }
              lat[t].push_back(ms_since(s));
            }
          });
        for (auto& th : threads) th.join();
        const double total = ms_since(t0);
        std::vector<double> all_lat;
        for (auto& l : lat) all_lat.insert(all_lat.end(), l.begin(), l.end());
        p50.add(quantile(all_lat, 0.5));
        p99.add(quantile(all_lat, 0.99));
        rate.add(1000.0 * static_cast<double>(all_lat.size()) / total);
        if (errors) std::fprintf(stderr, "bench: B6 %zu callers: %zu calls failed\n", callers, errors.load());
        auto rr = raw->run(callers * per_caller, callers, std::chrono::seconds(60));
        raw_p50.add(quantile(rr.latencies_ms, 0.5));
        raw_p99.add(quantile(rr.latencies_ms, 0.99));
        raw_rate.add(1000.0 * static_cast<double>(rr.answered) / rr.total_ms);
        ratio.add(rate.values.back() / raw_rate.values.back());
      }
      const std::string who = std::to_string(callers) + (callers == 1 ? " caller" : " callers");
      print_row("B6", "REST direct method, " + who + ": p50", "ms", p50);
      print_row("B6", "REST direct method, " + who + ": p99", "ms", p99);
      print_row("B6", "REST direct method, " + who + ": rate", "calls/s", rate, ratio.median(), "ratio = REST / raw");
      print_row("B6", "raw MQTT ping-pong, window " + std::to_string(callers) + ": p50", "ms", raw_p50);
      print_row("B6", "raw MQTT ping-pong, window " + std::to_string(callers) + ": p99", "ms", raw_p99);
      print_row("B6", "raw MQTT ping-pong, window " + std::to_string(callers) + ": rate", "rt/s", raw_rate);
    }
  }
}

}  // namespace mockhub::bench
