#include "request_context.hpp"

#include "mock_hub/core/ascii.hpp"
#include "mock_hub/core/errors.hpp"

namespace mockhub::rest {

namespace {
std::optional<std::string_view> find_field(const field_list& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (core::iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}
}  // namespace

rest_response rest_response::json(nlohmann::json body, int status) {
  rest_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

rest_response rest_response::no_content() {
  rest_response r;
  r.status = 204;
  return r;
}

rest_response& rest_response::header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string_view request_context::param(std::string_view name) const {
  for (const auto& [k, v] : path_params)
    if (k == name) return v;
  return {};
}

std::optional<std::string_view> request_context::query(std::string_view name) const {
  return find_field(query_params, name);
}

std::optional<std::string_view> request_context::header(std::string_view name) const {
  return find_field(headers, name);
}

const nlohmann::json& request_context::object_body() const {
  if (body.is_null()) throw core::errors::argument_null("The request body is required for " + method + " " + path + ".");
  if (!body.is_object())
    throw core::errors::argument_invalid("The request body must be a JSON object, not " + std::string(body.type_name()) + ".");
  return body;
}

void request_context::throw_hub_stopped() {
  throw core::errors::service_unavailable("The hub is shutting down.");
}

}  // namespace mockhub::rest
