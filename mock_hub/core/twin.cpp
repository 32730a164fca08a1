#include "twin.hpp"


#include <stdexcept>
#include <utility>

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

// A desired or reported section without its read-only members.
json values_of(const json& section) {
  json values = section;
  values.erase(metadata_key);
  values.erase(version_key);
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
  doc_ = json::object();
  doc_["etag"] = etag();
  doc_["version"] = 2;
  doc_["modelId"] = "";
  doc_["properties"] = json{{"desired", empty_section}, {"reported", empty_section}};
  sync_identity(identity);
}

twin::twin(nlohmann::json document) : doc_(std::move(document)) {
  const auto etag = doc_.find("etag");
  const auto bytes = etag != doc_.end() && etag->is_string() ? base64_decode(etag->get<std::string>()) : std::nullopt;
  if (!doc_.is_object() || !bytes || bytes->size() != 8 || !doc_.contains("properties"))
    throw std::invalid_argument("a stored twin lacks its etag or properties");
  std::uint64_t counter = 0;
  for (const char c : *bytes) counter = (counter << 8) | static_cast<unsigned char>(c);
  etag_counter_ = static_cast<std::int64_t>(counter);
}

void twin::sync_identity(const device_identity& d) {
  const auto optional_string = [](const std::optional<std::string>& s) { return s ? json(*s) : json(); };
  doc_["deviceId"] = d.device_id;
  doc_["deviceEtag"] = d.etag;
  doc_["status"] = to_string(d.status);
  doc_["statusReason"] = d.status_reason.empty() ? json() : json(d.status_reason);
  doc_["statusUpdateTime"] = format_time(d.status_updated_time);
  doc_["connectionState"] = to_string(d.connection);
  doc_["lastActivityTime"] = format_time(d.last_activity_time);
  doc_["cloudToDeviceMessageCount"] = d.cloud_to_device_message_count;
  doc_["authenticationType"] = to_string(d.auth_type);
  doc_["x509Thumbprint"] = json{{"primaryThumbprint", optional_string(d.primary_thumbprint)},
                                {"secondaryThumbprint", optional_string(d.secondary_thumbprint)}};
  doc_["capabilities"] = json{{"iotEdge", d.iot_edge}};
  if (d.device_scope.empty()) {
    doc_.erase("deviceScope");
  } else {
    doc_["deviceScope"] = d.device_scope;
  }
  if (d.parent_scopes.empty()) {
    doc_.erase("parentScopes");
  } else {
    doc_["parentScopes"] = d.parent_scopes;
  }
}

void twin::set_model_id(std::string model_id) { doc_["modelId"] = std::move(model_id); }

std::string twin::etag() const {
  std::string bytes(8, '\0');
  auto counter = static_cast<std::uint64_t>(etag_counter_);
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it, counter >>= 8) *it = static_cast<char>(counter & 0xFF);
  return base64_encode(bytes);
}

std::int64_t twin::version() const { return doc_.at("version").get<std::int64_t>(); }

std::int64_t twin::desired_version() const {
  return doc_.at("properties").at("desired").at(version_key).get<std::int64_t>();
}

std::int64_t twin::reported_version() const {
  return doc_.at("properties").at("reported").at(version_key).get<std::int64_t>();
}

bool twin::etag_matches(std::string_view if_match) const { return if_match_satisfied(if_match, etag()); }

std::optional<nlohmann::json> twin::update(const json& patch, time_point now) {
  const back_end_write w = parse_back_end_write(patch);
  const write_stamp stamp{format_time(now), desired_version() + 1};

  json tags = doc_.value("tags", json::object());
  json tags_meta = json::object();  // tags keep no metadata
  const bool tags_written = w.tags && merge_with_metadata(tags, tags_meta, *w.tags, stamp);
  const json& desired_section = doc_.at("properties").at("desired");
  json desired = values_of(desired_section);
  json desired_meta = desired_section.at(metadata_key);
  const bool desired_written = w.desired && merge_with_metadata(desired, desired_meta, *w.desired, stamp);
  if (tags_written) check_section_size(twin_section::tags, tags);
  if (desired_written) check_section_size(twin_section::desired, desired);
  if (!tags_written && !desired_written) return std::nullopt;

  if (tags_written) install_tags(std::move(tags));
  std::optional<json> notification;
  if (desired_written) {
    notification = with_version(*w.desired, *stamp.desired_version);
    stamp_node(desired_meta, stamp);
    install_section(twin_section::desired, std::move(desired), std::move(desired_meta), *stamp.desired_version);
  }
  count_back_end_write();
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

  if (w.tags) install_tags(std::move(tags));
  std::optional<json> notification;
  if (w.desired) {
    notification = with_version(desired, *stamp.desired_version);
    stamp_node(desired_meta, stamp);
    install_section(twin_section::desired, std::move(desired), std::move(desired_meta), *stamp.desired_version);
  }
  count_back_end_write();
  return notification;
}

std::int64_t twin::update_reported(const json& patch, time_point now) {
  validate_section_write(twin_section::reported, patch);
  const write_stamp stamp{format_time(now), std::nullopt};
  const json& section = doc_.at("properties").at("reported");
  json reported = values_of(section);
  json meta = section.at(metadata_key);
  if (!merge_with_metadata(reported, meta, patch, stamp)) return reported_version();
  check_section_size(twin_section::reported, reported);

  const auto next = reported_version() + 1;
  stamp_node(meta, stamp);
  install_section(twin_section::reported, std::move(reported), std::move(meta), next);
  doc_["version"] = version() + 1;
  return next;
}

nlohmann::json twin::device_view() const {
  json view = json::object();
  for (const auto s : {twin_section::desired, twin_section::reported}) {
    json section = doc_.at("properties").at(section_key(s));
    section.erase(metadata_key);
    view[section_key(s)] = std::move(section);
  }
  return view;
}

void twin::install_tags(nlohmann::json tags) {
  if (tags.empty()) {
    doc_.erase("tags");
  } else {
    doc_["tags"] = std::move(tags);
  }
}

void twin::install_section(twin_section s, nlohmann::json values, nlohmann::json meta, std::int64_t version) {
  values[metadata_key] = std::move(meta);
  doc_["properties"][section_key(s)] = with_version(std::move(values), version);
}

void twin::count_back_end_write() {
  doc_["version"] = version() + 1;
  ++etag_counter_;
  doc_["etag"] = etag();
}

}  // namespace mockhub::core
