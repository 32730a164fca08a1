#include "iothub_username.hpp"

#include <algorithm>
#include <cctype>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/ascii.hpp"

namespace mockhub::broker_plugin {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string decoded(std::string_view text) {
  auto value = core::url_decode(text, /*plus_is_space=*/true);
  return value ? std::move(*value) : std::string(text);
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string_view pair : split(query, '&')) {
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(decoded(pair), std::string());
    } else {
      pairs.emplace_back(decoded(pair.substr(0, eq)), decoded(pair.substr(eq + 1)));
    }
  }
  return pairs;
}

}  // namespace

std::optional<std::string> iothub_username::parameter(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (core::iequals(k, key)) return v;
  }
  return std::nullopt;
}

std::optional<iothub_username> parse_iothub_username(std::string_view username) {
  std::string_view path = username;
  std::string_view query;
  bool has_query = false;
  if (const std::size_t q = username.find("/?"); q != std::string_view::npos) {
    path = username.substr(0, q);
    query = username.substr(q + 2);
    has_query = true;
  }

  std::vector<std::string_view> segments = split(path, '/');
  if (!has_query) {
    // The C SDK's form: the first segment after the device id holding '=' starts the query.
    const auto first_query = std::find_if(segments.begin() + std::min<std::ptrdiff_t>(2, std::ssize(segments)),
                                          segments.end(),
                                          [](std::string_view s) { return s.find('=') != std::string_view::npos; });
    if (first_query != segments.end()) {
      const std::size_t offset = static_cast<std::size_t>(first_query->data() - username.data());
      query = username.substr(offset);
      segments.erase(first_query, segments.end());
    }
    if (segments.size() > 2 && segments.back().empty()) segments.pop_back();  // "host/dev/"
  }
  if (segments.size() < 2 || segments.size() > 3) return std::nullopt;
  if (segments[0].empty() || segments[1].empty()) return std::nullopt;
  if (segments.size() == 3 && segments[2].empty()) return std::nullopt;

  iothub_username parsed;
  parsed.host = std::string(segments[0]);
  parsed.device_id = std::string(segments[1]);
  if (segments.size() == 3) parsed.module_id = std::string(segments[2]);
  parsed.query = parse_query(query);
  return parsed;
}

}  // namespace mockhub::broker_plugin
