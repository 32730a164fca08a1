// B3: queries over 100,000 generated twins, mockhub's query engine (compiled once, run over the
// twins in place, every page of 100 through continuation tokens, as a REST client pages) against
// the same filter in SQLite (Debian's libsqlite3, json_extract over an in-memory table holding the
// same JSON documents as text, every row stepped through). Side by side, repetition by repetition.
// Two figures for mockhub: the pages as the REST body text (`run_text`, what POST /devices/query
// sends, and like SQLite's rows, text) against the target, and as JSON values (`run`, what an
// in-process caller of hub::query gets), beside it.
#include <sqlite3.h>

#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_table.hpp"
#include "bench/benches.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "mock_hub/core/query/document_source.hpp"

using nlohmann::json;
using namespace mockhub::core::query;

namespace mockhub::bench {

namespace {

json make_twin(int i, std::mt19937& rng) {
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
                      {"firmware", std::to_string(1 + rng() % 2) + "." + std::to_string(rng() % 9)},
                      {"$metadata", {{"$lastUpdated", "2026-01-01T00:00:00.0000000Z"}}},
                      {"$version", 5}}}}}};
}

struct shape {
  const char* name;
  std::string iothub;
  std::string sqlite;
};

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

void run_b3_query(const bench_config& c) {
  constexpr int n = 100'000;
  std::mt19937 rng(42);
  map_document_source::map_type twins;
  sqlite3* db = nullptr;
  check(sqlite3_open(":memory:", &db), db, "open");
  check(sqlite3_exec(db, "CREATE TABLE twins (id TEXT PRIMARY KEY, doc TEXT NOT NULL)", nullptr, nullptr, nullptr), db, "create");
  check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT INTO twins VALUES (?, ?)", -1, &insert, nullptr), db, "prepare insert");
  for (int i = 0; i < n; ++i) {
    json t = make_twin(i, rng);
    const std::string id = t["deviceId"];
    const std::string doc = t.dump();
    sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, doc.c_str(), -1, SQLITE_TRANSIENT);
    check(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
    twins.emplace(id, std::move(t));
  }
  sqlite3_finalize(insert);
  check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  map_document_source source(twins);

  const shape shapes[] = {
      {"WHERE tags.building = 43 AND reported.firmware < '2.0'",
       "SELECT * FROM devices WHERE tags.building = 43 AND properties.reported.firmware < '2.0'",
       "SELECT doc FROM twins WHERE json_extract(doc, '$.tags.building') = 43 "
       "AND json_extract(doc, '$.properties.reported.firmware') < '2.0' ORDER BY id"},
      {"WHERE tags.building IN [..4] AND region IN [..2]",
       "SELECT * FROM devices WHERE tags.building IN [1, 2, 3, 43] AND tags.location.region IN ['US', 'EU']",
       "SELECT doc FROM twins WHERE json_extract(doc, '$.tags.building') IN (1, 2, 3, 43) "
       "AND json_extract(doc, '$.tags.location.region') IN ('US', 'EU') ORDER BY id"},
      {"GROUP BY reported.connectivity, COUNT()",
       "SELECT properties.reported.connectivity AS connectivity, COUNT() AS n FROM devices GROUP BY properties.reported.connectivity",
       "SELECT json_extract(doc, '$.properties.reported.connectivity') AS connectivity, COUNT(*) AS n FROM twins GROUP BY connectivity"},
  };

  for (const auto& s : shapes) {
    const compiled_query q = compile_query(s.iothub);
    sqlite3_stmt* stmt = nullptr;
    check(sqlite3_prepare_v2(db, s.sqlite.c_str(), -1, &stmt, nullptr), db, "prepare query");
    samples ours_text, ours_json, theirs;
    std::size_t our_rows = 0, text_rows = 0, their_rows = 0;
    for (int r = 0; r < c.reps; ++r) {
      // As POST /devices/query serves it: every page's items as the JSON text of the REST body.
      auto t0 = steady::now();
      text_rows = 0;
      std::string token;
      for (;;) {
        auto page = q.run_text(source, {.max_item_count = max_page_size, .continuation = token});
        text_rows += page.count;
        if (!page.continuation) break;
        token = *page.continuation;
      }
      ours_text.add(ms_since(t0));

      // As an in-process caller gets it (hub::query): every page's items as JSON values.
      t0 = steady::now();
      our_rows = 0;
      token.clear();
      for (;;) {
        auto page = q.run(source, {.max_item_count = max_page_size, .continuation = token});
        our_rows += page.items.size();
        if (!page.continuation) break;
        token = *page.continuation;
      }
      ours_json.add(ms_since(t0));

      t0 = steady::now();
      their_rows = 0;
      std::size_t bytes = 0;
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ++their_rows;
        bytes += static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0));
      }
      check(rc, db, "step");
      sqlite3_reset(stmt);
      theirs.add(ms_since(t0));
      (void)bytes;
    }
    sqlite3_finalize(stmt);
    const std::string rows = std::to_string(our_rows) + " rows" +
                             (our_rows == their_rows && text_rows == their_rows ? "" : " (text: " + std::to_string(text_rows) + ", SQLite: " + std::to_string(their_rows) + "!)");
    print_row("B3", std::string("mockhub, REST page text: ") + s.name, "ms", ours_text, ours_text.median() / theirs.median(),
              rows + "; ratio = mockhub / SQLite, target <= 0.3");
    print_row("B3", std::string("mockhub, JSON values: ") + s.name, "ms", ours_json, ours_json.median() / theirs.median(),
              "in-process hub::query; ratio = mockhub / SQLite");
    print_row("B3", std::string("SQLite json_extract: ") + s.name, "ms", theirs);
  }
  sqlite3_close(db);
}

}  // namespace mockhub::bench
