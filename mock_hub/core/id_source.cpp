#include "id_source.hpp"

#include <array>
#include <cstdio>

#include "encoding.hpp"

namespace mockhub::core {

std::string id_source::etag() {
  // Nine to ten digits, as the identity etags seen on real hubs.
  return base64_encode(std::to_string(100000000 + rng_() % 3900000000ULL));
}

std::string id_source::generation_id() {
  // 18 digits starting with 63..., like a .NET tick count.
  return "63" + std::to_string(1000000000000000ULL + rng_() % 9000000000000000ULL);
}

std::string id_source::symmetric_key() {
  std::string bytes(32, '\0');
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    const std::uint64_t r = rng_();
    for (std::size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<char>((r >> (8 * j)) & 0xff);
  }
  return base64_encode(bytes);
}

std::string id_source::hex_id() {
  std::array<char, 33> buf{};
  std::snprintf(buf.data(), buf.size(), "%016llx%016llx", static_cast<unsigned long long>(rng_()),
                static_cast<unsigned long long>(rng_()));
  return std::string(buf.data(), 32);
}

}  // namespace mockhub::core
