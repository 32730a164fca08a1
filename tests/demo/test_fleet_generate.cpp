// `mockhub fleet generate`: the fixture it writes loads with fleet_fixture::load, with exactly the
// devices and tags asked for; bad options exit 2.
#include <catch2/catch.hpp>

#include <mockhub/device/fleet/fixture.hpp>

#include <filesystem>
#include <map>

#include "run_mockhub.hpp"

using namespace mockhub;
using nlohmann::json;

TEST_CASE("fleet generate writes 100,000 door locks over floors as a small fixture the parser loads", "[demo][fleet]") {
  test::temp_dir dir;
  const auto file = dir / "fleet.json";
  const auto r = test::run_mockhub(dir, {"fleet", "generate", "--devices", "100000", "--floors", "7", "--building", "12",
                                         "--seed", "9", "--output", file.string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::file_size(file) < 4096);

  const auto f = device::fleet::fleet_fixture::load(file);
  CHECK(f.seed == 9);
  REQUIRE(f.devices.size() == 100000);
  CHECK(f.devices.front().id == "door-lock-00000");
  CHECK(f.devices.back().id == "door-lock-99999");
  // 100,000 = 7 x 14,285 + 5: the first five floors get one more.
  std::map<int, std::size_t> per_floor;
  for (const auto& d : f.devices) {
    REQUIRE(d.tags.at("building") == 12);
    ++per_floor[d.tags.at("floor").get<int>()];
    REQUIRE(d.behaviour == "lock");
    REQUIRE(d.reported == json{{"lockState", "unlocked"}});
  }
  CHECK(per_floor == std::map<int, std::size_t>{{1, 14286}, {2, 14286}, {3, 14286}, {4, 14286}, {5, 14286}, {6, 14285}, {7, 14285}});
  CHECK(f.devices[14286].id == "door-lock-14286");
  CHECK(f.devices[14286].tags == json{{"building", 12}, {"floor", 2}});
  const auto& lock = f.behaviours.at("lock");
  CHECK(lock.methods.at("lockDoor").status == 200);
  CHECK(lock.methods.at("lockDoor").reports == json{{"lockState", "locked"}});
  CHECK(lock.desired_echo);
}

TEST_CASE("fleet generate defaults to one floor of building 43 and can leave out the behaviour", "[demo][fleet]") {
  test::temp_dir dir;
  const auto file = dir / "fleet.json";
  REQUIRE(test::run_mockhub(dir, {"fleet", "generate", "--devices", "3", "--prefix", "gate-", "--behaviour", "none", "-o", file.string()})
              .exit_code == 0);
  const auto f = device::fleet::fleet_fixture::load(file);
  REQUIRE(f.devices.size() == 3);
  CHECK(f.devices[0].id == "gate-0");
  CHECK(f.devices[2].id == "gate-2");
  CHECK(f.devices[2].tags == json{{"building", 43}, {"floor", 1}});
  CHECK(f.devices[2].behaviour.empty());
  CHECK(f.behaviours.empty());
  CHECK(f.seed == 1);
}

TEST_CASE("fleet generate refuses bad options with exit 2 and a message naming the option", "[demo][fleet]") {
  test::temp_dir dir;
  const auto [arguments, expected] = GENERATE(table<std::vector<std::string>, std::string>({
      {{"fleet", "generate"}, "--devices is required"},
      {{"fleet", "generate", "--devices", "0"}, "--devices must be at least 1"},
      {{"fleet", "generate", "--devices", "many"}, "--devices"},
      {{"fleet", "generate", "--devices", "3", "--floors", "4"}, "--floors must be 1..3"},
      {{"fleet", "generate", "--devices", "3", "--floors", "0"}, "--floors must be 1..3"},
      {{"fleet", "generate", "--devices", "3", "--behaviour", "dance"}, "--behaviour must be lock or none, not 'dance'"},
      {{"fleet", "generate", "--devices", "3", "--prefix", "lock/"}, "--prefix 'lock/' does not make valid device ids"},
      {{"fleet", "generate", "--devices", "3", "--prefix", std::string(128, 'x')}, "does not make valid device ids"},
  }));
  CAPTURE(arguments);
  const auto r = test::run_mockhub(dir, arguments);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains(expected));
}

TEST_CASE("fleet generate exits 1 when it cannot write the file", "[demo][fleet]") {
  test::temp_dir dir;
  const auto r = test::run_mockhub(dir, {"fleet", "generate", "--devices", "3", "--output", (dir / "no-such-dir/fleet.json").string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("cannot write " + (dir / "no-such-dir/fleet.json").string()));
}
