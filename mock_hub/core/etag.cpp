#include "etag.hpp"

namespace mockhub::core {

bool if_match_satisfied(std::string_view if_match, std::string_view etag) noexcept {
  const auto first = if_match.find_first_not_of(" \t");
  if (first == std::string_view::npos) return false;
  if_match = if_match.substr(first, if_match.find_last_not_of(" \t") - first + 1);
  if (if_match.size() >= 2 && if_match.front() == '"' && if_match.back() == '"')
    if_match = if_match.substr(1, if_match.size() - 2);
  return if_match == "*" || if_match == etag;
}

}  // namespace mockhub::core
