#include "demo.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <mockhub/device/event_loop.hpp>
#include <mockhub/device/fleet/simulator.hpp>

#include "examples/job_scheduler/job_scheduler.hpp"
#include "device/fleet/registry_seed.hpp"
#include "hub_runtime.hpp"
#include "mock_hub/core/time_format.hpp"
#include "service/service_client.hpp"

#ifndef MOCKHUB_FIXTURES_DIR
#define MOCKHUB_FIXTURES_DIR "fixtures"
#endif

namespace mockhub::server {

using nlohmann::json;
using namespace std::chrono_literals;
namespace svc = mockhub::service;
namespace fleet = mockhub::device::fleet;
using steady = std::chrono::steady_clock;

namespace {

// A few labelled progress lines. On a terminal they are redrawn in place (ANSI cursor moves);
// otherwise a line is printed each time its text changes, so a log shows every step once.
class progress_view {
 public:
  progress_view(std::ostream& out, bool redraw) : out_(out), redraw_(redraw) {}

  /// Sets line `label` to a bar of done/total followed by `text`.
  void set(const std::string& label, std::int64_t done, std::int64_t total, const std::string& text) {
    const std::string line = render(label, done, total, text);
    auto it = std::find_if(lines_.begin(), lines_.end(), [&](const auto& l) { return l.first == label; });
    if (it != lines_.end() && it->second == line) return;
    if (it == lines_.end()) {
      lines_.emplace_back(label, line);
      it = std::prev(lines_.end());
    } else {
      it->second = line;
    }
    if (!redraw_) {
      out_ << line << std::endl;
      return;
    }
    if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "F";  // back to the first line drawn
    for (const auto& l : lines_) out_ << "\x1b[2K" << l.second << "\n";
    drawn_ = lines_.size();
    out_ << std::flush;
  }

 private:
  std::string render(const std::string& label, std::int64_t done, std::int64_t total, const std::string& text) const {
    std::ostringstream s;
    s << "  " << std::left << std::setw(18) << label << std::right;
    if (redraw_) {
      constexpr int width = 30;
      const int filled = total > 0 ? static_cast<int>(width * std::min(done, total) / total) : 0;
      s << "[" << std::string(static_cast<std::size_t>(filled), '#') << std::string(static_cast<std::size_t>(width - filled), '-') << "] ";
    }
    s << done << "/" << total;
    if (!text.empty()) s << "  " << text;
    return s.str();
  }

  std::ostream& out_;
  bool redraw_;
  std::vector<std::pair<std::string, std::string>> lines_;
  std::size_t drawn_ = 0;
};

std::string job_text(const svc::job_response& j) {
  std::string text(to_string(j.status));
  const auto& s = j.statistics;
  if (s.failed_count > 0) text += ", " + std::to_string(s.failed_count) + " failed";
  if (s.running_count > 0) text += ", " + std::to_string(s.running_count) + " running";
  return text;
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

/// The job's run time from the hub's start and end times; "-" when it has none.
std::string duration_of(const svc::job_response& j) {
  const auto start = core::parse_time(j.start_time);
  const auto end = core::parse_time(j.end_time);
  if (!start || !end || *end < *start) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", std::chrono::duration<double>(*end - *start).count());
  return text;
}

fleet::fleet_fixture load_fixture(const demo_options& o, const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw fleet::fixture_error("fleet fixture: cannot read " + file.string());
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) throw fleet::fixture_error("fleet fixture: " + file.string() + " is not valid JSON");
  if (o.devices) {
    if (!j.is_object() || !j.contains("groups") || !j["groups"].is_array() || j["groups"].empty() || !j["groups"][0].is_object())
      throw fleet::fixture_error("--devices needs a fixture with a group to scale (" + file.string() + " has none)");
    j["groups"][0]["count"] = *o.devices;
  }
  return fleet::fleet_fixture::parse(j);
}

// What one lock's twin and job records say, once both jobs are done.
struct lock_check {
  bool locked = false;
  bool desired = false;
  std::vector<std::string> problems;
};

// The door-lock fixture of an installed mockhub (<prefix>/share/mockhub/fixtures, beside
// <prefix>/bin/mockhub), else the source tree's this build was made from.
std::filesystem::path default_fleet_file() {
  const std::filesystem::path relative = "fleets/door-locks.json";
  std::error_code ec;
  if (const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec); !ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "mockhub" / "fixtures" / relative;
    if (std::filesystem::is_regular_file(installed, ec)) return installed;
  }
  return std::filesystem::path(MOCKHUB_FIXTURES_DIR) / relative;
}

}  // namespace

int run_demo(const demo_options& o, std::ostream& out, std::ostream& err) {
  const std::filesystem::path fixture_file = o.fleet.empty() ? default_fleet_file() : o.fleet;
  fleet::fleet_fixture fixture;
  try {
    fixture = load_fixture(o, fixture_file);
  } catch (const fleet::fixture_error& e) {
    err << "mockhub demo: " << e.what() << std::endl;
    return demo_usage;
  }
  const auto n = fixture.devices.size();
  const auto t0 = steady::now();
  auto elapsed = [&] { return seconds_text(std::chrono::duration<double>(steady::now() - t0).count()); };

  out << "mockhub demo: the tutorial's door locks, end to end on a fresh hub\n"
      << "  fleet       " << fixture_file.string() << " (" << n << " devices)\n";

  hub_runtime hub({.tls = true});
  try {
    hub.start();
  } catch (const std::exception& e) {
    err << "mockhub demo: the hub did not start: " << e.what() << std::endl;
    return demo_hub_error;
  }
  out << "  hub         " << hub.host_name() << ": MQTT 127.0.0.1:" << hub.mqtt_port() << ", MQTT/TLS 127.0.0.1:" << hub.mqtts_port()
      << ", REST https://127.0.0.1:" << hub.https_port() << "\n"
      << "  CA          " << hub.ca_file().string() << "\n";

  // The registry first (the simulator only connects), then the fleet on its own loop thread.
  const auto keys = hub.call([&](core::hub& h) { return device::fleet::seed_registry(h, fixture); });
  if (!hub.wait_credentials_applied(60s)) {
    err << "mockhub demo: the broker never applied the devices' credentials" << std::endl;
    return demo_hub_error;
  }
  fleet::fleet_options fo;
  fo.host_name = hub.host_name();
  fo.connect_host = hub.host_name();
  fo.port = hub.mqtts_port();
  fo.tls = {.enabled = true, .ca_file = hub.ca_file().string()};
  fo.key_for = [&keys](const fleet::device_spec& d) -> std::optional<std::string> { return keys.at(d.id); };

  device::event_loop loop;
  fleet::fleet_simulator sim(loop, fixture, fo);
  std::mutex m;
  std::condition_variable changed;
  std::vector<bool> ever_connected(n, false);
  std::size_t connected = 0;
  sim.on_event([&](const fleet::fleet_event& e) {
    if (e.what != fleet::fleet_event::kind::connected) return;
    std::lock_guard lock(m);
    if (!ever_connected[e.device]) {
      ever_connected[e.device] = true;
      ++connected;
      changed.notify_all();
    }
  });
  sim.start();
  std::thread loop_thread([&] { loop.run(); });
  struct loop_stopper {
    device::event_loop& loop;
    fleet::fleet_simulator& sim;
    std::thread& thread;
    ~loop_stopper() {
      loop.post([this] {
        sim.stop();
        loop.stop();
      });
      thread.join();
    }
  } stopper{loop, sim, loop_thread};

  out << "\n";
  progress_view view(out, o.progress_bars);
  {
    const auto deadline = steady::now() + 60s;
    std::unique_lock lock(m);
    while (connected < n && steady::now() < deadline) {
      if (o.progress_bars) view.set("devices connected", static_cast<std::int64_t>(connected), static_cast<std::int64_t>(n), "");
      changed.wait_until(lock, std::min(deadline, steady::now() + 100ms));
    }
    view.set("devices connected", static_cast<std::int64_t>(connected), static_cast<std::int64_t>(n), "in " + elapsed());
  }

  examples::job_scheduler_options jo;
  jo.connection_string = hub.service_connection_string();
  jo.ca_file = hub.ca_file();
  jo.endpoint = "https://127.0.0.1:" + std::to_string(hub.https_port());
  jo.query_condition = o.query_condition;
  jo.twin_delay = o.twin_delay;
  jo.method_delay = o.method_delay;
  jo.poll_interval = 200ms;
  jo.job_timeout = 120s;
  jo.response_timeout = 10s;

  try {
    svc::client_options co;
    co.endpoint_override = svc::endpoint::parse(jo.endpoint);
    co.ca_file = jo.ca_file;
    svc::service_client service(jo.connection_string, co);
    const auto locks = examples::selected_devices(service, jo);
    if (locks.empty()) {
      err << "mockhub demo: no device matches '" << jo.query_condition << "'" << std::endl;
      return demo_usage;
    }
    const auto total = static_cast<std::int64_t>(locks.size());
    auto show = [&](const examples::job_run& job, const std::string& extra) {
      const auto& s = job.job.statistics;
      view.set(job.label + " job", s.succeeded_count + s.failed_count, total, job_text(job.job) + extra);
    };
    examples::job_observer observer;
    observer.scheduled = [&](const examples::job_run& job, std::optional<std::chrono::seconds> starts_in) {
      show(job, starts_in ? ", starts in " + std::to_string(starts_in->count()) + " s" : ", starts now");
    };
    observer.progress = [&](const examples::job_run& job) { show(job, ""); };
    observer.gave_up = [&](const examples::job_run& job) { show(job, ", gave up waiting"); };
    const auto runs = examples::run_tutorial_jobs(service, jo, observer);

    // Every lock's records, then its twin: locked (reported by lockDoor) and the desired
    // properties echoed back as reported. Echoes travel on their own: give them a moment.
    std::map<std::string, lock_check> checks;
    for (const auto& id : locks) checks[id];
    for (const auto& job : runs) {
      std::set<std::string> seen;
      for (const auto& r : job.records) {
        seen.insert(r.device_id);
        auto it = checks.find(r.device_id);
        if (it == checks.end()) continue;
        std::string problem;
        if (r.status != svc::device_job_status::completed) {
          problem = job.label + " job " + std::string(to_string(r.status));
          if (r.error) problem += " (" + r.error->code + ": " + r.error->description + ")";
        } else if (job.label == "method" && r.outcome && (r.outcome->status < 200 || r.outcome->status > 299)) {
          problem = jo.method_name + " answered " + std::to_string(r.outcome->status) + " " + r.outcome->payload.dump();
        }
        if (!problem.empty()) it->second.problems.push_back(problem);
      }
      for (auto& [id, c] : checks)
        if (!seen.contains(id)) c.problems.push_back(job.label + " job has no record of it");
    }
    const json desired = jo.desired;
    const auto twin_deadline = steady::now() + 5s;
    for (;;) {
      bool waiting = false;
      for (auto& [id, c] : checks) {
        if (c.locked && c.desired) continue;
        const auto twin = service.twins().get_twin(id);
        c.locked = twin.reported.value("lockState", json()) == "locked";
        c.desired = true;
        for (const auto& [name, value] : desired.items())
          c.desired = c.desired && twin.desired.value(name, json()) == value && twin.reported.value(name, json()) == value;
        waiting = waiting || ((!c.locked || !c.desired) && c.problems.empty());
      }
      if (!waiting || steady::now() >= twin_deadline) break;
      std::this_thread::sleep_for(200ms);
    }

    std::size_t locked = 0, with_desired = 0;
    std::vector<std::string> failed;
    for (auto& [id, c] : checks) {
      locked += c.locked;
      with_desired += c.desired;
      if (!c.locked) c.problems.push_back("its twin does not report lockState \"locked\"");
      if (!c.desired) c.problems.push_back("its twin does not report the desired " + desired.dump());
      if (!c.problems.empty()) {
        std::string line = id + ":";
        for (std::size_t i = 0; i < c.problems.size(); ++i) line += (i ? "; " : " ") + c.problems[i];
        failed.push_back(line);
      }
    }

    out << "\nSummary (" << locks.size() << " locks, " << o.query_condition << ", " << elapsed() << ")\n";
    out << "  " << std::left << std::setw(8) << "job" << std::setw(11) << "status" << std::right << std::setw(8) << "devices"
        << std::setw(11) << "succeeded" << std::setw(8) << "failed" << std::setw(10) << "duration" << "  id\n";
    for (const auto& job : runs) {
      const auto& s = job.job.statistics;
      out << "  " << std::left << std::setw(8) << job.label << std::setw(11) << to_string(job.job.status) << std::right << std::setw(8)
          << s.device_count << std::setw(11) << s.succeeded_count << std::setw(8) << s.failed_count << std::setw(10)
          << duration_of(job.job) << "  " << job.job_id << "\n";
    }
    out << "  locks reporting lockState \"locked\":      " << locked << "/" << locks.size() << "\n"
        << "  locks reporting desired " << desired.dump() << ": " << with_desired << "/" << locks.size() << "\n";
    if (failed.empty()) {
      out << "\nEvery lock is locked and reports " << desired.dump() << "." << std::endl;
      return demo_ok;
    }
    out << "\n" << failed.size() << " device(s) failed:\n";
    for (const auto& line : failed) out << "  " << line << "\n";
    out << std::flush;
    return demo_device_failed;
  } catch (const svc::iothub_error& e) {
    err << "mockhub demo: the hub refused a request: " << e.what() << std::endl;
    return demo_hub_error;
  } catch (const svc::network_error& e) {
    err << "mockhub demo: " << e.what() << std::endl;
    return demo_hub_error;
  }
}

void add_demo_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<demo_options>();
  auto* demo = app.add_subcommand("demo",
                                  "The tutorial end to end on a fresh hub: door locks connect, a twin job and a lockDoor job "
                                  "run a few seconds later, then a summary");
  demo->add_option("--fleet", options->fleet, "Fleet fixture (docs/fleet-format.md); default fleets/door-locks.json of the installed fixtures (share/mockhub/fixtures) or the source tree")
      ->check(CLI::ExistingFile);
  auto devices = std::make_shared<std::optional<std::size_t>>();
  demo->add_option("--devices", *devices,
                   "Scale the fixture's first group (the locks) to N devices; 0: the fixture as it is. Default: 10 with the "
                   "default fixture, 0 with --fleet")
      ->check(CLI::Range(0, 2000));
  auto twin_delay = std::make_shared<int>(static_cast<int>(options->twin_delay.count()));
  auto method_delay = std::make_shared<int>(static_cast<int>(options->method_delay.count()));
  demo->add_option("--twin-delay", *twin_delay, "Seconds until the twin job starts")->check(CLI::Range(0, 600))->capture_default_str();
  demo->add_option("--method-delay", *method_delay, "Seconds until the lockDoor job starts")->check(CLI::Range(0, 600))->capture_default_str();
  demo->add_option("-q,--query", options->query_condition, "The locks: a WHERE clause without WHERE")->capture_default_str();
  auto progress = std::make_shared<std::string>("auto");
  demo->add_option("--progress", *progress, "bars (redrawn), lines (one per change), or auto: bars on a terminal")
      ->check(CLI::IsMember({"auto", "bars", "lines"}))
      ->capture_default_str();
  demo->callback([options, devices, twin_delay, method_delay, progress, &exit_code] {
    demo_options o = *options;
    if (*devices) o.devices = **devices == 0 ? std::nullopt : std::optional<std::size_t>(**devices);
    else if (!o.fleet.empty()) o.devices = std::nullopt;
    o.twin_delay = std::chrono::seconds(*twin_delay);
    o.method_delay = std::chrono::seconds(*method_delay);
    o.progress_bars = *progress == "auto" ? ::isatty(STDOUT_FILENO) == 1 : *progress == "bars";
    exit_code = run_demo(o, std::cout, std::cerr);
  });
}

}  // namespace mockhub::server
