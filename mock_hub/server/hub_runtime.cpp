#include "hub_runtime.hpp"

#include <cstdlib>
#include <random>
#include <stdexcept>

#include "mock_hub/core/errors.hpp"

namespace mockhub::server {

namespace {

std::string random_secret() {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) s += hex[rd() % 16];
  return s;
}

std::filesystem::path make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mockhub-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mockhub: cannot create a temporary directory");
  return tmpl;
}

}  // namespace

hub_runtime::hub_runtime(hub_runtime_options options) : options_(std::move(options)) {}

hub_runtime::~hub_runtime() { stop(); }

void hub_runtime::start() {
  if (started_) return;
  std::filesystem::path data_dir = options_.data_dir;
  if (data_dir.empty()) data_dir = temp_dir_ = make_temp_dir();

  const std::string secret = random_secret();
  broker_options b;
  b.data_dir = data_dir;
  b.mosquitto_binary = options_.mosquitto_binary;
  b.mqtt_port = options_.mqtt_port;
  b.tls_listener = options_.tls;
  b.tls_port = options_.mqtts_port;
  b.tls.host_names = {options_.host_name};
#ifdef MOCKHUB_BROKER_PLUGIN_PATH
  b.plugin = options_.plugin.empty() ? std::filesystem::path(MOCKHUB_BROKER_PLUGIN_PATH) : options_.plugin;
#else
  b.plugin = options_.plugin;
#endif
  b.plugin_options = {{"hub_secret", secret}, {"hub_username", "$mockhub"}};
  broker_ = std::make_unique<broker_launcher>(b);
  broker_->start();

  if (options_.virtual_time) {
    auto v = std::make_unique<core::virtual_clock>();
    virtual_clock_ = v.get();
    clock_ = std::move(v);
  } else {
    clock_ = std::make_unique<core::system_clock>();
  }
  ids_ = std::make_unique<core::id_source>(options_.seed ? *options_.seed : std::random_device{}());
  executor_ = std::make_unique<hub_executor>(
      *clock_, options_.virtual_time ? hub_executor::timers::virtual_time : hub_executor::timers::real_time);

  broker_link::broker_link_options l;
  l.port = broker_->mqtt_port();
  l.secret = secret;
  l.username = "$mockhub";
  link_ = std::make_unique<broker_link::broker_link>(l, [this](std::function<void()> task) { executor_->post(std::move(task)); });
  core::hub_options h = options_.hub;
  h.host_name = options_.host_name;
  hub_ = executor_->call([&] { return std::make_unique<core::hub>(h, *clock_, *ids_, *link_); });
  link_->attach(*hub_);
  started_ = true;
  link_->start();
  if (virtual_clock_) link_->push_clock(virtual_clock_->now());
  if (!link_->wait_ready(std::chrono::seconds(30))) {
    stop();
    throw std::runtime_error("mockhub: the hub could not log in to its broker (see " + broker_->log_file().string() + ")");
  }
  if (options_.rest) {
    try {
      rest::rest_server_options r{.port = options_.rest_port, .seed = options_.seed};
      r.credentials_barrier = [this] { link_->wait_credentials_applied(std::chrono::seconds(10)); };
      if (virtual_clock_)
        r.advance_clock = [this](core::duration by) {
          advance(by);
          return now();
        };
      rest_ = std::make_unique<rest::rest_server>(r, *executor_, *hub_);
      rest_->start();
      if (options_.tls && broker_->tls()) {
        r.port = options_.https_port;
        if (r.seed) ++*r.seed;  // request ids of the two servers differ
        r.tls = rest::tls_files{broker_->tls()->server_cert_file(), broker_->tls()->server_key_file()};
        https_ = std::make_unique<rest::rest_server>(r, *executor_, *hub_);
        https_->start();
      }
    } catch (...) {
      stop();
      throw;
    }
  }
}

void hub_runtime::stop() {
  if (!started_) return;
  started_ = false;
  if (https_) https_->stop();
  if (rest_) rest_->stop();
  link_->stop();
  broker_->stop();
  executor_->call([this] { hub_.reset(); });
  executor_->stop();
  https_.reset();
  rest_.reset();
  link_.reset();
  executor_.reset();
  broker_.reset();
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
    temp_dir_.clear();
  }
}

void hub_runtime::advance(core::duration by) {
  if (!virtual_clock_) throw std::logic_error("hub_runtime::advance: the hub runs on the system clock");
  const auto now = executor_->call([&] {
    virtual_clock_->advance(by);
    return virtual_clock_->now();
  });
  link_->push_clock(now);
}

core::time_point hub_runtime::now() {
  return executor_->call([this] { return clock_->now(); });
}

std::uint16_t hub_runtime::mqtt_port() const { return broker_->mqtt_port(); }
std::uint16_t hub_runtime::mqtts_port() const { return broker_->tls_port(); }
std::filesystem::path hub_runtime::ca_file() const { return broker_->ca_file(); }
std::uint16_t hub_runtime::rest_port() const { return rest_ ? rest_->port() : 0; }
std::uint16_t hub_runtime::https_port() const { return https_ ? https_->port() : 0; }

std::string hub_runtime::service_connection_string() {
  return call([](core::hub& h) {
    const auto* owner = h.policies().find("iothubowner");
    if (!owner) throw std::runtime_error("mockhub: the hub has no iothubowner policy");
    return "HostName=" + h.options().host_name + ";SharedAccessKeyName=iothubowner;SharedAccessKey=" + owner->primary_key;
  });
}

std::string hub_runtime::device_connection_string(const std::string& device_id) {
  return call([&](core::hub& h) {
    const auto& d = h.registry().get_identity(device_id);
    return "HostName=" + h.options().host_name + ";DeviceId=" + device_id + ";SharedAccessKey=" + d.primary_key;
  });
}

}  // namespace mockhub::server
