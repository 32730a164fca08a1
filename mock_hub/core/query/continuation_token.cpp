#include "continuation_token.hpp"

#include <nlohmann/json.hpp>

#include "../encoding.hpp"
#include "../errors.hpp"

namespace mockhub::core::query {
namespace {

[[noreturn]] void bad_token(std::string_view why) {
  throw errors::argument_invalid("The continuation token (x-ms-continuation) is invalid: " + std::string(why) +
                                 ". Send the token of the previous page of the same query, or none for the first page.");
}

std::string hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = digits[v & 0xF];
    v >>= 4;
  }
  return out;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string continuation_token::encode() const {
  nlohmann::json j = {{"v", 1}, {"q", hex(query_hash)}, {"n", returned}};
  if (by_offset) {
    j["o"] = offset;
  } else {
    j["k"] = after_key;
  }
  return base64_encode(j.dump());
}

continuation_token continuation_token::decode(std::string_view text, std::uint64_t expected_query_hash,
                                               bool by_offset) {
  const auto bytes = base64_decode(text);
  if (!bytes) bad_token("it is not one this hub issued");
  const nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, false);
  if (!j.is_object() || !j.contains("v") || j["v"] != 1 || !j.contains("q") || !j["q"].is_string() || !j.contains("n") ||
      !j["n"].is_number_unsigned()) {
    bad_token("it is not one this hub issued");
  }
  if (j["q"].get<std::string>() != hex(expected_query_hash)) bad_token("it belongs to a different query");
  continuation_token t;
  t.query_hash = expected_query_hash;
  t.returned = j["n"].get<std::uint64_t>();
  if (by_offset && j.contains("o") && j["o"].is_number_unsigned()) {
    t.by_offset = true;
    t.offset = j["o"].get<std::uint64_t>();
  } else if (!by_offset && j.contains("k") && j["k"].is_string() && !j["k"].get_ref<const std::string&>().empty()) {
    t.after_key = j["k"].get<std::string>();
  } else {
    bad_token("it is not one this hub issued");
  }
  return t;
}

}  // namespace mockhub::core::query
