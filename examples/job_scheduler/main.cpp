// job_scheduler: the tutorial's scheduleJobService.py on mockhub's service library.
//
//   export IOTHUB_CONNECTION_STRING='HostName=...;SharedAccessKeyName=iothubowner;SharedAccessKey=...'
//   job_scheduler                                                  # a real hub
//   job_scheduler --endpoint https://127.0.0.1:8443 --ca-file ca.crt   # a mockhub
#include <iostream>

#include <CLI/CLI.hpp>

#include "job_scheduler.hpp"

int main(int argc, char** argv) {
  using namespace mockhub::examples;
  job_scheduler_options o;
  CLI::App app{"Schedules the tutorial's jobs (desired properties, then lockDoor) on the devices a query selects"};

  std::string method_payload = o.method_payload.dump();
  std::string desired = o.desired.dump();
  int twin_delay = static_cast<int>(o.twin_delay.count());
  int method_delay = static_cast<int>(o.method_delay.count());
  int response_timeout = static_cast<int>(o.response_timeout.count());
  int connect_timeout = static_cast<int>(o.connect_timeout.count());
  int poll_ms = static_cast<int>(o.poll_interval.count());
  int job_timeout = static_cast<int>(o.job_timeout.count());
  std::string ca_file;

  app.add_option("-c,--connection-string", o.connection_string, "Service connection string (a policy with ServiceConnect)")
      ->envname("IOTHUB_CONNECTION_STRING")
      ->required();
  app.add_option("--ca-file", ca_file, "CA certificate (PEM) to trust, e.g. mockhub's; default: the system store")
      ->envname("IOTHUB_CA_FILE");
  app.add_option("--endpoint", o.endpoint, "Send requests here instead of https://{HostName}, e.g. https://127.0.0.1:8443")
      ->envname("IOTHUB_ENDPOINT");
  app.add_option("-q,--query", o.query_condition, "Devices to target: a WHERE clause without WHERE, or *")->capture_default_str();
  app.add_option("--method", o.method_name, "Direct method the method job invokes")->capture_default_str();
  app.add_option("--payload", method_payload, "Method payload (JSON)")->capture_default_str();
  app.add_option("--response-timeout", response_timeout, "Seconds a device has to answer the method (5-300)")->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout, "Seconds the hub waits for an offline device to connect (0-300)")
      ->capture_default_str();
  app.add_option("--desired", desired, "Desired properties the twin job sets (JSON object)")->capture_default_str();
  app.add_option("--twin-delay", twin_delay, "Seconds after start at which the twin job starts")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--method-delay", method_delay, "Seconds after start at which the method job starts")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--poll-interval", poll_ms, "Milliseconds between two progress polls")->check(CLI::Range(10, 600000))->capture_default_str();
  app.add_option("--job-timeout", job_timeout, "Seconds to wait for each job before giving up")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--tier", o.tier, "Hub tier: F1/S1 run one job at a time, S2/S3 several")
      ->check(CLI::IsMember({"F1", "S1", "S2", "S3"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
    o.method_payload = nlohmann::json::parse(method_payload);
    o.desired = nlohmann::json::parse(desired);
    if (!o.desired.is_object()) throw CLI::ValidationError("--desired", "must be a JSON object");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  } catch (const nlohmann::json::parse_error& e) {
    std::cerr << "job_scheduler: --payload and --desired must be JSON: " << e.what() << std::endl;
    return exit_usage;
  }
  o.ca_file = ca_file;
  o.twin_delay = std::chrono::seconds(twin_delay);
  o.method_delay = std::chrono::seconds(method_delay);
  o.response_timeout = std::chrono::seconds(response_timeout);
  o.connect_timeout = std::chrono::seconds(connect_timeout);
  o.poll_interval = std::chrono::milliseconds(poll_ms);
  o.job_timeout = std::chrono::seconds(job_timeout);
  return run_job_scheduler(o, std::cout, std::cerr);
}
