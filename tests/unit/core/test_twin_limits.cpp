// The twin format rules and size algorithm (twin_limits.hpp), each at its boundary and one past it.
// Source of the rules: MicrosoftDocs azure-docs articles/iot-hub/iot-hub-devguide-device-twins.md
// ("Tags and properties format", "Device twin size").
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "check_hub_error.hpp"
#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/twin.hpp"
#include "mock_hub/core/twin_limits.hpp"

using namespace mockhub::core;
using nlohmann::json;

namespace {
std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}


hub_error write_refusal(twin_section s, const json& content) {
  return mockhub::testing::caught_hub_error([&] { validate_section_write(s, content); });
}

// {"l1": {"l2": ... {"l<levels>": {"leaf": 1}}}}: the innermost object sits at level `levels`.
json nested(int levels) {
  json inner = {{"leaf", 1}};
  for (int i = levels; i >= 1; --i) inner = json{{"l" + std::to_string(i), inner}};
  return inner;
}

// An object whose section_size is exactly `size` (size >= 4), made of string members small enough
// for the 4 KB value rule.
json object_of_size(std::size_t size) {
  json o = json::object();
  for (int i = 0; size > 0; ++i) {
    const std::string key = "k" + std::to_string(100 + i);  // 4 characters
    const std::size_t chunk = std::min<std::size_t>(size - key.size(), 4000);
    o[key] = std::string(chunk, 'v');
    size -= key.size() + chunk;
  }
  return o;
}

device_identity identity() {
  device_identity d;
  d.device_id = "d1";
  return d;
}

const auto all_sections = {twin_section::tags, twin_section::desired, twin_section::reported};

// The five ways a section gets written.
enum class write_path { update_tags, update_desired, replace_tags, replace_desired, update_reported };

void write(twin& t, write_path path, const json& content) {
  const time_point now = virtual_clock::default_start();
  switch (path) {
    case write_path::update_tags: t.update(json{{"tags", content}}, now); return;
    case write_path::update_desired: t.update(json{{"properties", {{"desired", content}}}}, now); return;
    case write_path::replace_tags: t.replace(json{{"tags", content}}, now); return;
    case write_path::replace_desired: t.replace(json{{"properties", {{"desired", content}}}}, now); return;
    case write_path::update_reported: t.update_reported(content, now); return;
  }
}

// A twin with something in every section, so that "unchanged" means something.
twin populated_twin() {
  const time_point now = virtual_clock::default_start();
  twin t(identity(), now);
  t.update(json::parse(R"({"tags":{"keep":1},"properties":{"desired":{"keep":{"x":1}}}})"), now);
  t.update_reported(json::parse(R"({"keep":{"y":2}})"), now);
  return t;
}
}  // namespace

TEST_CASE("A key of up to 1 KB of UTF-8 is accepted and a longer one is refused", "[core][twin]") {
  const auto section = GENERATE(values(all_sections));
  const std::string path(wire_path(section));
  CAPTURE(path);
  SECTION("1024 ASCII bytes pass, 1025 do not") {
    CHECK_NOTHROW(validate_section_write(section, json{{std::string(1024, 'k'), 1}}));
    const auto e = write_refusal(section, json{{std::string(1025, 'k'), 1}});
    CHECK(e.code() == 400004);
    CHECK(e.name() == "ArgumentInvalid");
    CHECK_THAT(std::string(e.message()), Catch::Contains("should be maximum 1024 bytes") &&
                                             Catch::Contains("(1025 bytes) in " + path));
  }
  SECTION("the limit counts bytes, not characters") {
    CHECK_NOTHROW(validate_section_write(section, json{{repeat("\u00e9", 512), 1}}));  // 512 x 2 bytes
    CHECK(write_refusal(section, json{{repeat("\u00e9", 512) + "k", 1}}).code() == 400004);
  }
}

TEST_CASE("A key may not hold control characters, '.', '$', '#' or a space", "[core][twin]") {
  const auto bad = GENERATE(as<std::string>{}, "a.b", "$version", "$metadata", "a$", "a#b", "a b", "tab\there",
                            "new\nline", std::string("nul\0l", 5), "del\x7f", "nel\u0085", "c1\u009f");
  CAPTURE(bad);
  const auto e = write_refusal(twin_section::desired, json{{"ok", {{bad, 1}}}});
  CHECK(e.code() == 400004);
  CHECK_THAT(std::string(e.message()),
             Catch::Contains("Property or Tag name has invalid characters") &&
                 Catch::Contains(json(bad).dump() + " in properties.desired.ok") &&
                 Catch::Contains("Must not contain Control Characters, '.', '$', '#', or ' '."));
}

TEST_CASE("Keys with any other character are accepted", "[core][twin]") {
  const auto good = GENERATE(as<std::string>{}, "a-b_c:d", "UPPER", "1", "a/b", "x=y", "\u00e9t\u00e9",
                             "\u65e5\u672c", "\u00a0nbsp", "emoji\U0001F600", "");
  CAPTURE(good);
  CHECK_NOTHROW(validate_section_write(twin_section::tags, json{{good, {{good, good}}}}));
}

TEST_CASE("Ten nesting levels are accepted and an eleventh is refused", "[core][twin]") {
  const auto section = GENERATE(values(all_sections));
  const std::string path(wire_path(section));
  CAPTURE(path);
  SECTION("the docs' example: tags.one.two ... ten.property") {
    json ten = {{"property", "value"}};
    for (const char* name : {"ten", "nine", "eight", "seven", "six", "five", "four", "three", "two", "one"}) {
      ten = json{{name, ten}};
    }
    CHECK_NOTHROW(validate_section_write(section, ten));
  }
  SECTION("objects: level 10 passes, level 11 is refused and named") {
    CHECK_NOTHROW(validate_section_write(section, nested(10)));
    const auto e = write_refusal(section, nested(11));
    CHECK(e.code() == 400004);
    CHECK_THAT(std::string(e.message()),
               Catch::Contains("should be maximum 10 levels") &&
                   Catch::Contains(path + ".l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11 (level 11)"));
  }
  SECTION("arrays count as levels like objects") {
    json at10 = nested(9);
    at10["l1"]["l2"]["l3"]["l4"]["l5"]["l6"]["l7"]["l8"]["l9"]["list"] = json::array({1, 2});
    CHECK_NOTHROW(validate_section_write(section, at10));
    json at11 = at10;
    at11["l1"]["l2"]["l3"]["l4"]["l5"]["l6"]["l7"]["l8"]["l9"]["list"] = json::array({json::array({1})});
    const auto e = write_refusal(section, at11);
    CHECK_THAT(std::string(e.message()), Catch::Contains(".l9.list[0] (level 11)"));
  }
}

TEST_CASE("A string value of up to 4 KB of UTF-8 is accepted and a longer one is refused", "[core][twin]") {
  const auto section = GENERATE(values(all_sections));
  const std::string path(wire_path(section));
  CAPTURE(path);
  CHECK_NOTHROW(validate_section_write(section, json{{"s", std::string(4096, 'v')}}));
  CHECK_NOTHROW(validate_section_write(section, json{{"s", repeat("\u00e9", 2048)}}));
  const auto e = write_refusal(section, json{{"a", {{"s", std::string(4097, 'v')}}}});
  CHECK(e.code() == 400004);
  CHECK_THAT(std::string(e.message()), Catch::Contains("Property or Tag value should be maximum 4096 bytes") &&
                                           Catch::Contains(path + ".a.s (4097 bytes)"));
  CHECK(write_refusal(section, json{{"s", repeat("\u00e9", 2048) + "v"}}).code() == 400004);
  CHECK_THAT(std::string(write_refusal(section, json{{"list", json::array({"ok", std::string(4097, 'v')})}}).message()),
             Catch::Contains(path + ".list[1] (4097 bytes)"));
}

TEST_CASE("Integers must lie within plus or minus 2^52 while floats are free", "[core][twin]") {
  auto [value, accepted] = GENERATE(table<json, bool>({
      {json(4503599627370495), true},
      {json(4503599627370496), false},
      {json(-4503599627370496), true},
      {json(-4503599627370497), false},
      {json(std::uint64_t{18446744073709551615u}), false},
      {json::parse("9007199254740993"), false},
      {json(0), true},
      {json(1e300), true},
      {json(-1.5), true},
      {json(4503599627370496.0), true},
  }));
  CAPTURE(value.dump());
  if (accepted) {
    CHECK_NOTHROW(validate_section_write(twin_section::reported, json{{"n", value}}));
  } else {
    const auto e = write_refusal(twin_section::reported, json{{"n", value}});
    CHECK(e.code() == 400004);
    CHECK_THAT(std::string(e.message()),
               Catch::Contains("between -4503599627370496 and 4503599627370495") &&
                   Catch::Contains("properties.reported.n (" + value.dump() + ")"));
  }
}

TEST_CASE("Arrays are accepted but may not hold null", "[core][twin]") {
  // The values the C# SDK's e2e tests write to a real hub (TwinE2ETests s_listOfPropertyValues).
  CHECK_NOTHROW(validate_section_write(twin_section::desired,
                                       json{{"list", json::array({1, "someString", false, json{{"Id", 123}, {"Name", "someName"}}})}}));
  CHECK_NOTHROW(validate_section_write(twin_section::desired, json{{"empty", json::array()}}));
  const auto e = write_refusal(twin_section::desired, json{{"list", json::array({1, nullptr})}});
  CHECK(e.code() == 400004);
  CHECK_THAT(std::string(e.message()), Catch::Contains("Arrays cannot contain null values") &&
                                           Catch::Contains("properties.desired.list[1]"));
  const json object_with_null = {{"a", nullptr}};
  CHECK_THAT(std::string(write_refusal(twin_section::desired, json{{"list", json::array({object_with_null})}}).message()),
             Catch::Contains("properties.desired.list[0].a"));
  const json object_with_bad_key = {{"a.b", 1}};
  CHECK_THAT(
      std::string(write_refusal(twin_section::desired, json{{"list", json::array({object_with_bad_key})}}).message()),
      Catch::Contains("\"a.b\" in properties.desired.list[0]"));
}

TEST_CASE("Null members are deletions and are accepted at every level", "[core][twin]") {
  CHECK_NOTHROW(validate_section_write(twin_section::tags, json{{"gone", nullptr}, {"a", {{"b", nullptr}}}}));
}

TEST_CASE("A section write must be a JSON object", "[core][twin]") {
  const auto bad = GENERATE(json::array({1}), json("text"), json(1), json());
  CAPTURE(bad.dump());
  const auto e = write_refusal(twin_section::tags, bad);
  CHECK(e.code() == 400004);
  CHECK_THAT(std::string(e.message()), Catch::Contains("'tags' must be a JSON object"));
}

TEST_CASE("Section size follows the documented algorithm", "[core][twin]") {
  auto [content, size] = GENERATE(table<json, std::size_t>({
      {json::object(), 0},
      {json{{"a", "bc"}}, 3},
      {json{{"a", 1}}, 9},
      {json{{"a", 1.5}}, 9},
      {json{{"a", true}}, 5},
      {json{{"a", {{"b", "c"}}}}, 3},                        // nested objects: the sum of their members
      {json{{"\u00e9", "\u65e5\u672c"}}, 3},                 // characters, not bytes
      {json{{"a", "x\ty\n\u0085"}}, 3},                      // control characters do not count
      {json{{"a", json::array({1, "xy", false})}}, 15},      // mockhub: an array is the sum of its elements
      {json{{"a", nullptr}}, 1},                              // mockhub: null weighs nothing
      // The docs' reported example: telemetryConfig {sendFrequency: "5m", status: "success"}, batteryLevel: 55.
      {json{{"telemetryConfig", {{"sendFrequency", "5m"}, {"status", "success"}}}, {"batteryLevel", 55}},
       15 + 13 + 2 + 6 + 7 + 12 + 8},
  }));
  CAPTURE(content.dump());
  CHECK(section_size(content) == size);
}

TEST_CASE("Each section may weigh up to its limit and no more", "[core][twin]") {
  auto [section, limit, name] = GENERATE(table<twin_section, std::size_t, std::string>({
      {twin_section::tags, 8192, "Tags"},
      {twin_section::desired, 32768, "Properties.Desired"},
      {twin_section::reported, 32768, "Properties.Reported"},
  }));
  CAPTURE(name);
  CHECK(size_limit(section) == limit);
  const json at_limit = object_of_size(limit);
  REQUIRE(section_size(at_limit) == limit);
  CHECK_NOTHROW(check_section_size(section, at_limit));
  const json over = object_of_size(limit + 1);
  REQUIRE(section_size(over) == limit + 1);
  const auto e = mockhub::testing::caught_hub_error([&] { check_section_size(section, over); });
  CHECK(e.code() == 403100);
  CHECK(e.name() == "DeviceModelMaxPropertiesExceeded");
  CHECK(e.http_status() == 403);
  CHECK(std::string(e.message()) == "'" + name + "' size should be at most " + std::to_string(limit) +
                                        " bytes; this operation would make it " + std::to_string(limit + 1) +
                                        " bytes.");
}

TEST_CASE("Every write path enforces every rule and leaves a refused twin byte-for-byte unchanged", "[core][twin]") {
  auto [path, path_name] = GENERATE(table<write_path, std::string>({
      {write_path::update_tags, "PATCH tags"},
      {write_path::update_desired, "PATCH desired"},
      {write_path::replace_tags, "PUT tags"},
      {write_path::replace_desired, "PUT desired"},
      {write_path::update_reported, "device reported PATCH"},
  }));
  auto [content, accepted, phrase] = GENERATE(table<json, bool, std::string>({
      {json{{std::string(1024, 'k'), 1}}, true, ""},
      {json{{std::string(1025, 'k'), 1}}, false, "Property or Tag name should be maximum 1024 bytes"},
      {json{{"a.b", 1}}, false, "Property or Tag name has invalid characters"},
      {json{{"$version", 5}}, false, "Property or Tag name has invalid characters"},
      {json{{"$metadata", json::object()}}, false, "Property or Tag name has invalid characters"},
      {nested(10), true, ""},
      {nested(11), false, "Twin nesting should be maximum 10 levels"},
      {json{{"s", std::string(4096, 'v')}}, true, ""},
      {json{{"s", std::string(4097, 'v')}}, false, "Property or Tag value should be maximum 4096 bytes"},
      {json{{"n", 4503599627370495}}, true, ""},
      {json{{"n", -4503599627370497}}, false, "integer value should be between"},
      {json{{"list", json::array({1, "x", json{{"o", 1}}})}}, true, ""},
      {json{{"list", json::array({1, nullptr})}}, false, "Arrays cannot contain null values"},
  }));
  CAPTURE(path_name, content.dump().substr(0, 80));
  twin t = populated_twin();
  if (accepted) {
    CHECK_NOTHROW(write(t, path, content));
    return;
  }
  const auto before = t.document().dump();
  const auto e = mockhub::testing::caught_hub_error([&] { write(t, path, content); });
  CHECK(e.code() == 400004);
  CHECK(e.http_status() == 400);
  CHECK_THAT(std::string(e.message()), Catch::Contains(phrase));
  CHECK(t.document().dump() == before);
}

TEST_CASE("Every write path accepts a section at its size limit and refuses one unit more", "[core][twin]") {
  auto [path, name, limit] = GENERATE(table<write_path, std::string, std::size_t>({
      {write_path::update_tags, "Tags", 8192},
      {write_path::update_desired, "Properties.Desired", 32768},
      {write_path::replace_tags, "Tags", 8192},
      {write_path::replace_desired, "Properties.Desired", 32768},
      {write_path::update_reported, "Properties.Reported", 32768},
  }));
  CAPTURE(name);
  const auto refused_unchanged = [&](twin& t, const json& content) {
    const auto before = t.document().dump();
    const auto e = mockhub::testing::caught_hub_error([&] { write(t, path, content); });
    CHECK(e.code() == 403100);
    CHECK(e.http_status() == 403);
    CHECK_THAT(std::string(e.message()), Catch::Contains("'" + name + "' size should be at most " +
                                                          std::to_string(limit) + " bytes"));
    CHECK(t.document().dump() == before);
  };

  SECTION("a whole section written at once") {
    twin t(identity(), virtual_clock::default_start());
    refused_unchanged(t, object_of_size(limit + 1));
    CHECK_NOTHROW(write(t, path, object_of_size(limit)));
  }
  SECTION("a merge that grows a section past its limit; $metadata and $version do not count") {
    if (path == write_path::replace_tags || path == write_path::replace_desired) return;  // replace does not merge
    twin t(identity(), virtual_clock::default_start());
    write(t, path, object_of_size(limit - 5));
    CHECK_NOTHROW(write(t, path, json{{"zzzz", "v"}}));  // 4 + 1: exactly at the limit
    refused_unchanged(t, json{{"zzzy", "v"}});
    CHECK_NOTHROW(write(t, path, json{{"zzzz", nullptr}, {"zzzy", "v"}}));  // a swap keeps the size
  }
}
