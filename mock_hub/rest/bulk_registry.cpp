#include "bulk_registry.hpp"

#include <array>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mock_hub/core/ascii.hpp"
#include "mock_hub/core/device_identity.hpp"
#include "mock_hub/core/errors.hpp"

namespace mockhub::rest::handlers {

namespace {

using nlohmann::json;
namespace errors = core::errors;

enum class import_mode { create, update, update_if_match_etag, remove, remove_if_match_etag, update_twin, update_twin_if_match_etag };

constexpr std::array<std::pair<std::string_view, import_mode>, 7> import_modes{{
    {"create", import_mode::create},
    {"update", import_mode::update},
    {"updateIfMatchETag", import_mode::update_if_match_etag},
    {"delete", import_mode::remove},
    {"deleteIfMatchETag", import_mode::remove_if_match_etag},
    {"updateTwin", import_mode::update_twin},
    {"updateTwinIfMatchETag", import_mode::update_twin_if_match_etag},
}};

// The hub reads ExportImportDevice with Json.NET: member names and enum values match whatever
// their case (azure-iothub sends importMode "Update" and the device's "etag").
const json* member(const json& entry, std::string_view name) {
  for (auto it = entry.begin(); it != entry.end(); ++it)
    if (core::iequals(it.key(), name)) return &*it;
  return nullptr;
}

std::optional<std::string> string_member(const json& entry, std::string_view name, std::size_t index) {
  const json* m = member(entry, name);
  if (!m || m->is_null()) return std::nullopt;
  if (!m->is_string())
    throw errors::argument_invalid("Entry " + std::to_string(index) + "'s '" + std::string(name) + "' must be a string.");
  return m->get<std::string>();
}

struct operation {
  std::string id;
  import_mode mode;
  const json* entry;
};

// Whole-request checks: an array of 1..100 objects, each with an id named once and a known
// importMode. Any failure refuses the call before a device is touched.
std::vector<operation> parse(const json& body) {
  if (body.is_null()) throw errors::argument_null("The bulk registry operation needs a body: an array of devices.");
  if (!body.is_array()) throw errors::argument_invalid("The bulk registry operation's body must be a JSON array of devices.");
  if (body.empty()) throw errors::argument_invalid("The bulk registry operation needs at least one device.");
  if (body.size() > bulk_registry_max_devices)
    throw core::hub_error(413002, "TooManyDevices",
                          "A bulk registry operation takes at most " + std::to_string(bulk_registry_max_devices) +
                              " devices, not " + std::to_string(body.size()) + ".");
  std::vector<operation> ops;
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const json& entry = body[i];
    if (!entry.is_object()) throw errors::argument_invalid("Entry " + std::to_string(i) + " of the bulk registry operation is not an object.");
    const auto id = string_member(entry, "id", i);
    if (!id || id->empty()) throw errors::argument_null("Entry " + std::to_string(i) + " of the bulk registry operation has no id.");
    const auto mode_text = string_member(entry, "importMode", i);
    if (!mode_text) throw errors::argument_null("The device '" + *id + "' has no importMode.");
    std::optional<import_mode> mode;
    for (const auto& [name, value] : import_modes)
      if (core::iequals(name, *mode_text)) mode = value;
    if (!mode)
      throw errors::argument_invalid("The importMode '" + *mode_text + "' of the device '" + *id +
                                     "' is not one of create, update, updateIfMatchETag, delete, deleteIfMatchETag, "
                                     "updateTwin, updateTwinIfMatchETag.");
    if (!seen.insert(*id).second)
      throw core::hub_error(400011, "DeviceDefinedMultipleTimes",
                            "The device '" + *id + "' is named more than once in the bulk registry operation.");
    ops.push_back({*id, *mode, &entry});
  }
  return ops;
}

// The twin part of an entry (tags, properties.desired) as a twin patch; nullopt when it has none.
std::optional<json> twin_patch(const json& entry) {
  json patch = json::object();
  if (const json* tags = member(entry, "tags"); tags && !tags->is_null()) patch["tags"] = *tags;
  if (const json* props = member(entry, "properties"); props && props->is_object())
    if (const json* desired = member(*props, "desired"); desired && !desired->is_null())
      patch["properties"]["desired"] = *desired;
  if (patch.empty()) return std::nullopt;
  return patch;
}

std::string required_etag(const operation& op, std::string_view name, std::size_t index) {
  auto etag = string_member(*op.entry, name, index);
  if (!etag || etag->empty())
    throw errors::argument_null("The importMode of the device '" + op.id + "' needs its '" + std::string(name) + "'.");
  return *etag;
}

// One entry through the core call of its single-device operation.
void apply(core::hub& h, const operation& op, std::size_t index) {
  const json& entry = *op.entry;
  switch (op.mode) {
    case import_mode::create:
    case import_mode::update:
    case import_mode::update_if_match_etag: {
      auto request = core::device_identity_request::from_json(entry);
      // update and updateIfMatchETag register a device that does not exist yet.
      std::optional<std::string> if_match;
      if (h.registry().find(op.id)) {
        if (op.mode == import_mode::update) if_match = "*";
        if (op.mode == import_mode::update_if_match_etag) if_match = required_etag(op, "eTag", index);
      }
      h.create_or_update_identity(op.id, request, if_match);
      if (const auto patch = twin_patch(entry)) h.update_twin(op.id, *patch, "*");
      return;
    }
    case import_mode::remove:
      h.delete_identity(op.id, "*");
      return;
    case import_mode::remove_if_match_etag:
      h.delete_identity(op.id, required_etag(op, "eTag", index));
      return;
    case import_mode::update_twin:
    case import_mode::update_twin_if_match_etag: {
      const auto if_match = op.mode == import_mode::update_twin ? std::string("*") : required_etag(op, "twinETag", index);
      h.update_twin(op.id, twin_patch(entry).value_or(json::object()), if_match);
      return;
    }
  }
}

// A device's failure in the result: the hub's error name, and EtagDoesNotMatch where the
// single-device operation answers 412 PreconditionFailed (reference section 5.0).
json device_error(const std::string& id, const core::hub_error& e) {
  if (e.code() == 412001) return {{"deviceId", id}, {"errorCode", "EtagDoesNotMatch"}, {"errorStatus", e.message()}};
  return {{"deviceId", id}, {"errorCode", e.name()}, {"errorStatus", e.message()}};
}

}  // namespace

rest_response bulk_registry_update_registry(request_context& c) {
  const auto ops = parse(c.body);
  json failures = c.hub([&](core::hub& h) {
    json out = json::array();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      try {
        apply(h, ops[i], i);
      } catch (const core::hub_error& e) {
        out.push_back(device_error(ops[i].id, e));
      }
    }
    return out;
  });
  c.wait_credentials_applied();
  const bool ok = failures.empty();
  return rest_response::json({{"isSuccessful", ok}, {"errors", std::move(failures)}, {"warnings", json::array()}},
                             ok ? 200 : 400);
}

}  // namespace mockhub::rest::handlers
