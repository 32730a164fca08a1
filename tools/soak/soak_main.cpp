// `mockhub-soak`: N connected devices (default 10,000) under direct methods and twin updates at a
// fixed rate for a fixed time; reports errors, latency percentiles and the hub's and the broker's
// memory (VmRSS) over time, and exits 0 only when nothing went wrong.
//
//   mockhub-soak [--devices N] [--seconds S | --minutes M] [--method-rate R] [--twin-rate R]
//                [--sample-every S] [--report FILE]
//
// The hub runs in a child process (hub_runtime: broker + plugin + core, system clock, loopback,
// ephemeral ports), so that its memory is its own; this process simulates the fleet (one event
// loop, tools of the fleet engine) and drives the service REST API with the service library.
// Every device answers any method with its payload and echoes desired changes as reported ones.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include <mockhub/device/fleet/simulator.hpp>

#include "device/fleet/open_files.hpp"
#include "device/fleet/registry_seed.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "service/service_client.hpp"

using namespace mockhub;
using nlohmann::json;
using steady = std::chrono::steady_clock;
namespace fleet = device::fleet;

namespace {

struct soak_options {
  std::size_t devices = 10'000;
  double seconds = 600;
  double method_rate = 100;  // calls per second, across the fleet
  double twin_rate = 100;    // desired-property updates per second
  double sample_every = 10;
  double connect_deadline = 600;
  std::size_t workers = 4;  // REST callers per kind
  std::size_t max_connecting = 64;
  std::string report_file;
};

double ms_since(steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); }

// VmRSS of a process in MB from /proc (0 when it is gone).
double rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

fleet::fleet_fixture soak_fleet(std::size_t n) {
  return fleet::fleet_fixture::parse({
      {"seed", 1},
      {"behaviours", {{"soak", {{"methods", {{"*", {{"status", 200}, {"echo_payload", true}}}}}, {"desired_echo", true}}}}},
      {"groups", json::array({{{"prefix", "soak-"}, {"count", n}, {"behaviour", "soak"}}})},
  });
}

bool write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const auto w = ::write(fd, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<std::size_t>(w);
  }
  return true;
}

// Reads one line (the hub's description) from `fd`, at most `bound`.
std::optional<std::string> read_line(int fd, std::chrono::seconds bound) {
  std::string out;
  const auto until = steady::now() + bound;
  char buf[65536];
  while (steady::now() < until) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    const auto r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    out.append(buf, static_cast<std::size_t>(r));
    if (const auto nl = out.find('\n'); nl != std::string::npos) return out.substr(0, nl);
  }
  return std::nullopt;
}

// The child: a hub seeded with the fleet; describes itself on `out` and runs until SIGTERM.
int run_hub(const fleet::fleet_fixture& fixture, int out) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the soak
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread: only sigwait sees them
  try {
    server::hub_runtime_options o;
    o.tls = false;
    o.hub.telemetry_per_device = 16;
    server::hub_runtime hub(o);
    hub.start();
    auto keys = hub.call([&](core::hub& h) { return fleet::seed_registry(h, fixture); });
    if (!hub.wait_credentials_applied(std::chrono::seconds(300))) throw std::runtime_error("the broker never applied the credentials");
    const json d = {{"mqtt_port", hub.mqtt_port()},
                    {"rest_port", hub.rest_port()},
                    {"broker_pid", hub.broker().pid()},
                    {"host_name", hub.host_name()},
                    {"service", hub.service_connection_string()},
                    {"keys", keys}};
    if (!write_all(out, d.dump() + "\n")) return 1;
    ::close(out);
    int sig = 0;
    ::sigwait(&stop, &sig);
    hub.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mockhub-soak: the hub failed: " << e.what() << "\n";
    return 1;
  }
}

// What one kind of operation did.
struct op_stats {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::uint64_t errors = 0;
  std::vector<std::string> first_errors;  // at most 10
  std::atomic<std::uint64_t> done{0};

  void ok(double ms) {
    std::lock_guard lock(mutex);
    latencies_ms.push_back(ms);
    ++done;
  }
  void failed(const std::string& what) {
    std::lock_guard lock(mutex);
    ++errors;
    ++done;
    if (first_errors.size() < 10) first_errors.push_back(what);
  }
  std::uint64_t error_count() {
    std::lock_guard lock(mutex);
    return errors;
  }
  json to_json() {
    std::lock_guard lock(mutex);
    return {{"count", done.load()}, {"errors", errors}, {"first_errors", first_errors},
            {"latency", fleet::to_json(fleet::summarize(latencies_ms))}};
  }
};

// `workers` threads sharing `rate` operations a second until `stop`; each calls `op(k, random)`.
template <class Op>
std::vector<std::thread> paced(std::size_t workers, double rate, std::atomic<bool>& stop, Op op) {
  std::vector<std::thread> threads;
  if (rate <= 0) return threads;
  const auto period = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(static_cast<double>(workers) / rate));
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([w, workers, period, &stop, op]() mutable {
      std::mt19937_64 random(0x50a4 + w);
      auto next = steady::now() + period / static_cast<long>(workers) * static_cast<long>(w);  // staggered
      for (std::uint64_t k = 0; !stop.load(); ++k) {
        std::this_thread::sleep_until(next);  // the pace of a load generator, not a test wait
        if (stop.load()) break;
        op(k, random);
        next += period;
      }
    });
  return threads;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Soaks a mockhub: N connected devices under direct methods and twin updates at a fixed rate."};
  soak_options o;
  double minutes = 0;
  app.add_option("--devices", o.devices, "connected devices")->capture_default_str()->check(CLI::Range(1, 200'000));
  app.add_option("--seconds", o.seconds, "how long the load runs")->capture_default_str()->check(CLI::Range(1.0, 7.0 * 86400));
  app.add_option("--minutes", minutes, "how long the load runs, in minutes (overrides --seconds)")->check(CLI::Range(0.0, 7.0 * 1440));
  app.add_option("--method-rate", o.method_rate, "direct method calls per second (0: none)")->capture_default_str()->check(CLI::Range(0.0, 10'000.0));
  app.add_option("--twin-rate", o.twin_rate, "desired-property updates per second (0: none)")->capture_default_str()->check(CLI::Range(0.0, 10'000.0));
  app.add_option("--sample-every", o.sample_every, "seconds between memory samples")->capture_default_str()->check(CLI::Range(0.5, 3600.0));
  app.add_option("--connect-deadline", o.connect_deadline, "seconds for every device to connect")->capture_default_str()->check(CLI::Range(1.0, 3600.0));
  app.add_option("--workers", o.workers, "REST callers per kind of operation")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--max-connecting", o.max_connecting, "connection attempts in flight at once")->capture_default_str()->check(CLI::Range(1, 10'000));
  app.add_option("--report", o.report_file, "also write the JSON report to this file");
  CLI11_PARSE(app, argc, argv);
  if (minutes > 0) o.seconds = minutes * 60;

  const auto fixture = soak_fleet(o.devices);
  const auto limit = fleet::raise_open_files(4 * o.devices + 4096);
  int to_parent[2];
  if (::pipe2(to_parent, O_CLOEXEC) != 0) {
    std::cerr << "mockhub-soak: pipe: " << std::strerror(errno) << "\n";
    return 2;
  }
  const pid_t hub_pid = ::fork();
  if (hub_pid < 0) {
    std::cerr << "mockhub-soak: fork: " << std::strerror(errno) << "\n";
    return 2;
  }
  if (hub_pid == 0) {
    ::close(to_parent[0]);
    std::exit(run_hub(fixture, to_parent[1]));
  }
  ::close(to_parent[1]);

  json report = {{"devices", o.devices}, {"seconds", o.seconds}, {"method_rate", o.method_rate},
                 {"twin_rate", o.twin_rate}, {"open_file_limit", limit}, {"hub_pid", hub_pid}};
  std::vector<std::string> problems;
  std::optional<int> hub_status;  // set once the child is reaped
  const auto exit_code = [](int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); };
  const auto stop_hub = [&] {
    if (hub_status) return exit_code(*hub_status);
    ::kill(hub_pid, SIGTERM);
    for (int i = 0; i < 600; ++i) {  // up to 60 s for a clean stop
      int status = 0;
      const pid_t r = ::waitpid(hub_pid, &status, WNOHANG);
      if (r == hub_pid) return exit_code(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(hub_pid, SIGKILL);
    ::waitpid(hub_pid, nullptr, 0);
    return 137;
  };

  const auto t0 = steady::now();
  const auto line = read_line(to_parent[0], std::chrono::seconds(600));
  ::close(to_parent[0]);
  json hub = line ? json::parse(*line, nullptr, false) : json();
  if (!hub.is_object()) {
    std::cerr << "mockhub-soak: the hub did not start\n";
    stop_hub();
    return 1;
  }
  const auto broker_pid = hub["broker_pid"].get<pid_t>();
  report["hub_start_ms"] = ms_since(t0);
  std::cerr << "mockhub-soak: hub pid " << hub_pid << ", broker pid " << broker_pid << ", seeded " << o.devices
            << " devices in " << report["hub_start_ms"].get<double>() << " ms\n";

  // The fleet, on its own event-loop thread; connections and drops counted from its events.
  const auto keys = hub["keys"].get<std::unordered_map<std::string, std::string>>();
  fleet::fleet_options fo;
  fo.host_name = hub["host_name"].get<std::string>();
  fo.port = hub["mqtt_port"].get<std::uint16_t>();
  fo.max_connecting = o.max_connecting;
  fo.key_for = [&keys](const fleet::device_spec& d) -> std::optional<std::string> { return keys.at(d.id); };
  device::event_loop loop;
  fleet::fleet_simulator sim(loop, fixture, fo);
  std::atomic<std::int64_t> connected{0};
  std::atomic<std::uint64_t> drops{0};
  std::atomic<bool> loading{false};
  sim.on_event([&](const fleet::fleet_event& e) {
    if (e.what == fleet::fleet_event::kind::connected) ++connected;
    if (e.what == fleet::fleet_event::kind::disconnected) {
      --connected;
      if (loading.load()) ++drops;
    }
  });
  loop.post([&] { sim.start(); });
  std::thread loop_thread([&] { loop.run(); });

  const auto t_connect = steady::now();
  const auto connect_until = t_connect + std::chrono::duration<double>(o.connect_deadline);
  while (connected.load() < static_cast<std::int64_t>(o.devices) && steady::now() < connect_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  report["connect_ms"] = ms_since(t_connect);
  const bool all_connected = connected.load() == static_cast<std::int64_t>(o.devices);
  std::cerr << "mockhub-soak: " << connected.load() << "/" << o.devices << " connected in "
            << report["connect_ms"].get<double>() << " ms\n";
  if (!all_connected) problems.push_back("only " + std::to_string(connected.load()) + " of " + std::to_string(o.devices) + " devices connected");

  service::client_options so;
  so.endpoint_override = service::endpoint{.scheme = "http", .host = "127.0.0.1", .port = hub["rest_port"].get<std::uint16_t>()};
  const std::string service_cs = hub["service"].get<std::string>();
  op_stats methods, twins;
  std::atomic<bool> stop{false};
  json memory = json::array();
  const auto sample = [&](double t) {
    const json s = {{"t_s", t}, {"hub_mb", rss_mb(hub_pid)}, {"broker_mb", rss_mb(broker_pid)}, {"soak_mb", rss_mb(::getpid())},
                    {"methods", methods.done.load()}, {"twin_updates", twins.done.load()},
                    {"errors", methods.error_count() + twins.error_count()}, {"connected", connected.load()}};
    memory.push_back(s);
    std::cerr << "mockhub-soak: " << s.dump() << "\n";
  };

  std::vector<std::thread> threads;
  if (all_connected) {
    loading = true;
    const auto n = o.devices;
    auto device_id = [&fixture, n](std::mt19937_64& r) { return fixture.devices[r() % n].id; };
    auto method_threads = paced(o.workers, o.method_rate, stop, [&, device_id](std::uint64_t k, std::mt19937_64& r) mutable {
      thread_local service::service_client backend(service_cs, so);
      const auto id = device_id(r);
      const json payload = {{"k", k}};
      const auto t = steady::now();
      try {
        const auto answer = backend.invoke_method(id, {.method_name = "soak", .payload = payload});
        if (answer.status != 200 || answer.payload != payload)
          methods.failed(id + ": status " + std::to_string(answer.status) + " payload " + answer.payload.dump());
        else
          methods.ok(ms_since(t));
      } catch (const std::exception& e) {
        methods.failed(id + ": " + e.what());
      }
    });
    auto twin_threads = paced(o.workers, o.twin_rate, stop, [&, device_id](std::uint64_t k, std::mt19937_64& r) mutable {
      thread_local service::service_client backend(service_cs, so);
      const auto id = device_id(r);
      const auto t = steady::now();
      try {
        backend.twins().update_twin(id, {{"properties", {{"desired", {{"soak", k}}}}}});
        twins.ok(ms_since(t));
      } catch (const std::exception& e) {
        twins.failed(id + ": " + e.what());
      }
    });
    for (auto& th : method_threads) threads.push_back(std::move(th));
    for (auto& th : twin_threads) threads.push_back(std::move(th));

    const auto t_load = steady::now();
    const auto load_until = t_load + std::chrono::duration<double>(o.seconds);
    auto next_sample = t_load;
    while (steady::now() < load_until) {
      if (steady::now() >= next_sample) {
        sample(std::chrono::duration<double>(steady::now() - t_load).count());
        next_sample += std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(o.sample_every));
      }
      int status = 0;
      if (::waitpid(hub_pid, &status, WNOHANG) == hub_pid) hub_status = status;
      if (hub_status || rss_mb(broker_pid) == 0) {  // gone, or a zombie (no VmRSS)
        problems.push_back("the hub or the broker exited during the load");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop = true;
    for (auto& th : threads) th.join();
    sample(std::chrono::duration<double>(steady::now() - t_load).count());
    loading = false;
  }

  // The fleet's own view (desired patches received and echoed, reported acks), then stop it.
  std::promise<json> fleet_report;
  loop.post([&] {
    fleet_report.set_value(sim.report().to_json());
    sim.stop();
  });
  auto fr = fleet_report.get_future();
  const json fleet_json = fr.wait_for(std::chrono::seconds(60)) == std::future_status::ready ? fr.get() : json();
  loop.stop();
  loop_thread.join();
  const int hub_exit = stop_hub();

  report["methods"] = methods.to_json();
  report["twin_updates"] = twins.to_json();
  report["fleet"] = fleet_json;
  report["memory"] = memory;
  report["unexpected_disconnects"] = drops.load();
  report["hub_exit_status"] = hub_exit;
  if (methods.error_count() > 0) problems.push_back(std::to_string(methods.error_count()) + " method calls failed");
  if (twins.error_count() > 0) problems.push_back(std::to_string(twins.error_count()) + " twin updates failed");
  if (drops.load() > 0) problems.push_back(std::to_string(drops.load()) + " devices dropped during the load");
  if (fleet_json.is_null()) problems.push_back("the fleet's event loop did not answer");
  else if (fleet_json.at("reported").value("failed", 0) > 0 || fleet_json.value("terminal_failures", 0) > 0)
    problems.push_back("devices failed: reported updates or connections (see fleet)");
  if (hub_exit != 0) problems.push_back("the hub exited with status " + std::to_string(hub_exit));
  report["problems"] = problems;
  report["ok"] = problems.empty();

  std::cout << report.dump(2) << std::endl;
  if (!o.report_file.empty()) std::ofstream(o.report_file) << report.dump(2) << "\n";
  return problems.empty() ? 0 : 1;
}
