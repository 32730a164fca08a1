#include "rest_errors.hpp"

namespace mockhub::rest::errors {

core::hub_error invalid_protocol_version(std::string message) {
  return {400001, "InvalidProtocolVersion", std::move(message)};
}

core::hub_error resource_not_found(std::string_view method, std::string_view path) {
  return {404000, "GenericNotFound",
          "No operation of the IoT Hub service API (api-version 2021-04-12) answers " + std::string(method) + " " +
              std::string(path) + "."};
}

core::hub_error method_not_allowed(std::string_view method, std::string_view path) {
  return {405000, "MethodNotAllowed",
          "The resource " + std::string(path) + " does not support the HTTP method " + std::string(method) + "."};
}

core::hub_error not_implemented(std::string_view operation_id, std::string_view method, std::string_view pattern) {
  return {501000, "NotImplemented",
          "mockhub does not implement the operation " + std::string(operation_id) + " (" + std::string(method) + " " +
              std::string(pattern) + ")."};
}

}  // namespace mockhub::rest::errors
