#include "job.hpp"

#include <array>
#include <cstdio>
#include <utility>

#include "json_members.hpp"

namespace mockhub::service {

namespace {

using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

template <class E, std::size_t N>
E parse_enum(std::string_view text, const std::array<std::pair<E, std::string_view>, N>& names, E fallback) noexcept {
  for (const auto& [value, name] : names)
    if (iequals(text, name)) return value;
  return fallback;
}

template <class E, std::size_t N>
std::string_view enum_name(E value, const std::array<std::pair<E, std::string_view>, N>& names) noexcept {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "unknown";
}

constexpr std::array job_types{
    std::pair{job_type::schedule_device_method, std::string_view("scheduleDeviceMethod")},
    std::pair{job_type::schedule_update_twin, std::string_view("scheduleUpdateTwin")},
};
constexpr std::array job_statuses{
    std::pair{job_status::enqueued, std::string_view("enqueued")},
    std::pair{job_status::queued, std::string_view("queued")},
    std::pair{job_status::scheduled, std::string_view("scheduled")},
    std::pair{job_status::running, std::string_view("running")},
    std::pair{job_status::completed, std::string_view("completed")},
    std::pair{job_status::failed, std::string_view("failed")},
    std::pair{job_status::cancelled, std::string_view("cancelled")},
};
constexpr std::array device_job_statuses{
    std::pair{device_job_status::pending, std::string_view("pending")},
    std::pair{device_job_status::scheduled, std::string_view("scheduled")},
    std::pair{device_job_status::running, std::string_view("running")},
    std::pair{device_job_status::completed, std::string_view("completed")},
    std::pair{device_job_status::failed, std::string_view("failed")},
    std::pair{device_job_status::canceled, std::string_view("canceled")},
};

// "2026-11-26T11:40:13.516Z", as JavaScript's toISOString (what the Node SDK sends).
std::string format_time(time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

json start_time_json(const std::optional<time_point>& t) { return t ? json(format_time(*t)) : json(); }

}  // namespace

std::string_view to_string(job_type t) noexcept { return enum_name(t, job_types); }
std::string_view to_string(job_status s) noexcept { return enum_name(s, job_statuses); }
std::string_view to_string(device_job_status s) noexcept { return enum_name(s, device_job_statuses); }

job_type parse_job_type(std::string_view text) noexcept { return parse_enum(text, job_types, job_type::unknown); }
job_status parse_job_status(std::string_view text) noexcept { return parse_enum(text, job_statuses, job_status::unknown); }
device_job_status parse_device_job_status(std::string_view text) noexcept {
  return parse_enum(text, device_job_statuses, device_job_status::unknown);
}

bool is_finished(job_status s) noexcept {
  return s == job_status::completed || s == job_status::failed || s == job_status::cancelled;
}

void to_json(json& j, const method_job& job) {
  j = {{"jobId", job.job_id},
       {"type", to_string(job_type::schedule_device_method)},
       {"cloudToDeviceMethod", job.method},
       {"startTime", start_time_json(job.start_time)},
       {"maxExecutionTimeInSeconds", job.max_execution_time.count()},
       {"queryCondition", job.query_condition}};
}

void to_json(json& j, const twin_job& job) {
  json patch = job.patch.is_object() ? job.patch : json::object();
  patch["etag"] = "*";
  j = {{"jobId", job.job_id},
       {"type", to_string(job_type::schedule_update_twin)},
       {"updateTwin", std::move(patch)},
       {"startTime", start_time_json(job.start_time)},
       {"maxExecutionTimeInSeconds", job.max_execution_time.count()},
       {"queryCondition", job.query_condition}};
}

void from_json(const json& j, job_statistics& s) {
  s.device_count = detail::get_int(j, "deviceCount");
  s.failed_count = detail::get_int(j, "failedCount");
  s.succeeded_count = detail::get_int(j, "succeededCount");
  s.running_count = detail::get_int(j, "runningCount");
  s.pending_count = detail::get_int(j, "pendingCount");
}

void from_json(const json& j, job_response& r) {
  using detail::get_string;
  r = job_response{};
  r.job_id = get_string(j, "jobId");
  r.type = parse_job_type(get_string(j, "type"));
  r.status = parse_job_status(get_string(j, "status"));
  r.query_condition = get_string(j, "queryCondition");
  r.created_time = get_string(j, "createdTime");
  r.start_time = get_string(j, "startTime");
  r.end_time = get_string(j, "endTime");
  r.max_execution_time_seconds = detail::get_int(j, "maxExecutionTimeInSeconds");
  if (const json* m = detail::find_object(j, "cloudToDeviceMethod")) r.method = m->get<method_request>();
  r.update_twin = detail::get_json(j, "updateTwin");
  r.failure_reason = get_string(j, "failureReason");
  r.status_message = get_string(j, "statusMessage");
  if (const json* s = detail::find_object(j, "deviceJobStatistics")) r.statistics = s->get<job_statistics>();
  r.document = j;
}

void from_json(const json& j, device_job_record& r) {
  using detail::get_string;
  r = device_job_record{};
  r.device_id = get_string(j, "deviceId");
  r.job_id = get_string(j, "jobId");
  r.type = parse_job_type(get_string(j, "jobType"));
  r.status = parse_device_job_status(get_string(j, "status"));
  r.start_time = get_string(j, "startTimeUtc");
  r.end_time = get_string(j, "endTimeUtc");
  r.created_time = get_string(j, "createdDateTimeUtc");
  r.last_updated_time = get_string(j, "lastUpdatedDateTimeUtc");
  if (const json* outcome = detail::find_object(j, "outcome"))
    if (const json* m = detail::find_object(*outcome, "deviceMethodResponse")) r.outcome = m->get<method_response>();
  if (const json* e = detail::find_object(j, "error"))
    r.error = device_job_record::failure{get_string(*e, "code"), get_string(*e, "description")};
  r.document = j;
}

}  // namespace mockhub::service
