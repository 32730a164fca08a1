// A transparent hash for unordered containers keyed by strings, so that a lookup by
// std::string_view neither allocates nor copies the key.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mockhub::core {

//
// Deliberately not noexcept: libstdc++ keeps each node's hash code beside it only when the hash
// may throw (or is a known slow one, as std::hash<std::string> is). Without a kept code, every
// lookup compares the key of each node in its bucket and hashes the next node's key again to
// see where the bucket ends, a string (and a cache miss) each; with it, a lookup compares codes
// first. Over the registry's 100,000 devices that was a third of the hub's time per device
// operation in bench B1 (bench/README.md).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  std::size_t operator()(const std::string& s) const { return std::hash<std::string_view>{}(s); }
  std::size_t operator()(const char* s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace mockhub::core
