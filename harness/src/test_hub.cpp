#include "mockhub/harness/test_hub.hpp"

#include <algorithm>
#include <csignal>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "device/fleet/registry_seed.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/job_engine.hpp"
#include "mock_hub/core/time_format.hpp"
#include "mock_hub/server/hub_runtime.hpp"

namespace mockhub::harness {

namespace {

namespace fleet = device::fleet;

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

const char* to_string(fleet::fleet_event::kind k) {
  using kind = fleet::fleet_event::kind;
  switch (k) {
    case kind::connected: return "connected";
    case kind::disconnected: return "disconnected";
    case kind::method_answered: return "method_answered";
    case kind::method_ignored: return "method_ignored";
    case kind::reported_acked: return "reported_acked";
    case kind::reported_failed: return "reported_failed";
    case kind::desired_received: return "desired_received";
    case kind::telemetry_acked: return "telemetry_acked";
  }
  return "?";
}

server::hub_runtime_options runtime_options(const test_hub_config& c) {
  server::hub_runtime_options o;
  o.data_dir = c.data_dir;
  o.host_name = c.host_name;
  o.tls = c.tls;
  o.virtual_time = c.virtual_clock;
  o.seed = c.seed;
  o.record = c.record;
  o.plugin = c.broker_plugin;
  o.hub.telemetry_per_device = c.telemetry_per_device;
  const auto jobs = core::max_concurrent_jobs_for_tier(c.tier);
  if (!jobs) throw std::invalid_argument("test_hub: unknown tier '" + c.tier + "' (F1, S1, S2 or S3)");
  o.hub.jobs.max_concurrent_jobs = *jobs;
  if (c.fleet_over_tls && !c.tls) throw std::invalid_argument("test_hub: fleet_over_tls needs tls");
  if (c.fleet && !c.fleet_file.empty()) throw std::invalid_argument("test_hub: give fleet or fleet_file, not both");
  return o;
}

telemetry_message to_public(const core::device_to_cloud_message& m) {
  telemetry_message t;
  t.device_id = m.device_id;
  t.body = m.body;
  for (const auto& [k, v] : m.application) t.properties[k] = v.value_or("");
  const nlohmann::json j = m;  // core's to_json: the system properties as the hub names them
  t.system_properties = j.at("systemProperties");
  t.enqueued_time = core::format_time(m.enqueued_time);
  t.sequence_number = m.sequence_number;
  return t;
}

service::client_options make_service_options(const std::string& rest_url, const std::string& https_url,
                                             const std::filesystem::path& ca_file, bool https) {
  service::client_options o;
  if (https && !https_url.empty()) {
    o.endpoint_override = service::endpoint::parse(https_url);
    o.ca_file = ca_file;
  } else {
    o.endpoint_override = service::endpoint::parse(rest_url);
  }
  return o;
}

device::client_options make_device_options(std::uint16_t mqtt_port, std::uint16_t mqtts_port,
                                           const std::filesystem::path& ca_file, bool tls) {
  device::client_options o;
  o.host = "127.0.0.1";
  if (tls && mqtts_port != 0) {
    o.tls.ca_file = ca_file.string();
    o.port = mqtts_port;
  } else {
    o.tls.enabled = false;
    o.port = mqtt_port;
  }
  return o;
}

}  // namespace

class test_hub::impl {
 public:
  explicit impl(test_hub_config config) : config_(std::move(config)), runtime_(runtime_options(config_)) {
    runtime_.start();
    if (config_.fleet) start_fleet(*config_.fleet);
    else if (!config_.fleet_file.empty()) start_fleet(fleet::fleet_fixture::load(config_.fleet_file));
  }

  ~impl() { stop_fleet(); }

  std::chrono::milliseconds bound(std::chrono::milliseconds t) const { return t.count() > 0 ? t : config_.wait_bound; }

  // Waits on the hub's thread (checked after every hub event); `seen` describes the last state
  // for the timeout message.
  template <class P>
  void wait_hub(const std::string& what, std::chrono::milliseconds timeout, P condition,
                const std::function<std::string()>& seen = {}) {
    const auto t = bound(timeout);
    if (runtime_.wait_until(condition, t)) return;
    std::string msg = "test_hub: timed out after " + seconds_text(t) + " waiting for " + what;
    if (seen) msg += " (" + seen() + ")";
    throw wait_timeout(msg);
  }

  void start_fleet(fleet::fleet_fixture fixture) {
    if (sim_) throw std::logic_error("test_hub: a fleet is running already (one per hub)");
    auto keys = runtime_.call([&](core::hub& h) { return fleet::seed_registry(h, fixture); });
    if (!runtime_.wait_credentials_applied(std::chrono::seconds(120)))
      throw std::runtime_error("test_hub: the broker never applied the fleet's device credentials");
    for (std::size_t i = 0; i < fixture.devices.size(); ++i) index_[fixture.devices[i].id] = i;

    fleet::fleet_options o;
    o.host_name = runtime_.host_name();
    o.connect_host = "127.0.0.1";
    if (config_.fleet_over_tls) {
      o.port = runtime_.mqtts_port();
      o.tls = {.enabled = true, .ca_file = runtime_.ca_file().string(), .verify_host_name = false};
    } else {
      o.port = runtime_.mqtt_port();
    }
    o.key_for = [keys = std::move(keys)](const fleet::device_spec& d) -> std::optional<std::string> { return keys.at(d.id); };
    loop_ = std::make_unique<device::event_loop>();
    sim_ = std::make_unique<fleet::fleet_simulator>(*loop_, std::move(fixture), o);
    sim_->on_event([this](const fleet::fleet_event& e) {
      {
        std::lock_guard lock(events_mutex_);
        events_.push_back(e);
      }
      events_cv_.notify_all();
    });
    sim_->start();
    loop_thread_ = std::thread([this] { loop_->run(); });
  }

  void stop_fleet() noexcept {
    if (!sim_) return;
    try {
      // Shared: if the loop does not answer in time, the task may still run after this returns.
      auto stopped = std::make_shared<std::promise<void>>();
      auto done = stopped->get_future();
      loop_->post([sim = sim_.get(), stopped] {
        sim->stop();
        stopped->set_value();
      });
      done.wait_for(std::chrono::seconds(30));
    } catch (...) {
    }
    loop_->stop();
    if (loop_thread_.joinable()) loop_thread_.join();
    sim_.reset();
    loop_.reset();
  }

  template <class F>
  auto on_loop(F f) const {
    if (!sim_) throw std::logic_error("test_hub: no fleet is running");
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto result = task->get_future();
    loop_->post([task] { (*task)(); });
    if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      throw std::runtime_error("test_hub: the fleet's event loop did not answer");
    return result.get();
  }

  std::size_t fleet_index(const std::string& id) const {
    if (!sim_) throw std::logic_error("test_hub: no fleet is running");
    const auto it = index_.find(id);
    if (it == index_.end()) throw std::invalid_argument("test_hub: device '" + id + "' is not in the fleet");
    return it->second;
  }

  fleet::fleet_event wait_fleet(const std::string& id, fleet::fleet_event::kind what, const std::string& detail,
                                std::size_t count, std::chrono::milliseconds timeout) {
    return wait_fleet(id, [what](fleet::fleet_event::kind k) { return k == what; }, std::string(to_string(what)) + " event",
                      detail, count, timeout);
  }

  /// Until `count` events of the device whose kind `match`es (and with `detail`, when given).
  fleet::fleet_event wait_fleet(const std::string& id, const std::function<bool(fleet::fleet_event::kind)>& match,
                                const std::string& label, const std::string& detail, std::size_t count,
                                std::chrono::milliseconds timeout) {
    const std::size_t index = fleet_index(id);
    const auto t = bound(timeout);
    std::unique_lock lock(events_mutex_);
    std::optional<fleet::fleet_event> first;
    std::size_t seen = 0;
    const bool ok = events_cv_.wait_for(lock, t, [&] {
      first.reset();
      seen = 0;
      for (const auto& e : events_) {
        if (e.device != index || !match(e.what) || (!detail.empty() && e.detail != detail)) continue;
        if (!first) first = e;
        ++seen;
      }
      return seen >= count;
    });
    if (ok) return *first;
    throw wait_timeout("test_hub: timed out after " + seconds_text(t) + " waiting for " + std::to_string(count) + " " + label +
                       (detail.empty() ? "" : " '" + detail + "'") + "(s) of fleet device '" + id + "' (seen " +
                       std::to_string(seen) + ")");
  }

  test_hub_config config_;
  server::hub_runtime runtime_;
  std::unique_ptr<device::event_loop> loop_;
  std::unique_ptr<fleet::fleet_simulator> sim_;
  std::thread loop_thread_;
  std::unordered_map<std::string, std::size_t> index_;
  mutable std::mutex events_mutex_;
  std::condition_variable events_cv_;
  std::vector<fleet::fleet_event> events_;
};

test_hub::test_hub(test_hub_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
test_hub::~test_hub() = default;

const test_hub_config& test_hub::config() const noexcept { return impl_->config_; }

std::string test_hub::service_connection_string() const { return impl_->runtime_.service_connection_string(); }

std::string test_hub::device_connection_string(const std::string& device_id) const {
  try {
    return impl_->runtime_.device_connection_string(device_id);
  } catch (const core::hub_error& e) {
    throw std::invalid_argument("test_hub: " + std::string(e.what()));
  }
}

std::filesystem::path test_hub::ca_file() const { return impl_->config_.tls ? impl_->runtime_.ca_file() : std::filesystem::path{}; }
std::string test_hub::host_name() const { return impl_->runtime_.host_name(); }
std::uint16_t test_hub::mqtt_port() const { return impl_->runtime_.mqtt_port(); }
std::uint16_t test_hub::mqtts_port() const { return impl_->config_.tls ? impl_->runtime_.mqtts_port() : 0; }
std::string test_hub::rest_url() const { return "http://127.0.0.1:" + std::to_string(impl_->runtime_.rest_port()); }
std::string test_hub::https_url() const {
  const auto port = impl_->runtime_.https_port();
  return port ? "https://127.0.0.1:" + std::to_string(port) : std::string{};
}

service::client_options test_hub::service_options(bool https) const {
  return make_service_options(rest_url(), https_url(), ca_file(), https);
}

device::client_options test_hub::device_options(bool tls) const {
  return make_device_options(mqtt_port(), mqtts_port(), ca_file(), tls);
}

std::string test_hub::create_device(const std::string& device_id, const nlohmann::json& tags) {
  try {
    impl_->runtime_.call([&](core::hub& h) {
      core::device_identity_request r;
      r.device_id = device_id;
      h.create_or_update_identity(device_id, r, std::nullopt);
      if (!tags.empty()) h.update_twin(device_id, {{"tags", tags}}, std::nullopt);
    });
  } catch (const core::hub_error& e) {
    throw std::invalid_argument("test_hub: cannot create device '" + device_id + "': " + e.what());
  }
  if (!impl_->runtime_.wait_credentials_applied(impl_->config_.wait_bound))
    throw wait_timeout("test_hub: the broker never applied the credentials of '" + device_id + "'");
  return impl_->runtime_.device_connection_string(device_id);
}

std::chrono::system_clock::time_point test_hub::now() const {
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(impl_->runtime_.now());
}

void test_hub::restart_broker(bool kill) {
  auto& broker = impl_->runtime_.broker();
  if (kill && broker.running()) ::kill(broker.pid(), SIGKILL);
  broker.restart();  // reaps the killed process, then starts on the same ports
}

void test_hub::advance(std::chrono::milliseconds by) {
  if (!impl_->config_.virtual_clock) throw std::logic_error("test_hub::advance: the hub runs on the system clock");
  if (by.count() < 0) throw std::invalid_argument("test_hub::advance: the clock cannot move backwards");
  impl_->runtime_.advance(by);
  // What the timers posted (job fan-out slices, method sends) has run once this round-trip returns.
  impl_->runtime_.call([](core::hub&) {});
  // A timer may have changed who the broker admits (a fault injection ending): wait until it has.
  if (!impl_->runtime_.wait_credentials_applied(impl_->config_.wait_bound))
    throw wait_timeout("test_hub: the broker never applied the credentials after the clock moved");
}

void test_hub::start_fleet(device::fleet::fleet_fixture fixture) { impl_->start_fleet(std::move(fixture)); }
void test_hub::start_fleet(const std::filesystem::path& fixture_file) {
  impl_->start_fleet(device::fleet::fleet_fixture::load(fixture_file));
}

device::fleet::fleet_report test_hub::fleet_report() const {
  return impl_->on_loop([this] { return impl_->sim_->report(); });
}

std::vector<device::fleet::fleet_event> test_hub::fleet_events() const {
  if (!impl_->sim_) throw std::logic_error("test_hub: no fleet is running");
  std::lock_guard lock(impl_->events_mutex_);
  return impl_->events_;
}

std::size_t test_hub::fleet_index(const std::string& device_id) const { return impl_->fleet_index(device_id); }

nlohmann::json test_hub::wait_for_job(const std::string& job_id, const std::string& status, std::chrono::milliseconds timeout) {
  const auto wanted = core::parse_job_status(status);
  if (!wanted) throw std::invalid_argument("test_hub::wait_for_job: unknown job status '" + status + "'");
  // Read on the hub's thread by the condition; read here only after the wait returned.
  auto last = std::make_shared<std::string>("not found");
  auto finished_otherwise = std::make_shared<bool>(false);
  impl_->wait_hub(
      "job '" + job_id + "' to be " + status, timeout,
      [job_id, wanted, last, finished_otherwise](core::hub& h) {
        try {
          const auto& job = h.jobs().get_scheduled_job(job_id);
          *last = std::string(core::to_string(job.status));
          if (job.status == *wanted) return true;
          const bool finished = job.status == core::job_status::completed || job.status == core::job_status::failed ||
                                job.status == core::job_status::cancelled;
          *finished_otherwise = finished;
          return finished;
        } catch (const core::hub_error&) {
          return false;
        }
      },
      [&] { return "last status: " + *last; });
  if (*finished_otherwise)
    throw std::runtime_error("test_hub: job '" + job_id + "' ended " + *last + " while waiting for it to be " + status);
  return impl_->runtime_.call([&](core::hub& h) {
    nlohmann::json j = h.jobs().get_scheduled_job(job_id);
    return j;
  });
}

void test_hub::wait_for_connected(const std::string& device_id, std::chrono::milliseconds timeout) {
  impl_->wait_hub("device '" + device_id + "' to connect", timeout,
                  [device_id](core::hub& h) { return h.sessions().is_connected(device_id); });
}

void test_hub::wait_for_subscribed(const std::string& device_id, const std::string& what, std::chrono::milliseconds timeout) {
  core::device_subscription s{};
  if (what == "methods") s = core::device_subscription::methods;
  else if (what == "desired") s = core::device_subscription::desired_patches;
  else if (what == "c2d") s = core::device_subscription::cloud_to_device;
  else throw std::invalid_argument("test_hub::wait_for_subscribed: '" + what + "' is not one of methods, desired, c2d");
  impl_->wait_hub("device '" + device_id + "' to subscribe to " + what, timeout,
                  [device_id, s](core::hub& h) { return h.sessions().is_subscribed(device_id, s); });
}

std::vector<telemetry_message> test_hub::wait_for_telemetry(const std::string& device_id, std::size_t count,
                                                            std::chrono::milliseconds timeout) {
  auto seen = std::make_shared<std::size_t>(0);
  impl_->wait_hub(
      std::to_string(count) + " telemetry message(s) from '" + device_id + "'", timeout,
      [device_id, count, seen](core::hub& h) {
        *seen = h.telemetry().messages(device_id).size();
        return *seen >= count;
      },
      [&] { return "received " + std::to_string(*seen); });
  return impl_->runtime_.call([&](core::hub& h) {
    std::vector<telemetry_message> out;
    for (const auto& m : h.telemetry().messages(device_id)) out.push_back(to_public(m));
    return out;
  });
}

void test_hub::wait_for_desired_version(const std::string& device_id, std::int64_t version, std::chrono::milliseconds timeout) {
  auto seen = std::make_shared<std::int64_t>(-1);
  impl_->wait_hub(
      "desired $version " + std::to_string(version) + " of '" + device_id + "'", timeout,
      [device_id, version, seen](core::hub& h) {
        try {
          *seen = h.device_get_twin(device_id).at("desired").value("$version", std::int64_t{0});
        } catch (const core::hub_error&) {
          return false;
        }
        return *seen >= version;
      },
      [&] { return *seen < 0 ? std::string("no such device") : "desired $version " + std::to_string(*seen); });
}

void test_hub::wait_for_fleet_connected(std::chrono::milliseconds timeout) {
  if (!impl_->sim_) throw std::logic_error("test_hub: no fleet is running");
  const auto n = impl_->index_.size();
  const auto t = impl_->bound(timeout);
  std::unique_lock lock(impl_->events_mutex_);
  std::size_t connected = 0;
  // Counted from the events (the simulator's own counter is loop-thread only).
  const bool ok = impl_->events_cv_.wait_for(lock, t, [&] {
    std::vector<char> up(n, 0);
    for (const auto& e : impl_->events_) {
      if (e.what == device::fleet::fleet_event::kind::connected) up[e.device] = 1;
      if (e.what == device::fleet::fleet_event::kind::disconnected) up[e.device] = 0;
    }
    connected = static_cast<std::size_t>(std::count(up.begin(), up.end(), 1));
    return connected == n;
  });
  if (!ok)
    throw wait_timeout("test_hub: timed out after " + seconds_text(t) + " waiting for the fleet to connect (" +
                       std::to_string(connected) + "/" + std::to_string(n) + " connected)");
}

device::fleet::fleet_event test_hub::wait_for_fleet_event(const std::string& device_id, device::fleet::fleet_event::kind what,
                                                          const std::string& detail, std::size_t count,
                                                          std::chrono::milliseconds timeout) {
  return impl_->wait_fleet(device_id, what, detail, count, timeout);
}

void test_hub::wait_for_method(const std::string& device_id, const std::string& method_name, std::chrono::milliseconds timeout) {
  using kind = device::fleet::fleet_event::kind;
  impl_->wait_fleet(
      device_id, [](kind k) { return k == kind::method_answered || k == kind::method_ignored; }, "method", method_name, 1,
      timeout);
}

void test_hub::wait_for_desired_patch(const std::string& device_id, std::size_t count, std::chrono::milliseconds timeout) {
  impl_->wait_fleet(device_id, device::fleet::fleet_event::kind::desired_received, {}, count, timeout);
}

// ---- running_hub -------------------------------------------------------------------------

running_hub running_hub::load(const std::filesystem::path& data_dir) {
  const auto file = data_dir / "hub.json";
  std::ifstream in(file);
  if (!in) throw std::runtime_error("mockhub: no hub runs in " + data_dir.string() + " (" + file.string() + " is missing)");
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error("mockhub: " + file.string() + " is not a JSON object");
  try {
    running_hub h;
    h.pid = j.at("pid").get<int>();
    h.host_name = j.at("host_name").get<std::string>();
    h.service_connection_string = j.at("service_connection_string").get<std::string>();
    h.rest_url = j.at("rest_url").get<std::string>();
    h.https_url = j.value("https_url", std::string{});
    h.mqtt_port = j.at("mqtt_port").get<std::uint16_t>();
    h.mqtts_port = j.value("mqtts_port", std::uint16_t{0});
    h.ca_file = j.value("ca_file", std::string{});
    h.virtual_clock = j.value("virtual_clock", false);
    if (j.contains("devices")) h.devices = j.at("devices").get<std::map<std::string, std::string>>();
    return h;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("mockhub: " + file.string() + ": " + e.what());
  }
}

running_hub running_hub::from_environment() {
  const char* dir = std::getenv("MOCKHUB_DATA_DIR");
  return load(dir && *dir ? std::filesystem::path(dir) : std::filesystem::path(".mockhub"));
}

service::client_options running_hub::service_options(bool https) const {
  return make_service_options(rest_url, https_url, ca_file, https);
}

device::client_options running_hub::device_options(bool tls) const {
  return make_device_options(mqtt_port, mqtts_port, ca_file, tls);
}

}  // namespace mockhub::harness
