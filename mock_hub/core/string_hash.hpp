// A transparent hash for unordered containers keyed by strings, so that a lookup by
// std::string_view neither allocates nor copies the key.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mockhub::core {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  std::size_t operator()(const std::string& s) const noexcept { return std::hash<std::string_view>{}(s); }
  std::size_t operator()(const char* s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace mockhub::core
