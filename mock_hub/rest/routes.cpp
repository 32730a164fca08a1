#include "routes.hpp"

#include <array>

#include "bulk_registry.hpp"
#include "extension_handlers.hpp"
#include "handlers.hpp"
#include "mock_hub/core/ascii.hpp"
#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"

namespace mockhub::rest {

namespace {

using core::permission;
namespace h = handlers;

constexpr auto registry_read = permission::registry_read;
constexpr auto registry_write = permission::registry_write;
constexpr auto service_connect = permission::service_connect;

// Permissions (reference section 2.3): registry reads and statistics RegistryRead, registry
// writes RegistryWrite; twins, methods, queries, jobs and cloud-to-device ServiceConnect.
// Operations mockhub does not serve carry the permission they would need, for the record.
constexpr std::array routes{
    // Statistics
    route{"GET", "/statistics/devices", "Statistics_GetDeviceStatistics", registry_read, false, &h::statistics_get_device_statistics},
    route{"GET", "/statistics/service", "Statistics_GetServiceStatistics", registry_read, false, &h::statistics_get_service_statistics},
    // Query (before /devices/{id})
    route{"POST", "/devices/query", "Query_GetTwins", service_connect, true, &h::query_get_twins},
    // Registry
    route{"GET", "/devices", "Devices_GetDevices", registry_read, false, &h::devices_get_devices},
    route{"POST", "/devices", "BulkRegistry_UpdateRegistry", registry_write, true, &h::bulk_registry_update_registry},
    route{"GET", "/devices/{id}", "Devices_GetIdentity", registry_read, false, &h::devices_get_identity},
    route{"PUT", "/devices/{id}", "Devices_CreateOrUpdateIdentity", registry_write, true, &h::devices_create_or_update_identity},
    route{"DELETE", "/devices/{id}", "Devices_DeleteIdentity", registry_write, false, &h::devices_delete_identity},
    route{"DELETE", "/devices/{id}/commands", "CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue", service_connect, false,
          &h::cloud_to_device_messages_purge_cloud_to_device_message_queue},
    route{"POST", "/devices/{id}/applyConfigurationContent", "Configuration_ApplyOnEdgeDevice", registry_write, true, nullptr},
    route{"GET", "/devices/{id}/modules", "Modules_GetModulesOnDevice", registry_read, false, nullptr},
    route{"GET", "/devices/{id}/modules/{mid}", "Modules_GetIdentity", registry_read, false, nullptr},
    route{"PUT", "/devices/{id}/modules/{mid}", "Modules_CreateOrUpdateIdentity", registry_write, true, nullptr},
    route{"DELETE", "/devices/{id}/modules/{mid}", "Modules_DeleteIdentity", registry_write, false, nullptr},
    // Twins
    route{"GET", "/twins/{id}", "Devices_GetTwin", service_connect, false, &h::devices_get_twin},
    route{"PUT", "/twins/{id}", "Devices_ReplaceTwin", service_connect, true, &h::devices_replace_twin},
    route{"PATCH", "/twins/{id}", "Devices_UpdateTwin", service_connect, true, &h::devices_update_twin},
    route{"GET", "/twins/{id}/modules/{mid}", "Modules_GetTwin", service_connect, false, nullptr},
    route{"PUT", "/twins/{id}/modules/{mid}", "Modules_ReplaceTwin", service_connect, true, nullptr},
    route{"PATCH", "/twins/{id}/modules/{mid}", "Modules_UpdateTwin", service_connect, true, nullptr},
    // Direct methods
    route{"POST", "/twins/{deviceId}/methods", "Devices_InvokeMethod", service_connect, true, &h::devices_invoke_method},
    route{"POST", "/twins/{deviceId}/modules/{moduleId}/methods", "Modules_InvokeMethod", service_connect, true, nullptr},
    // Jobs v2 (scheduled jobs; /jobs/v2/query before /jobs/v2/{id})
    route{"GET", "/jobs/v2/query", "Jobs_QueryScheduledJobs", service_connect, false, &h::jobs_query_scheduled_jobs},
    route{"GET", "/jobs/v2/{id}", "Jobs_GetScheduledJob", service_connect, false, &h::jobs_get_scheduled_job},
    route{"PUT", "/jobs/v2/{id}", "Jobs_CreateScheduledJob", service_connect, true, &h::jobs_create_scheduled_job},
    route{"POST", "/jobs/v2/{id}/cancel", "Jobs_CancelScheduledJob", service_connect, false, &h::jobs_cancel_scheduled_job},
    // Import/export jobs
    route{"POST", "/jobs/create", "Jobs_CreateImportExportJob", registry_write, true, nullptr},
    route{"GET", "/jobs", "Jobs_GetImportExportJobs", registry_read, false, nullptr},
    route{"GET", "/jobs/{id}", "Jobs_GetImportExportJob", registry_read, false, nullptr},
    route{"DELETE", "/jobs/{id}", "Jobs_CancelImportExportJob", registry_write, false, nullptr},
    // Configurations
    route{"POST", "/configurations/testQueries", "Configuration_TestQueries", service_connect, true, nullptr},
    route{"GET", "/configurations", "Configuration_GetConfigurations", registry_read, false, nullptr},
    route{"GET", "/configurations/{id}", "Configuration_Get", registry_read, false, nullptr},
    route{"PUT", "/configurations/{id}", "Configuration_CreateOrUpdate", registry_write, true, nullptr},
    route{"DELETE", "/configurations/{id}", "Configuration_Delete", registry_write, false, nullptr},
    // Cloud-to-device feedback
    route{"GET", "/messages/serviceBound/feedback", "CloudToDeviceMessages_ReceiveFeedbackNotification", service_connect, false, nullptr},
    route{"DELETE", "/messages/serviceBound/feedback/{lockToken}", "CloudToDeviceMessages_CompleteFeedbackNotification",
          service_connect, false, nullptr},
    route{"POST", "/messages/serviceBound/feedback/{lockToken}/abandon", "CloudToDeviceMessages_AbandonFeedbackNotification",
          service_connect, false, nullptr},
    // Digital twins (IoT Plug and Play)
    route{"GET", "/digitaltwins/{id}", "DigitalTwin_GetDigitalTwin", service_connect, false, nullptr},
    route{"PATCH", "/digitaltwins/{id}", "DigitalTwin_UpdateDigitalTwin", service_connect, true, nullptr},
    route{"POST", "/digitaltwins/{id}/commands/{commandName}", "DigitalTwin_InvokeRootLevelCommand", service_connect, true, nullptr},
    route{"POST", "/digitaltwins/{id}/components/{componentPath}/commands/{commandName}", "DigitalTwin_InvokeComponentCommand",
          service_connect, true, nullptr},
};

// mockhub's own operations (docs/rest-extension.md). Operation ids name them for 501s and logs.
namespace x = extension_handlers;
constexpr std::array extension{
    route{"POST", "/_mockhub/reset", "Mockhub_Reset", registry_write, false, &x::reset},
    route{"GET", "/_mockhub/devices/{id}/messages/events", "Mockhub_GetDeviceTelemetry", service_connect, false,
          &x::get_device_telemetry},
    route{"POST", "/_mockhub/devices/{id}/messages/devicebound", "Mockhub_SendCloudToDeviceMessage", service_connect,
          true, &x::send_cloud_to_device_message},
    route{"POST", "/_mockhub/devices/{id}/faults", "Mockhub_InjectFault", service_connect, true, &x::inject_fault},
    route{"GET", "/_mockhub/clock", "Mockhub_GetClock", service_connect, false, &x::get_clock},
    route{"POST", "/_mockhub/clock/advance", "Mockhub_AdvanceClock", service_connect, true, &x::advance_clock},
};

// Splits at '/', after the leading one: "/a/b" -> {"a", "b"}; "/" -> {""}.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Whether `path` fits `pattern`; fills the decoded parameters when it does.
bool matches(const route& r, const std::vector<std::string_view>& path, field_list& params) {
  const auto pattern = segments(r.pattern);
  if (pattern.size() != path.size()) return false;
  field_list found;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_parameter(pattern[i])) {
      if (path[i].empty()) return false;
      const auto decoded = core::url_decode(path[i]);
      if (!decoded)
        throw core::errors::argument_invalid("The path segment '" + std::string(path[i]) +
                                             "' holds a malformed percent escape.");
      found.emplace_back(std::string(pattern[i].substr(1, pattern[i].size() - 2)), *decoded);
    } else if (!core::iequals(pattern[i], path[i])) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

std::span<const route> service_routes() { return routes; }
std::span<const route> extension_routes() { return extension; }

bool is_extension(const route& r) noexcept { return r.pattern.starts_with(extension_prefix); }

route_match match_route(std::string_view method, std::string_view path) {
  route_match m;
  auto parts = segments(path);
  // One trailing slash names the same resource, as in the hub's ASP.NET routing: the Node
  // service SDK lists devices with `GET /devices/`.
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  for (const auto table : {service_routes(), extension_routes()}) {
    for (const route& r : table) {
      field_list params;
      if (!matches(r, parts, params)) continue;
      if (r.method == method) {
        m.found = &r;
        m.params = std::move(params);
        m.allowed.clear();
        return m;
      }
      m.allowed.push_back(r.method);
    }
  }
  return m;
}

}  // namespace mockhub::rest
