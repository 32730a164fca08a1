// Batched evaluation (many documents at once, paths resolved together) answers exactly as
// evaluating one document at a time does.
#include <catch2/catch.hpp>

#include <random>

#include "mock_hub/core/query/compiled_condition.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core::query;
using namespace query_fixtures;

TEST_CASE("Looking a key up in a packed document finds what std::map::find finds", "[core][query][batch]") {
  std::mt19937 rng(3);
  const std::vector<std::string> names = {"a", "b", "aa", "ab", "z", "$metadata", "$version", "deviceId",
                                          "cloudToDeviceMessageCount", "tags", "", "\xC3\xA9", "B", "a\x01"};
  std::vector<json> objects;
  for (int i = 0; i < 200; ++i) {
    json o = json::object();
    for (const auto& n : names) {
      if (rng() % 2) o[n] = rng() % 3 ? json(i) : json{{"n", i}, {"s", std::string(static_cast<std::size_t>(i), 'x')}};
    }
    objects.push_back(std::move(o));
  }
  objects.push_back(json::array({1, 2}));
  objects.push_back("a string");
  objects.push_back(json::object());

  for (const auto& o : objects) {
    const mockhub::core::packed_json packed(o);
    for (const auto& key : names) {
      CAPTURE(o.dump(), key);
      const auto found = packed.view().find(key);
      const bool present = o.is_object() && o.contains(key);
      REQUIRE(found.valid() == present);
      if (present) CHECK(found.to_json() == o[key]);
    }
  }
}

TEST_CASE("A scan in batches selects what matching one twin at a time selects", "[core][query][batch]") {
  std::mt19937 rng(11);
  map_document_source::map_type docs;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "d" + std::to_string(i);
    json t = twin(id);
    if (rng() % 3) t["tags"]["n"] = static_cast<int>(rng() % 10);
    if (rng() % 2) t["properties"]["reported"]["x"] = rng() % 2 ? json("on") : json(static_cast<int>(rng() % 3));
    if (rng() % 4 == 0) t["tags"] = "not an object";
    docs.emplace(id, std::move(t));
  }
  // The last condition reads 70 distinct paths: more than a batch row holds, so it takes the
  // per-document path inside the batch.
  std::string wide = "tags.n = 3";
  for (int i = 0; i < 70; ++i) wide += " OR tags.p" + std::to_string(i) + " = 1";
  const std::vector<std::string> conditions = {
      "tags.n > 4", "tags.n = 3 AND properties.reported.x = 'on'", "properties.reported.x IN [0, 'on']",
      "NOT IS_DEFINED(tags.n) OR tags.n % 2 = 0", "tags.n + properties.reported.x >= 5", wide};
  for (const auto& condition : conditions) {
    CAPTURE(condition);
    const compiled_condition c = compile_condition(condition);
    std::vector<std::string> one_by_one, batched;
    for (const auto& [id, t] : docs) {
      if (c.matches(t)) one_by_one.push_back(id);
    }
    c.scan(map_document_source(docs), [&](std::string_view key, mockhub::core::packed_view) {
      batched.emplace_back(key);
      return true;
    });
    CHECK(batched == one_by_one);
    CHECK(keys_of(run_all(compile_query("SELECT * FROM devices WHERE " + condition), docs, 37)) == one_by_one);
  }
}

TEST_CASE("A scan stops when the visitor says so", "[core][query][batch]") {
  const compiled_condition c = compile_condition("*");
  int visited = 0;
  c.scan(map_document_source(fleet()), [&](std::string_view, mockhub::core::packed_view) { return ++visited < 3; });
  CHECK(visited == 3);
}
