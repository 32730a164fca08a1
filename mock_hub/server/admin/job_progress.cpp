#include "job_progress.hpp"

#include <algorithm>

namespace mockhub::server::admin {

namespace {

std::int64_t done_count(const service::job_statistics& s) { return s.succeeded_count + s.failed_count; }

}  // namespace

std::string progress_line(const service::job_response& job) {
  const auto& s = job.statistics;
  return "job " + job.job_id + " " + std::string(service::to_string(job.status)) + ": " + std::to_string(done_count(s)) + "/" +
         std::to_string(s.device_count) + " devices done (" + std::to_string(s.succeeded_count) + " succeeded, " +
         std::to_string(s.failed_count) + " failed, " + std::to_string(s.pending_count) + " pending, " +
         std::to_string(s.running_count) + " running)";
}

std::string progress_bar(const service::job_response& job, int width) {
  const auto& s = job.statistics;
  const std::int64_t done = done_count(s);
  const int filled = s.device_count > 0 ? static_cast<int>(std::min<std::int64_t>(width, done * width / s.device_count))
                                        : (job.finished() ? width : 0);
  return job.job_id + " [" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), '-') + "] " + std::to_string(done) + "/" +
         std::to_string(s.device_count) + " " + std::string(service::to_string(job.status)) + " (" +
         std::to_string(s.succeeded_count) + " ok, " + std::to_string(s.failed_count) + " failed)";
}

void job_progress::update(const service::job_response& job) {
  const std::string text = terminal_ ? progress_bar(job) : progress_line(job);
  if (last_ == text) return;
  if (terminal_) {
    // Pad over a longer previous bar (the status word can shrink).
    const std::size_t pad = last_ && last_->size() > text.size() ? last_->size() - text.size() : 0;
    out_ << '\r' << text << std::string(pad, ' ') << std::flush;
  } else {
    out_ << text << '\n' << std::flush;
  }
  last_ = text;
}

void job_progress::finish(const service::job_response& job) {
  update(job);
  if (terminal_) out_ << '\n';
  const auto& s = job.statistics;
  out_ << "job " << job.job_id << " " << service::to_string(job.status) << ": " << s.device_count << " devices, "
       << s.succeeded_count << " succeeded, " << s.failed_count << " failed";
  if (!job.failure_reason.empty()) out_ << " (" << job.failure_reason << ")";
  out_ << '\n' << std::flush;
}

}  // namespace mockhub::server::admin
