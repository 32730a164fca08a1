// The identity registry (reference section 5.1): devices and statistics.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "device.hpp"
#include "if_match.hpp"

namespace mockhub::service {

namespace detail {
class http_transport;
}

class registry_client {
 public:
  explicit registry_client(std::shared_ptr<detail::http_transport> transport) : transport_(std::move(transport)) {}

  /// Devices_CreateOrUpdateIdentity without If-Match: creates `d` (only `device_id` is needed; the
  /// hub generates missing keys) and returns it as stored. 409001 DeviceAlreadyExists.
  device create_device(const device& d);
  /// Creates a device with SAS authentication and generated keys.
  device create_device(std::string_view device_id);
  /// Devices_GetIdentity. 404001 DeviceNotFound.
  device get_device(std::string_view device_id);
  /// Devices_CreateOrUpdateIdentity with If-Match: `if_match::etag(d.etag)` (412001 when it moved
  /// on) or `if_match::any()`. 404001 for a device that does not exist.
  device update_device(const device& d, const if_match& version);
  /// Devices_DeleteIdentity (the twin goes with it). 404001, 412001.
  void delete_device(std::string_view device_id, const if_match& version = if_match::any());
  /// Devices_GetDevices: at most `top` devices (1-1000). The hub recommends queries instead.
  std::vector<device> list_devices(int top = 1000);
  /// Statistics_GetDeviceStatistics.
  device_statistics get_device_statistics();
  /// Statistics_GetServiceStatistics.
  service_statistics get_service_statistics();

 private:
  std::shared_ptr<detail::http_transport> transport_;
};

}  // namespace mockhub::service
