// Paging of POST /devices/query: page size (x-ms-max-item-count), continuation tokens, TOP,
// and paging while the twins change.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <set>

#include "../check_hub_error.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core::query;
using namespace query_fixtures;

namespace {

std::string id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "d%04d", i);
  return buf;
}

map_document_source::map_type numbered(int n) {
  map_document_source::map_type m;
  for (int i = 0; i < n; ++i) m.emplace(id(i), twin(id(i), {{"tags", {{"n", i}, {"even", i % 2 == 0}}}}));
  return m;
}

std::vector<std::size_t> page_sizes(const compiled_query& q, const map_document_source::map_type& docs, int size) {
  map_document_source source(docs);
  std::vector<std::size_t> sizes;
  std::string token;
  for (;;) {
    auto page = q.run(source, {.max_item_count = size, .continuation = token});
    sizes.push_back(page.items.size());
    if (!page.continuation) return sizes;
    token = *page.continuation;
  }
}

using sizes = std::vector<std::size_t>;

}  // namespace

TEST_CASE("Pages hold 100 items by default and at most 100 whatever is asked", "[core][query][paging]") {
  const auto docs = numbered(250);
  const compiled_query all = compile_query("SELECT * FROM devices");
  CHECK(page_sizes(all, docs, 0) == sizes{100, 100, 50});
  CHECK(page_sizes(all, docs, 1000) == sizes{100, 100, 50});
  CHECK(page_sizes(all, docs, -5) == sizes{100, 100, 50});
  CHECK(page_sizes(all, docs, 100) == sizes{100, 100, 50});
  CHECK(page_sizes(all, docs, 60) == sizes{60, 60, 60, 60, 10});
  CHECK(page_sizes(all, docs, 1).size() == 250);
  CHECK(run_all(all, docs, 7).size() == 250);
}

TEST_CASE("The last page carries no continuation token, even when it is full", "[core][query][paging]") {
  const auto docs = numbered(10);
  CHECK(page_sizes(compile_query("SELECT * FROM devices"), docs, 5) == sizes{5, 5});
  CHECK(page_sizes(compile_query("SELECT * FROM devices WHERE tags.even"), docs, 5) == sizes{5});
  CHECK(page_sizes(compile_query("SELECT * FROM devices WHERE tags.n = 9"), docs, 1) == sizes{1});
  CHECK(page_sizes(compile_query("SELECT * FROM devices WHERE false"), docs, 5) == sizes{0});
  const map_document_source::map_type none;
  CHECK(page_sizes(compile_query("SELECT * FROM devices"), none, 5) == sizes{0});
}

TEST_CASE("Pages of a filtered query follow each other in device-id order without gaps", "[core][query][paging]") {
  const auto docs = numbered(50);
  const json items = run_all(compile_query("SELECT deviceId, tags.n FROM devices WHERE tags.even"), docs, 4);
  REQUIRE(items.size() == 25);
  for (std::size_t i = 0; i < items.size(); ++i) {
    CHECK(items[i] == json{{"deviceId", id(static_cast<int>(2 * i))}, {"n", 2 * i}});
  }
}

TEST_CASE("TOP bounds the whole result across pages", "[core][query][paging]") {
  const auto docs = numbered(250);
  CHECK(page_sizes(compile_query("SELECT TOP 5 * FROM devices"), docs, 2) == sizes{2, 2, 1});
  CHECK(page_sizes(compile_query("SELECT TOP 4 * FROM devices"), docs, 2) == sizes{2, 2});
  CHECK(page_sizes(compile_query("SELECT TOP 0 * FROM devices"), docs, 2) == sizes{0});
  CHECK(page_sizes(compile_query("SELECT TOP 150 * FROM devices"), docs, 0) == sizes{100, 50});
  CHECK(page_sizes(compile_query("SELECT TOP 300 * FROM devices"), docs, 0) == sizes{100, 100, 50});
  CHECK(page_sizes(compile_query("SELECT TOP 3 * FROM devices WHERE tags.n >= 248"), docs, 1) == sizes{1, 1});
  const json top = run_all(compile_query("SELECT TOP 3 deviceId FROM devices WHERE tags.even"), docs, 2);
  CHECK(top == json::parse(R"([{"deviceId": "d0000"}, {"deviceId": "d0002"}, {"deviceId": "d0004"}])"));
}

TEST_CASE("Each page reports its item type", "[core][query][paging]") {
  map_document_source twins(fleet());
  map_document_source records(jobs());
  map_document_source module_twins(modules());
  CHECK(compile_query("SELECT * FROM devices").run(twins).item_type == "twin");
  CHECK(compile_query("SELECT * FROM devices.modules").run(module_twins).item_type == "twin");
  CHECK(compile_query("SELECT * FROM devices.jobs").run(records).item_type == "deviceJob");
  CHECK(compile_query("SELECT deviceId FROM devices").run(twins).item_type == "raw");
  CHECK(compile_query("SELECT COUNT() FROM devices").run(twins).item_type == "raw");
  CHECK(compile_query("SELECT * FROM devices.jobs").collection() == ast::collection::jobs);
}

TEST_CASE("Paging while twins change never repeats or skips a device that existed throughout",
          "[core][query][paging]") {
  auto docs = numbered(10);  // d0000 .. d0009
  const compiled_query q = compile_query("SELECT * FROM devices WHERE IS_DEFINED(tags.n)");
  // A source packs a snapshot of the map: each page reads the collection as it is then.
  auto first = q.run(map_document_source(docs), {.max_item_count = 3});
  CHECK(keys_of(first.items) == std::vector<std::string>{"d0000", "d0001", "d0002"});
  REQUIRE(first.continuation);

  docs.erase("d0002");                                        // the last device returned goes away
  docs.erase("d0007");                                        // one not yet returned goes away
  docs.emplace("d0001a", twin("d0001a", {{"tags", {{"n", -1}}}}));  // one arrives behind the cursor
  docs.emplace("d0005a", twin("d0005a", {{"tags", {{"n", -2}}}}));  // one arrives ahead of it
  docs["d0004"]["tags"].erase("n");                           // one stops matching
  docs["d0000"]["tags"]["n"] = 100;                           // one already returned changes

  std::vector<std::string> rest;
  std::string token = *first.continuation;
  for (;;) {
    auto page = q.run(map_document_source(docs), {.max_item_count = 3, .continuation = token});
    for (const auto& k : keys_of(page.items)) rest.push_back(k);
    if (!page.continuation) break;
    token = *page.continuation;
  }
  CHECK(rest == std::vector<std::string>{"d0003", "d0005", "d0005a", "d0006", "d0008", "d0009"});
}

TEST_CASE("Under random churn every device present throughout is returned exactly once", "[core][query][paging]") {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    auto docs = numbered(120);
    std::set<std::string> ever_removed;
    std::set<std::string> initial;
    for (const auto& [k, v] : docs) initial.insert(k);
    const compiled_query q = compile_query("SELECT * FROM devices");
    std::vector<std::string> seen;
    std::string token;
    int next_new = 0;
    for (;;) {
      auto page = q.run(map_document_source(docs), {.max_item_count = 1 + static_cast<int>(rng() % 9), .continuation = token});
      for (const auto& k : keys_of(page.items)) seen.push_back(k);
      if (!page.continuation) break;
      token = *page.continuation;
      for (int change = 0; change < 5; ++change) {
        if (rng() % 2 && !docs.empty()) {
          auto it = docs.begin();
          std::advance(it, static_cast<long>(rng() % docs.size()));
          ever_removed.insert(it->first);
          docs.erase(it);
        } else {
          const std::string k = id(static_cast<int>(rng() % 120)) + "n" + std::to_string(next_new++);
          docs.emplace(k, twin(k));
        }
      }
    }
    std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());  // nothing twice
    for (const auto& k : initial) {
      if (!ever_removed.count(k)) CHECK(unique.count(k) == 1);  // nothing skipped
    }
  }
}

TEST_CASE("Aggregate rows page by row, with the same page sizes", "[core][query][paging]") {
  const auto docs = numbered(250);
  const compiled_query q = compile_query("SELECT tags.n AS n, COUNT() AS c FROM devices WHERE tags.n < 150 GROUP BY tags.n");
  CHECK(page_sizes(q, docs, 0) == sizes{100, 50});
  CHECK(page_sizes(q, docs, 40) == sizes{40, 40, 40, 30});
  const json rows = run_all(q, docs, 40);
  REQUIRE(rows.size() == 150);
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i] == json{{"n", i}, {"c", 1}});
  CHECK(page_sizes(compile_query("SELECT TOP 30 tags.n AS n FROM devices GROUP BY tags.n"), docs, 20) == sizes{20, 10});
}

TEST_CASE("Paging devices.jobs follows record keys", "[core][query][paging]") {
  const compiled_query q = compile_query("SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'myDeviceId'");
  map_document_source source(jobs());
  auto first = q.run(source, {.max_item_count = 2});
  CHECK(keys_of(first.items) == std::vector<std::string>{"methodJob/myDeviceId", "myJobId/myDeviceId"});
  REQUIRE(first.continuation);
  auto second = q.run(source, {.max_item_count = 2, .continuation = *first.continuation});
  CHECK(keys_of(second.items) == std::vector<std::string>{"oldJob/myDeviceId"});
  CHECK_FALSE(second.continuation);
}

TEST_CASE("A page as REST text is the JSON of the same page, for every kind of query", "[core][query][paging]") {
  auto docs = numbered(30);
  docs["d0003"]["tags"]["name"] = "caf\xC3\xA9 \"quoted\"\n";
  docs["d0004"]["properties"]["reported"]["ratio"] = 0.25;
  const map_document_source source(docs);
  const map_document_source job_records(jobs());
  const std::vector<std::pair<std::string, const map_document_source*>> queries = {
      {"SELECT * FROM devices", &source},
      {"SELECT * FROM devices WHERE tags.even = true", &source},
      {"SELECT TOP 7 * FROM devices WHERE tags.n >= 2", &source},
      {"SELECT deviceId, tags.name AS name, properties.reported.ratio FROM devices", &source},
      {"SELECT tags.even AS even, COUNT() AS c, AVG(tags.n) AS avg FROM devices GROUP BY tags.even", &source},
      {"SELECT * FROM devices WHERE tags.n = 999", &source},
      {"SELECT * FROM devices.jobs", &job_records},
  };
  for (const auto& [text, src] : queries) {
    CAPTURE(text);
    const compiled_query q = compile_query(text);
    for (const int size : {0, 4}) {
      std::string token_json, token_text;
      int pages = 0;
      for (;;) {
        const auto page = q.run(*src, {.max_item_count = size, .continuation = token_json});
        const auto page_text = q.run_text(*src, {.max_item_count = size, .continuation = token_text});
        CHECK(page_text.items == page.items.dump(-1, ' ', false, json::error_handler_t::replace));
        CHECK(page_text.count == page.items.size());
        CHECK(page_text.item_type == page.item_type);
        CHECK(page_text.continuation == page.continuation);
        ++pages;
        if (!page.continuation || !page_text.continuation) break;
        token_json = *page.continuation;
        token_text = *page_text.continuation;
      }
      CHECK(pages >= 1);
    }
  }
  // A bad token is refused by both forms alike.
  const compiled_query q = compile_query("SELECT * FROM devices");
  CHECK(mockhub::testing::caught_hub_error([&] { q.run_text(source, {.continuation = "not-a-token"}); }).code() == 400004);
  CHECK(mockhub::testing::caught_hub_error([&] { q.run(source, {.continuation = "not-a-token"}); }).code() == 400004);
}
