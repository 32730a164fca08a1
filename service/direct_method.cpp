#include "direct_method.hpp"

#include "json_members.hpp"

namespace mockhub::service {

void to_json(nlohmann::json& j, const method_request& r) {
  j = {{"methodName", r.method_name},
       {"payload", r.payload},
       {"responseTimeoutInSeconds", r.response_timeout.count()},
       {"connectTimeoutInSeconds", r.connect_timeout.count()}};
}

void from_json(const nlohmann::json& j, method_request& r) {
  r = method_request{};
  r.method_name = detail::get_string(j, "methodName");
  r.payload = detail::get_json(j, "payload");
  if (j.contains("responseTimeoutInSeconds")) r.response_timeout = std::chrono::seconds(detail::get_int(j, "responseTimeoutInSeconds"));
  if (j.contains("connectTimeoutInSeconds")) r.connect_timeout = std::chrono::seconds(detail::get_int(j, "connectTimeoutInSeconds"));
}

void from_json(const nlohmann::json& j, method_response& r) {
  r.status = static_cast<int>(detail::get_int(j, "status"));
  r.payload = detail::get_json(j, "payload");
}

}  // namespace mockhub::service
