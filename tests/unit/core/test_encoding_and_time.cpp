#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/id_source.hpp"
#include "mock_hub/core/time_format.hpp"

using namespace mockhub::core;
using namespace std::chrono_literals;

TEST_CASE("base64 round-trips and refuses what is not base64", "[core][encoding]") {
  CHECK(base64_encode("0123456789abcdef0123456789abcdef") == "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
  CHECK(base64_decode("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=") == "0123456789abcdef0123456789abcdef");
  CHECK(base64_decode("") == "");
  CHECK(base64_decode("YQ==") == "a");
  CHECK(base64_decode("YWI=") == "ab");
  CHECK(base64_decode("YWJj") == "abc");
  const auto bad = GENERATE("YQ=", "Y===", "YW=j", "YW J", "YW\nJ", "%%%%", "YQ==YQ==");
  CAPTURE(bad);
  CHECK_FALSE(base64_decode(bad).has_value());
}

TEST_CASE("percent-encoding follows encodeURIComponent and decoding refuses bad escapes", "[core][encoding]") {
  CHECK(url_encode("testhub.azure-devices.net/devices/dev1") == "testhub.azure-devices.net%2Fdevices%2Fdev1");
  CHECK(url_encode("a b+c=d&e~") == "a%20b%2Bc%3Dd%26e~");
  CHECK(url_decode("testhub.azure-devices.net%2fdevices%2Fdev1") == "testhub.azure-devices.net/devices/dev1");
  CHECK(url_decode("a+b") == "a+b");
  CHECK(url_decode("a+b", true) == "a b");
  const auto bad = GENERATE("%", "%2", "%zz", "a%2");
  CAPTURE(bad);
  CHECK_FALSE(url_decode(bad).has_value());
}

TEST_CASE("Every time point is written with 7 fraction digits, from 1678 to 2261", "[core][time]") {
  // The exact text, computed field by field here, for times across the whole range a time_point
  // holds: year boundaries, leap days, the last tick of a day, and random instants.
  using namespace std::chrono;
  std::vector<mockhub::core::time_point> times = {
      sys_days{1678y / January / 1} + 1ns,         sys_days{1970y / January / 1},
      sys_days{2000y / February / 29} + 23h + 59min + 59s + 999'999'900ns,
      sys_days{2024y / December / 31} + 23h + 59min + 59s + 999'999'999ns,  // the last 100 ns tick, not rounded up
      sys_days{2261y / December / 31} + 12h};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i)
    times.push_back(sys_days{1678y / January / 2} + seconds(static_cast<std::int64_t>(rng() % (582ULL * 365 * 86400))) +
                    nanoseconds(static_cast<std::int64_t>(rng() % 1'000'000'000)));
  for (const auto t : times) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02u-%02uT%02d:%02d:%02d.%07lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<long long>(hms.subseconds().count() / 100));
    CHECK(format_time(t) == expected);
    using ticks = std::chrono::duration<std::int64_t, std::ratio<1, 10000000>>;  // .NET's 100 ns
    CHECK(parse_time(format_time(t)) == floor<ticks>(t));
  }
}

TEST_CASE("Times are written as the hub writes them and parsed in the forms clients send", "[core][time]") {
  using namespace std::chrono;
  const mockhub::core::time_point t = sys_days{2026y / November / 26} + 11h + 41min + 20s + 68ms;
  CHECK(format_time(t) == "2026-11-26T11:41:20.0680000Z");
  CHECK(format_time(std::optional<mockhub::core::time_point>{}) == "0001-01-01T00:00:00Z");
  CHECK(parse_time("2026-11-26T11:41:20.068Z") == t);
  CHECK(parse_time("2026-11-26T11:41:20.0680000Z") == t);
  CHECK(parse_time("2026-11-26T11:41:20.068") == t);  // samples omit the Z
  CHECK(parse_time("2026-11-26T12:41:20.068+01:00") == t);
  CHECK(parse_time("2026-11-26T10:41:20.068-01:00") == t);
  CHECK(parse_time(format_time(t)) == t);
  const auto bad = GENERATE("", "2026-11-26", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z",
                            "2026-11-26T11:41:20.Z", "2026-11-26T11:41:20ZZ", "2026-11-26T11:41:20+1:00",
                            "0001-01-01T00:00:00Z", "tomorrow");
  CAPTURE(bad);
  CHECK_FALSE(parse_time(bad).has_value());
}

TEST_CASE("A seeded id source repeats itself and its values have the hub's shapes", "[core][ids]") {
  id_source a(42), b(42), c(43);
  const auto etag = a.etag();
  CHECK(etag == b.etag());
  CHECK(base64_decode(etag).has_value());
  const auto gen = a.generation_id();
  CHECK(gen == b.generation_id());
  CHECK(gen.size() == 18);
  CHECK(gen.find_first_not_of("0123456789") == std::string::npos);
  const auto key = a.symmetric_key();
  CHECK(key == b.symmetric_key());
  CHECK(key.size() == 44);
  CHECK(base64_decode(key)->size() == 32);
  CHECK(a.hex_id().size() == 32);
  CHECK(c.symmetric_key() != id_source(42).symmetric_key());
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.insert(a.symmetric_key());
  CHECK(keys.size() == 100);
}
