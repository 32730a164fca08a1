// Lenient readers for the hub's JSON (private to the library): a member that is missing, null or
// of another type reads as empty, so a newer hub adding or dropping members never breaks a read.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace mockhub::service::detail {

inline std::string get_string(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return {};
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

inline std::int64_t get_int(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return 0;
  const auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  return 0;
}

inline const nlohmann::json* find_object(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(name);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

/// The member as it is (null when missing).
inline nlohmann::json get_json(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(name);
  return it == j.end() ? nlohmann::json() : *it;
}

}  // namespace mockhub::service::detail
