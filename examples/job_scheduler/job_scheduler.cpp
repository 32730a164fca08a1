#include "job_scheduler.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>
#include <random>
#include <stdexcept>
#include <vector>

#include "service/service_client.hpp"

namespace mockhub::examples {

namespace {

namespace svc = mockhub::service;
using wall_clock = std::chrono::system_clock;

// A random (version 4) UUID, as the tutorial names its jobs: letters, digits and '-' only, which
// is what job ids allow.
std::string make_job_id() {
  std::random_device rd;
  std::array<unsigned char, 16> b{};
  for (auto& byte : b) byte = static_cast<unsigned char>(rd() & 0xFF);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

bool runs_jobs_one_at_a_time(const std::string& tier) { return tier == "S1" || tier == "F1"; }

std::string progress_line(const svc::job_response& job) {
  const auto& s = job.statistics;
  return std::string(to_string(job.status)) + ", " + std::to_string(s.device_count) + " devices: " +
         std::to_string(s.pending_count) + " pending, " + std::to_string(s.running_count) + " running, " +
         std::to_string(s.succeeded_count) + " succeeded, " + std::to_string(s.failed_count) + " failed";
}

struct planned_job {
  job_run run;
  wall_clock::time_point planned_start;
};

class scenario {
 public:
  scenario(const job_scheduler_options& o, svc::service_client& hub, const job_observer& observer)
      : options_(o), hub_(hub), observer_(observer), started_(wall_clock::now()) {}

  planned_job plan(std::string label, std::chrono::seconds delay) {
    planned_job p{{}, started_ + delay};
    p.run.label = std::move(label);
    p.run.job_id = make_job_id();
    return p;
  }

  void schedule(planned_job& p) {
    // A start time the clock has already passed is sent as "now" (null): a real hub may refuse
    // a start time in the past, and the hub's clock may differ from ours.
    std::optional<wall_clock::time_point> start;
    if (p.planned_start > wall_clock::now()) start = p.planned_start;
    std::optional<std::chrono::seconds> starts_in;
    if (start) starts_in = std::chrono::round<std::chrono::seconds>(*start - wall_clock::now());
    auto& job = p.run;
    if (job.label == "twin") {
      job.job = hub_.jobs().schedule_twin_update({.job_id = job.job_id,
                                                  .query_condition = options_.query_condition,
                                                  .patch = {{"properties", {{"desired", options_.desired}}}},
                                                  .start_time = start});
    } else {
      job.job = hub_.jobs().schedule_device_method({.job_id = job.job_id,
                                                    .query_condition = options_.query_condition,
                                                    .method = {.method_name = options_.method_name,
                                                               .payload = options_.method_payload,
                                                               .response_timeout = options_.response_timeout,
                                                               .connect_timeout = options_.connect_timeout},
                                                    .start_time = start});
    }
    if (observer_.scheduled) observer_.scheduled(job, starts_in);
  }

  void wait(planned_job& p) {
    auto& job = p.run;
    job.job = hub_.jobs().wait_for_completion(
        job.job_id, {.poll_interval = options_.poll_interval,
                     .timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.job_timeout),
                     .on_progress = [&](const svc::job_response& j) {
                       if (j.status == job.job.status && j.statistics == job.job.statistics) return;
                       job.job = j;
                       if (observer_.progress) observer_.progress(job);
                     }});
    if (!job.job.finished()) {
      if (observer_.gave_up) observer_.gave_up(job);
      return;
    }
    for (auto& record : hub_.jobs().device_job_records(job.job_id, 100)) job.records.push_back(std::move(record));
  }

 private:
  const job_scheduler_options& options_;
  svc::service_client& hub_;
  const job_observer& observer_;
  wall_clock::time_point started_;
};

}  // namespace

bool job_run::completed_everywhere() const {
  if (job.status != svc::job_status::completed || job.statistics.failed_count != 0) return false;
  return std::all_of(records.begin(), records.end(),
                     [](const svc::device_job_record& r) { return r.status == svc::device_job_status::completed; });
}

std::vector<std::string> selected_devices(svc::service_client& hub, const job_scheduler_options& options) {
  std::string sql = "SELECT deviceId FROM devices";
  if (options.query_condition != "*") sql += " WHERE " + options.query_condition;
  std::vector<std::string> ids;
  for (const auto& row : hub.query(sql, 100))
    if (row.contains("deviceId") && row["deviceId"].is_string()) ids.push_back(row["deviceId"].get<std::string>());
  return ids;
}

std::vector<job_run> run_tutorial_jobs(svc::service_client& hub, const job_scheduler_options& options, const job_observer& observer) {
  scenario s(options, hub, observer);
  std::vector<planned_job> jobs{s.plan("twin", options.twin_delay), s.plan("method", options.method_delay)};
  std::stable_sort(jobs.begin(), jobs.end(), [](const planned_job& a, const planned_job& b) { return a.planned_start < b.planned_start; });
  if (runs_jobs_one_at_a_time(options.tier)) {
    // One active job at a time (a second one would be 429004): schedule, wait, then the next.
    for (auto& job : jobs) {
      s.schedule(job);
      s.wait(job);
    }
  } else {
    for (auto& job : jobs) s.schedule(job);
    for (auto& job : jobs) s.wait(job);
  }
  std::vector<job_run> runs;
  for (auto& job : jobs) runs.push_back(std::move(job.run));
  return runs;
}

int run_job_scheduler(const job_scheduler_options& options, std::ostream& out, std::ostream& err) {
  std::optional<svc::service_client> hub;
  try {
    svc::client_options client;
    if (!options.endpoint.empty()) client.endpoint_override = svc::endpoint::parse(options.endpoint);
    client.ca_file = options.ca_file;
    hub.emplace(options.connection_string, client);
  } catch (const std::invalid_argument& e) {
    err << "job_scheduler: " << e.what() << std::endl;
    return exit_usage;
  }

  try {
    out << "Starting the IoT Hub jobs sample..." << std::endl
        << "    Hub             = " << hub->connection().host_name << " at " << hub->base_url() << std::endl
        << "    Query condition = " << options.query_condition << std::endl;
    const auto devices = selected_devices(*hub, options);
    out << "    Devices         = " << devices.size();
    for (const auto& id : devices) out << " " << id;
    out << std::endl;
    if (devices.empty()) {
      err << "job_scheduler: no device matches '" << options.query_condition << "'" << std::endl;
      return exit_device_failed;
    }

    job_observer printer;
    printer.scheduled = [&](const job_run& job, std::optional<std::chrono::seconds> starts_in) {
      out << "\nScheduling " << job.label << " job " << job.job_id
          << (starts_in ? " to start in " + std::to_string(starts_in->count()) + " s" : std::string(" to start now")) << std::endl;
      out << "...job " << job.job_id << " created (" << progress_line(job.job) << ")" << std::endl;
    };
    printer.progress = [&](const job_run& job) {
      out << "...job " << job.job_id << (job.job.finished() ? " complete (" : " still running (") << progress_line(job.job) << ")"
          << std::endl;
    };
    printer.gave_up = [&](const job_run& job) {
      out << "...job " << job.job_id << " gave up waiting after " << options.job_timeout.count() << " s" << std::endl;
    };
    const auto runs = run_tutorial_jobs(*hub, options, printer);

    bool ok = true;
    for (const auto& job : runs) {
      out << "\nJob " << job.job_id << " (" << job.label << "): " << progress_line(job.job) << std::endl;
      for (const auto& record : job.records) {
        out << "   " << record.device_id << ": " << to_string(record.status);
        if (record.outcome) out << ", device answered " << record.outcome->status << " " << record.outcome->payload.dump();
        if (record.error) out << ", " << record.error->code << ": " << record.error->description;
        out << std::endl;
      }
      ok = job.completed_everywhere() && ok;
    }
    out << (ok ? "\nBoth jobs completed on every device." : "\nSome devices did not complete.") << std::endl;
    return ok ? exit_ok : exit_device_failed;
  } catch (const svc::iothub_error& e) {
    err << "job_scheduler: the hub refused a request: " << e.what() << std::endl;
    return exit_hub_error;
  } catch (const svc::network_error& e) {
    err << "job_scheduler: " << e.what() << std::endl;
    return exit_hub_error;
  }
}

}  // namespace mockhub::examples
