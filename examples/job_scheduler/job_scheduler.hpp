// The tutorial's back end (scheduleJobService.py) on the service library: a twin job that sets
// the desired properties and a job that invokes `lockDoor`, on the devices a query selects,
// with progress until both finish.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

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

/// Runs the scenario, printing progress to `out` and problems to `err`; returns an exit code.
int run_job_scheduler(const job_scheduler_options& options, std::ostream& out, std::ostream& err);

}  // namespace mockhub::examples
