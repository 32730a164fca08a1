// packed_json: twins are held packed (one buffer per document), so packing must round-trip every
// JSON value exactly, lookups must find what nlohmann::json finds, and set_members must leave a
// document equal to the same change made on the unpacked JSON.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "mock_hub/core/packed_json.hpp"

using mockhub::core::packed_json;
using mockhub::core::packed_view;
using nlohmann::json;

namespace {

// Equal as JSON, and with the same number kinds (3, 3u and 3.0 compare equal in nlohmann::json).
void check_same(const json& a, const json& b) {
  REQUIRE(a == b);
  REQUIRE(a.type() == b.type());
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) check_same(*it, b.at(it.key()));
  } else if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i) check_same(a[i], b[i]);
  }
}

json random_value(std::mt19937& rng, int depth) {
  switch (rng() % (depth > 3 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<std::int64_t>(rng()) - (1LL << 31);
    case 3: return static_cast<std::uint64_t>(rng()) << 32;
    case 4: return static_cast<double>(rng()) / 7.0;
    case 5: return std::string(rng() % 40, static_cast<char>('a' + rng() % 26));
    case 6: {
      json a = json::array();
      for (unsigned i = 0, n = rng() % 5; i < n; ++i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (unsigned i = 0, n = rng() % 6; i < n; ++i) o[std::string(1 + rng() % 3, static_cast<char>('a' + rng() % 4))] = random_value(rng, depth + 1);
      return o;
    }
  }
}

}  // namespace

TEST_CASE("A packed document unpacks to the same JSON, number kinds included", "[core][packed]") {
  const json samples[] = {
      nullptr, true, false, 0, -1, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
      1.5, -0.0, 1e300, "", "caf\xC3\xA9", std::string("nul\0inside", 10), json::array(), json::object(),
      json::parse(R"({"deviceId":"d1","tags":{"building":43,"location":{"region":"EU"}},"properties":{"desired":{"$version":1},"reported":{"firmware":"1.4.2","list":[1,"two",null,{"x":[]}]}}})"),
  };
  for (const auto& j : samples) {
    CAPTURE(j.dump());
    check_same(packed_json(j).to_json(), j);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    const json j = random_value(rng, 0);
    CAPTURE(j.dump());
    const packed_json p(j);
    check_same(p.to_json(), j);
    const packed_json copy = p;  // copies own their bytes
    check_same(copy.to_json(), j);
    CHECK(copy.byte_size() == p.byte_size());
    CHECK(copy.view().data() != p.view().data());
  }
}

TEST_CASE("A packed view reads scalars, finds members and walks containers", "[core][packed]") {
  const packed_json p(json::parse(R"({"b":true,"f":2.5,"i":-7,"n":null,"s":"text","u":18446744073709551615,"a":[1,"x"],"o":{"k":{"deep":1}}})"));
  const packed_view v = p.view();
  CHECK(v.is_object());
  CHECK(v.size() == 8);
  CHECK(v.find("b").as_bool());
  CHECK(v.find("f").as_number() == 2.5);
  CHECK(v.find("i").as_int() == -7);
  CHECK(v.find("i").as_number() == -7.0);
  CHECK(v.find("n").type() == packed_view::kind::null);
  CHECK(v.find("s").as_string() == "text");
  CHECK(v.find("u").as_uint() == std::numeric_limits<std::uint64_t>::max());
  CHECK(v.find("o").find("k").find("deep").as_int() == 1);
  CHECK(v.find("a").is_array());
  CHECK(v.find("a").size() == 2);
  std::vector<std::string> elements;
  v.find("a").for_each_element([&](packed_view e) { elements.push_back(e.to_json().dump()); });
  CHECK(elements == std::vector<std::string>{"1", "\"x\""});
  std::vector<std::string> keys;
  v.for_each_member([&](std::string_view k, packed_view) { keys.emplace_back(k); });
  CHECK(keys == std::vector<std::string>{"a", "b", "f", "i", "n", "o", "s", "u"});

  // Misses: an absent member, a member of a scalar or of an array, a lookup through a miss.
  CHECK_FALSE(v.find("missing").valid());
  CHECK_FALSE(v.find("s").find("x").valid());
  CHECK_FALSE(v.find("a").find("0").valid());
  CHECK_FALSE(v.find("missing").find("x").valid());
  CHECK(v.find("missing").to_json().is_null());
  CHECK(v.find("s").size() == 0);
}

TEST_CASE("set_members changes a document as the same change on its JSON does", "[core][packed]") {
  const json base = json::parse(R"({"b":1,"d":{"x":1},"f":"2026-01-01T00:00:00.0000000Z","h":[1,2]})");
  const json longer = "a longer string than before";
  const json same_length = "2026-11-26T21:00:00.0000000Z";
  const json object = {{"new", true}};
  const json number = 5;

  SECTION("add before, between and after the members, replace and erase at once") {
    packed_json p(base);
    const packed_json::member_change changes[] = {
        {"z", &number}, {"a", &object}, {"c", &longer}, {"d", nullptr}, {"h", &number}, {"absent", nullptr}};
    p.set_members(changes);
    json expected = base;
    expected["z"] = number;
    expected["a"] = object;
    expected["c"] = longer;
    expected.erase("d");
    expected["h"] = number;
    check_same(p.to_json(), expected);
    std::vector<std::string> keys;
    p.view().for_each_member([&](std::string_view k, packed_view) { keys.emplace_back(k); });
    CHECK(keys == std::vector<std::string>{"a", "b", "c", "f", "h", "z"});  // still in key order
  }
  SECTION("a value of the same packed size is written over the old one in place") {
    packed_json p(base);
    const auto* before = p.view().data();
    const json same_object = {{"x", 1}};
    const json same_array = {1, 2};
    const json other_number = 7;
    const packed_json::member_change change[] = {{"f", &same_length}, {"b", &other_number}, {"d", &same_object}, {"h", &same_array}};
    p.set_members(change);
    CHECK(p.view().data() == before);
    json expected = base;
    expected["f"] = same_length;
    expected["b"] = other_number;
    expected["d"] = same_object;  // the same values, now of nlohmann's integer kind rather than unsigned
    expected["h"] = same_array;
    check_same(p.to_json(), expected);
  }
  SECTION("a string of another length, or another type, rebuilds") {
    packed_json p(base);
    const packed_json::member_change change[] = {{"f", &longer}, {"b", &same_length}};
    p.set_members(change);
    json expected = base;
    expected["f"] = longer;
    expected["b"] = same_length;
    check_same(p.to_json(), expected);
  }
  SECTION("erasing every member leaves an empty object; nothing to change changes nothing") {
    packed_json p(base);
    const packed_json::member_change none[] = {{"absent", nullptr}};
    const auto* before = p.view().data();
    p.set_members(none);
    CHECK(p.view().data() == before);
    const packed_json::member_change all[] = {{"b", nullptr}, {"d", nullptr}, {"f", nullptr}, {"h", nullptr}};
    p.set_members(all);
    check_same(p.to_json(), json::object());
    CHECK(p.byte_size() == 9);
  }
  SECTION("a document that is not an object is refused, unchanged") {
    packed_json p(json::array({1}));
    const packed_json::member_change change[] = {{"a", &number}};
    CHECK_THROWS_AS(p.set_members(change), std::logic_error);
    check_same(p.to_json(), json::array({1}));
  }
}

TEST_CASE("overwrite_string rewrites a top-level string of the same length in place, and nothing else", "[core][packed]") {
  const json original = {{"a", 1}, {"lastActivityTime", "2026-01-01T00:00:00.0000000Z"}, {"n", {{"s", "x"}}}, {"z", "tail"}};
  packed_json p(original);
  const auto* buffer = p.view().data();
  CHECK(p.overwrite_string("lastActivityTime", "2026-11-26T23:59:59.1234567Z"));
  CHECK(p.view().data() == buffer);  // the same buffer
  json expected = original;
  expected["lastActivityTime"] = "2026-11-26T23:59:59.1234567Z";
  CHECK(p.to_json() == expected);

  // Refused, changing nothing: another length, not a string, not at the top level, missing.
  CHECK_FALSE(p.overwrite_string("lastActivityTime", "2026-11-26T23:59:59Z"));
  CHECK_FALSE(p.overwrite_string("a", "1"));
  CHECK_FALSE(p.overwrite_string("s", "y"));
  CHECK_FALSE(p.overwrite_string("missing", "tail"));
  CHECK(p.to_json() == expected);
  CHECK(p.overwrite_string("z", "TAIL"));
  expected["z"] = "TAIL";
  CHECK(p.to_json() == expected);
}

TEST_CASE("A packed document dumps the text nlohmann::json dumps", "[core][packed]") {
  const auto dumped = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  std::vector<json> samples = {
      nullptr, true, false, 0, -12, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
      1.0, 0.1, -0.0, 1e300, 2.5e-8, std::numeric_limits<double>::quiet_NaN(), "", "plain text",
      "quote \" backslash \\ slash / tab \t newline \n cr \r bell \x07 del \x7f", "caf\xC3\xA9 \xF0\x9F\x9A\xAA",
      std::string("nul\0inside", 10), std::string("bad \xC3 utf-8 \xFF"), json::array(), json::object(),
      json::parse(R"({"a":[1,2.5,"x",{"b":null}],"\u00e9":{"":true}})"),
  };
  std::mt19937 rng(9);
  for (int i = 0; i < 300; ++i) samples.push_back(random_value(rng, 0));
  for (const auto& j : samples) {
    std::string out = "prefix:";
    packed_json(j).view().dump_to(out);
    CHECK(out == "prefix:" + dumped(j));
  }
  std::string missing;
  packed_view().dump_to(missing);
  CHECK(missing == "null");
}
