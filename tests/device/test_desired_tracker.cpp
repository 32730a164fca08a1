#include <catch2/catch.hpp>

#include <mockhub/device/desired_tracker.hpp>

using namespace mockhub::device;
using nlohmann::json;

namespace {
std::vector<std::int64_t> versions(const std::vector<desired_update>& u) {
  std::vector<std::int64_t> v;
  for (const auto& x : u) v.push_back(x.version);
  return v;
}
}  // namespace

TEST_CASE("Desired patches are delivered in version order; older ones are dropped", "[device][desired]") {
  desired_tracker t;
  SECTION("the first connection's GET is delivered whole, then newer patches") {
    t.begin_resync();
    CHECK(t.on_patch(json{{"a", 1}, {"$version", 2}}).deliver.empty());  // held while the GET is out
    const auto first = t.on_twin(json{{"lockMode", "auto"}, {"$version", 1}});
    REQUIRE(first.size() == 2);
    CHECK(first[0].state == twin_update_state::complete);
    CHECK(first[0].desired.at("lockMode") == "auto");
    CHECK(first[1].state == twin_update_state::partial);
    CHECK(first[1].version == 2);
    CHECK(t.last_delivered() == 2);
    CHECK(t.on_patch(json{{"b", 1}, {"$version", 3}}).deliver.size() == 1);
    CHECK(t.on_patch(json{{"b", 1}, {"$version", 3}}).deliver.empty());  // duplicate
    CHECK(t.on_patch(json{{"b", 1}, {"$version", 2}}).deliver.empty());  // older
  }
  SECTION("after a reconnect the GET drops what it already contains and delivers only what is newer") {
    t.on_twin(json{{"$version", 4}});
    t.begin_resync();
    t.on_patch(json{{"x", 1}, {"$version", 5}});
    t.on_patch(json{{"x", 2}, {"$version", 7}});
    const auto out = t.on_twin(json{{"x", 1}, {"$version", 6}});  // changed while offline: 5 and 6
    CHECK(versions(out) == std::vector<std::int64_t>{6, 7});
    CHECK(out[0].state == twin_update_state::complete);
    CHECK(out[1].state == twin_update_state::partial);
  }
  SECTION("a GET no newer than what was delivered delivers nothing") {
    t.on_twin(json{{"$version", 9}});
    t.begin_resync();
    CHECK(t.on_twin(json{{"$version", 9}}).empty());
    CHECK(t.last_delivered() == 9);
  }
  SECTION("a gap in versions holds the patch back and asks for a GET") {
    t.on_twin(json{{"$version", 3}});
    const auto r = t.on_patch(json{{"y", 1}, {"$version", 5}});
    CHECK(r.deliver.empty());
    CHECK(r.resync);
    CHECK(t.resyncing());
    const auto out = t.on_twin(json{{"y", 1}, {"z", 2}, {"$version", 5}});
    CHECK(versions(out) == std::vector<std::int64_t>{5});
    CHECK(out[0].state == twin_update_state::complete);
  }
  SECTION("a failed GET releases the held patches in order") {
    t.on_twin(json{{"$version", 1}});
    t.begin_resync();
    t.on_patch(json{{"$version", 4}});
    t.on_patch(json{{"$version", 3}});
    CHECK(versions(t.abort_resync()) == std::vector<std::int64_t>{3, 4});
    CHECK_FALSE(t.resyncing());
  }
  SECTION("the topic's version counts when the body has none") {
    t.on_twin(json{{"$version", 1}});
    const auto r = t.on_patch(json{{"k", "v"}}, 2);
    REQUIRE(r.deliver.size() == 1);
    CHECK(r.deliver[0].version == 2);
  }
}
