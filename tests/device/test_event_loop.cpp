#include <catch2/catch.hpp>

#include <mockhub/device/event_loop.hpp>
#include <mockhub/device/token.hpp>

#include <thread>

using namespace mockhub::device;
using namespace std::chrono_literals;

TEST_CASE("Event loop timers fire when the manual clock reaches them, in order", "[device][event-loop]") {
  auto clk = std::make_shared<manual_clock>();
  event_loop loop({.time = clk});
  std::vector<int> fired;
  loop.call_after(2s, [&] { fired.push_back(2); });
  loop.call_after(1s, [&] { fired.push_back(1); });
  const auto cancelled = loop.call_after(1500ms, [&] { fired.push_back(15); });
  CHECK(loop.cancel(cancelled));
  CHECK_FALSE(loop.cancel(cancelled));
  loop.run_once(0ms);
  CHECK(fired.empty());
  clk->advance(1s);
  loop.run_once(0ms);
  CHECK(fired == std::vector<int>{1});
  clk->advance(1s);
  loop.run_once(0ms);
  CHECK(fired == std::vector<int>{1, 2});
  CHECK(loop.pending_timers() == 0);
}

TEST_CASE("Posted tasks run on the loop's thread; stop() ends run(); tokens complete across threads", "[device][event-loop]") {
  event_loop loop;
  std::thread::id ran_on;
  auto t = token<int>::make();
  std::thread runner([&] { loop.run(); });
  const auto runner_id = runner.get_id();
  loop.post([&] {
    ran_on = std::this_thread::get_id();
    CHECK(loop.in_loop_thread());
    t.complete(42);
  });
  REQUIRE(t.wait_for(30s));
  CHECK(t.get() == 42);
  loop.stop();
  runner.join();
  CHECK(ran_on == runner_id);
  CHECK_FALSE(loop.in_loop_thread());
}

TEST_CASE("A token reports failure through get() and calls on_complete once", "[device][event-loop]") {
  auto t = token<void>::make();
  int calls = 0;
  t.on_complete([&](const token<void>& done) {
    ++calls;
    CHECK_FALSE(done.ok());
  });
  t.fail(device_error(errc::hub_status, "refused", 400, "{}"));
  t.complete();  // ignored: the first completion wins
  CHECK(calls == 1);
  try {
    t.get();
    FAIL("get() must throw");
  } catch (const device_error& e) {
    CHECK(e.code() == errc::hub_status);
    CHECK(e.status() == 400);
  }
  int late = 0;
  t.on_complete([&](const token<void>&) { ++late; });
  CHECK(late == 1);
}

TEST_CASE("Waiting on the network thread for a pending token throws instead of deadlocking", "[device][event-loop]") {
  auto t = token<int>::make(std::this_thread::get_id());
  CHECK_THROWS_AS(t.wait_for(1ms), std::logic_error);
  t.complete(1);
  CHECK(t.get() == 1);
}
