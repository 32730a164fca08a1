// string_index: the hub's registry and sessions find devices through it, so after any sequence of
// inserts, replacements and erases it must find exactly the elements a std::map would, including
// when many keys share a home slot and clusters wrap around the end of the table.
#include <catch2/catch.hpp>

#include <cstddef>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mock_hub/core/string_index.hpp"

using mockhub::core::string_index;

namespace {

using entry = std::map<std::string, int, std::less<>>::value_type;

// Few distinct hashes, all near the top of a 16- or 32-slot table's range: long clusters that
// wrap around, and keys with equal hashes that only their text tells apart.
struct clustering_hash {
  std::size_t operator()(std::string_view s) const noexcept { return 13 + s.size() % 4; }
};

// Every key of `model` is found at its own element, and the given absent keys are not.
template <class Index>
void check_agrees(const Index& index, const std::map<std::string, int, std::less<>>& model, const std::vector<std::string>& absent) {
  REQUIRE(index.size() == model.size());
  for (const auto& e : model) {
    const entry* found = index.find(e.first);
    REQUIRE(found == &e);
  }
  for (const auto& k : absent) REQUIRE(index.find(k) == nullptr);
}

}  // namespace

TEST_CASE("An empty string_index finds nothing and erases nothing", "[string_index]") {
  string_index<entry> index;
  CHECK(index.find("dev-1") == nullptr);
  CHECK_FALSE(index.erase("dev-1"));
  CHECK(index.size() == 0);
}

TEST_CASE("string_index finds each element under its key, replaces one, and forgets erased keys", "[string_index]") {
  std::map<std::string, int, std::less<>> devices;
  string_index<entry> index;
  for (int i = 0; i < 1000; ++i) index.insert_or_assign(*devices.emplace("dev-" + std::to_string(i), i).first);
  check_agrees(index, devices, {"dev-1000", "dev-", "", "dev-01"});

  // A second element under a key replaces the first (the registry's restore does this).
  std::map<std::string, int, std::less<>> other;
  auto& replacement = *other.emplace("dev-7", 70).first;
  index.insert_or_assign(replacement);
  CHECK(index.size() == 1000);
  CHECK(index.find("dev-7") == &replacement);
  index.insert_or_assign(*devices.find("dev-7"));

  for (int i = 0; i < 1000; i += 2) {
    const std::string key = "dev-" + std::to_string(i);
    REQUIRE(index.erase(key));
    REQUIRE_FALSE(index.erase(key));
    devices.erase(key);
  }
  check_agrees(index, devices, {"dev-0", "dev-998", "dev-500"});
}

TEST_CASE("string_index agrees with std::map through random inserts and erases of colliding keys", "[string_index]") {
  // Keys of four lengths give four hashes: every key collides with a quarter of the others, and
  // the clusters start at slots 13..16, across the end of the first tables.
  std::mt19937 random(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) keys.push_back(std::string(1 + i % 7, 'k') + std::to_string(i));
  std::map<std::string, int, std::less<>> model;
  string_index<entry, mockhub::core::key_is_first, clustering_hash> index;
  for (int step = 0; step < 4000; ++step) {
    const std::string& key = keys[random() % keys.size()];
    if (random() % 3 == 0) {
      const bool had = model.contains(key);
      REQUIRE(index.erase(key) == had);  // before the element goes: the index reads its key
      model.erase(key);
    } else if (!model.contains(key)) {
      index.insert_or_assign(*model.emplace(key, step).first);
    }
    if (step % 50 == 0) {
      std::vector<std::string> absent;
      for (const auto& k : keys)
        if (!model.contains(k)) absent.push_back(k);
      check_agrees(index, model, absent);
    }
  }
  // Down to nothing and back: erasing every key leaves no stale slot behind.
  for (const auto& k : keys) {
    REQUIRE(index.erase(k) == model.contains(k));
    model.erase(k);
  }
  check_agrees(index, model, keys);
  for (const auto& k : keys) index.insert_or_assign(*model.emplace(k, 0).first);
  check_agrees(index, model, {"absent", "k", ""});
}
