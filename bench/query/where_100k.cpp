// One WHERE query over 100,000 generated twins: how long the query engine takes to evaluate
// it (in place, no copies), to page through every match, and to count them. Not part of the
// build or the tests; timings belong here, never in a test assertion.
//
// Build against a Release build of the core (from the worktree root):
//   cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DMOCKHUB_BUILD_TESTS=OFF && cmake --build build-release -j2
//   g++ -std=c++20 -O2 -DNDEBUG -I. bench/query/where_100k.cpp build-release/lib/libmock_hub_core.a -lcrypto -o /tmp/where_100k
//   /tmp/where_100k [twins.jsonl]   # optional: also write the twins as JSON Lines, e.g. for SQLite's json_extract
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "mock_hub/core/query/compiled_query.hpp"
#include "mock_hub/core/query/document_source.hpp"

using nlohmann::json;
using namespace mockhub::core::query;

static json make_twin(int i, std::mt19937& rng) {
  static const char* regions[] = {"US", "EU", "ASIA"};
  static const char* connectivity[] = {"wifi", "wired", "cellular"};
  char id[32];
  std::snprintf(id, sizeof id, "device-%06d", i);
  const int freq = static_cast<int>(rng() % 600);
  return json{
      {"deviceId", id}, {"etag", "AAAAAAAAAAE="}, {"deviceEtag", "MTIz"}, {"status", (rng() % 10) ? "enabled" : "disabled"},
      {"statusReason", nullptr}, {"statusUpdateTime", "0001-01-01T00:00:00Z"},
      {"connectionState", (rng() % 2) ? "Connected" : "Disconnected"}, {"lastActivityTime", "2026-01-01T00:00:00Z"},
      {"cloudToDeviceMessageCount", 0}, {"authenticationType", "sas"},
      {"x509Thumbprint", {{"primaryThumbprint", nullptr}, {"secondaryThumbprint", nullptr}}}, {"modelId", ""},
      {"version", 3}, {"capabilities", {{"iotEdge", false}}},
      {"tags", {{"location", {{"region", regions[rng() % 3]}, {"plant", "plant-" + std::to_string(rng() % 50)}}},
                {"building", static_cast<int>(rng() % 100)}}},
      {"properties",
       {{"desired", {{"telemetryConfig", {{"sendFrequencyInSecs", freq}}},
                     {"$metadata", {{"$lastUpdated", "2026-01-01T00:00:00.0000000Z"},
                                    {"telemetryConfig", {{"$lastUpdated", "2026-01-01T00:00:00.0000000Z"},
                                                         {"$lastUpdatedVersion", 2}}}}},
                     {"$version", 2}}},
        {"reported", {{"connectivity", connectivity[rng() % 3]},
                      {"telemetryConfig", {{"sendFrequencyInSecs", freq}, {"status", "Success"}}},
                      {"firmware", "1." + std::to_string(rng() % 9)},
                      {"$metadata", {{"$lastUpdated", "2026-01-01T00:00:00.0000000Z"}}},
                      {"$version", 5}}}}}};
}

template <class F>
static double best_ms(int runs, F&& f) {
  double best = 1e300;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

int main(int argc, char** argv) {
  std::mt19937 rng(42);
  map_document_source::map_type twins;
  for (int i = 0; i < 100000; ++i) {
    json t = make_twin(i, rng);
    std::string key = t["deviceId"];
    twins.emplace(std::move(key), std::move(t));
  }
  if (argc > 1) {
    std::ofstream out(argv[1]);
    for (const auto& [id, t] : twins) out << t.dump() << '\n';
  }
  const char* where = "tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60";
  const compiled_query q = compile_query(std::string("SELECT * FROM devices WHERE ") + where);
  const compiled_query count = compile_query(std::string("SELECT COUNT() AS n FROM devices WHERE ") + where);
  map_document_source source(twins);

  std::size_t matched = 0;
  const double eval_ms = best_ms(5, [&] {
    matched = 0;
    for (const auto& [id, t] : twins) matched += q.matches(t) ? 1 : 0;
  });
  std::size_t paged = 0;
  const double page_ms = best_ms(5, [&] {
    paged = 0;
    std::string token;
    for (;;) {
      auto page = q.run(source, {.max_item_count = 100, .continuation = token});
      paged += page.items.size();
      if (!page.continuation) break;
      token = *page.continuation;
    }
  });
  json counted;
  const double count_ms = best_ms(5, [&] { counted = count.run(source).items; });

  std::printf("twins: %zu, matches: %zu (paged %zu, counted %s)\n", twins.size(), matched, paged, counted.dump().c_str());
  std::printf("evaluate WHERE over 100k twins (matches()):        %8.2f ms\n", eval_ms);
  std::printf("SELECT * ... WHERE, all pages of 100 (copies hits): %8.2f ms\n", page_ms);
  std::printf("SELECT COUNT() ... WHERE:                          %8.2f ms\n", count_ms);
  return 0;
}
