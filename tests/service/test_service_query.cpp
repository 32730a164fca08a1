// Queries through the service library: the range follows x-ms-continuation page by page.
#include <catch2/catch.hpp>

#include <set>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using test::hub_error_of;
using test::service_fixture;

namespace {

std::string device_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "dev%04d", i);
  return buf;
}

}  // namespace

TEST_CASE_METHOD(service_fixture, "The query range walks 1,000 devices in pages of 100", "[service][query]") {
  hub.call([](core::hub& h) {
    for (int i = 0; i < 1000; ++i) h.create_or_update_identity(device_name(i), {}, std::nullopt);
    return 0;
  });

  SECTION("iterating every item") {
    auto results = client->query("SELECT * FROM devices", 100);
    std::set<std::string> ids;
    std::size_t items = 0;
    for (const json& twin : results) {
      ++items;
      ids.insert(twin.at("deviceId").get<std::string>());
    }
    CHECK(items == 1000);
    CHECK(ids.size() == 1000);
    CHECK(*ids.begin() == "dev0000");
    CHECK(*ids.rbegin() == "dev0999");
    CHECK(results.pages_fetched() == 10);
    CHECK(results.item_type() == "twin");
    CHECK_FALSE(results.has_more_pages());
  }
  SECTION("page by page") {
    auto results = client->query("SELECT deviceId FROM devices", 100);
    std::vector<std::size_t> sizes;
    std::set<std::string> ids;
    while (auto page = results.next_page()) {
      sizes.push_back(page->size());
      for (const auto& row : *page) ids.insert(row.at("deviceId").get<std::string>());
    }
    CHECK(sizes == std::vector<std::size_t>(10, 100));
    CHECK(ids.size() == 1000);
    CHECK(results.item_type() == "raw");
  }
  SECTION("a page size that does not divide the total") {
    auto results = client->query("SELECT * FROM devices WHERE deviceId < 'dev0250'", 100);
    std::vector<std::size_t> sizes;
    while (auto page = results.next_page()) sizes.push_back(page->size());
    CHECK(sizes == std::vector<std::size_t>{100, 100, 50});
  }
  SECTION("the hub's default page size") {
    auto results = client->query("SELECT * FROM devices");
    CHECK(results.to_vector().size() == 1000);
    CHECK(results.pages_fetched() == 10);
  }
}

TEST_CASE_METHOD(service_fixture, "Queries select by tags, aggregate, and report bad syntax", "[service][query]") {
  register_device("lock1", {{"building", 43}});
  register_device("lock2", {{"building", 43}});
  register_device("lock3", {{"building", 44}});

  const auto twins = client->query("SELECT * FROM devices WHERE tags.building = 43").to_vector();
  REQUIRE(twins.size() == 2);
  CHECK(twins[0]["deviceId"] == "lock1");
  CHECK(twins[1]["deviceId"] == "lock2");
  CHECK(twins[0]["tags"] == json{{"building", 43}});

  CHECK(client->query("SELECT COUNT() AS n FROM devices").to_vector() == std::vector<json>{{{"n", 3}}});

  SECTION("an empty result is one empty page") {
    auto none = client->query("SELECT * FROM devices WHERE tags.building = 1");
    const auto page = none.next_page();
    REQUIRE(page);
    CHECK(page->empty());
    CHECK_FALSE(none.next_page());
    CHECK(client->query("SELECT * FROM devices WHERE tags.building = 1").to_vector().empty());
  }
  SECTION("a query that does not parse is 400000 GenericBadRequest, thrown when the first page is fetched") {
    auto bad = client->query("SELECT * FROM devices WHERE");
    const auto e = hub_error_of([&] { (void)bad.begin(); });
    CHECK(e.http_status() == 400);
    CHECK(e.error_code() == 400000);
    CHECK(e.error_name() == "GenericBadRequest");
  }
}
