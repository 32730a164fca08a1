#include "store_records.hpp"

#include <stdexcept>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/permissions.hpp"

namespace mockhub::store::records {

using nlohmann::json;

namespace {

json ticks(const std::optional<core::time_point>& t) {
  return t ? json(static_cast<std::int64_t>(t->time_since_epoch().count())) : json();
}
json ticks(core::time_point t) { return static_cast<std::int64_t>(t.time_since_epoch().count()); }

std::optional<core::time_point> optional_time(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return core::time_point(core::duration(it->get<std::int64_t>()));
}
core::time_point time(const json& j, const char* key) {
  return core::time_point(core::duration(j.at(key).get<std::int64_t>()));
}

json optional_string(const std::optional<std::string>& s) { return s ? json(*s) : json(); }
std::optional<std::string> optional_string(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

template <class E>
E enum_from(const json& j, const char* key, std::initializer_list<E> values) {
  const auto text = j.at(key).get<std::string>();
  for (const E v : values)
    if (core::to_string(v) == text) return v;
  throw std::invalid_argument(std::string("unknown ") + key + " '" + text + "'");
}

json application(const core::application_properties& p) {
  json out = json::object();
  for (const auto& [k, v] : p) out[k] = optional_string(v);
  return out;
}
core::application_properties application(const json& j) {
  core::application_properties p;
  for (const auto& [k, v] : j.items()) p[k] = v.is_null() ? std::nullopt : std::optional<std::string>(v.get<std::string>());
  return p;
}

}  // namespace

json to_json(const core::device_identity& d) {
  return {{"deviceId", d.device_id},
          {"generationId", d.generation_id},
          {"etag", d.etag},
          {"status", core::to_string(d.status)},
          {"statusReason", d.status_reason},
          {"statusUpdatedTime", ticks(d.status_updated_time)},
          {"connectionStateUpdatedTime", ticks(d.connection_state_updated_time)},
          {"lastActivityTime", ticks(d.last_activity_time)},
          {"authType", core::to_string(d.auth_type)},
          {"primaryKey", d.primary_key},
          {"secondaryKey", d.secondary_key},
          {"primaryThumbprint", optional_string(d.primary_thumbprint)},
          {"secondaryThumbprint", optional_string(d.secondary_thumbprint)},
          {"iotEdge", d.iot_edge},
          {"deviceScope", d.device_scope},
          {"parentScopes", d.parent_scopes}};
}

core::device_identity identity_from_json(const json& j) {
  core::device_identity d;
  d.device_id = j.at("deviceId").get<std::string>();
  d.generation_id = j.at("generationId").get<std::string>();
  d.etag = j.at("etag").get<std::string>();
  d.status = enum_from(j, "status", {core::device_status::enabled, core::device_status::disabled});
  d.status_reason = j.at("statusReason").get<std::string>();
  d.status_updated_time = optional_time(j, "statusUpdatedTime");
  d.connection_state_updated_time = optional_time(j, "connectionStateUpdatedTime");
  d.last_activity_time = optional_time(j, "lastActivityTime");
  d.auth_type = enum_from(j, "authType",
                          {core::authentication_type::sas, core::authentication_type::self_signed,
                           core::authentication_type::certificate_authority, core::authentication_type::none});
  d.primary_key = j.at("primaryKey").get<std::string>();
  d.secondary_key = j.at("secondaryKey").get<std::string>();
  d.primary_thumbprint = optional_string(j, "primaryThumbprint");
  d.secondary_thumbprint = optional_string(j, "secondaryThumbprint");
  d.iot_edge = j.at("iotEdge").get<bool>();
  d.device_scope = j.at("deviceScope").get<std::string>();
  d.parent_scopes = j.at("parentScopes").get<std::vector<std::string>>();
  return d;
}

json to_json(std::span<const core::shared_access_policy> policies) {
  json out = json::array();
  for (const auto& p : policies)
    out.push_back({{"keyName", p.name},
                   {"primaryKey", p.primary_key},
                   {"secondaryKey", p.secondary_key},
                   {"rights", core::to_string(p.rights)}});
  return out;
}

std::vector<core::shared_access_policy> policies_from_json(const json& j) {
  std::vector<core::shared_access_policy> out;
  for (const auto& p : j) {
    const auto rights = core::parse_permissions(p.at("rights").get<std::string>());
    if (!rights) throw std::invalid_argument("unknown rights '" + p.at("rights").get<std::string>() + "'");
    out.push_back({.name = p.at("keyName").get<std::string>(),
                   .primary_key = p.at("primaryKey").get<std::string>(),
                   .secondary_key = p.at("secondaryKey").get<std::string>(),
                   .rights = *rights});
  }
  return out;
}

json to_json(const core::stored_job& s) {
  const auto& job = s.job;
  return {{"request", job},  // the wire JobResponse, read back by job_request::from_json
          {"status", core::to_string(job.status)},
          {"createdTime", ticks(job.created_time)},
          {"startTime", ticks(job.start_time)},
          {"endTime", ticks(job.end_time)},
          {"runStarted", ticks(s.run_started)},
          {"failureReason", job.failure_reason},
          {"statusMessage", job.status_message}};
}

core::stored_job job_from_json(const json& j, const std::string& job_id) {
  core::stored_job s;
  auto& job = s.job;
  job.created_time = time(j, "createdTime");
  job.request = core::job_request::from_json(j.at("request"), job_id, job.created_time);
  job.status = enum_from(j, "status",
                         {core::job_status::queued, core::job_status::scheduled, core::job_status::running,
                          core::job_status::completed, core::job_status::failed, core::job_status::cancelled});
  job.start_time = time(j, "startTime");
  job.request.start_time = job.start_time;
  job.end_time = optional_time(j, "endTime");
  s.run_started = optional_time(j, "runStarted");
  job.failure_reason = j.at("failureReason").get<std::string>();
  job.status_message = j.at("statusMessage").get<std::string>();
  return s;
}

json to_json(const core::stored_device_run& r) {
  json out = {{"status", core::to_string(r.status)},
              {"startTime", ticks(r.start_time)},
              {"endTime", ticks(r.end_time)},
              {"lastUpdated", ticks(r.last_updated)},
              {"outcome", r.outcome ? json(*r.outcome) : json()},
              {"error", r.error ? json{r.error->first, r.error->second} : json()}};
  return out;
}

core::stored_device_run device_run_from_json(const json& j, const std::string& device_id) {
  core::stored_device_run r;
  r.device_id = device_id;
  r.status = enum_from(j, "status",
                       {core::device_job_status::pending, core::device_job_status::scheduled,
                        core::device_job_status::running, core::device_job_status::completed,
                        core::device_job_status::failed, core::device_job_status::canceled});
  r.start_time = optional_time(j, "startTime");
  r.end_time = optional_time(j, "endTime");
  r.last_updated = time(j, "lastUpdated");
  if (const auto& o = j.at("outcome"); !o.is_null())
    r.outcome = core::method_result{o.at("status").get<int>(), o.at("payload")};
  if (const auto& e = j.at("error"); !e.is_null())
    r.error = std::make_pair(e.at(0).get<std::string>(), e.at(1).get<std::string>());
  return r;
}

json to_json(const core::cloud_to_device_message& m) {
  return {{"body", core::base64_encode(m.body)},
          {"messageId", optional_string(m.message_id)},
          {"correlationId", optional_string(m.correlation_id)},
          {"userId", optional_string(m.user_id)},
          {"contentType", optional_string(m.content_type)},
          {"contentEncoding", optional_string(m.content_encoding)},
          {"ack", optional_string(m.ack)},
          {"properties", application(m.application)},
          {"expiry", ticks(m.expiry)},
          {"to", m.to}};
}

core::cloud_to_device_message message_from_json(const json& j) {
  core::cloud_to_device_message m;
  const auto body = core::base64_decode(j.at("body").get<std::string>());
  if (!body) throw std::invalid_argument("the message body is not base64");
  m.body = *body;
  m.message_id = optional_string(j, "messageId");
  m.correlation_id = optional_string(j, "correlationId");
  m.user_id = optional_string(j, "userId");
  m.content_type = optional_string(j, "contentType");
  m.content_encoding = optional_string(j, "contentEncoding");
  m.ack = optional_string(j, "ack");
  m.application = application(j.at("properties"));
  m.expiry = optional_time(j, "expiry");
  m.to = j.at("to").get<std::string>();
  return m;
}

}  // namespace mockhub::store::records
