// A device twin (reference section 3) as `GET /twins/{id}` returns it. The sections are kept as
// JSON (a twin is a free-form document); `document` is the whole twin, members the client does
// not name included.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace mockhub::service {

struct twin {
  std::string device_id;
  /// The twin's etag (unquoted), for update/replace with if_match::etag.
  std::string etag;
  /// The twin's version (moves on every write).
  std::int64_t version = 0;
  /// `tags`; an empty object when the twin has none.
  nlohmann::json tags = nlohmann::json::object();
  /// `properties.desired` and `properties.reported`, with `$version` and `$metadata`.
  nlohmann::json desired = nlohmann::json::object();
  nlohmann::json reported = nlohmann::json::object();
  /// The whole twin as returned.
  nlohmann::json document = nlohmann::json::object();
};

void from_json(const nlohmann::json& j, twin& t);

}  // namespace mockhub::service
