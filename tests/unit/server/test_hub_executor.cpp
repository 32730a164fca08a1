#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mock_hub/server/hub_executor.hpp"

using namespace mockhub;
using namespace std::chrono_literals;

TEST_CASE("The executor runs tasks one at a time, in order, on its own thread", "[adapters][executor]") {
  core::virtual_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::virtual_time);
  std::vector<int> order;
  std::thread::id where;
  for (int i = 0; i < 100; ++i) ex.post([&order, i] { order.push_back(i); });
  ex.call([&] { where = std::this_thread::get_id(); });
  CHECK(where != std::this_thread::get_id());
  const auto seen = ex.call([&] { return order; });
  REQUIRE(seen.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(seen[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("call returns the result or rethrows the task's exception", "[adapters][executor]") {
  core::virtual_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::virtual_time);
  CHECK(ex.call([] { return 42; }) == 42);
  CHECK_THROWS_WITH(ex.call([]() -> int { throw std::runtime_error("boom"); }), "boom");
  CHECK(ex.call([] { return 1; }) == 1);  // still alive
  CHECK(ex.call([&] { return ex.call([] { return 7; }); }) == 7);  // nested call runs inline
}

TEST_CASE("With a virtual clock, timers fire when a task moves the clock, before call returns", "[adapters][executor]") {
  core::virtual_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::virtual_time);
  int fired = 0;
  ex.call([&] { clk.call_after(10s, [&] { ++fired; }); });
  CHECK(ex.call([&] { return fired; }) == 0);
  ex.call([&] { clk.advance(10s); });
  CHECK(ex.call([&] { return fired; }) == 1);
}

TEST_CASE("With the system clock, a timer fires on its own when it falls due", "[adapters][executor]") {
  core::system_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::real_time);
  std::promise<void> fired;
  ex.call([&] { clk.call_after(20ms, [&] { fired.set_value(); }); });
  CHECK(fired.get_future().wait_for(10s) == std::future_status::ready);
}

TEST_CASE("After stop, call throws instead of hanging", "[adapters][executor]") {
  core::virtual_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::virtual_time);
  ex.stop();
  CHECK_THROWS_AS(ex.call([] { return 1; }), std::runtime_error);
  ex.post([] {});  // ignored
}

TEST_CASE("Work that keeps rescheduling itself at now does not starve queued calls", "[adapters][executor]") {
  core::virtual_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::virtual_time);
  bool stop = false;
  int slices = 0;
  std::function<void()> slice = [&] {
    ++slices;
    if (!stop) clk.call_at(clk.now(), slice);
  };
  ex.call([&] { clk.call_at(clk.now(), slice); });
  // Without rounds this call would never run: the chain of slices never ends by itself.
  const int seen = ex.call([&] {
    stop = true;
    return slices;
  });
  CHECK(seen >= 1);
}

TEST_CASE("wait_until ends on the task that makes the condition true, and times out otherwise", "[adapters][executor]") {
  core::virtual_clock clk;
  server::hub_executor ex(clk, server::hub_executor::timers::virtual_time);
  int value = 0;
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) ex.post([&] { ++value; });
  });
  CHECK(ex.wait_until([&] { return value == 5; }, 10s));
  producer.join();
  CHECK_FALSE(ex.wait_until([&] { return value == 6; }, 50ms));
}
