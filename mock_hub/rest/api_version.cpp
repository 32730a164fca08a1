#include "api_version.hpp"

#include <chrono>
#include <string>

#include "rest_errors.hpp"

namespace mockhub::rest {

namespace {

// A calendar date written YYYY-MM-DD, as a sortable number (20210412); nullopt otherwise.
std::optional<int> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int fields[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t i = 0; i < lengths[f]; ++i) {
      const char c = text[starts[f] + i];
      if (c < '0' || c > '9') return std::nullopt;
      fields[f] = fields[f] * 10 + (c - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year{fields[0]}, std::chrono::month{static_cast<unsigned>(fields[1])},
                                        std::chrono::day{static_cast<unsigned>(fields[2])}};
  if (!ymd.ok()) return std::nullopt;
  return fields[0] * 10000 + fields[1] * 100 + fields[2];
}

}  // namespace

void check_api_version(std::optional<std::string_view> value) {
  const std::string served(served_api_version);
  if (!value || value->empty())
    throw errors::invalid_protocol_version("The api-version query parameter is required; mockhub serves api-version " +
                                           served + ".");
  std::string_view text = *value;
  constexpr std::string_view preview = "-preview";
  if (text.size() > preview.size() && text.substr(text.size() - preview.size()) == preview)
    text.remove_suffix(preview.size());
  const auto date = parse_date(text);
  if (!date)
    throw errors::invalid_protocol_version("The api-version '" + std::string(*value) +
                                           "' is not a valid version; mockhub serves api-version " + served + ".");
  if (*date < *parse_date(served_api_version))
    throw errors::invalid_protocol_version("The api-version '" + std::string(*value) +
                                           "' is older than the one mockhub serves (" + served +
                                           "); use " + served + " or later.");
}

}  // namespace mockhub::rest
