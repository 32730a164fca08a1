#include "twin.hpp"


#include <stdexcept>
#include <utility>
#include <vector>

#include "encoding.hpp"
#include "etag.hpp"
#include "errors.hpp"
#include "time_format.hpp"
#include "twin_limits.hpp"

namespace mockhub::core {

namespace {
using nlohmann::json;

constexpr const char* metadata_key = "$metadata";
constexpr const char* version_key = "$version";

// What a write records on every metadata node it touches.
struct write_stamp {
  std::string time;
  std::optional<std::int64_t> desired_version;  // only desired metadata carries $lastUpdatedVersion
};

void stamp_node(json& meta, const write_stamp& stamp) {
  meta["$lastUpdated"] = stamp.time;
  if (stamp.desired_version) meta["$lastUpdatedVersion"] = *stamp.desired_version;
}

// JSON merge patch of `patch` into `target`, keeping `meta` (the metadata node mirroring
// `target`) in step: a written leaf gets a fresh leaf node, a deleted key loses its node, and
// every object on the way to a write is stamped. The caller stamps `meta` itself.
// Returns whether anything was written. Deleting an absent key or merging `{}` into an existing
// object writes nothing; setting a value writes even when the value is unchanged.
bool merge_with_metadata(json& target, json& meta, const json& patch, const write_stamp& stamp) {
  bool wrote = false;
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      if (target.erase(key) != 0) {
        meta.erase(key);
        wrote = true;
      }
      continue;
    }
    if (value.is_object()) {
      const auto existing = target.find(key);
      const bool created = existing == target.end() || !existing->is_object();
      if (created) target[key] = json::object();
      json& child_meta = meta[key];
      if (created || !child_meta.is_object()) child_meta = json::object();
      if (merge_with_metadata(target[key], child_meta, value, stamp) || created) {
        stamp_node(child_meta, stamp);
        wrote = true;
      }
      continue;
    }
    target[key] = value;
    json leaf = json::object();
    stamp_node(leaf, stamp);
    meta[key] = std::move(leaf);
    wrote = true;
  }
  return wrote;
}

// A desired or reported section without `$metadata`, and without `$version` when `drop_version`.
json values_of(packed_view section, bool drop_version = true) {
  json values = json::object();
  auto& members = values.get_ref<json::object_t&>();
  section.for_each_member([&](std::string_view key, packed_view value) {
    if (key == metadata_key || (drop_version && key == version_key)) return;
    members.emplace_hint(members.end(), std::string(key), value.to_json());
  });
  return values;
}

// A whole section: its values, `$metadata` and `$version`.
json section_of(json values, json meta, std::int64_t version) {
  values[metadata_key] = std::move(meta);
  values[version_key] = version;
  return values;
}

json with_version(json values, std::int64_t version) {
  values[version_key] = version;
  return values;
}

// The member `key` of `body` when present and not null; refused when it is not an object.
const json* member_object(const json& body, const char* key, const char* path) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!it->is_object()) throw errors::argument_invalid(std::string("'") + path + "' must be a JSON object.");
  return &*it;
}

// What a back-end write (PATCH or PUT /twins/{id}) asks to change, already validated.
struct back_end_write {
  const json* tags = nullptr;
  const json* desired = nullptr;
};

back_end_write parse_back_end_write(const json& body) {
  if (!body.is_object()) throw errors::argument_invalid("The twin in the request body must be a JSON object.");
  back_end_write w;
  w.tags = member_object(body, "tags", "tags");
  if (const json* properties = member_object(body, "properties", "properties")) {
    w.desired = member_object(*properties, "desired", "properties.desired");
    // The C# service SDK serialises an empty "reported": {} into every twin it sends.
    const json* reported = member_object(*properties, "reported", "properties.reported");
    if (reported && !reported->empty()) {
      throw errors::argument_invalid(
          "Reported properties cannot be written by the back end: 'properties.reported' must be absent or empty.");
    }
  }
  if (w.tags) validate_section_write(twin_section::tags, *w.tags);
  if (w.desired) validate_section_write(twin_section::desired, *w.desired);
  return w;
}

// The key of a property section under "properties"; tags live at the root and never come here.
const char* section_key(twin_section s) { return s == twin_section::desired ? "desired" : "reported"; }
}  // namespace

twin::twin(const device_identity& identity, time_point now) {
  json empty_section = json::object();
  empty_section[metadata_key] = json{{"$lastUpdated", format_time(now)}};
  empty_section[version_key] = 1;
  json doc = json::object();
  doc["etag"] = etag();
  doc["version"] = 2;
  doc["modelId"] = "";
  doc["properties"] = json{{"desired", empty_section}, {"reported", empty_section}};
  doc_ = packed_json(doc);
  sync_identity(identity);
}

twin::twin(const nlohmann::json& document) {
  const auto etag = document.is_object() ? document.find("etag") : document.end();
  const auto bytes =
      etag != document.end() && etag->is_string() ? base64_decode(etag->get<std::string>()) : std::nullopt;
  const auto properties = document.is_object() ? document.find("properties") : document.end();
  const auto version = document.is_object() ? document.find("version") : document.end();
  const auto section_ok = [&](const char* key) {
    const auto s = properties->find(key);
    return s != properties->end() && s->is_object() && s->contains(metadata_key) && s->contains(version_key) &&
           s->at(version_key).is_number_integer();
  };
  if (!bytes || bytes->size() != 8 || properties == document.end() || !properties->is_object() ||
      !section_ok("desired") || !section_ok("reported") || version == document.end() || !version->is_number_integer())
    throw std::invalid_argument("a stored twin lacks its etag, version or properties");
  std::uint64_t counter = 0;
  for (const char c : *bytes) counter = (counter << 8) | static_cast<unsigned char>(c);
  etag_counter_ = static_cast<std::int64_t>(counter);
  doc_ = packed_json(document);
}

void twin::sync_identity(const device_identity& d) {
  const auto optional_string = [](const std::optional<std::string>& s) { return s ? json(*s) : json(); };
  const json device_id = d.device_id, device_etag = d.etag, status = to_string(d.status),
             status_reason = d.status_reason.empty() ? json() : json(d.status_reason),
             status_update_time = format_time(d.status_updated_time), connection = to_string(d.connection),
             last_activity = format_time(d.last_activity_time), c2d_count = d.cloud_to_device_message_count,
             auth_type = to_string(d.auth_type),
             thumbprint = json{{"primaryThumbprint", optional_string(d.primary_thumbprint)},
                               {"secondaryThumbprint", optional_string(d.secondary_thumbprint)}},
             capabilities = json{{"iotEdge", d.iot_edge}}, scope = d.device_scope, parents = d.parent_scopes;
  const packed_json::member_change changes[] = {
      {"deviceId", &device_id},
      {"deviceEtag", &device_etag},
      {"status", &status},
      {"statusReason", &status_reason},
      {"statusUpdateTime", &status_update_time},
      {"connectionState", &connection},
      {"lastActivityTime", &last_activity},
      {"cloudToDeviceMessageCount", &c2d_count},
      {"authenticationType", &auth_type},
      {"x509Thumbprint", &thumbprint},
      {"capabilities", &capabilities},
      {"deviceScope", d.device_scope.empty() ? nullptr : &scope},
      {"parentScopes", d.parent_scopes.empty() ? nullptr : &parents},
  };
  doc_.set_members(changes);
}

void twin::sync_last_activity(const device_identity& d) {
  std::string text = format_time(d.last_activity_time);
  if (doc_.overwrite_string("lastActivityTime", text)) return;  // the usual case: same length, in place
  const json last_activity = std::move(text);
  const packed_json::member_change change[] = {{"lastActivityTime", &last_activity}};
  doc_.set_members(change);
}

void twin::set_model_id(std::string model_id) {
  const json value = std::move(model_id);
  const packed_json::member_change change[] = {{"modelId", &value}};
  doc_.set_members(change);
}

std::string twin::etag() const { return etag_of(etag_counter_); }

std::string twin::etag_of(std::int64_t etag_counter) {
  std::string bytes(8, '\0');
  auto counter = static_cast<std::uint64_t>(etag_counter);
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it, counter >>= 8) *it = static_cast<char>(counter & 0xFF);
  return base64_encode(bytes);
}

std::int64_t twin::version() const { return doc_.view().find("version").as_int(); }

std::int64_t twin::desired_version() const { return section(twin_section::desired).find(version_key).as_int(); }

std::int64_t twin::reported_version() const { return section(twin_section::reported).find(version_key).as_int(); }

packed_view twin::section(twin_section s) const { return doc_.view().find("properties").find(section_key(s)); }

bool twin::etag_matches(std::string_view if_match) const { return if_match_satisfied(if_match, etag()); }

std::optional<nlohmann::json> twin::update(const json& patch, time_point now) {
  const back_end_write w = parse_back_end_write(patch);
  const write_stamp stamp{format_time(now), desired_version() + 1};

  const packed_view old_tags = doc_.view().find("tags");
  json tags = old_tags.valid() ? old_tags.to_json() : json::object();
  json tags_meta = json::object();  // tags keep no metadata
  const bool tags_written = w.tags && merge_with_metadata(tags, tags_meta, *w.tags, stamp);
  json desired, desired_meta;
  bool desired_written = false;
  if (w.desired) {
    const packed_view desired_section = section(twin_section::desired);
    desired = values_of(desired_section);
    desired_meta = desired_section.find(metadata_key).to_json();
    desired_written = merge_with_metadata(desired, desired_meta, *w.desired, stamp);
  }
  if (tags_written) check_section_size(twin_section::tags, tags);
  if (desired_written) check_section_size(twin_section::desired, desired);
  if (!tags_written && !desired_written) return std::nullopt;

  std::optional<json> notification;
  std::optional<json> new_section;
  if (desired_written) {
    notification = with_version(*w.desired, *stamp.desired_version);
    stamp_node(desired_meta, stamp);
    new_section = section_of(std::move(desired), std::move(desired_meta), *stamp.desired_version);
  }
  commit(tags_written ? &tags : nullptr, twin_section::desired, new_section ? &*new_section : nullptr, true);
  return notification;
}

std::optional<nlohmann::json> twin::replace(const json& replacement, time_point now) {
  const back_end_write w = parse_back_end_write(replacement);
  if (!w.tags && !w.desired) return std::nullopt;
  const write_stamp stamp{format_time(now), desired_version() + 1};

  json tags = json::object();
  json tags_meta = json::object();
  if (w.tags) {
    merge_with_metadata(tags, tags_meta, *w.tags, stamp);
    check_section_size(twin_section::tags, tags);
  }
  json desired = json::object();
  json desired_meta = json::object();
  if (w.desired) {
    merge_with_metadata(desired, desired_meta, *w.desired, stamp);
    check_section_size(twin_section::desired, desired);
  }

  std::optional<json> notification;
  std::optional<json> new_section;
  if (w.desired) {
    notification = with_version(desired, *stamp.desired_version);
    stamp_node(desired_meta, stamp);
    new_section = section_of(std::move(desired), std::move(desired_meta), *stamp.desired_version);
  }
  commit(w.tags ? &tags : nullptr, twin_section::desired, new_section ? &*new_section : nullptr, true);
  return notification;
}

std::int64_t twin::update_reported(const json& patch, time_point now) {
  validate_section_write(twin_section::reported, patch);
  const write_stamp stamp{format_time(now), std::nullopt};
  const packed_view old = section(twin_section::reported);
  json reported = values_of(old);
  json meta = old.find(metadata_key).to_json();
  if (!merge_with_metadata(reported, meta, patch, stamp)) return reported_version();
  check_section_size(twin_section::reported, reported);

  const auto next = reported_version() + 1;
  stamp_node(meta, stamp);
  json new_section = section_of(std::move(reported), std::move(meta), next);
  commit(nullptr, twin_section::reported, &new_section, false);
  return next;
}

nlohmann::json twin::device_view() const {
  json view = json::object();
  for (const auto s : {twin_section::desired, twin_section::reported}) view[section_key(s)] = values_of(section(s), false);
  return view;
}

void twin::commit(const nlohmann::json* tags, twin_section s, nlohmann::json* new_section, bool back_end) {
  std::vector<packed_json::member_change> changes;
  if (tags) changes.emplace_back("tags", tags->empty() ? nullptr : tags);
  json properties;
  if (new_section) {
    properties = doc_.view().find("properties").to_json();
    properties[section_key(s)] = std::move(*new_section);
    changes.emplace_back("properties", &properties);
  }
  const json version_value = version() + 1;
  changes.emplace_back("version", &version_value);
  json etag_value;
  if (back_end) {
    etag_value = etag_of(etag_counter_ + 1);
    changes.emplace_back("etag", &etag_value);
  }
  doc_.set_members(changes);
  if (back_end) ++etag_counter_;
}

}  // namespace mockhub::core
