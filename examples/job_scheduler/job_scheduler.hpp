// The tutorial's back end (scheduleJobService.py) on the service library: a twin job that sets
// the desired properties and a job that invokes `lockDoor`, on the devices a query selects,
// with progress until both finish.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/service_client.hpp"

namespace mockhub::examples {

struct job_scheduler_options {
  std::string connection_string;
  std::filesystem::path ca_file;
  /// e.g. "https://127.0.0.1:8443"; empty: https://{HostName}.
  std::string endpoint;
  /// Which devices: a WHERE clause without WHERE, or "*".
  std::string query_condition = "tags.building = 43";
  std::string method_name = "lockDoor";
  nlohmann::json method_payload = {{"lockTime", "10m"}};
  std::chrono::seconds response_timeout{30};
  std::chrono::seconds connect_timeout{0};
  nlohmann::json desired = {{"building", 43}, {"floor", 3}};
  /// Start of each job after the program starts (the tutorial: twin 10 s, method 20 s); 0: at once.
  std::chrono::seconds twin_delay{10};
  std::chrono::seconds method_delay{20};
  std::chrono::milliseconds poll_interval{1000};
  /// Gives up on a job after this long.
  std::chrono::seconds job_timeout{600};
  /// The hub's tier: F1 and S1 run one job at a time, so the second job is scheduled when the
  /// first has finished; S2 and S3 get both at once.
  std::string tier = "S1";
};

/// Exit codes.
inline constexpr int exit_ok = 0;             // both jobs completed on every device
inline constexpr int exit_device_failed = 1;  // a job failed, was cancelled, timed out, or a device failed
inline constexpr int exit_usage = 2;          // bad options or connection string
inline constexpr int exit_hub_error = 3;      // the hub refused a request, or could not be reached

/// One of the two jobs as the scenario saw it.
struct job_run {
  std::string label;  ///< "twin" or "method"
  std::string job_id;
  /// The last state polled (finished unless the wait timed out).
  service::job_response job;
  /// Every device's record, read when the job finished.
  std::vector<service::device_job_record> records;
  /// Finished as completed, and completed on every device.
  bool completed_everywhere() const;
};

/// What the scenario tells its caller as it goes (each hook optional; called on the caller's thread).
struct job_observer {
  /// The job was created; `starts_in` is none when it was sent to start now.
  std::function<void(const job_run&, std::optional<std::chrono::seconds> starts_in)> scheduled{};
  /// A poll showed a different state (the last, finished, one included).
  std::function<void(const job_run&)> progress{};
  /// The wait gave up after job_timeout.
  std::function<void(const job_run&)> gave_up{};
};

/// The devices `options.query_condition` selects (their ids).
std::vector<std::string> selected_devices(service::service_client& hub, const job_scheduler_options& options);

/// Schedules the twin job and the method job (twin_delay / method_delay after the call, one at a
/// time on F1/S1), waits for each to finish, and reads their device records. Throws the service
/// library's iothub_error / network_error.
std::vector<job_run> run_tutorial_jobs(service::service_client& hub, const job_scheduler_options& options,
                                       const job_observer& observer = {});

/// Runs the scenario, printing progress to `out` and problems to `err`; returns an exit code.
int run_job_scheduler(const job_scheduler_options& options, std::ostream& out, std::ostream& err);

}  // namespace mockhub::examples
