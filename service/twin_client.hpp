// Device twins (reference section 5.2): read, patch (merge; null deletes) and replace.
#pragma once

#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "if_match.hpp"
#include "twin.hpp"

namespace mockhub::service {

namespace detail {
class http_transport;
}

class twin_client {
 public:
  explicit twin_client(std::shared_ptr<detail::http_transport> transport) : transport_(std::move(transport)) {}

  /// Devices_GetTwin. 404001 DeviceNotFound.
  twin get_twin(std::string_view device_id);
  /// Devices_UpdateTwin: merges `patch` (`{"tags":{...}, "properties":{"desired":{...}}}`; null
  /// deletes) and returns the whole twin. 412001 when `version` names an etag that moved on.
  twin update_twin(std::string_view device_id, const nlohmann::json& patch, const if_match& version = if_match::any());
  /// Devices_ReplaceTwin: replaces `tags` and `properties.desired` with those of `replacement`.
  twin replace_twin(std::string_view device_id, const nlohmann::json& replacement, const if_match& version = if_match::any());

 private:
  std::shared_ptr<detail::http_transport> transport_;
};

}  // namespace mockhub::service
