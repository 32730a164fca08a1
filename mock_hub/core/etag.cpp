#include "etag.hpp"

namespace mockhub::core {

bool if_match_satisfied(std::string_view if_match, std::string_view etag) noexcept {
  // Weak validators (W/"...") compare like strong ones here: the hub's etags are weak anyway.
  if (if_match.starts_with("W/")) if_match.remove_prefix(2);
  if (if_match.size() >= 2 && if_match.front() == '"' && if_match.back() == '"')
    if_match = if_match.substr(1, if_match.size() - 2);
  return if_match == "*" || if_match == etag;
}

}  // namespace mockhub::core
