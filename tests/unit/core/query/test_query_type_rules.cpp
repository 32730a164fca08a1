// The type and evaluation rules (reference 7.3 and README "Type rules"), one row per rule,
// over a fleet where the property tags.v takes each JSON type once.
#include <catch2/catch.hpp>

#include "mock_hub/core/query/compiled_condition.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core::query;
using namespace query_fixtures;

namespace {

const map_document_source::map_type& typed_fleet() {
  static const map_document_source::map_type docs = [] {
    map_document_source::map_type m;
    auto add = [&](const std::string& id, json v, json extra = json::object()) {
      json t = twin(id, extra);
      if (!v.is_discarded()) t["tags"]["v"] = std::move(v);
      m.emplace(id, std::move(t));
    };
    add("int", 1, json::parse(R"({"properties": {"desired": {"floor": 3, "$version": 5,
        "$metadata": {"floor": {"$lastUpdated": "2026-03-01T00:00:00.0000000Z", "$lastUpdatedVersion": 5}}}}})"));
    add("float", 1.5);
    add("str", "1", {{"tags", {{"s", "it's \"q\" \\ \xC3\xA9"}}}});
    add("strB", "b");
    add("true", true);
    add("false", false);
    add("null", nullptr);
    add("arr", json::array({1}));
    add("obj", {{"a", 1}}, json::parse(R"({"status": "disabled", "connectionState": "Disconnected",
        "lastActivityTime": "2021-05-07T00:50:38.0543092Z", "capabilities": {"iotEdge": true}, "version": 9})"));
    add("undef", json(json::value_t::discarded));
    return m;
  }();
  return docs;
}

std::vector<std::string> selected_by(const std::string& condition) {
  const compiled_condition c = compile_condition(condition);
  std::vector<std::string> out;
  for (const auto& [id, doc] : typed_fleet()) {
    if (c.matches(doc)) out.push_back(id);
  }
  // The same condition as a WHERE clause, and the batched scan, select the same twins.
  const json items = run_all(compile_query("SELECT * FROM devices WHERE " + condition), typed_fleet());
  CHECK(keys_of(items) == out);
  std::vector<std::string> scanned;
  c.scan(map_document_source(typed_fleet()), [&](std::string_view key, mockhub::core::packed_view) {
    scanned.emplace_back(key);
    return true;
  });
  CHECK(scanned == out);
  return out;
}

using ids = std::vector<std::string>;
const ids all = {"arr", "false", "float", "int", "null", "obj", "str", "strB", "true", "undef"};

}  // namespace

TEST_CASE("A condition matches only where it is Boolean true, under the hub's type rules", "[core][query][types]") {
  auto [rule, condition, expected] = GENERATE(table<const char*, const char*, ids>({
      // Only Boolean true matches: a string, number, null, undefined, object or array never does.
      {"a Boolean true property matches", "tags.v", {"true"}},
      {"the constant true matches everything", "true", all},
      {"the constant false matches nothing", "false", {}},
      {"a string is not true", "'abc'", {}},
      {"a number is not true", "1", {}},
      {"null is not true", "null", {}},
      {"undefined is not true", "undefined", {}},
      {"an array constant is not true", "[true]", {}},
      // Equality: same type and value only; numbers by value, whatever their spelling.
      {"a number equals only numbers", "tags.v = 1", {"int"}},
      {"1 and 1.0 are equal", "tags.v = 1.0", {"int"}},
      {"a hexadecimal constant is a number", "tags.v = 0x1", {"int"}},
      {"a string never equals a number", "tags.v = '1'", {"str"}},
      {"Booleans compare with Booleans", "tags.v = true", {"true"}},
      {"null equals null", "tags.v = null", {"null"}},
      {"a property equals itself when primitive, null included", "tags.v = tags.v",
       {"false", "float", "int", "null", "str", "strB", "true"}},
      // Different types compare as undefined, so != and NOT do not match them either.
      {"!= is undefined across types", "tags.v != 1", {"float"}},
      {"<> is !=", "tags.v <> 1", {"float"}},
      {"NOT of undefined is undefined", "NOT (tags.v = 1)", {"float"}},
      {"nothing != null: other types are not comparable with null", "tags.v != null", {}},
      {"comparing with undefined is undefined", "tags.v = undefined", {}},
      {"arrays are not compared", "tags.v = [1]", {}},
      {"objects are not compared", "tags.v = tags.v AND IS_DEFINED(tags.v.a)", {}},
      // Ordering: numbers by value, strings ordinally, false < true; null has no order.
      {"> on numbers", "tags.v > 1", {"float"}},
      {">= on numbers", "tags.v >= 1", {"float", "int"}},
      {"< on strings is ordinal", "tags.v < 'c'", {"str", "strB"}},
      {"upper case sorts before lower case", "tags.v < 'B'", {"str"}},
      {"false < true", "tags.v > false", {"true"}},
      {"null has no order", "tags.v <= null", {}},
      // IN is an OR of equalities; NIN its negation.
      {"IN matches any equal element", "tags.v IN [1, 'b']", {"int", "strB"}},
      {"IN with null", "tags.v IN [null]", {"null"}},
      {"NIN matches same-typed values outside the list", "tags.v NIN ['x']", {"str", "strB"}},
      {"NIN of undefined is undefined", "tags.missing NIN ['x']", {}},
      {"IN an empty array matches nothing", "tags.v IN []", {}},
      // IS_DEFINED: true for any value, null included; false only where the property is missing.
      {"IS_DEFINED is true for null, arrays and objects", "IS_DEFINED(tags.v)",
       {"arr", "false", "float", "int", "null", "obj", "str", "strB", "true"}},
      {"NOT IS_DEFINED finds the missing property", "NOT IS_DEFINED(tags.v)", {"undef"}},
      {"is_defined is case-insensitive", "is_defined(tags.v.a)", {"obj"}},
      // Arithmetic on numbers only; anything else, or a division by zero, is undefined.
      {"+", "tags.v + 1 = 2", {"int"}},
      {"-", "tags.v - 1 = 0", {"int"}},
      {"*", "tags.v * 2 = 3", {"float"}},
      {"/", "tags.v / 2 = 0.75", {"float"}},
      {"%", "tags.v % 2 = 1", {"int"}},
      {"division by zero is undefined", "tags.v / 0 = 0 OR NOT (tags.v / 0 = 0)", {}},
      {"+ does not concatenate strings", "tags.v + 'x' = '1x'", {}},
      {"unary minus", "-tags.v = -1", {"int"}},
      {"precedence: * before +, + before =", "1 + tags.v * 2 = 3", {"int"}},
      // Three-valued logic.
      {"true OR undefined is true", "tags.v = 1 OR tags.missing = 1", {"int"}},
      {"false AND undefined is false, so NOT makes it true", "NOT (tags.v = 1 AND tags.missing = 1)", {"float"}},
      {"AND binds tighter than OR", "tags.v = 'b' OR tags.v = 1 AND false", {"strB"}},
      {"parentheses regroup", "(tags.v = 'b' OR tags.v = 1) AND true", {"int", "strB"}},
      {"NOT NOT", "NOT NOT tags.v", {"true"}},
      // STARTSWITH / ENDSWITH on strings only, case-sensitive.
      {"STARTSWITH", "STARTSWITH(tags.v, '1')", {"str"}},
      {"ENDSWITH is case-sensitive", "ENDSWITH(deviceId, 'B')", {"strB"}},
      {"STARTSWITH on a number is undefined", "STARTSWITH(tags.v, 1) OR NOT STARTSWITH(tags.v, 1)", {}},
      {"NOT STARTSWITH of a non-string is undefined", "NOT STARTSWITH(tags.v, 'x')", {"str", "strB"}},
      // Strings: both quote styles and the four escapes.
      {"double-quoted string", "deviceId = \"strB\"", {"strB"}},
      {"escapes in single quotes", "tags.s = 'it\\'s \"q\" \\\\ \\u00e9'", {"str"}},
      {"escapes in double quotes", "tags.s = \"it's \\\"q\\\" \\\\ \xC3\xA9\"", {"str"}},
      // Paths: identity fields case-insensitive, user names case-sensitive, $metadata and $version.
      {"identity field names are case-insensitive", "DEVICEID = 'int'", {"int"}},
      {"tags is a hub name, so case-insensitive", "TAGS.v = 1", {"int"}},
      {"user-defined names are case-sensitive", "tags.V = 1", {}},
      {"devices. prefix", "devices.tags.v = 1", {"int"}},
      {"status", "status = 'disabled'", {"obj"}},
      {"connectionState", "connectionState = 'Disconnected'", {"obj"}},
      {"lastActivityTime compares as a string", "lastActivityTime > '2021-01-01'", {"obj"}},
      {"capabilities.iotEdge", "capabilities.iotEdge = true", {"obj"}},
      {"version", "version > 2", {"obj"}},
      {"x509Thumbprint", "x509Thumbprint.primaryThumbprint = null AND deviceId = 'int'", {"int"}},
      {"$version", "properties.desired.$version > 1", {"int"}},
      {"$metadata", "properties.desired.$metadata.floor.$lastUpdated >= '2026-03-01'", {"int"}},
      {"$lastUpdatedVersion", "properties.desired.$metadata.floor.$lastUpdatedVersion = 5", {"int"}},
      {"an unknown root property reads undefined", "nosuch = 1 OR NOT (nosuch = 1)", {}},
  }));
  CAPTURE(rule, condition);
  CHECK(selected_by(condition) == expected);
}

TEST_CASE("`*` as a job query condition selects every device", "[core][query][types][job]") {
  const compiled_condition c = compile_condition("  *  ");
  CHECK(c.all_devices());
  CHECK(c.canonical_text() == "*");
  for (const auto& [id, doc] : typed_fleet()) CHECK(c.matches(doc));
  CHECK_FALSE(compile_condition("tags.v = 1").all_devices());
}
