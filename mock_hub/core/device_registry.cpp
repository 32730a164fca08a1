#include "device_registry.hpp"

#include <algorithm>
#include <utility>

#include "encoding.hpp"
#include "errors.hpp"
#include "etag.hpp"

namespace mockhub::core {

void to_json(nlohmann::json& j, const device_statistics& s) {
  j = {{"totalDeviceCount", s.total_device_count},
       {"enabledDeviceCount", s.enabled_device_count},
       {"disabledDeviceCount", s.disabled_device_count}};
}

namespace {

void validate_key(const std::string& key, std::string_view which) {
  const auto bytes = base64_decode(key);
  if (!bytes)
    throw errors::argument_invalid("The " + std::string(which) + " key is not valid base64.");
  if (bytes->size() < 16 || bytes->size() > 64)
    throw errors::argument_invalid("The " + std::string(which) + " key is " + std::to_string(bytes->size()) +
                                   " bytes long; symmetric keys must be between 16 and 64 bytes.");
}

void validate_thumbprint(const std::optional<std::string>& print, std::string_view which) {
  if (!print) return;
  const bool hex = print->find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!hex || (print->size() != 40 && print->size() != 64))
    throw errors::argument_invalid("The " + std::string(which) +
                                   " thumbprint is not valid: it must be a SHA-1 (40) or SHA-256 (64) hex digest.");
}

// Applies the request to `d` (a copy), generating keys where needed, and checks the result.
void apply_request(device_identity& d, const device_identity_request& r, bool creating, id_source& ids,
                   time_point now) {
  if (r.status && *r.status != d.status) {
    d.status = *r.status;
    d.status_updated_time = now;
  } else if (creating) {
    d.status_updated_time = now;
  }
  if (r.status_reason) {
    if (r.status_reason->size() > 128)
      throw errors::argument_invalid("statusReason is " + std::to_string(r.status_reason->size()) +
                                     " characters long; at most 128 are allowed.");
    d.status_reason = *r.status_reason;
  }
  if (r.auth_type) d.auth_type = *r.auth_type;
  const bool auth_given = r.auth_type || r.primary_key || r.secondary_key || r.primary_thumbprint || r.secondary_thumbprint;
  if (creating || auth_given) {
    if (d.auth_type == authentication_type::sas) {
      d.primary_key = r.primary_key.value_or("");
      d.secondary_key = r.secondary_key.value_or("");
      if (d.primary_key.empty()) d.primary_key = ids.symmetric_key();
      if (d.secondary_key.empty()) d.secondary_key = ids.symmetric_key();
      validate_key(d.primary_key, "primary");
      validate_key(d.secondary_key, "secondary");
      d.primary_thumbprint.reset();
      d.secondary_thumbprint.reset();
    } else {
      if ((r.primary_key && !r.primary_key->empty()) || (r.secondary_key && !r.secondary_key->empty()))
        throw errors::argument_invalid("Symmetric keys are only allowed with authentication type 'sas'.");
      d.primary_key.clear();
      d.secondary_key.clear();
      d.primary_thumbprint = r.primary_thumbprint;
      d.secondary_thumbprint = r.secondary_thumbprint;
      if (d.auth_type == authentication_type::self_signed) {
        if (!d.primary_thumbprint || d.primary_thumbprint->empty())
          throw errors::argument_invalid("A self-signed device needs authentication.x509Thumbprint.primaryThumbprint.");
        validate_thumbprint(d.primary_thumbprint, "primary");
        validate_thumbprint(d.secondary_thumbprint, "secondary");
      } else if (d.primary_thumbprint || d.secondary_thumbprint) {
        throw errors::argument_invalid("Thumbprints are only allowed with authentication type 'selfSigned'.");
      }
    }
  }
  if (r.iot_edge) d.iot_edge = *r.iot_edge;
  if (r.device_scope) d.device_scope = *r.device_scope;
  if (r.parent_scopes) d.parent_scopes = *r.parent_scopes;
}

}  // namespace

const device_identity& device_registry::create_or_update_identity(std::string_view device_id,
                                                                  const device_identity_request& request,
                                                                  std::optional<std::string_view> if_match) {
  validate_device_id(device_id);
  if (!request.device_id.empty() && request.device_id != device_id)
    throw errors::argument_invalid("The deviceId in the body ('" + request.device_id +
                                   "') does not match the device id in the path ('" + std::string(device_id) + "').");
  const time_point now = clock_.now();
  device_record* existing = find_record(device_id);

  if (!if_match) {
    if (existing) throw errors::device_already_exists(device_id);
    device_identity d;
    d.device_id = std::string(device_id);
    apply_request(d, request, true, ids_, now);
    d.generation_id = ids_.generation_id();
    d.etag = ids_.etag();
    device_record fresh{d, twin(d, now)};
    const auto added = devices_.emplace(std::string(device_id), std::move(fresh)).first;
    index_.insert_or_assign(*added);
    scan_order_valid_ = false;
    persist(added->second);
    return added->second.identity;
  }

  if (!existing) throw errors::device_not_found(device_id);
  device_record& r = *existing;
  if (!if_match_satisfied(*if_match, r.identity.etag))
    throw errors::precondition_failed("The If-Match etag " + std::string(*if_match) + " does not match device '" +
                                      std::string(device_id) + "' (etag \"" + r.identity.etag + "\").");
  device_identity d = r.identity;
  apply_request(d, request, false, ids_, now);
  d.etag = ids_.etag();
  r.identity = std::move(d);
  r.twin.sync_identity(r.identity);
  persist(r);
  return r.identity;
}

const device_identity& device_registry::get_identity(std::string_view device_id) const {
  return record(device_id).identity;
}

void device_registry::delete_identity(std::string_view device_id, std::optional<std::string_view> if_match) {
  const auto it = devices_.find(device_id);
  if (it == devices_.end()) throw errors::device_not_found(device_id);
  if (if_match && !if_match_satisfied(*if_match, it->second.identity.etag))
    throw errors::precondition_failed("The If-Match etag " + std::string(*if_match) + " does not match device '" +
                                      std::string(device_id) + "' (etag \"" + it->second.identity.etag + "\").");
  index_.erase(it->first);
  scan_order_valid_ = false;
  devices_.erase(it);
  if (store_) store_->delete_device(device_id);
}

std::vector<const device_identity*> device_registry::get_devices(std::int64_t top) const {
  if (top < 1 || top > 1000) top = 1000;
  std::vector<const device_identity*> out;
  for (const auto& [id, r] : devices_) {
    if (static_cast<std::int64_t>(out.size()) == top) break;
    out.push_back(&r.identity);
  }
  return out;
}

device_statistics device_registry::get_device_statistics() const {
  device_statistics s;
  for (const auto& [id, r] : devices_) {
    ++s.total_device_count;
    if (r.identity.status == device_status::enabled) ++s.enabled_device_count;
    else ++s.disabled_device_count;
  }
  return s;
}

std::int64_t device_registry::connected_device_count() const {
  std::int64_t n = 0;
  for (const auto& [id, r] : devices_)
    if (r.identity.connection == connection_state::connected) ++n;
  return n;
}

nlohmann::json device_registry::get_twin(std::string_view device_id) const {
  return record(device_id).twin.document();
}

namespace {
void check_twin_etag(const twin& t, std::string_view device_id, std::optional<std::string_view> if_match) {
  if (if_match && !t.etag_matches(*if_match))
    throw errors::precondition_failed("The If-Match etag " + std::string(*if_match) + " does not match the twin of '" +
                                      std::string(device_id) + "' (etag \"" + t.etag() + "\").");
}
}  // namespace

twin_write device_registry::update_twin(std::string_view device_id, const nlohmann::json& patch,
                                        std::optional<std::string_view> if_match) {
  device_record& r = record(device_id);
  check_twin_etag(r.twin, device_id, if_match);
  const auto version = r.twin.version();
  auto notification = r.twin.update(patch, clock_.now());
  if (r.twin.version() != version) persist(r);
  return {r.twin.packed(), std::move(notification)};
}

twin_write device_registry::replace_twin(std::string_view device_id, const nlohmann::json& replacement,
                                         std::optional<std::string_view> if_match) {
  device_record& r = record(device_id);
  check_twin_etag(r.twin, device_id, if_match);
  const auto version = r.twin.version();
  auto notification = r.twin.replace(replacement, clock_.now());
  if (r.twin.version() != version) persist(r);
  return {r.twin.packed(), std::move(notification)};
}

nlohmann::json device_registry::get_twin_for_device(std::string_view device_id) const {
  return record(device_id).twin.device_view();
}

std::int64_t device_registry::update_reported_properties(std::string_view device_id, const nlohmann::json& patch) {
  device_record& r = record(device_id);
  const auto version = r.twin.version();
  const auto reported = r.twin.update_reported(patch, clock_.now());
  if (r.twin.version() != version) persist(r);
  return reported;
}

void device_registry::restore(stored_device device) {
  device.identity.connection = connection_state::disconnected;
  std::string id = device.identity.device_id;
  device_record r{std::move(device.identity), twin(std::move(device.twin))};
  r.twin.sync_identity(r.identity);
  const auto it = devices_.insert_or_assign(std::move(id), std::move(r)).first;
  index_.insert_or_assign(*it);
  scan_order_valid_ = false;
}

void device_registry::persist(const device_record& r) {
  if (store_) store_->put_device(r.identity, r.twin.packed());
}

void device_registry::set_connection_state(std::string_view device_id, connection_state state) {
  device_record& r = record(device_id);
  const time_point now = clock_.now();
  if (r.identity.connection != state) {
    r.identity.connection = state;
    r.identity.connection_state_updated_time = now;
  }
  r.identity.last_activity_time = now;
  r.twin.sync_identity(r.identity);
}

bool device_registry::record_activity(std::string_view device_id) {
  device_record* r = find_record(device_id);
  if (!r) return false;
  r->identity.last_activity_time = clock_.now();
  r->twin.sync_last_activity(r->identity);
  return true;
}

void device_registry::set_cloud_to_device_message_count(std::string_view device_id, std::int32_t count) {
  device_record& r = record(device_id);
  if (r.identity.cloud_to_device_message_count == count) return;
  r.identity.cloud_to_device_message_count = count;
  r.twin.sync_identity(r.identity);
}

const device_identity* device_registry::find(std::string_view device_id) const {
  const device_record* r = find_record(device_id);
  return r ? &r->identity : nullptr;
}

device_registry::device_record* device_registry::find_record(std::string_view device_id) {
  return const_cast<device_record*>(std::as_const(*this).find_record(device_id));
}

const device_registry::device_record* device_registry::find_record(std::string_view device_id) const {
  const entry* e = index_.find(device_id);
  return e ? &e->second : nullptr;
}

void device_registry::for_each_identity(const std::function<void(const device_identity&)>& visit) const {
  for (const auto& [id, r] : devices_) visit(r.identity);
}

void device_registry::scan_twins(
    std::string_view after, const std::function<bool(std::string_view, packed_view)>& visit) const {
  if (!scan_order_valid_) {
    scan_order_.clear();
    scan_order_.reserve(devices_.size());
    for (const auto& e : devices_) scan_order_.push_back(&e);
    scan_order_valid_ = true;
  }
  const auto n = scan_order_.size();
  std::size_t i = 0;
  if (!after.empty())
    i = static_cast<std::size_t>(std::upper_bound(scan_order_.begin(), scan_order_.end(), after,
                                                  [](std::string_view key, const entry* e) { return key < e->first; }) -
                                 scan_order_.begin());
  // Each twin is three dependent loads away (entry, its twin, the twin's buffer): the entries
  // 16 ahead and the buffers 8 ahead are fetched while this one is visited.
  constexpr std::size_t entry_ahead = 16, buffer_ahead = 8;
  for (; i < n; ++i) {
    if (i + entry_ahead < n) {
      __builtin_prefetch(scan_order_[i + entry_ahead]);
      __builtin_prefetch(&scan_order_[i + entry_ahead]->second.twin);
    }
    if (i + buffer_ahead < n) __builtin_prefetch(scan_order_[i + buffer_ahead]->second.twin.packed().data());
    const entry& e = *scan_order_[i];
    if (!visit(e.first, e.second.twin.packed())) return;
  }
}

device_registry::device_record& device_registry::record(std::string_view device_id) {
  device_record* r = find_record(device_id);
  if (!r) throw errors::device_not_found(device_id);
  return *r;
}

const device_registry::device_record& device_registry::record(std::string_view device_id) const {
  const device_record* r = find_record(device_id);
  if (!r) throw errors::device_not_found(device_id);
  return *r;
}

}  // namespace mockhub::core
