#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <mockhub/device/retry_policy.hpp>

using namespace mockhub::device;
using namespace std::chrono_literals;

namespace {

class mock_clock : public clock {
 public:
  MAKE_CONST_MOCK0(now, time_point(), override);
};

class mock_policy : public retry_policy {
 public:
  MAKE_MOCK1(next_delay, std::optional<std::chrono::milliseconds>(unsigned), override);
};

const clock::time_point t0{std::chrono::seconds{1767225600}};

}  // namespace

TEST_CASE("The retry controller asks the policy for each retry's delay and the clock for the time", "[device][retry]") {
  mock_clock clk;
  mock_policy policy;
  retry_controller retry(policy, clk);
  trompeloeil::sequence seq;

  SECTION("delays follow the policy, counted from 1 after each connection") {
    REQUIRE_CALL(policy, next_delay(1u)).RETURN(std::optional{100ms}).IN_SEQUENCE(seq);
    REQUIRE_CALL(clk, now()).RETURN(t0).IN_SEQUENCE(seq);
    REQUIRE_CALL(policy, next_delay(2u)).RETURN(std::optional{200ms}).IN_SEQUENCE(seq);
    REQUIRE_CALL(clk, now()).RETURN(t0 + 1s).IN_SEQUENCE(seq);
    REQUIRE_CALL(policy, next_delay(1u)).RETURN(std::optional{100ms}).IN_SEQUENCE(seq);
    REQUIRE_CALL(clk, now()).RETURN(t0 + 5s).IN_SEQUENCE(seq);

    const auto a = retry.on_failure(failure_kind::network);
    CHECK(a.retry);
    CHECK(a.attempt == 1);
    CHECK(a.delay == 100ms);
    CHECK(a.at == t0 + 100ms);
    const auto b = retry.on_failure(failure_kind::connect_timeout);
    CHECK(b.attempt == 2);
    CHECK(b.at == t0 + 1s + 200ms);
    retry.on_connected();
    const auto c = retry.on_failure(failure_kind::server_unavailable);
    CHECK(c.attempt == 1);
    CHECK(c.at == t0 + 5s + 100ms);
  }

  SECTION("an auth refusal (CONNACK 4/5) is never retried: neither policy nor clock is asked") {
    FORBID_CALL(policy, next_delay(ANY(unsigned)));
    FORBID_CALL(clk, now());
    const auto d = retry.on_failure(failure_kind::not_authorized);
    CHECK_FALSE(d.retry);
    CHECK(d.attempt == 0);
  }

  SECTION("a policy that gives up stops the retries") {
    REQUIRE_CALL(policy, next_delay(1u)).RETURN(std::nullopt);
    FORBID_CALL(clk, now());
    CHECK_FALSE(retry.on_failure(failure_kind::network).retry);
  }
}

TEST_CASE("Exponential backoff doubles from the initial delay up to the cap, with bounded jitter", "[device][retry]") {
  SECTION("without jitter the delays are exact") {
    exponential_backoff b({.initial = 100ms, .max = 1000ms, .multiplier = 2.0, .jitter = 0.0});
    std::vector<std::int64_t> got;
    for (unsigned i = 1; i <= 6; ++i) got.push_back(b.next_delay(i)->count());
    CHECK(got == std::vector<std::int64_t>{100, 200, 400, 800, 1000, 1000});
  }
  SECTION("with jitter each delay stays within its band and the same seed repeats it") {
    exponential_backoff a({.initial = 100ms, .max = 10s, .jitter = 0.2, .seed = 7});
    exponential_backoff b({.initial = 100ms, .max = 10s, .jitter = 0.2, .seed = 7});
    exponential_backoff c({.initial = 100ms, .max = 10s, .jitter = 0.2, .seed = 8});
    bool differs = false;
    for (unsigned i = 1; i <= 12; ++i) {
      const auto d = a.next_delay(i)->count();
      const double base = std::min(100.0 * std::pow(2.0, i - 1), 10'000.0);
      CHECK(d >= static_cast<std::int64_t>(base * 0.8) - 1);
      CHECK(d <= std::min<std::int64_t>(static_cast<std::int64_t>(base * 1.2) + 1, 10'000));
      CHECK(b.next_delay(i)->count() == d);
      differs = differs || c.next_delay(i)->count() != d;
    }
    CHECK(differs);
  }
  SECTION("max_attempts bounds the retries") {
    exponential_backoff b({.jitter = 0.0, .max_attempts = 2});
    CHECK(b.next_delay(1));
    CHECK(b.next_delay(2));
    CHECK_FALSE(b.next_delay(3));
    CHECK_FALSE(no_retry{}.next_delay(1));
  }
}
