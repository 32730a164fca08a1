// The service client: IoT Hub's service REST API (api-version 2021-04-12) for back-end code,
// against a real hub (https://{HostName}) or a mockhub (endpoint override + its CA file).
//
//   mockhub::service::service_client hub(connection_string, {
//       .endpoint_override = mockhub::service::endpoint::parse("https://127.0.0.1:8443"),
//       .ca_file = "/tmp/hub/ca.crt"});
//   hub.registry().create_device("lock1");
//   hub.twins().update_twin("lock1", {{"tags", {{"building", 43}}}});
//   auto answer = hub.invoke_method("lock1", {.method_name = "lockDoor"});
//   for (const auto& twin : hub.query("SELECT * FROM devices WHERE tags.building = 43")) ...
//   hub.jobs().schedule_device_method({.job_id = "j1", .query_condition = "tags.building = 43",
//                                      .method = {.method_name = "lockDoor"}});
//
// Every request carries a fresh SAS token signed with the policy key (`sr` = HostName, `skn` =
// the policy). Failures throw iothub_error (the hub said no: status, code, name, message) or
// network_error (no answer). A client may be used from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "client_options.hpp"
#include "connection_string.hpp"
#include "device.hpp"
#include "direct_method.hpp"
#include "errors.hpp"
#include "if_match.hpp"
#include "job.hpp"
#include "job_client.hpp"
#include "paged_range.hpp"
#include "registry_client.hpp"
#include "twin.hpp"
#include "twin_client.hpp"

namespace mockhub::service {

class service_client {
 public:
  /// Throws std::invalid_argument for a connection string, key, endpoint or CA file that cannot work.
  explicit service_client(std::string_view connection_string, client_options options = {});
  service_client(service_connection_string connection, client_options options = {});
  ~service_client();
  service_client(const service_client&) = delete;
  service_client& operator=(const service_client&) = delete;

  registry_client& registry() noexcept { return registry_; }
  twin_client& twins() noexcept { return twins_; }
  job_client& jobs() noexcept { return jobs_; }

  /// Devices_InvokeMethod: runs a direct method on a device and returns its answer (whatever
  /// status the device chose). 404001 DeviceNotFound; 404103 DeviceNotOnline when the device is
  /// not connected within the connect timeout; 504101 GatewayTimeout when it does not answer
  /// within the response timeout. The HTTP wait is connect + response timeout + 10 s.
  method_response invoke_method(std::string_view device_id, const method_request& request);

  /// Query_GetTwins: the query's results, page by page (`page_size`: x-ms-max-item-count, 0 lets
  /// the hub choose). Items are twins, device job records or projections, as the query says.
  paged_range<nlohmann::json> query(std::string_view sql, int page_size = 0);

  const service_connection_string& connection() const noexcept;
  /// Where requests go, e.g. "https://127.0.0.1:8443".
  const std::string& base_url() const noexcept;

 private:
  std::shared_ptr<detail::http_transport> transport_;
  registry_client registry_;
  twin_client twins_;
  job_client jobs_;
};

}  // namespace mockhub::service
