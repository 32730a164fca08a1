// COUNT, AVG, SUM, MIN, MAX with and without GROUP BY, shaped as the hub returns them: one
// JSON object per group, keyed by alias (or the path's last name, or $1, $2 for unnamed
// aggregates), with undefined values left out.
#include <catch2/catch.hpp>

#include "mock_hub/core/query/compiled_query.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core::query;
using namespace query_fixtures;

namespace {

const map_document_source::map_type& sensors() {
  static const map_document_source::map_type docs = [] {
    map_document_source::map_type m;
    auto add = [&](const std::string& id, json tags) {
      json t = twin(id);
      t["tags"] = std::move(tags);  // assigned, not merged: a merge patch would drop the null
      m.emplace(id, std::move(t));
    };
    add("s1", {{"kind", "temp"}, {"site", "a"}, {"n", 1}, {"any", 3}});
    add("s2", {{"kind", "temp"}, {"site", "b"}, {"n", 2}, {"any", "a"}});
    add("s3", {{"kind", "temp"}, {"site", "a"}, {"n", 4.5}, {"any", true}});
    add("s4", {{"kind", "door"}, {"site", "a"}, {"n", "x"}, {"any", nullptr}});
    add("s5", {{"kind", "door"}, {"site", "b"}});
    add("s6", {{"site", "b"}, {"n", 10}, {"any", json::array({1})}});
    return m;
  }();
  return docs;
}

json rows(const std::string& query) { return run_all(compile_query(query), sensors()); }

}  // namespace

TEST_CASE("Aggregates group, name and leave out undefined values as the hub does", "[core][query][aggregates]") {
  auto [query, expected] = GENERATE(table<const char*, const char*>({
      {"SELECT COUNT() AS n FROM devices", R"([{"n": 6}])"},
      {"SELECT COUNT() FROM devices", R"([{"$1": 6}])"},
      {"SELECT COUNT(), COUNT() AS all, MAX(tags.n) FROM devices", R"([{"$1": 6, "all": 6, "$2": "x"}])"},
      {"SELECT COUNT() AS n FROM devices WHERE false", R"([{"n": 0}])"},
      // SUM and AVG add numbers; a non-number makes them undefined; undefined values are skipped.
      {"SELECT SUM(tags.n) AS s, AVG(tags.n) AS a FROM devices WHERE tags.kind = 'temp'", R"([{"s": 7.5, "a": 2.5}])"},
      {"SELECT SUM(tags.n) AS s FROM devices WHERE deviceId IN ['s1', 's2', 's6']", R"([{"s": 13}])"},
      {"SELECT AVG(tags.n) AS a FROM devices WHERE deviceId IN ['s1', 's2']", R"([{"a": 1.5}])"},
      {"SELECT SUM(tags.n) AS s, AVG(tags.n) AS a, COUNT() AS c FROM devices", R"([{"c": 6}])"},
      // Over nothing: COUNT and SUM are 0, AVG, MIN and MAX undefined (left out).
      {"SELECT SUM(tags.n) AS s, AVG(tags.n) AS a, MIN(tags.n) AS lo, MAX(tags.n) AS hi FROM devices WHERE false",
       R"([{"s": 0}])"},
      // MIN and MAX order primitives: null < false < true < numbers < strings; arrays/objects make them undefined.
      {"SELECT MIN(tags.n) AS lo, MAX(tags.n) AS hi FROM devices", R"([{"lo": 1, "hi": "x"}])"},
      {"SELECT MIN(tags.any) AS lo, MAX(tags.any) AS hi FROM devices WHERE deviceId != 's6'", R"([{"lo": null, "hi": "a"}])"},
      {"SELECT MIN(tags.any) AS lo FROM devices", R"([{}])"},
      // GROUP BY: one row per distinct value, the undefined group first, values in type order.
      {"SELECT tags.kind AS kind, COUNT() AS n FROM devices GROUP BY tags.kind",
       R"([{"n": 1}, {"kind": "door", "n": 2}, {"kind": "temp", "n": 3}])"},
      {"SELECT tags.kind, COUNT() AS n FROM devices GROUP BY tags.kind",
       R"([{"n": 1}, {"kind": "door", "n": 2}, {"kind": "temp", "n": 3}])"},
      {"SELECT tags.kind AS kind, tags.site AS site, COUNT() AS n, SUM(tags.n) AS total FROM devices "
       "WHERE IS_DEFINED(tags.kind) GROUP BY tags.kind, tags.site",
       R"([{"kind": "door", "site": "a", "n": 1}, {"kind": "door", "site": "b", "n": 1, "total": 0},
           {"kind": "temp", "site": "a", "n": 2, "total": 5.5}, {"kind": "temp", "site": "b", "n": 1, "total": 2}])"},
      {"SELECT tags.any AS v, COUNT() AS n FROM devices GROUP BY tags.any",
       R"([{"n": 1}, {"v": null, "n": 1}, {"v": true, "n": 1}, {"v": 3, "n": 1}, {"v": "a", "n": 1}, {"v": [1], "n": 1}])"},
      // GROUP BY alone lists distinct values.
      {"SELECT tags.site AS site FROM devices GROUP BY tags.site", R"([{"site": "a"}, {"site": "b"}])"},
      {"SELECT COUNT() AS n FROM devices GROUP BY tags.site", R"([{"n": 3}, {"n": 3}])"},
      {"SELECT TOP 1 tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site", R"([{"site": "a", "n": 3}])"},
      {"SELECT tags.kind AS kind FROM devices WHERE false GROUP BY tags.kind", R"([])"},
      {"SELECT DeviceId AS id, COUNT() AS n FROM devices WHERE deviceId IN ['s1', 's2'] GROUP BY deviceId",
       R"([{"id": "s1", "n": 1}, {"id": "s2", "n": 1}])"},
  }));
  CAPTURE(query);
  CHECK(rows(query) == json::parse(expected));
}

TEST_CASE("Projections copy the selected values and leave undefined ones out", "[core][query][aggregates]") {
  CHECK(rows("SELECT deviceId, tags.n FROM devices WHERE tags.site = 'b'") ==
        json::parse(R"([{"deviceId": "s2", "n": 2}, {"deviceId": "s5"}, {"deviceId": "s6", "n": 10}])"));
  CHECK(rows("SELECT tags.missing AS m FROM devices WHERE deviceId = 's1'") == json::parse(R"([{}])"));
  CHECK(rows("SELECT tags AS t FROM devices WHERE deviceId = 's5'") ==
        json::parse(R"([{"t": {"kind": "door", "site": "b"}}])"));
  CHECK(rows("SELECT properties.desired.$version AS v FROM devices WHERE deviceId = 's5'") ==
        json::parse(R"([{"v": 1}])"));
}
