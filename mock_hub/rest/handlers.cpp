#include "handlers.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/scheduled_job.hpp"

namespace mockhub::rest::handlers {

namespace {

using nlohmann::json;
namespace errors = core::errors;

std::string quote_etag(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

// A whole decimal number (optionally negative); nullopt for anything else.
std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || end != last || first == last) return std::nullopt;
  return value;
}

// `x-ms-max-item-count`: absent means the default (0); a number is passed on to be clamped.
int max_item_count(const request_context& c) {
  const auto text = c.header("x-ms-max-item-count");
  if (!text || text->empty()) return 0;
  const auto n = parse_integer(*text);
  if (!n) throw errors::argument_invalid("The x-ms-max-item-count header must be a whole number, not '" + std::string(*text) + "'.");
  if (*n > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
  if (*n < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
  return static_cast<int>(*n);
}

rest_response identity_response(const core::device_identity& d) {
  return rest_response::json(json(d)).header("ETag", quote_etag(d.etag));
}

rest_response twin_response(const json& twin) {
  auto r = rest_response::json(twin);
  if (const auto etag = twin.find("etag"); etag != twin.end() && etag->is_string())
    r.header("ETag", quote_etag(etag->get<std::string>()));
  return r;
}

rest_response page_response(json items, std::string_view item_type, const std::optional<std::string>& continuation) {
  auto r = rest_response::json(std::move(items));
  r.header("x-ms-item-type", std::string(item_type));
  if (continuation) r.header("x-ms-continuation", *continuation);
  return r;
}

rest_response page_response(core::query::query_page_text page) {
  rest_response r;
  r.json_text = std::move(page.items);
  r.header("x-ms-item-type", std::string(page.item_type));
  if (page.continuation) r.header("x-ms-continuation", *page.continuation);
  return r;
}

// Jobs_QueryScheduledJobs pages by position in the creation-ordered job list; the token is
// base64 of "jobs:<offset>" so that it looks as opaque as the hub's.
std::string encode_jobs_continuation(std::size_t offset) {
  return core::base64_encode("jobs:" + std::to_string(offset));
}

std::size_t decode_jobs_continuation(std::string_view token) {
  const auto bad = [&] {
    return errors::argument_invalid("The x-ms-continuation token '" + std::string(token) + "' is not one this hub issued for a jobs query.");
  };
  const auto text = core::base64_decode(token);
  if (!text || text->rfind("jobs:", 0) != 0) throw bad();
  const auto offset = parse_integer(std::string_view(*text).substr(5));
  if (!offset || *offset < 0) throw bad();
  return static_cast<std::size_t>(*offset);
}

}  // namespace

rest_response devices_get_identity(request_context& c) {
  return c.hub([&](core::hub& h) { return identity_response(h.registry().get_identity(c.param("id"))); });
}

rest_response devices_create_or_update_identity(request_context& c) {
  const auto request = core::device_identity_request::from_json(c.object_body());
  auto response = c.hub([&](core::hub& h) {
    return identity_response(h.create_or_update_identity(c.param("id"), request, c.if_match()));
  });
  c.wait_credentials_applied();
  return response;
}

rest_response devices_delete_identity(request_context& c) {
  c.hub([&](core::hub& h) {
    h.delete_identity(c.param("id"), c.if_match());
    return 0;
  });
  c.wait_credentials_applied();
  return rest_response::no_content();
}

rest_response devices_get_devices(request_context& c) {
  std::int64_t top = 1000;
  if (const auto text = c.query("top"); text && !text->empty()) {
    const auto n = parse_integer(*text);
    if (!n) throw errors::argument_invalid("The top query parameter must be a whole number, not '" + std::string(*text) + "'.");
    top = *n;
  }
  return c.hub([&](core::hub& h) {
    json devices = json::array();
    for (const auto* d : h.registry().get_devices(top)) devices.push_back(*d);
    return rest_response::json(std::move(devices));
  });
}

rest_response statistics_get_device_statistics(request_context& c) {
  return c.hub([](core::hub& h) { return rest_response::json(h.registry().get_device_statistics()); });
}

rest_response statistics_get_service_statistics(request_context& c) {
  return c.hub([](core::hub& h) {
    return rest_response::json({{"connectedDeviceCount", h.registry().connected_device_count()}});
  });
}

rest_response devices_get_twin(request_context& c) {
  return c.hub([&](core::hub& h) { return twin_response(h.registry().get_twin(c.param("id"))); });
}

rest_response devices_update_twin(request_context& c) {
  const json& patch = c.object_body();
  return c.hub([&](core::hub& h) { return twin_response(h.update_twin(c.param("id"), patch, c.if_match()).twin.to_json()); });
}

rest_response devices_replace_twin(request_context& c) {
  const json& replacement = c.object_body();
  return c.hub([&](core::hub& h) { return twin_response(h.replace_twin(c.param("id"), replacement, c.if_match()).twin.to_json()); });
}

rest_response devices_invoke_method(request_context& c) {
  auto request = core::method_request::from_json(c.object_body());
  // The device has connectTimeout to show up and responseTimeout to answer, both on the hub's
  // clock; the HTTP thread waits that long in real time plus a margin, never forever.
  const auto bound = std::chrono::seconds(request.connect_timeout_seconds + request.response_timeout_seconds) +
                     c.method_wait_margin();
  auto slot = c.calls().open();
  c.hub([&](core::hub& h) {
    h.invoke_device_method(c.param("deviceId"), std::move(request),
                           [slot](const core::method_outcome& outcome) { slot->complete(outcome); });
    return 0;
  });
  const auto waited = c.calls().wait(slot, bound);
  switch (waited.how) {
    case pending_calls::end::completed:
      if (const auto* error = std::get_if<core::hub_error>(&*waited.outcome)) throw *error;
      return rest_response::json(std::get<core::method_result>(*waited.outcome));
    case pending_calls::end::cancelled:
      throw errors::service_unavailable("The hub is shutting down.");
    case pending_calls::end::timed_out:
      break;
  }
  throw errors::gateway_timeout("Timed out waiting for the response from device.");
}

rest_response query_get_twins(request_context& c) {
  const json& spec = c.object_body();
  const auto text = spec.find("query");
  if (text == spec.end() || text->is_null())
    throw errors::argument_null("The query specification needs a 'query' member.");
  if (!text->is_string()) throw errors::argument_invalid("The query specification's 'query' member must be a string.");
  const std::string query = text->get<std::string>();
  const std::string continuation(c.header("x-ms-continuation").value_or(""));
  const core::query::page_request page{.max_item_count = max_item_count(c), .continuation = continuation};
  return page_response(c.hub([&](core::hub& h) { return h.query_text(query, page); }));
}

rest_response jobs_create_scheduled_job(request_context& c) {
  const json& body = c.object_body();
  return c.hub([&](core::hub& h) {
    auto request = core::job_request::from_json(body, c.param("id"), h.time().now());
    return rest_response::json(h.jobs().create_scheduled_job(std::move(request)));
  });
}

rest_response jobs_get_scheduled_job(request_context& c) {
  return c.hub([&](core::hub& h) { return rest_response::json(h.jobs().get_scheduled_job(c.param("id"))); });
}

rest_response jobs_cancel_scheduled_job(request_context& c) {
  return c.hub([&](core::hub& h) { return rest_response::json(h.jobs().cancel_scheduled_job(c.param("id"))); });
}

rest_response jobs_query_scheduled_jobs(request_context& c) {
  std::optional<core::job_type> type;
  std::optional<core::job_status> status;
  if (const auto text = c.query("jobType"); text && !text->empty()) {
    type = core::parse_job_type(*text);
    if (!type)
      throw errors::argument_invalid("The jobType '" + std::string(*text) +
                                     "' is not a job type (scheduleDeviceMethod or scheduleUpdateTwin).");
  }
  if (const auto text = c.query("jobStatus"); text && !text->empty()) {
    status = core::parse_job_status(*text);
    if (!status)
      throw errors::argument_invalid("The jobStatus '" + std::string(*text) +
                                     "' is not a job status (queued, scheduled, running, completed, failed, cancelled).");
  }
  // The same page sizes as twin queries: absent means 100, anything else is clamped to 1..100.
  int size = max_item_count(c);
  size = size == 0 ? core::query::default_page_size : std::clamp(size, 1, core::query::max_page_size);
  const auto continuation = c.header("x-ms-continuation");
  const std::size_t offset = continuation && !continuation->empty() ? decode_jobs_continuation(*continuation) : 0;
  return c.hub([&](core::hub& h) {
    const auto jobs = h.jobs().query_scheduled_jobs(type, status);
    json items = json::array();
    std::size_t i = offset;
    for (; i < jobs.size() && items.size() < static_cast<std::size_t>(size); ++i) items.push_back(*jobs[i]);
    std::optional<std::string> next;
    if (i < jobs.size()) next = encode_jobs_continuation(i);
    return page_response(std::move(items), "jobResponse", next);
  });
}

rest_response cloud_to_device_messages_purge_cloud_to_device_message_queue(request_context& c) {
  return c.hub([&](core::hub& h) {
    const std::string id(c.param("id"));
    const auto purged = h.purge_cloud_to_device_message_queue(id);
    return rest_response::json({{"totalMessagesPurged", purged}, {"deviceId", id}, {"moduleId", nullptr}});
  });
}

}  // namespace mockhub::rest::handlers
