#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/time_format.hpp"

using namespace mockhub::core;
using namespace std::chrono_literals;

TEST_CASE("A virtual clock stands still until told to move", "[core][clock]") {
  virtual_clock clk;
  const auto start = clk.now();
  CHECK(format_time(start) == "2026-01-01T00:00:00.0000000Z");
  CHECK(clk.now() == start);
  CHECK(clk.advance(90s) == 0);
  CHECK(clk.now() == start + 90s);
  clk.set(start + 1h);
  CHECK(clk.now() == start + 1h);
}

TEST_CASE("A virtual clock refuses to move backwards", "[core][clock]") {
  virtual_clock clk;
  const auto start = clk.now();
  CHECK_THROWS_AS(clk.advance(-1s), std::invalid_argument);
  CHECK_THROWS_AS(clk.set(start - 1ms), std::invalid_argument);
  CHECK(clk.now() == start);
}

TEST_CASE("Timers fire in time order, each seeing its own due time", "[core][clock]") {
  virtual_clock clk;
  const auto start = clk.now();
  std::vector<std::string> log;
  auto record = [&](std::string name) { return [&, name] { log.push_back(name + "@" + format_time(clk.now())); }; };
  clk.call_after(30s, record("c"));
  clk.call_after(10s, record("a"));
  clk.call_after(20s, record("b"));
  CHECK(clk.next_due() == start + 10s);

  SECTION("moving past all of them fires all, in order") {
    CHECK(clk.advance(1min) == 3);
    CHECK(log == std::vector<std::string>{"a@2026-01-01T00:00:10.0000000Z", "b@2026-01-01T00:00:20.0000000Z",
                                          "c@2026-01-01T00:00:30.0000000Z"});
    CHECK(clk.now() == start + 1min);
    CHECK_FALSE(clk.next_due().has_value());
  }
  SECTION("moving part of the way fires only what is due, the boundary included") {
    CHECK(clk.advance(20s) == 2);
    CHECK(log.size() == 2);
    CHECK(clk.pending_timers() == 1);
    CHECK(clk.next_due() == start + 30s);
  }
}

TEST_CASE("Timers due at the same time fire in the order they were scheduled", "[core][clock]") {
  virtual_clock clk;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) clk.call_after(5s, [&order, i] { order.push_back(i); });
  clk.advance(5s);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("A cancelled timer never fires", "[core][clock]") {
  virtual_clock clk;
  int fired = 0;
  const auto id = clk.call_after(5s, [&] { ++fired; });
  CHECK(clk.cancel(id));
  CHECK_FALSE(clk.cancel(id));
  clk.advance(10s);
  CHECK(fired == 0);

  SECTION("even when an earlier timer cancels it during the same move") {
    clock::timer_id later = 0;
    clk.call_after(1s, [&] { clk.cancel(later); });
    later = clk.call_after(2s, [&] { ++fired; });
    clk.advance(5s);
    CHECK(fired == 0);
  }
  SECTION("a timer that already fired cannot be cancelled") {
    const auto done = clk.call_after(1s, [&] { ++fired; });
    clk.advance(1s);
    CHECK(fired == 1);
    CHECK_FALSE(clk.cancel(done));
  }
}

TEST_CASE("Timers scheduled by a firing timer fire within the same move when due", "[core][clock]") {
  virtual_clock clk;
  const auto start = clk.now();
  std::vector<std::string> log;
  clk.call_after(1s, [&] {
    log.push_back("first");
    clk.call_after(2s, [&] { log.push_back("chained@" + format_time(clk.now())); });
    clk.call_at(start, [&] { log.push_back("past@" + format_time(clk.now())); });  // already due
  });
  clk.advance(10s);
  CHECK(log == std::vector<std::string>{"first", "past@2026-01-01T00:00:01.0000000Z", "chained@2026-01-01T00:00:03.0000000Z"});
}

TEST_CASE("run_due leaves timers scheduled during its round to the next round", "[core][clock]") {
  virtual_clock clk;
  std::vector<std::string> log;
  clk.call_at(clk.now(), [&] {
    log.push_back("a");
    clk.call_at(clk.now(), [&] { log.push_back("c"); });
  });
  clk.call_at(clk.now(), [&] { log.push_back("b"); });
  CHECK(clk.run_due() == 2);
  CHECK(log == std::vector<std::string>{"a", "b"});
  CHECK(clk.run_due() == 1);
  CHECK(log == std::vector<std::string>{"a", "b", "c"});
  CHECK(clk.run_due() == 0);
}

TEST_CASE("run_due fires what is due now and nothing later", "[core][clock]") {
  virtual_clock clk;
  int fired = 0;
  clk.call_at(clk.now(), [&] { ++fired; });
  clk.call_after(1s, [&] { ++fired; });
  CHECK(clk.run_due() == 1);
  CHECK(fired == 1);
  CHECK(clk.pending_timers() == 1);
}

TEST_CASE("The system clock tells real time", "[core][clock]") {
  system_clock clk;
  const auto before = std::chrono::system_clock::now();
  const auto t = clk.now();
  CHECK(t >= before);
  int fired = 0;
  clk.call_at(t - 1s, [&] { ++fired; });
  CHECK(clk.run_due() == 1);
  CHECK(fired == 1);
}
