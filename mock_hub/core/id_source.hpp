// Every value the hub invents (identity etags, generation ids, generated SAS keys, tracking
// ids, message ids) comes from one seedable source, so a seeded run is repeatable byte for byte.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace mockhub::core {

class id_source {
 public:
  explicit id_source(std::uint64_t seed) : rng_(seed) {}

  id_source(const id_source&) = delete;
  id_source& operator=(const id_source&) = delete;

  /// An identity etag in the real hub's form: base64 of a decimal number, e.g. "MTIzNDU2Nzg5".
  std::string etag();
  /// A generation id in the real hub's form: 18 decimal digits, e.g. "638149371425432341".
  std::string generation_id();
  /// A symmetric key as the hub generates it: base64 of 32 random bytes (44 characters).
  std::string symmetric_key();
  /// 32 lower-case hex digits (tracking ids, request ids).
  std::string hex_id();
  /// A random 64-bit number.
  std::uint64_t next() { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

}  // namespace mockhub::core
