// Scheduled jobs v2 (reference sections 5.5 and 6): schedule a direct method or a twin update
// over the devices a query selects, follow the job, list jobs, read per-device records.
//
// Tiers limit concurrent jobs (F1/S1: 1, S2: 5, S3: 10; a scheduled job counts): scheduling
// beyond that is 429004 ThrottlingMaxActiveJobCountExceeded, so on S1 wait for one job to
// finish before scheduling the next.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "job.hpp"
#include "paged_range.hpp"

namespace mockhub::service {

namespace detail {
class http_transport;
}

class job_client {
 public:
  explicit job_client(std::shared_ptr<detail::http_transport> transport) : transport_(std::move(transport)) {}

  /// Jobs_CreateScheduledJob of type scheduleDeviceMethod. 409104 JobAlreadyExists, 429004,
  /// 400000 for a query condition that does not parse, 400004 for a bad job id or timeout.
  job_response schedule_device_method(const method_job& job);
  /// Jobs_CreateScheduledJob of type scheduleUpdateTwin (the patch is sent with "etag":"*").
  job_response schedule_twin_update(const twin_job& job);
  /// Jobs_GetScheduledJob. 404002 JobNotFound.
  job_response get_job(std::string_view job_id);
  /// Jobs_CancelScheduledJob: the job becomes `cancelled` and its unfinished devices `canceled`.
  /// 404002; 412003 JobRunPreconditionFailed for a job that already finished.
  job_response cancel_job(std::string_view job_id);
  /// Jobs_QueryScheduledJobs: jobs, optionally of one type and status, in pages.
  paged_range<job_response> query_jobs(const job_filter& filter = {});
  /// The job's per-device records: `SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '<id>'`.
  paged_range<device_job_record> device_job_records(std::string_view job_id, int page_size = 0);

  /// Polls Jobs_GetScheduledJob until the job is completed, failed or cancelled, pausing
  /// `options.poll_interval` between polls, and returns the last state. When `options.timeout`
  /// passes first, returns the last (unfinished) state: check `finished()`.
  job_response wait_for_completion(std::string_view job_id, const job_wait_options& options = {});

 private:
  std::shared_ptr<detail::http_transport> transport_;
};

}  // namespace mockhub::service
