// Scheduled jobs (reference sections 5.5, 6 and 8): a job calls a direct method, or applies a
// twin update, on every device its queryCondition selects, at its start time, and keeps a
// record per device that `SELECT * FROM devices.jobs` reads.
//
// Lifecycle: created `queued`; then `scheduled` until startTime, `running` from it (the query
// is evaluated then, against the twins of that moment), and `completed` when every device is
// done, `cancelled` by cancel, `failed` if the query cannot run. Device records go pending ->
// running -> completed | failed, or canceled.
//
// Fan-out: device operations start in device-id order, round-robin between running jobs, with
// at most `max_in_flight` method calls outstanding and at most `slice` operations started per
// executor round, so a job over 100,000 devices neither copies the fleet nor blocks the hub.
// A method job starts its first slices while its query is still reading twins (and flushes
// them to the devices at once), unless it is paced or the store is durable (see start()).
// Everything is timed by the injected clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "direct_methods.hpp"
#include "hub_store.hpp"
#include "query/compiled_condition.hpp"
#include "query/document_source.hpp"
#include "scheduled_job.hpp"

namespace mockhub::core {

/// What a job does to devices. The hub implements it (twins, notifications, direct methods).
class job_device_operations {
 public:
  virtual ~job_device_operations() = default;
  /// Every twin, keyed and ordered by device id (the documents of GET /twins).
  virtual const query::document_source& twins() const = 0;
  /// Applies a twin job's update to one device as a forced write. Throws hub_error.
  virtual void update_twin_for_job(std::string_view device_id, const nlohmann::json& patch) = 0;
  /// Calls a direct method on one device; `done` runs exactly once (maybe before this returns).
  /// The job prepares its request once and shares it among all its devices.
  virtual void invoke_method_for_job(std::string_view device_id, std::shared_ptr<const prepared_method_request> request,
                                     method_callback done) = 0;
  /// Sends the method requests invoked so far now (device_channel::flush), not when the
  /// executor's current task ends.
  virtual void flush_method_requests() {}
};

struct job_engine_options {
  /// Concurrent (queued, scheduled or running) jobs: F1 and S1 1, S2 5, S3 10.
  int max_concurrent_jobs = 1;
  /// Method calls outstanding at once, over all jobs.
  std::size_t max_in_flight = 1000;
  /// Device operations started per executor round before yielding to other work.
  std::size_t slice = 500;
  /// How long a finished job and its device records are kept.
  duration retention = std::chrono::hours(24 * 30);
  /// Optional real-hub pacing of job device operations (S1: 10 per second); nullopt: as fast as possible.
  std::optional<double> device_operations_per_second;
};

/// The maximum concurrent jobs of an IoT Hub tier ("F1", "S1", "S2", "S3"); nullopt for others.
std::optional<int> max_concurrent_jobs_for_tier(std::string_view tier) noexcept;

class job_engine {
 public:
  /// `store` (optional) receives every job and device record change; pump rounds commit the
  /// devices they start before contacting any of them.
  job_engine(job_engine_options options, clock& clk, job_device_operations& devices, hub_store* store = nullptr);
  ~job_engine();
  job_engine(const job_engine&) = delete;
  job_engine& operator=(const job_engine&) = delete;

  /// Jobs_CreateScheduledJob. Throws 409104 JobAlreadyExists for a known id, 429004 when the tier's
  /// concurrent jobs are all taken, 400000 for a queryCondition that does not parse.
  const scheduled_job& create_scheduled_job(job_request request);
  /// Jobs_GetScheduledJob. 404002 JobNotFound.
  const scheduled_job& get_scheduled_job(std::string_view job_id) const;
  /// Jobs_CancelScheduledJob: the job becomes `cancelled`, its unfinished devices `canceled`.
  /// 404002 for an unknown job; 412003 JobRunPreconditionFailed for one that already completed or
  /// failed; cancelling a cancelled job returns it unchanged.
  const scheduled_job& cancel_scheduled_job(std::string_view job_id);
  /// Jobs_QueryScheduledJobs: jobs in creation order, optionally filtered by type and status.
  std::vector<const scheduled_job*> query_scheduled_jobs(std::optional<job_type> type,
                                                         std::optional<job_status> status) const;

  /// The per-device records, for `SELECT * FROM devices.jobs` (key: jobId + '\n' + deviceId).
  const query::document_source& device_job_records() const noexcept;

  /// Jobs not yet finished (queued, scheduled or running).
  int active_jobs() const noexcept;
  /// Forgets every job and its device records, cancelling their timers (mockhub's reset; no
  /// IoT Hub operation does this). Method calls still in flight end through their callbacks,
  /// which find no job and do nothing.
  void clear();
  const job_engine_options& options() const noexcept { return options_; }

  /// Puts back stored jobs (at load, before any operation), and resumes them on the clock:
  /// - queued or scheduled: starts at its start time, at once if that passed while the hub was down;
  /// - running: devices already done are kept (statistics are recounted from the records); a
  ///   method call in flight when the hub stopped fails with 504101 GatewayTimeout (the device
  ///   may have run it; the answer can no longer reach the hub), a twin update in flight (never
  ///   committed) runs again; pending devices continue; the deadline still counts from the start;
  /// - ended: kept until its retention ends.
  void restore(std::vector<stored_job> jobs,
               std::map<std::string, std::vector<stored_device_run>, std::less<>> device_runs);

 private:
  struct device_run;
  struct job_state;
  class records_source;

  static void refresh_record(const job_state& job, device_run& run);
  void start(job_state& job);
  void pump();
  void schedule_pump();
  std::optional<std::size_t> mark_next_device(job_state& job);
  void run_device(const std::string& job_id, std::size_t index);
  void arm_start(job_state& job);
  void arm_deadline(job_state& job);
  void arm_retention(job_state& job);
  void persist_job(const job_state& job);
  void persist_run(const job_state& job, const device_run& run);
  void device_finished(const std::string& job_id, std::size_t index, device_job_status status,
                       std::optional<method_result> outcome, std::optional<hub_error> error);
  void finish(job_state& job, job_status status);
  void end_unfinished(job_state& job, device_job_status status, const char* code, const char* description);
  job_state& state(std::string_view job_id);
  const job_state& state(std::string_view job_id) const;

  job_engine_options options_;
  clock& clock_;
  job_device_operations& devices_;
  hub_store* store_;
  std::map<std::string, std::unique_ptr<job_state>, std::less<>> jobs_;
  std::vector<std::string> creation_order_;
  std::vector<std::string> running_;  // round-robin order of running jobs
  std::size_t round_robin_ = 0;
  std::size_t in_flight_ = 0;
  bool pump_scheduled_ = false;
  std::optional<time_point> next_operation_at_;  // pacing
  std::unique_ptr<records_source> records_;
};

}  // namespace mockhub::core
