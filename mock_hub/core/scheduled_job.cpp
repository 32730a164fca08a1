#include "scheduled_job.hpp"

#include <algorithm>

#include "ascii.hpp"
#include "errors.hpp"
#include "time_format.hpp"
#include "twin.hpp"

namespace mockhub::core {

using nlohmann::json;

std::string_view to_string(job_type t) noexcept {
  return t == job_type::schedule_device_method ? "scheduleDeviceMethod" : "scheduleUpdateTwin";
}

std::string_view to_string(job_status s) noexcept {
  switch (s) {
    case job_status::queued: return "queued";
    case job_status::scheduled: return "scheduled";
    case job_status::running: return "running";
    case job_status::completed: return "completed";
    case job_status::failed: return "failed";
    case job_status::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(device_job_status s) noexcept {
  switch (s) {
    case device_job_status::pending: return "pending";
    case device_job_status::scheduled: return "scheduled";
    case device_job_status::running: return "running";
    case device_job_status::completed: return "completed";
    case device_job_status::failed: return "failed";
    case device_job_status::canceled: return "canceled";
  }
  return "unknown";
}

std::optional<job_type> parse_job_type(std::string_view text) noexcept {
  for (const auto t : {job_type::schedule_device_method, job_type::schedule_update_twin})
    if (iequals(text, to_string(t))) return t;
  return std::nullopt;
}

std::optional<job_status> parse_job_status(std::string_view text) noexcept {
  for (const auto s : {job_status::queued, job_status::scheduled, job_status::running, job_status::completed,
                       job_status::failed, job_status::cancelled})
    if (iequals(text, to_string(s))) return s;
  if (iequals(text, "canceled")) return job_status::cancelled;  // the docs' spelling
  return std::nullopt;
}

namespace {

void validate_job_id(std::string_view id) {
  const bool ok = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!ok)
    throw errors::argument_invalid("Job id '" + std::string(id) +
                                   "' is not valid: use 1 to 64 ASCII letters, digits and '-'.");
}

// A twin job's patch must be a forced update of tags and/or desired properties that the twin
// rules accept: checked on a scratch twin so that a bad patch is refused at creation.
json validate_update_twin(const json& body, time_point now) {
  if (!body.is_object()) throw errors::argument_invalid("updateTwin must be a JSON object.");
  const auto etag = body.find("etag");
  if (etag == body.end() || !etag->is_string() || etag->get<std::string>() != "*")
    throw errors::argument_invalid("updateTwin.etag must be \"*\": a job's twin update is always forced.");
  json patch = json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == "tags") {
      patch["tags"] = value;
    } else if (key == "properties") {
      if (!value.is_object()) throw errors::argument_invalid("updateTwin.properties must be a JSON object.");
      for (const auto& [section, content] : value.items()) {
        if (section != "desired")
          throw errors::argument_invalid("updateTwin.properties may only hold 'desired', not '" + section + "'.");
        patch["properties"]["desired"] = content;
      }
    } else if (key != "etag" && key != "deviceId") {
      // The twin read-only members a client may echo back are ignored; anything else is a mistake.
      static const std::vector<std::string> ignored = {"etag", "deviceEtag", "version", "status", "connectionState",
                                                       "lastActivityTime", "statusUpdateTime", "statusReason",
                                                       "cloudToDeviceMessageCount", "authenticationType",
                                                       "x509Thumbprint", "capabilities", "modelId"};
      if (std::find(ignored.begin(), ignored.end(), key) == ignored.end())
        throw errors::argument_invalid("updateTwin may only hold tags and properties.desired, not '" + key + "'.");
    }
  }
  if (patch.empty()) throw errors::argument_invalid("updateTwin holds neither tags nor properties.desired.");
  twin scratch(device_identity{}, now);
  scratch.update(patch, now);
  return patch;
}

}  // namespace

job_request job_request::from_json(const json& body, std::string_view path_job_id, time_point now) {
  if (!body.is_object()) throw errors::argument_invalid("The job body must be a JSON object.");
  validate_job_id(path_job_id);
  job_request r;
  r.job_id = std::string(path_job_id);
  if (const auto id = body.find("jobId"); id != body.end() && !id->is_null()) {
    if (!id->is_string() || id->get<std::string>() != path_job_id)
      throw errors::argument_invalid("The jobId in the body does not match the job id in the path ('" +
                                     std::string(path_job_id) + "').");
  }
  const auto type = body.find("type");
  if (type == body.end() || !type->is_string())
    throw errors::generic_bad_request("BadRequest: the job type is missing; use scheduleDeviceMethod or scheduleUpdateTwin.");
  const auto parsed_type = parse_job_type(type->get<std::string>());
  if (!parsed_type)
    throw errors::generic_bad_request("BadRequest: job type '" + type->get<std::string>() +
                                      "' is not supported; use scheduleDeviceMethod or scheduleUpdateTwin.");
  r.type = *parsed_type;

  if (r.type == job_type::schedule_device_method) {
    const auto m = body.find("cloudToDeviceMethod");
    if (m == body.end() || m->is_null())
      throw errors::argument_null("cloudToDeviceMethod is required for a scheduleDeviceMethod job.");
    r.method = method_request::from_json(*m);
  } else {
    const auto t = body.find("updateTwin");
    if (t == body.end() || t->is_null()) throw errors::argument_null("updateTwin is required for a scheduleUpdateTwin job.");
    r.update_twin = validate_update_twin(*t, now);
  }

  const auto q = body.find("queryCondition");
  if (q == body.end() || q->is_null()) throw errors::argument_null("queryCondition is required.");
  if (!q->is_string() || q->get<std::string>().empty())
    throw errors::argument_invalid("queryCondition must be a non-empty string ('*' selects every device).");
  r.query_condition = q->get<std::string>();

  if (const auto st = body.find("startTime"); st != body.end() && !st->is_null()) {
    if (!st->is_string()) throw errors::argument_invalid("startTime must be an ISO-8601 date-time string.");
    const auto t = parse_time(st->get<std::string>());
    if (!t) throw errors::argument_invalid("startTime '" + st->get<std::string>() + "' is not an ISO-8601 date-time.");
    r.start_time = *t;
  }
  if (const auto mx = body.find("maxExecutionTimeInSeconds"); mx != body.end() && !mx->is_null()) {
    if (!mx->is_number_integer() || mx->get<std::int64_t>() <= 0)
      throw errors::argument_invalid("maxExecutionTimeInSeconds must be a positive integer.");
    r.max_execution_time_seconds = mx->get<std::int64_t>();
  }
  return r;
}

void to_json(json& j, const device_job_statistics& s) {
  j = {{"deviceCount", s.device_count},
       {"failedCount", s.failed_count},
       {"succeededCount", s.succeeded_count},
       {"runningCount", s.running_count},
       {"pendingCount", s.pending_count}};
}

void to_json(json& j, const scheduled_job& job) {
  const auto& r = job.request;
  j = {{"jobId", r.job_id},
       {"queryCondition", r.query_condition},
       {"createdTime", format_time(job.created_time)},
       {"startTime", format_time(job.start_time)},
       {"maxExecutionTimeInSeconds", r.max_execution_time_seconds},
       {"type", to_string(r.type)},
       {"status", to_string(job.status)},
       {"deviceJobStatistics", job.statistics}};
  if (job.end_time) j["endTime"] = format_time(*job.end_time);
  if (r.method) j["cloudToDeviceMethod"] = *r.method;
  if (r.type == job_type::schedule_update_twin) {
    j["updateTwin"] = r.update_twin;
    j["updateTwin"]["etag"] = "*";
  }
  if (!job.failure_reason.empty()) j["failureReason"] = job.failure_reason;
  if (!job.status_message.empty()) j["statusMessage"] = job.status_message;
}

}  // namespace mockhub::core
