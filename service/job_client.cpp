#include "job_client.hpp"

#include <algorithm>
#include <thread>

#include "http_transport.hpp"

namespace mockhub::service {

using detail::encode_component;

namespace {

std::string job_path(std::string_view id) { return "/jobs/v2/" + encode_component(id); }

// A string literal of the query language: quotes and backslashes escaped.
std::string query_literal(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

job_response job_client::schedule_device_method(const method_job& job) {
  const nlohmann::json body = job;
  return transport_->call({.method = "PUT", .path = job_path(job.job_id), .body = body.dump(), .retry_safe = false})
      .get<job_response>();
}

job_response job_client::schedule_twin_update(const twin_job& job) {
  const nlohmann::json body = job;
  return transport_->call({.method = "PUT", .path = job_path(job.job_id), .body = body.dump(), .retry_safe = false})
      .get<job_response>();
}

job_response job_client::get_job(std::string_view job_id) {
  return transport_->call({.method = "GET", .path = job_path(job_id)}).get<job_response>();
}

job_response job_client::cancel_job(std::string_view job_id) {
  return transport_->call({.method = "POST", .path = job_path(job_id) + "/cancel", .retry_safe = false}).get<job_response>();
}

paged_range<job_response> job_client::query_jobs(const job_filter& filter) {
  detail::http_request request{.method = "GET", .path = "/jobs/v2/query"};
  if (filter.type) request.query.emplace_back("jobType", std::string(to_string(*filter.type)));
  if (filter.status) request.query.emplace_back("jobStatus", std::string(to_string(*filter.status)));
  return paged_range<job_response>(
      [transport = transport_, request, size = filter.page_size](const std::string& continuation) {
        return detail::fetch_page(*transport, request, size, continuation);
      });
}

paged_range<device_job_record> job_client::device_job_records(std::string_view job_id, int page_size) {
  const nlohmann::json spec{{"query", "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = " + query_literal(job_id)}};
  const detail::http_request request{.method = "POST", .path = "/devices/query", .body = spec.dump()};
  return paged_range<device_job_record>([transport = transport_, request, page_size](const std::string& continuation) {
    return detail::fetch_page(*transport, request, page_size, continuation);
  });
}

job_response job_client::wait_for_completion(std::string_view job_id, const job_wait_options& options) {
  const auto deadline = options.timeout ? std::chrono::steady_clock::now() + *options.timeout
                                        : std::chrono::steady_clock::time_point::max();
  for (;;) {
    job_response job = get_job(job_id);
    if (options.on_progress) options.on_progress(job);
    if (job.finished() || std::chrono::steady_clock::now() >= deadline) return job;
    if (options.pause) {
      options.pause(options.poll_interval);
    } else {
      const auto left = deadline - std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(options.poll_interval, left));
    }
  }
}

}  // namespace mockhub::service
