#include "twin.hpp"

#include "json_members.hpp"

namespace mockhub::service {

void from_json(const nlohmann::json& j, twin& t) {
  t = twin{};
  t.device_id = detail::get_string(j, "deviceId");
  t.etag = detail::get_string(j, "etag");
  t.version = detail::get_int(j, "version");
  if (const auto* tags = detail::find_object(j, "tags")) t.tags = *tags;
  if (const auto* properties = detail::find_object(j, "properties")) {
    if (const auto* d = detail::find_object(*properties, "desired")) t.desired = *d;
    if (const auto* r = detail::find_object(*properties, "reported")) t.reported = *r;
  }
  t.document = j;
}

}  // namespace mockhub::service
