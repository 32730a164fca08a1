#include "demo.hpp"

#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/id_source.hpp"
#include "mock_hub/core/time_format.hpp"

namespace mockhub::server {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Prints what the hub would push to devices over MQTT.
class printing_channel final : public core::device_channel {
 public:
  explicit printing_channel(std::ostream& out) : out_(out) {}
  void send_desired_patch(std::string_view id, const json& patch) override {
    out_ << "  -> " << id << "  $iothub/twin/PATCH/properties/desired/?$version=" << patch["$version"] << "  "
         << patch.dump() << "\n";
  }
  void send_method_request(std::string_view id, std::string_view name, std::string_view rid, const json& payload) override {
    out_ << "  -> " << id << "  $iothub/methods/POST/" << name << "/?$rid=" << rid << "  " << payload.dump() << "\n";
  }
  void send_cloud_to_device(std::string_view id, const core::cloud_to_device_message& m) override {
    out_ << "  -> " << id << "  devices/" << id << "/messages/devicebound/  " << m.body << "\n";
  }
  void identity_changed(std::string_view, const core::device_identity*) override {}
  void disconnect(std::string_view id) override { out_ << "  -> " << id << "  disconnected by the hub\n"; }

 private:
  std::ostream& out_;
};

void print_error(std::ostream& out, const core::hub_error& e) {
  out << "  " << e.http_status() << " " << e.code() << " " << e.name() << ": " << e.what() << "\n";
}

}  // namespace

int run_demo(const demo_options& options, std::ostream& out) {
  core::virtual_clock clock;
  core::id_source ids(options.seed);
  printing_channel channel(out);
  core::hub hub({}, clock, ids, channel);
  std::uint64_t generation = 0;

  auto step = [&](const std::string& title) {
    out << "\n== " << title << "  [virtual time " << core::format_time(clock.now()) << "]\n";
  };
  auto lock_id = [](int i) { return "door-lock-" + std::to_string(i); };

  step("register the door locks of building 43");
  for (int i = 1; i <= options.devices; ++i) {
    const auto& d = hub.create_or_update_identity(lock_id(i), {}, std::nullopt);
    hub.update_twin(lock_id(i), {{"tags", {{"building", 43}, {"floor", i}}}}, std::nullopt);
    out << "  " << d.device_id << "  primary key " << d.primary_key << "\n";
  }
  out << "  statistics " << json(hub.registry().get_device_statistics()).dump() << "\n";

  clock.advance(5s);
  step("door-lock-1 connects, subscribes to desired patches and reports its firmware");
  core::connection_info connection;
  connection.generation = ++generation;
  hub.device_connected("door-lock-1", connection);
  hub.device_subscribed("door-lock-1", generation, core::device_subscription::desired_patches);
  out << "  reported $version is now " << hub.device_update_reported("door-lock-1", {{"firmware", "1.2.0"}, {"locked", false}})
      << "\n";

  clock.advance(10s);
  step("the back end sets desired {\"building\": 43, \"floor\": 3} on every lock (the tutorial's twin update)");
  for (int i = 1; i <= options.devices; ++i) {
    hub.update_twin(lock_id(i), {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}}, "*");
    if (!hub.sessions().is_connected(lock_id(i)))
      out << "  " << lock_id(i) << " is offline: it reads the change with its twin GET when it connects\n";
  }

  step("the twin of door-lock-1, as GET /twins/door-lock-1 returns it");
  out << hub.registry().get_twin("door-lock-1").dump(2) << "\n";

  step("what the hub refuses");
  try {
    hub.update_twin("door-lock-1", {{"tags", {{"floor", 4}}}}, "\"AAAAAAAAAAA=\"");
  } catch (const core::hub_error& e) {
    print_error(out, e);
  }
  try {
    hub.update_twin("door-lock-1", {{"properties", {{"desired", {{"bad.key", 1}}}}}}, std::nullopt);
  } catch (const core::hub_error& e) {
    print_error(out, e);
  }
  try {
    hub.registry().get_twin("door-lock-99");
  } catch (const core::hub_error& e) {
    print_error(out, e);
  }
  return 0;
}

void add_demo_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<demo_options>();
  auto* demo = app.add_subcommand("demo", "Walk the tutorial's door locks through the hub core (in memory, virtual clock)");
  demo->add_option("--devices", options->devices, "How many door locks to register")->check(CLI::Range(1, 1000));
  demo->add_option("--seed", options->seed, "Seed for generated keys and etags");
  demo->callback([options, &exit_code] { exit_code = run_demo(*options, std::cout); });
}

}  // namespace mockhub::server
